"""Views of the units blueprint: the registry, unit editing, import/export, profiles, enterprise pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.units import bp
from comp.blueprints.units.forms import (
    AchievementForm,
    ActionForm,
    MemberForm,
    UnitForm,
)
from comp.converters import whole_number
from comp.extensions import htmx
from comp.models import Unit
from comp.permissions import authorize, can
from comp.services import ServiceError
from comp.services import units as service
from comp.services.units import profile as profiles


def _unit(unit_id: int) -> Unit:
    """Return the unit the organizer manages; 404 for another county's, as for none, so its existence is not told."""
    authorize("organizer.home")
    unit = service.get(unit_id)
    if unit is None or not can("unit.manage", unit):
        abort(404)
    return unit


def _int(name: str) -> int | None:
    """Read a positive id or page number from the query string; anything else (or beyond 32 bits) is none."""
    return whole_number(request.args.get(name), low=1)


@bp.get("/units")
@login_required
def index():
    """List studios and teams, searched and filtered, 50 a page."""
    authorize("organizer.home")
    filters = service.Filters(
        q=request.args.get("q", "").strip(),
        kind=request.args.get("kind", ""),
        county=_int("county"),
        enterprise=_int("enterprise"),
        level=request.args.get("level", ""),
    )
    context = {
        "filters": filters,
        **service.registry(filters, current_user, _int("page") or 1),
        "kinds": service.KIND_LABELS,
        "levels": service.LEVEL_LABELS,
    }
    if htmx:
        return render_template("units/_list.html", **context)
    return render_template("units/index.html", **context)


def _unit_form(unit: Unit | None, **kwargs) -> UnitForm:
    """Return the unit form offering the user's enterprises and the chosen one's workers (none of another's)."""
    enterprises = service.enterprises(current_user)
    posted = whole_number(request.form.get("enterprise"), low=1)
    chosen = posted if posted in {e.id for e in enterprises} else (unit.enterprise_id if unit else None)
    return UnitForm(enterprises=enterprises, workers=service.enterprise_workers(chosen, current_user), **kwargs)


def _fields(form: UnitForm) -> dict:
    leader = service.find_worker(form.leader.data, form.leader_id_number.data, current_user)
    return {
        "kind": form.kind.data,
        "name": form.name.data.strip(),
        "enterprise_id": form.enterprise.data,
        "workshop": (form.workshop.data or "").strip() or None,
        "leader": leader,
        "level": form.level.data or None,
        "founded": form.founded.data,
    }


def _edit_page(unit: Unit | None, form: UnitForm, error: str | None = None, status: int = 200):
    return render_template(
        "units/edit.html", **(_sections(unit) if unit else {"unit": None}), form=form, error=error
    ), status


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def new():
    """Show the form of a new unit; create it on POST."""
    authorize("organizer.home")
    return _save(None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
def edit(unit_id: int):
    """Show the unit's form with its members and achievements; save it on POST."""
    return _save(_unit(unit_id))


def _save(unit: Unit | None):
    form = _unit_form(unit)
    if request.method == "GET" and unit is not None:
        form = _unit_form(
            unit,
            data={
                "kind": unit.kind,
                "name": unit.name,
                "enterprise": unit.enterprise_id or 0,
                "workshop": unit.workshop,
                "leader": unit.leader_id or 0,
                "level": unit.level or "",
                "founded": unit.founded,
            },
        )
    if request.method == "GET":
        return _edit_page(unit, form)
    if not form.validate_on_submit():
        return _edit_page(unit, form, status=422)
    try:
        saved = service.save(unit, _fields(form), current_user)
    except ServiceError as error:
        return _edit_page(unit, form, error=str(error), status=422)
    flash(_("“%(name)s” is saved.", name=saved.name), "success")
    return redirect(url_for("units.edit", unit_id=saved.id))


def _sections(unit: Unit, member_form=None, achievement_form=None, error=None, section=None) -> dict:
    workers = service.enterprise_workers(unit.enterprise_id, current_user)
    return {
        "unit": unit,
        "members": profiles.members(unit),
        "action": ActionForm(),
        "member_form": member_form or MemberForm(formdata=None, workers=workers),
        "achievement_form": achievement_form or AchievementForm(formdata=None),
        "years": profiles.achievements_by_year(unit),
        "achievement_kinds": service.ACHIEVEMENT_LABELS,
        "section_error": error,
        "section": section,
    }


def _section(unit: Unit, name: str, **context):
    """Answer an htmx request with the section fragment, any other with the edit page."""
    if htmx:
        return render_template(f"units/_{name}.html", **_sections(unit, section=name, **context))
    if context.get("error"):
        flash(context["error"], "error")
    return redirect(url_for("units.edit", unit_id=unit.id, _anchor=name))


@bp.post("/units/<int:unit_id>/members")
@login_required
def add_member(unit_id: int):
    """Add a member chosen from the enterprise's workers or by ID number."""
    unit = _unit(unit_id)
    form = MemberForm(workers=service.enterprise_workers(unit.enterprise_id, current_user))
    if not form.validate_on_submit():
        return _section(unit, "members", member_form=form)
    try:
        worker = service.find_worker(form.worker.data, form.id_number.data, current_user)
        assert worker is not None  # the form requires a worker or an ID number, and either finds one or refuses
        service.add_member(unit, worker, (form.role.data or "").strip(), current_user)
    except ServiceError as error:
        return _section(unit, "members", member_form=form, error=str(error))
    return _section(unit, "members")


@bp.post("/units/<int:unit_id>/members/<int:member_id>/remove")
@login_required
def remove_member(unit_id: int, member_id: int):
    """Remove a member."""
    unit = _unit(unit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.remove_member(unit, member_id, current_user)
    except ServiceError as error:
        return _section(unit, "members", error=str(error))
    return _section(unit, "members")


@bp.post("/units/<int:unit_id>/achievements")
@login_required
def add_achievement(unit_id: int):
    """Record an achievement of the unit."""
    unit = _unit(unit_id)
    form = AchievementForm()
    if not form.validate_on_submit():
        return _section(unit, "achievements", achievement_form=form)
    service.add_achievement(unit, form.year.data, form.kind.data, form.title.data.strip(), current_user)
    return _section(unit, "achievements")


@bp.post("/units/<int:unit_id>/achievements/<int:achievement_id>/remove")
@login_required
def remove_achievement(unit_id: int, achievement_id: int):
    """Delete an achievement."""
    unit = _unit(unit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.remove_achievement(unit, achievement_id, current_user)
    except ServiceError as error:
        return _section(unit, "achievements", error=str(error))
    return _section(unit, "achievements")


@bp.get("/units/<int:unit_id>")
@login_required
def profile(unit_id: int):
    """Show a unit's members, achievements and rating history with its trend."""
    unit = _unit(unit_id)
    history = profiles.rating_history(unit)
    return render_template(
        "units/profile.html",
        unit=unit,
        members=profiles.members(unit),
        history=history,
        chart=profiles.trend(history),
        years=profiles.achievements_by_year(unit),
        kinds=service.KIND_LABELS,
        levels=service.LEVEL_LABELS,
        achievement_kinds=service.ACHIEVEMENT_LABELS,
    )


@bp.get("/enterprises/<int:org_id>")
@login_required
def enterprise(org_id: int):
    """Show an enterprise of the organizer's unions: county, studios and teams, workers' results; 404 for another."""
    authorize("organizer.home")
    org = profiles.enterprise(org_id, current_user) or abort(404)
    return render_template(
        "units/enterprise.html",
        org=org,
        units=profiles.enterprise_units(org),
        results=profiles.worker_results(org),
        kinds=service.KIND_LABELS,
    )


from comp.blueprints.units import spreadsheets  # noqa: E402,F401
