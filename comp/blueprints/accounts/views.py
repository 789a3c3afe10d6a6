"""Account administration pages: the list, one account, creating, changing, disabling, resetting."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.accounts import bp
from comp.blueprints.accounts.forms import AccountForm, ActionForm, EditForm
from comp.converters import page_number, whole_number, whole_numbers
from comp.extensions import htmx
from comp.models import User
from comp.orgtree import Tree
from comp.permissions import authorize
from comp.services import ServiceError
from comp.services.accounts import admin, links, sessions


def _account(user_id: int) -> User:
    """Return an account the current organizer administers, else 404 (missing and out of scope alike)."""
    authorize("accounts.admin")
    return admin.get(current_user, user_id) or abort(404)


@bp.get("/accounts")
@login_required
def index():
    """List the accounts the organizer administers, searched and filtered, 50 a page."""
    authorize("accounts.admin")
    args = request.args
    filters = admin.Filters(
        q="".join(c for c in args.get("q", "") if c.isprintable()).strip()[:64],
        role=args.get("role", ""),
        unit=whole_number(args.get("unit"), low=1),
        state=args.get("state", ""),
    )
    page = admin.search(current_user, filters, page_number(args.get("page")))
    context = {
        "filters": filters,
        "page": page,
        "roles": admin.ROLE_LABELS,
        "states": admin.STATE_LABELS,
        "units": admin.units_for(current_user),
        "state_of": admin.state_of,
        "links": links.live_links(page.items),
    }
    if htmx and htmx.target == "account-list":
        return render_template("accounts/_list.html", **context)
    return render_template("accounts/index.html", **context)


def _new_page(form: AccountForm, error: str | None = None, status: int = 200):
    return render_template("accounts/new.html", form=form, error=error), status


@bp.route("/accounts/new", methods=["GET", "POST"])
@login_required
def new():
    """Create one account; the next page shows its activation link."""
    authorize("accounts.admin")
    tree = Tree()
    form = AccountForm().fill(admin.roles_for(current_user), admin.units_for(current_user, tree))
    if request.method == "GET":
        form.role.data = (
            request.args.get("role") if request.args.get("role") in admin.roles_for(current_user) else "judge"
        )
        return _new_page(form)
    if not form.validate_on_submit():
        return _new_page(form, status=422)
    try:
        user, _link = admin.create(
            current_user,
            form.username.data,
            form.display_name.data,
            form.role.data,
            form.unit.data or None,
            form.id_number.data,
        )
    except ServiceError as error:
        return _new_page(form, error=str(error), status=422)
    flash(
        _("Account %(username)s is created. Give the person the activation link below.", username=user.username),
        "success",
    )
    return redirect(url_for("accounts.show", user_id=user.id))


def _show_page(target: User, edit: EditForm | None = None, error: str | None = None, status: int = 200):
    if edit is None:
        edit = EditForm(
            data={"display_name": target.display_name, "role": target.role, "unit": target.org_unit_id or 0}
        )
        edit.fill(_grantable(target), admin.units_for(current_user))
    link = links.live_link(target)
    history = admin.history(target)
    units = {n.id: n.name for n in Tree().nodes.values()}
    return render_template(
        "accounts/show.html",
        target=target,
        state=admin.state_of(target),
        role_label=admin.ROLE_LABELS[target.role],
        states=admin.STATE_LABELS,
        link=link,
        link_url=links.url(link) if link else None,
        live=sessions.live(target),
        history=history,
        describe=admin.describe,
        units=units,
        actors=admin.actors(history),
        edit=edit,
        action=ActionForm(),
        myself=target.id == current_user.id,
        error=error,
    ), status


def _grantable(target: User) -> list[str]:
    roles = admin.roles_for(current_user)
    return roles if target.role in roles else [target.role, *roles]


@bp.get("/accounts/<int:user_id>")
@login_required
def show(user_id: int):
    """Show an account: its state, live link, sessions and history, with the actions."""
    return _show_page(_account(user_id))


@bp.post("/accounts/<int:user_id>/edit")
@login_required
def edit(user_id: int):
    """Change the account's name, role or union."""
    target = _account(user_id)
    form = EditForm().fill(_grantable(target), admin.units_for(current_user))
    if not form.validate_on_submit():
        return _show_page(target, edit=form, status=422)
    try:
        admin.update(current_user, target, form.display_name.data, form.role.data, form.unit.data or None)
    except ServiceError as error:
        return _show_page(target, edit=form, error=str(error), status=422)
    flash(_("Account %(username)s is saved.", username=target.username), "success")
    return redirect(url_for("accounts.show", user_id=target.id))


def _act(user_id: int, verb, done: str):
    target = _account(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        verb(target)
    except ServiceError as error:
        return _show_page(target, error=str(error), status=422)
    flash(done.format(username=target.username), "success")
    return redirect(url_for("accounts.show", user_id=target.id))


@bp.post("/accounts/<int:user_id>/disable")
@login_required
def disable(user_id: int):
    """Disable the account: its sessions and links end at once."""
    return _act(
        user_id,
        lambda t: admin.set_active(current_user, t, False),
        _("Account {username} is disabled and logged out everywhere."),
    )


@bp.post("/accounts/<int:user_id>/enable")
@login_required
def enable(user_id: int):
    """Enable a disabled account again."""
    return _act(user_id, lambda t: admin.set_active(current_user, t, True), _("Account {username} is enabled."))


@bp.post("/accounts/<int:user_id>/reset")
@login_required
def reset(user_id: int):
    """Clear the password and make a new one-time link; the person sets a new password with it."""
    return _act(
        user_id,
        lambda t: admin.reset(current_user, t),
        _("The password of {username} is cleared. Give the person the new link below."),
    )


@bp.post("/accounts/<int:user_id>/logout-all")
@login_required
def logout_all(user_id: int):
    """Log the account out on every device."""
    return _act(user_id, lambda t: admin.end_sessions(current_user, t), _("{username} is logged out everywhere."))


@bp.get("/accounts/sheet")
@login_required
def sheet():
    """Print the activation links of the chosen accounts as a sheet of QR codes, one card each."""
    authorize("accounts.admin")
    ids = whole_numbers(request.args.getlist("id"))[:500]
    accounts = admin.by_ids(current_user, ids)
    live = links.live_links(accounts)
    cards = [(user, live.get(user.id), links.url(live[user.id]) if user.id in live else None) for user in accounts]
    return render_template("accounts/sheet.html", cards=cards, roles=admin.ROLE_LABELS)
