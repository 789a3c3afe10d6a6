"""The hall before the contest: numbers and the lot draw, printable lists, check-in (检录), the judging panel."""

from __future__ import annotations

import io

from flask import abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from comp.blueprints.flashes import flash_outcome
from comp.blueprints.hall import bp
from comp.blueprints.hall.forms import ConflictForm, CriteriaForm, DrawForm, ExistingJudgeForm, NewJudgeForm
from comp.extensions import db, htmx
from comp.labels import entrant_status_label
from comp.models import JudgeAssignment
from comp.permissions import competition_for
from comp.services import ServiceError
from comp.services.accounts import links
from comp.services.hall import checkin as checkin_service
from comp.services.hall import draw as draw_service
from comp.services.hall import judges as judges_service
from comp.services.hall import printing

# ---- numbers and the lot draw ----


def _draw_page(competition, form: DrawForm | None = None, error: str | None = None):
    replay = draw_service.replay_draw(competition)
    counts = draw_service.status_counts(competition)
    if form is None:
        form = DrawForm(
            sessions=replay.sessions if replay else 1,
            stations=replay.stations if replay else max(1, counts.get("approved", 0) + counts.get("ok", 0)),
        )
    return render_template(
        "hall/draw.html",
        competition=competition,
        form=form,
        error=error,
        counts=counts,
        replay=replay,
        sessions=draw_service.session_sizes(competition),
    )


@bp.get("/<code>/draw")
def draw(code: str):
    """Show numbers, the lot draw and the printable lists."""
    return _draw_page(competition_for(code))


@bp.post("/<code>/draw/close")
def close_registration(code: str):
    """Close registration and number the approved entrants in one step."""
    competition = competition_for(code)
    flash_outcome(
        lambda: draw_service.close_registration(competition, current_user),
        lambda count: _("Registration is closed: %(count)d entrants received a number and a secret code.", count=count),
    )
    return redirect(url_for(".draw", code=code))


@bp.post("/<code>/draw/numbers")
def assign_numbers(code: str):
    """Number the entrants approved since registration closed."""
    competition = competition_for(code)
    flash_outcome(
        lambda: draw_service.assign_numbers(competition, current_user),
        lambda count: _("%(count)d entrants received a number and a secret code.", count=count),
    )
    return redirect(url_for(".draw", code=code))


@bp.post("/<code>/draw/lots")
def draw_lots(code: str):
    """Draw sessions and workstations from a recorded seed."""
    competition = competition_for(code)
    form = DrawForm()
    if not form.validate_on_submit():
        return _draw_page(competition, form)
    try:
        seed = draw_service.draw_lots(
            competition, form.sessions.data, form.stations.data, form.seed.data, current_user, form.reason.data
        )
    except ServiceError as error:
        return _draw_page(competition, form, str(error))
    flash(_("Lots are drawn with the seed %(seed)s.", seed=seed), "success")
    return redirect(url_for(".draw", code=code))


LISTS = {
    ("signin", "pdf"),
    ("signin", "xlsx"),
    ("workstations", "pdf"),
    ("workstations", "xlsx"),
    ("codes", "pdf"),
}
TABLES = {"signin": printing.signin_table, "workstations": printing.workstation_table}
MIMETYPES = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.get("/<code>/lists/<name>.<ext>")
def download(code: str, name: str, ext: str):
    """Download a printable list: sign-in sheet, workstation list (PDF or .xlsx), secret codes (PDF)."""
    competition = competition_for(code)
    if (name, ext) not in LISTS:
        abort(404)
    if name == "codes":
        data = printing.codes_pdf(competition, current_user)
    else:
        table = TABLES[name](competition)
        data = printing.pdf(competition, table) if ext == "pdf" else printing.xlsx(table)
    response = send_file(
        io.BytesIO(data), mimetype=MIMETYPES[ext], as_attachment=True, download_name=f"{competition.code}-{name}.{ext}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- check-in ----


@bp.get("/<code>/checkin")
def checkin(code: str):
    """Show the check-in screen; an htmx search gets only the matching entrants."""
    competition = competition_for(code)
    query = request.args.get("q", "").strip()
    entrants = checkin_service.search(competition, query)
    context = {"competition": competition, "entrants": entrants, "query": query, "limit": checkin_service.LIMIT}
    if htmx:
        return render_template("hall/_checkin_results.html", **context)
    return render_template("hall/checkin.html", counts=checkin_service.counts(competition), **context)


@bp.get("/<code>/checkin/counts")
def checkin_counts(code: str):
    """Return the running tally of the check-in."""
    competition = competition_for(code)
    return render_template(
        "hall/_checkin_counts.html", competition=competition, counts=checkin_service.counts(competition)
    )


@bp.post("/<code>/checkin/<int:entrant_id>")
def checkin_mark(code: str, entrant_id: int):
    """Mark one entrant present or absent; htmx gets the entrant's row back."""
    competition = competition_for(code)
    entrant = checkin_service.find(competition, entrant_id) or abort(404)
    error = None
    try:
        checkin_service.mark(competition, entrant, request.form.get("status", ""), current_user)
    except ServiceError as refused:
        error = str(refused)
    if not htmx:
        flash(
            error or _("%(name)s: %(status)s", name=entrant.name, status=entrant_status_label(entrant.status)),
            "error" if error else "success",
        )
        return redirect(url_for(".checkin", code=code, q=entrant.number or entrant.name))
    response = make_response(
        render_template("hall/_checkin_row.html", competition=competition, entrant=entrant, error=error)
    )
    if error is None:
        response.headers["HX-Trigger"] = "checkin-changed"
    return response


# ---- the judging panel ----


def _judge_forms(
    new_form: NewJudgeForm | None = None, existing_form: ExistingJudgeForm | None = None, competition=None
) -> dict:
    new_form = new_form or NewJudgeForm(formdata=None)
    new_form.employer.choices = [(0, _("— none —"))] + [(u.id, u.name) for u in judges_service.employers()]
    existing_form = existing_form or ExistingJudgeForm(formdata=None)
    existing_form.user.choices = [
        (u.id, " · ".join(filter(None, (u.display_name, u.org_unit.name if u.org_unit else ""))) + f" ({u.username})")
        for u in judges_service.candidates(competition)
    ]
    return {"new_form": new_form, "existing_form": existing_form}


def _judges_page(competition, new_form=None, existing_form=None, **extra):
    """Render the panel: the fragment for htmx, else the whole page."""
    context = {
        "competition": competition,
        "rows": judges_service.overview(competition),
        "errors": {},
        "conflict_form": ConflictForm(formdata=None),
        "reason_label": judges_service.reason_label,
        **extra,
    }
    context.update(_judge_forms(new_form, existing_form, competition))
    template = "hall/_judge_panel.html" if htmx else "hall/judges.html"
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"  # a new judge's activation link is shown
    return response


def _assignment(competition, assignment_id: int) -> JudgeAssignment:
    assignment = db.session.get(JudgeAssignment, assignment_id)
    if assignment is None or assignment.competition_id != competition.id:
        abort(404)
    return assignment


def _form_error(form) -> str:
    return "; ".join(
        f"{form[name].label.text}: {' '.join(map(str, messages))}" for name, messages in form.errors.items()
    )


@bp.get("/<code>/judges")
def judges(code: str):
    """Show the judging panel."""
    return _judges_page(competition_for(code))


@bp.post("/<code>/judges/new")
def judge_new(code: str):
    """Create a judge account and put it on the panel; show its one-time activation link."""
    competition = competition_for(code)
    form = NewJudgeForm()
    _judge_forms(form, None, competition)
    if not form.validate_on_submit():
        return _judges_page(competition, new_form=form, error=_form_error(form))
    try:
        assignment, link = judges_service.add_judge(
            competition, form.username.data, form.display_name.data, form.employer.data or None, current_user
        )
    except ServiceError as error:
        return _judges_page(competition, new_form=form, error=str(error))
    return _judges_page(competition, created=(assignment, links.url(link)))


@bp.post("/<code>/judges/existing")
def judge_existing(code: str):
    """Put an existing judge account on the panel."""
    competition = competition_for(code)
    form = ExistingJudgeForm()
    _judge_forms(None, form, competition)
    if not form.validate_on_submit():
        return _judges_page(competition, existing_form=form, error=_form_error(form))
    try:
        assignment = judges_service.assign_existing(competition, form.user.data, current_user)
    except ServiceError as error:
        return _judges_page(competition, existing_form=form, error=str(error))
    return _judges_page(
        competition,
        message=_("%(name)s joined the panel as %(ref)s.", name=assignment.user.display_name, ref=assignment.ref),
    )


def _panel_action(code: str, assignment_id: int, act) -> object:
    """Run one change to one judge and show the panel, with the refusal on that judge's card.

    A refused card keeps what the organizer ticked (criteria, recusal), so fixing one box is enough.
    """
    competition = competition_for(code)
    assignment = _assignment(competition, assignment_id)
    try:
        message = act(assignment)
    except ServiceError as error:
        typed = {
            "criteria": {int(v) for v in request.form.getlist("criteria") if v.isdigit()},
            "recuse": request.form.get("recuse") == "y",
        }
        return _judges_page(competition, errors={assignment.id: str(error)}, typed={assignment.id: typed})
    return _judges_page(competition, message=message)


@bp.post("/<code>/judges/<int:assignment_id>/criteria")
def judge_criteria(code: str, assignment_id: int):
    """Set the criteria a judge marks, recusing them from conflicted entrants when the organizer says so."""

    def act(assignment):
        form = CriteriaForm()
        form.criteria.choices = [(c.id, c.name) for s in assignment.competition.stages for c in s.criteria]
        if not form.validate_on_submit():
            raise ServiceError(_form_error(form))
        judges_service.assign_criteria(assignment, form.criteria.data, current_user, recuse=form.recuse.data)
        return _("The criteria of %(ref)s are saved.", ref=assignment.ref)

    return _panel_action(code, assignment_id, act)


@bp.post("/<code>/judges/<int:assignment_id>/chief")
def judge_chief(code: str, assignment_id: int):
    """Name the chief judge."""

    def act(assignment):
        judges_service.set_chief(assignment, current_user)
        return _("%(name)s is the chief judge.", name=assignment.user.display_name)

    return _panel_action(code, assignment_id, act)


@bp.post("/<code>/judges/<int:assignment_id>/conflicts")
def judge_conflict(code: str, assignment_id: int):
    """Record a conflict of interest a judge declared with an entrant."""

    def act(assignment):
        form = ConflictForm()
        if not form.validate_on_submit():
            raise ServiceError(_form_error(form))
        judges_service.declare_conflict(assignment, form.entrant.data, form.reason.data, current_user)
        return _("The conflict of %(ref)s is recorded.", ref=assignment.ref)

    return _panel_action(code, assignment_id, act)


@bp.post("/<code>/judges/<int:assignment_id>/remove")
def judge_remove(code: str, assignment_id: int):
    """Take a judge off the panel."""

    def act(assignment):
        ref = assignment.ref
        judges_service.remove_judge(assignment, current_user)
        return _("%(ref)s has left the panel.", ref=ref)

    return _panel_action(code, assignment_id, act)
