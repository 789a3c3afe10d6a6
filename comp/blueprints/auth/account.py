"""My account: sessions, changing the password, logging out everywhere, a worker's record requests."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.auth import bp
from comp.blueprints.auth.forms import ActionForm, ChangePasswordForm
from comp.blueprints.auth.views import begin, client, end
from comp.blueprints.people.forms_request import CorrectionForm
from comp.services import ServiceError, accounts
from comp.services.accounts import claims, sessions
from comp.services.accounts.admin import ROLE_LABELS


def _page(password_form=None, correction=None, status: int = 200):
    worker = current_user.worker
    form = correction
    if form is None and worker is not None:
        form = CorrectionForm.for_worker(worker)
    return render_template(
        "auth/account.html",
        live=sessions.live(current_user),
        token=current_user.session_token,
        is_current=sessions.is_current,
        action=ActionForm(),
        role_label=ROLE_LABELS[current_user.role],
        claim=claims.pending_claim(current_user) if worker is None else None,
        requests=claims.mine(current_user),
        correction=form,
        field_labels=claims.FIELD_LABELS,
    ), status


@bp.get("/account")
@login_required
def account():
    """Show the account, its live sessions and, for a worker, their record requests."""
    return _page()


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; every other session ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data, *client())
        except ServiceError as error:
            form.password.errors.append(str(error))
        else:
            # The user object itself, not the current_user proxy: Flask-Login keeps what it is given
            # as the request's user, and a proxy standing for itself recurses without end.
            user = current_user._get_current_object()
            begin(user, user.session_token)  # the new session, with a fresh CSRF token
            flash(_("Your password is changed. Every other device was logged out."), "success")
            return redirect(url_for("auth.account"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.post("/account/logout-all")
@login_required
def logout_all():
    """End every session of the account, this one included."""
    if not ActionForm().validate_on_submit():
        abort(400)
    accounts.log_out_everywhere(current_user)
    end()
    flash(_("You are logged out on every device."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/account/corrections")
@login_required
def correction():
    """File the worker's request to correct their record; the organizer decides."""
    worker = current_user.worker or abort(404)
    form = CorrectionForm.for_worker(worker, formdata=request.form)
    if not form.validate_on_submit():
        return _page(correction=form, status=422)
    try:
        claims.request_change(current_user, form.changes(), form.reason.data)
    except ServiceError as error:
        form.form_errors.append(str(error))
        return _page(correction=form, status=422)
    flash(
        _("Your request is sent to your union; it will appear in your record once an organizer accepts it."), "success"
    )
    return redirect(url_for("auth.account", _anchor="requests"))
