"""Competition set-up pages: create, overview with the lifecycle buttons, details, clone.

The scheme and rules editor lives in `scheme.py` beside this module.
"""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from comp.blueprints.answers import REFUSED
from comp.blueprints.setup import bp
from comp.blueprints.setup.forms import CloneForm, DetailsForm
from comp.labels import LEVELS, status_label
from comp.models import Competition
from comp.models.competition import STATES
from comp.models.types import plain
from comp.permissions import authorize, competition_for
from comp.services import ServiceError
from comp.services import setup as setup_service
from comp.services.setup import lifecycle

# What the button that moves a competition from one state to the next says.
MOVES = {
    ("draft", "open"): _l("Open registration"),
    ("open", "closed"): _l("Close registration"),
    ("closed", "open"): _l("Reopen registration"),
    ("closed", "running"): _l("Start the competition"),
    ("running", "locked"): _l("Lock the scores"),
    ("locked", "running"): _l("Unlock the scores"),
    ("locked", "published"): _l("Publish the results"),
    ("published", "archived"): _l("Archive"),
    ("published", "locked"): _l("Withdraw the results (objection upheld)"),
}
# Steps that others act on at once, or that cannot be taken back: the browser asks first (app.js).
CONFIRMS = {
    ("draft", "open"): _l("Open registration? Workers and enterprises can register from now on."),
    ("open", "closed"): _l("Close registration now? No one can register until you reopen it."),
    ("closed", "running"): _l("Start the competition? The scheme is then fixed and the judges start marking."),
    ("running", "locked"): _l("Lock the scores? Marks can no longer change and the names are shown."),
    ("locked", "published"): _l("Publish the results? Everyone can see them and the notice period starts."),
    ("published", "archived"): _l("Archive the competition? Nothing about it can change afterwards."),
    ("published", "locked"): _l("Withdraw the published results? They are taken off the public pages."),
}


@bp.app_template_filter("plain")
def plain_filter(value) -> str:
    """Show a decimal as typed: no exponent, no trailing zeros."""
    return "" if value is None else plain(value)


@bp.app_template_filter("localtime")
def localtime_filter(moment) -> str:
    """Show a stored UTC time in the user's time zone, to the minute."""
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else ""


def managed(code: str) -> Competition:
    """Return the competition the current user manages, or answer 404/403."""
    return competition_for(code)


def attach(form, problems: dict[str, str]) -> None:
    """Show each refused field's message next to that field, the rest above the form."""
    if hasattr(form, "attach"):  # a form whose fields sit in lists places the messages itself
        form.attach(problems)
        return
    for field, message in problems.items():
        if field in form:
            form[field].errors = [*form[field].errors, message]
        else:
            form.form_errors.append(message)


def _details_form(form: DetailsForm) -> DetailsForm:
    form.set_choices(
        setup_service.organizer_units(current_user),
        setup_service.county_unions(),
        optional=current_user.role == "admin" or current_user.org_unit_id is None,
    )
    return form


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Create a draft competition from its details."""
    authorize("competition.create")
    form = _details_form(DetailsForm(data={"year": date.today().year}))
    if form.validate_on_submit():
        try:
            competition = setup_service.create_competition(form.details(), current_user)
        except ServiceError as error:
            attach(form, getattr(error, "problems", {"": str(error)}))
        else:
            flash(
                _("%(code)s was created as a draft. Add its stages, criteria and rules next.", code=competition.code),
                "success",
            )
            return redirect(url_for(".overview", code=competition.code))
    return render_template("setup/new.html", form=form), 422 if form.errors or form.form_errors else 200


def _overview(competition: Competition, status: int = 200):
    problems = lifecycle.scheme_problems(competition) if competition.status == "draft" else []
    moves = [
        (
            target,
            MOVES.get((competition.status, target), status_label(target)),
            (competition.status, target) in setup_service.REASONED,
            CONFIRMS.get((competition.status, target)),
        )
        for target in lifecycle.NEXT.get(competition.status, ())
    ]
    counties = set((competition.eligibility or {}).get("counties") or [])
    return render_template(
        "setup/overview.html",
        competition=competition,
        moves=moves,
        problems=problems,
        counts=setup_service.entrant_counts(competition),
        stages=competition.stages,
        states=STATES,
        level_label=LEVELS.get(competition.level, competition.level),
        county_names=[u.name for u in setup_service.county_unions() if u.id in counties],
    ), status


@bp.get("/<code>")
def overview(code: str):
    """Show a competition's details, state, next moves and entrant counts."""
    return _overview(managed(code))


@bp.post("/<code>/transition")
def transition(code: str):
    """Move the competition to the next state, or say why it cannot move."""
    competition = managed(code)
    target = request.form.get("target", "")
    try:
        numbered = setup_service.move_competition(competition, target, current_user, request.form.get("reason", ""))
    except ServiceError as error:
        flash(str(error), "error")
        return _overview(competition, REFUSED)
    flash(_("%(code)s is now: %(state)s.", code=competition.code, state=status_label(target)), "success")
    if numbered is not None:
        flash(_("%(count)d entrants received a number and a secret code.", count=numbered), "success")
    return redirect(url_for(".overview", code=competition.code))


@bp.route("/<code>/details", methods=["GET", "POST"])
def details(code: str):
    """Edit a competition's details; its code stays."""
    competition = managed(code)
    form = _details_form(DetailsForm() if request.method == "POST" else DetailsForm.of(competition))
    form.code.data = competition.code
    if form.validate_on_submit():
        try:
            setup_service.update_details(competition, form.details(), current_user)
        except ServiceError as error:
            attach(form, getattr(error, "problems", {"": str(error)}))
        else:
            flash(_("The details were saved."), "success")
            return redirect(url_for(".overview", code=competition.code))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "setup/details.html",
        form=form,
        competition=competition,
        editable=competition.status in setup_service.DETAILS_EDITABLE,
    ), status


def _suggested_code(source: Competition, year: int) -> str:
    code = source.code.replace(str(source.year), str(year))
    return code if code != source.code else f"{source.code}-{year}"


@bp.route("/<code>/clone", methods=["GET", "POST"])
def clone(code: str):
    """Copy a competition's details, scheme and rules into a new year's draft."""
    source = managed(code)
    form = CloneForm()
    if request.method == "GET":
        form.year.data = source.year + 1
        form.code.data = _suggested_code(source, source.year + 1)
    if form.validate_on_submit():
        try:
            copy = setup_service.clone_competition(source, form.code.data.strip(), form.year.data, current_user)
        except ServiceError as error:
            attach(form, getattr(error, "problems", {"": str(error)}))
        else:
            flash(_("%(code)s was created from %(source)s as a draft.", code=copy.code, source=source.code), "success")
            return redirect(url_for(".overview", code=copy.code))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("setup/clone.html", form=form, competition=source), status


from comp.blueprints.setup import (  # noqa: E402
    honours,  # noqa: E402,F401
    programme,  # noqa: F401  the declared programme (factors)
    ratings,  # noqa: E402,F401
    scheme,  # noqa: F401  the scheme editor's routes
)
