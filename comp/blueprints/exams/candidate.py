"""Theory exams: the candidate's pages — admission, the paper, each answer, the clock, the submission.

A candidate is known by her login (a worker's account) or by ID number + exam code, which admits
her entrant for this browser: the entrant ids are kept in the signed cookie session
(`exam_entrants`), no server state. Every URL names the exam by its code, never a sitting, so a
candidate reaches only her own sitting. The answer save is answered in JSON for the page's outbox
(exam.js), which must tell a lost request from a refusal; without JavaScript a form post redirects.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from comp.blueprints.exams import bp
from comp.extensions import db, limiter
from comp.forms import Form
from comp.models.exam import QuestionImage, Sitting
from comp.models.types import plain
from comp.services import ServiceError
from comp.services.exams import paper_view
from comp.services.exams import sitting as service

SESSION_KEY = "exam_entrants"
KEPT = 10  # admissions a browser keeps: a candidate rarely sits more than one or two exams
DEVICE = re.compile(r"[A-Za-z0-9_-]{8,32}")


class AdmitForm(Form):
    """Exam code and ID-card number: who a candidate without an account is."""

    code = StringField(_l("Exam code"), validators=[InputRequired(), Length(max=16)])
    id_number = StringField(_l("ID-card number"), validators=[InputRequired(), Length(max=24)])


def _who() -> service.Who:
    """Return who asks: the worker behind the login and the entrants this browser was admitted as."""
    admitted = tuple(i for i in session.get(SESSION_KEY, []) if isinstance(i, int))
    worker_id = current_user.worker_id if current_user.is_authenticated else None
    return service.Who(worker_id, admitted)


def _candidate(exam_code: str):
    """Return the exam and the asker's entrant in it, or 404 (never saying whether the exam exists)."""
    try:
        return service.candidate_for(exam_code, _who())
    except LookupError:
        abort(404)


def _device() -> str:
    """Return the device token the page sends (form field or header), or 400."""
    return _sent_device() or abort(400)


def _sent_device() -> str:
    """Return the device token the page sends (form field or header), or "" when it is not well formed."""
    value = request.form.get("device") or request.headers.get("X-Exam-Device", "")
    return value if DEVICE.fullmatch(value) else ""


def _admit_failed(response) -> bool:
    return response.status_code != 302


@bp.route("/exam", methods=["GET", "POST"])
@limiter.limit(
    # Failures only, per address: a hall's phones share one router, so the limit is wide; guessing an
    # 18-character ID number and an 8-character exam code at this pace is hopeless.
    lambda: current_app.config.get("EXAM_ADMIT_LIMIT", "30 per minute"),
    key_func=lambda: f"exam-admit:{request.remote_addr}",
    methods=["POST"],
    deduct_when=_admit_failed,
)
def index():
    """List the asker's exams, and admit a candidate by exam code and ID number."""
    form = AdmitForm()
    status = 200
    if form.validate_on_submit():
        entrant = service.admit(form.code.data or "", form.id_number.data or "")
        if entrant is not None:
            kept = [entrant.id, *service.admitted_elsewhere(session.get(SESSION_KEY, []), entrant)]
            session[SESSION_KEY] = kept[:KEPT]
            session.permanent = True  # a phone's browser closed and opened again keeps the admission
            return redirect(url_for(".sit", exam_code=(form.code.data or "").strip().upper()))
        # One message whatever was wrong: the code, the number, or the registration.
        form.form_errors.append(_("No exam for this exam code and ID-card number. Check both and try again."))
    if request.method == "POST":
        status = 422
    exams = service.exams_of(_who())
    return render_template("exams/sit_index.html", form=form, exams=exams, state=service.state), status


@bp.get("/exam/<exam_code>")
def sit(exam_code: str):
    """Show the exam as it stands for the candidate: when it opens, the start, the paper, or the result."""
    exam, entrant = _candidate(exam_code)
    sitting = service.sitting_of(exam, entrant)
    if sitting is not None:
        service.finish_if_overdue(sitting)
    state = service.state(exam, sitting)
    context = {"exam": exam, "entrant": entrant, "sitting": sitting, "state": state}
    if state == "running":
        assert sitting is not None
        context["rows"] = paper_view.paper_rows(sitting)
        context["remaining"] = service.remaining(sitting)
    elif state == "finished":
        assert sitting is not None
        closed = service.results_open(exam)
        context["closed"] = closed
        if closed and sitting.score_cents is not None:
            context["score"] = plain(Decimal(sitting.score_cents).scaleb(-2))
        context["rows"] = paper_view.paper_rows(sitting, review=True) if closed and exam.show_answers else []
    return render_template("exams/sit_exam.html", **context)


@bp.post("/exam/<exam_code>/start")
def start(exam_code: str):
    """Draw the candidate's paper and start her clock on this device."""
    exam, entrant = _candidate(exam_code)
    try:
        service.start(exam, entrant, _device())
    except ServiceError as error:
        flash(str(error), "error")
    return redirect(url_for(".sit", exam_code=exam_code))


def _running(exam_code: str) -> Sitting:
    """Return the asker's sitting of the exam (404 when she has none)."""
    exam, entrant = _candidate(exam_code)
    return service.sitting_of(exam, entrant) or abort(404)


def _clock(sitting: Sitting, **extra) -> dict:
    """Return the clock as the page follows it: the seconds left and the sitting's state."""
    service.finish_if_overdue(sitting)
    state = "finished" if sitting.finished_at is not None else "running"
    return {"remaining": 0 if state == "finished" else service.remaining(sitting), "state": state, **extra}


@bp.post("/exam/<exam_code>/device")
def device(exam_code: str):
    """Make this device the one that answers: a reload resumes, another device takes over."""
    sitting = _running(exam_code)
    kind = service.take_over(sitting, _device())
    return jsonify(_clock(sitting, event=kind))


@bp.get("/exam/<exam_code>/clock")
def clock(exam_code: str):
    """Answer the server's clock: seconds left and state (JSON); a sitting past its deadline is ended."""
    sitting = _running(exam_code)
    return jsonify(_clock(sitting, device=sitting.device == request.headers.get("X-Exam-Device")))


def _save(exam_code: str, position: int) -> tuple[int, dict[str, object]]:
    """Save the posted answer; return the HTTP status and what the page is told (404 when not hers)."""
    try:
        seen = int(request.form.get("version", ""))
    except ValueError:
        seen = -1  # refused once the sitting is known to be hers (404 first for anyone else)
    device = ""
    try:
        raw = "".join(request.form.getlist("response"))
        device = _sent_device()  # checked after the sitting is known to be hers: 404 first for anyone else
        saved = service.save_answer(exam_code, _who(), position, raw, seen, device)
    except LookupError:
        abort(404)
    except service.StaleAnswer as error:
        return 409, {"state": "stale", "response": error.response, "version": error.version}
    except service.TakenOver as error:
        if not device:
            abort(400)
        return 409, {"state": "taken", "message": str(error)}
    except (service.TimeUp, service.Finished) as error:
        return 409, {"state": "finished", "message": str(error)}
    except service.AnswerRefused as error:
        return 422, {"state": "refused", "message": str(error)}
    return 200, {"state": "saved", "response": saved.response, "version": saved.version, "remaining": saved.remaining}


@bp.post("/exam/<exam_code>/answers/<int:position>")
def answer(exam_code: str, position: int):
    """Save one answer over the version the device holds: JSON for the page's outbox, else a redirect.

    200 saved; 409 stale (with the server's answer and version), taken over by another device, or
    finished (the time is up or the paper submitted); 422 an answer the question does not take.
    """
    status, body = _save(exam_code, position)
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) != "application/json":
        if status != 200:
            flash(str(body.get("message") or _("This answer was changed on another device.")), "error")
        return redirect(url_for(".sit", exam_code=exam_code, _anchor=f"q-{position}"))
    response = make_response(jsonify({"position": position, **body}), status)
    if "remaining" in body:
        response.headers["X-Exam-Remaining"] = str(body["remaining"])
    return response


@bp.post("/exam/<exam_code>/focus")
def focus(exam_code: str):
    """Count a focus loss (another tab or app) for the proctor."""
    sitting = _running(exam_code)
    service.focus_lost(sitting, _device())
    return "", 204


@bp.post("/exam/<exam_code>/submit")
def submit(exam_code: str):
    """Hand in the paper: the sitting ends and is graded."""
    sitting = _running(exam_code)
    try:
        service.submit(sitting)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("Your paper is submitted."), "success")
    return redirect(url_for(".sit", exam_code=exam_code))


@bp.get("/exam/<exam_code>/images/<int:image_id>")
def image(exam_code: str, image_id: int):
    """Send a stem image of a question on the candidate's paper."""
    sitting = _running(exam_code)
    if not paper_view.image_on_paper(sitting, image_id):
        abort(404)
    found = db.session.get(QuestionImage, image_id) or abort(404)
    response = make_response(found.data)
    response.headers["Content-Type"] = found.mime
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
