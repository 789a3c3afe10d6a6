"""Registration: workers register themselves, liaisons upload sheets, organizers decide and export."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from comp.blueprints import uploads
from comp.blueprints.registration import bp
from comp.blueprints.registration.forms import (
    ActionForm,
    ConfirmForm,
    DecisionForm,
    ProfileForm,
    RegisterForm,
    UploadForm,
)
from comp.converters import page_number, whole_numbers
from comp.extensions import htmx
from comp.labels import entrant_status_label
from comp.models import Competition
from comp.permissions import authorize, can, competition_for, competition_or_404
from comp.services import ServiceError, registration
from comp.services.accounts import claims
from comp.services.registration import bulk, mine
from comp.services.registration import queue as queue_service
from comp.services.registration.rows import COLUMNS, liaison_unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global("registrations_open_to")
def registrations_open_to(user) -> list:
    """List, for a worker's home page, the competitions taking registrations now."""
    return registration.open_for(user)


bp.add_app_template_global(registration.grade_label, "grade_label")


@bp.app_template_global("my_entry_results")
def my_entry_results(entries: list) -> dict:
    """Return, for the worker's "my entries", the published result of each entry by entrant id."""
    return mine.results_of(entries)


@bp.app_template_global("my_entry_progress")
def my_entry_progress(entrant) -> mine.Progress:
    """Return where one of the worker's entries stands, in words."""
    return mine.progress(entrant)


def _register_page(
    competition: Competition,
    profile: ProfileForm | None = None,
    error: str | None = None,
    status: int = 200,
    form: RegisterForm | None = None,
):
    worker = current_user.worker
    claim = claims.pending_claim(current_user) if worker is None else None
    return render_template(
        "registration/register.html",
        competition=competition,
        worker=worker,
        error=error,
        claim=claim,
        conditions=registration.conditions(competition),
        refusals=registration.refusals(competition, worker),
        places_left=registration.places_left(competition),
        entry=worker and registration.entry_of(competition, worker),
        profile=profile or (ProfileForm() if worker is None and claim is None else None),
        form=form or RegisterForm(),
        teams=registration.team_names(competition, worker),
        trades=registration.trades_of(competition),
    ), status


@bp.route("/competitions/<code>/register", methods=["GET", "POST"])
@login_required
def register(code: str):
    """Show the competition and whether the worker may enter; register them on POST."""
    competition = competition_for(code, "competition.register_self")
    form = RegisterForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _register_page(competition, form=form, status=422)
        try:
            entrant = registration.register_self(competition, current_user, form.team.data or "")
        except ServiceError as error:
            return _register_page(competition, error=str(error), status=422, form=form)
        flash(_("You are registered as %(ref)s; the organizer will approve or reject it.", ref=entrant.ref), "success")
        return redirect(url_for("main.home"))
    return _register_page(competition)


@bp.get("/my/entries/<int:entrant_id>")
@login_required
def my_entry(entrant_id: int):
    """Show the worker her own entry: where it stands, then her published result; 404 for anyone else's."""
    entrant = mine.own_entrant(current_user, entrant_id) or abort(404)
    result = mine.results_of([entrant]).get(entrant.id) if mine.published(entrant) else None
    progress = mine.progress(entrant)
    return render_template(
        "registration/my_entry.html",
        entrant=entrant,
        competition=entrant.competition,
        progress=progress,
        steps=mine.steps(progress.step),
        result=result,
    )


@bp.post("/competitions/<code>/register/profile")
@login_required
def profile(code: str):
    """Create the worker record of a worker account, then come back to the registration."""
    competition = competition_for(code, "competition.register_self")
    form = ProfileForm()
    if not form.validate_on_submit():
        return _register_page(competition, profile=form, status=422)
    try:
        claim = registration.create_profile(
            current_user,
            form.name.data,
            form.id_number.data,
            form.phone.data,
            form.employer.data,
            form.trade.data,
            form.grade.data or None,
        )
    except ServiceError as error:
        return _register_page(competition, profile=form, error=str(error), status=422)
    if claim is not None:
        flash(
            _(
                "A worker record with this ID number is already on file. An organizer of your union will "
                "confirm that it is yours; then you can register."
            ),
            "info",
        )
    return redirect(url_for("registration.register", code=code))


@bp.post("/competitions/<code>/registrations/<int:entrant_id>/withdraw")
@login_required
def withdraw(code: str, entrant_id: int):
    """Withdraw the worker's own registration."""
    competition = competition_or_404(code)
    entrant = queue_service.get_entrant(competition, entrant_id) or abort(404)
    authorize("entrant.own", entrant)
    if ActionForm().validate_on_submit():
        try:
            registration.withdraw(entrant, current_user)
            flash(_("Your registration %(ref)s is withdrawn.", ref=entrant.ref), "success")
        except ServiceError as error:
            flash(str(error), "error")
    return redirect(url_for("main.home"))


def _queue_context(competition: Competition) -> dict:
    status = request.args.get("status") or None
    page = queue_service.queue(competition, status, page_number(request.args.get("page")))
    return {
        "competition": competition,
        "page": page,
        "status": status,
        "form": DecisionForm(),
        "places_left": registration.places_left(competition),
    }


@bp.get("/competitions/<code>/registrations")
@login_required
def queue(code: str):
    """Show the approval queue, filtered by status; htmx gets the table alone."""
    competition = competition_for(code, "competition.manage")
    context = _queue_context(competition)
    if htmx:
        return render_template("registration/_queue.html", **context)
    return render_template("registration/queue.html", **context)


@bp.post("/competitions/<code>/registrations/<int:entrant_id>/<any(approve, reject):verdict>")
@login_required
def decide(code: str, entrant_id: int, verdict: str):
    """Approve or reject one registration and answer with its row (htmx), else go back to the queue."""
    competition = competition_for(code, "competition.manage")
    entrant = queue_service.get_entrant(competition, entrant_id) or abort(404)
    error = None
    try:
        queue_service.decide(competition, [entrant.id], verdict, current_user, request.form.get("reason", ""))
    except ServiceError as refused:
        error = str(refused)
    if htmx:
        response = render_template("registration/_row.html", competition=competition, e=entrant, error=error)
        return response, 200, {} if error else {"HX-Trigger": "registration-decided"}
    flash(
        error or _("Registration %(ref)s: %(status)s.", ref=entrant.ref, status=entrant_status_label(entrant.status)),
        "error" if error else "success",
    )
    return redirect(url_for("registration.queue", code=code))


@bp.post("/competitions/<code>/registrations/decide")
@login_required
def decide_many(code: str):
    """Approve or reject the checked registrations in one go."""
    competition = competition_for(code, "competition.manage")
    form = DecisionForm()
    ids = whole_numbers(request.form.getlist("ids"))
    if form.validate_on_submit():
        try:
            changed = queue_service.decide(competition, ids, form.verdict.data, current_user, form.reason.data)
            flash(ngettext("%(num)d registration changed.", "%(num)d registrations changed.", len(changed)), "success")
        except ServiceError as error:
            flash(str(error), "error")
    else:
        flash(_("Choose approve or reject."), "error")
    return redirect(url_for("registration.queue", code=code, status=request.form.get("status") or None))


@bp.get("/competitions/<code>/<any(registrations, entrants):which>.xlsx")
@login_required
def export(code: str, which: str):
    """Download the registrations or the accepted entrants; `?full=1` shows ID numbers and is audited."""
    competition = competition_for(code, "competition.manage")
    data = queue_service.export(competition, current_user, which, full=request.args.get("full") == "1")
    return send_file(
        io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"{competition.code}-{which}.xlsx"
    )


@bp.get("/registrations/bulk")
@login_required
def bulk_index():
    """List the competitions the user may register people for from a sheet."""
    competitions = [c for c in registration.open_for(current_user) if can("competition.register_bulk", c[0])]
    if not competitions and current_user.role not in ("admin", "organizer", "liaison"):
        abort(403)
    return render_template("registration/bulk_index.html", competitions=[c for c, _e in competitions])


@bp.get("/competitions/<code>/registrations/template.xlsx")
@login_required
def template(code: str):
    """Download the empty registration sheet."""
    competition = competition_for(code, "competition.register_bulk")
    return send_file(
        io.BytesIO(bulk.template(competition, current_user)),
        mimetype=XLSX,
        as_attachment=True,
        download_name="registration-template.xlsx",
    )


def _upload_page(competition: Competition, form: UploadForm, error: str | None = None, status: int = 200):
    return render_template(
        "registration/upload.html",
        competition=competition,
        form=form,
        error=error,
        columns=COLUMNS,
        liaison=liaison_unit(competition, current_user),
        status_after=bulk.status_for(competition, current_user),
        trades=registration.trades_of(competition),
    ), status


@bp.route("/competitions/<code>/registrations/upload", methods=["GET", "POST"])
@login_required
def upload(code: str):
    """Show the upload form; on POST check the sheet and show its report."""
    competition = competition_for(code, "competition.register_bulk")
    form = UploadForm()
    if request.method == "GET":
        return _upload_page(competition, form)
    return uploads.start(
        form,
        bulk.MAX_BYTES,
        lambda name, data: bulk.start(competition, current_user, name, data),
        lambda form, **context: _upload_page(competition, form, **context),
        lambda token: url_for("registration.preview", code=code, token=token),
    )


@bp.get("/competitions/<code>/registrations/upload/<token>")
@login_required
def preview(code: str, token: str):
    """Show every row of the upload with what is wrong with it."""
    competition = competition_for(code, "competition.register_bulk")
    kept = bulk.get_upload(competition, current_user, token) or abort(404)
    return render_template(
        "registration/preview.html",
        **bulk.preview(competition, current_user, kept),
        form=ConfirmForm(),
        action=ActionForm(),
    )


@bp.post("/competitions/<code>/registrations/upload/<token>/confirm")
@login_required
def confirm(code: str, token: str):
    """Import the checked rows, all or only the valid ones; nothing is written on a refusal."""
    competition = competition_for(code, "competition.register_bulk")
    kept = bulk.get_upload(competition, current_user, token) or abort(404)

    def done(count: int) -> Response:
        flash(ngettext("%(num)d registration imported.", "%(num)d registrations imported.", count), "success")
        if can("competition.manage", competition):
            return redirect(url_for("registration.queue", code=code))
        return redirect(url_for("main.home"))  # a liaison's home lists the people entered and their status

    return uploads.confirm(
        ConfirmForm(),
        lambda form: bulk.confirm(kept, current_user, only_valid=form.mode.data == "valid", approve=form.approve.data),
        url_for("registration.preview", code=code, token=token),
        done,
    )


@bp.post("/competitions/<code>/registrations/upload/<token>/discard")
@login_required
def discard(code: str, token: str):
    """Forget an upload without importing anything."""
    competition = competition_for(code, "competition.register_bulk")
    kept = bulk.get_upload(competition, current_user, token) or abort(404)
    return uploads.discard(ActionForm(), lambda: bulk.discard(kept), url_for("registration.upload", code=code))
