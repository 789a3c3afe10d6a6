"""Theory exams: the organizer's exam-day pages — the proctor's board, the key, the item analysis.

The board (polled by htmx) with extending and ending one sitting; the key with its corrections and
the regrade; the item analysis on the page and as .xlsx. The set-up and the papers are in `organizer`.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from comp.blueprints.answers import REFUSED, fragment_or_page
from comp.blueprints.exams import bp
from comp.blueprints.exams.organizer import KIND_LABELS, CsrfForm, exam_or_404
from comp.extensions import db
from comp.forms import Form
from comp.models import Competition
from comp.models.exam import Exam
from comp.permissions import competition_for
from comp.services import ServiceError
from comp.services.exams import grading, keys, proctor, setup, statistics


class ExtendForm(Form):
    """Minutes and a reason."""

    minutes = IntegerField(_l("Minutes"), validators=[Optional(), NumberRange(1, proctor.MAX_EXTENSION)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


def _proctor_context(competition: Competition, exam: Exam) -> dict:
    return {"competition": competition, "exam": exam, "rows": proctor.board(exam), "stamp": proctor.stamp(exam)}


@bp.get("/competitions/<code>/exam/proctor")
def exam_proctor(code: str):
    """Show the candidates' board; htmx polls it and gets 204 while nothing changed."""
    competition = competition_for(code)
    exam = exam_or_404(competition)
    if proctor.finished_or_swept(exam):
        db.session.commit()
    if request.headers.get("HX-Request") and request.args.get("stamp") == proctor.stamp(exam):
        return Response(status=204)
    context = _proctor_context(competition, exam)
    response = fragment_or_page(
        "exams/_exam_proctor_table.html", "exams/exam_proctor.html", form=ExtendForm(), **context
    )
    return *response, {"Vary": "HX-Request"}


def _refused_on_board(competition: Competition, message: str):
    """Show the board again with why the proctor's action was refused (422)."""
    context = _proctor_context(competition, exam_or_404(competition))
    return render_template("exams/exam_proctor.html", form=ExtendForm(), refused=message, **context), REFUSED


def _sitting(competition: Competition, sitting_id: int):
    try:
        return proctor.sitting_in(setup.exam_of(competition), sitting_id)
    except LookupError:
        abort(404)


@bp.post("/competitions/<code>/exam/sittings/<int:sitting_id>/extend")
def extend_sitting(code: str, sitting_id: int):
    """Give one candidate more time, with a reason."""
    competition = competition_for(code)
    sitting = _sitting(competition, sitting_id)
    form = ExtendForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errors in form.errors.values() for e in errors))
        proctor.extend(sitting, form.minutes.data, form.reason.data, current_user)
    except ServiceError as error:
        return _refused_on_board(competition, str(error))
    flash(_("%(name)s has %(n)s more minutes.", name=sitting.entrant.name, n=form.minutes.data), "success")
    return redirect(url_for(".exam_proctor", code=competition.code))


@bp.post("/competitions/<code>/exam/sittings/<int:sitting_id>/end")
def end_sitting(code: str, sitting_id: int):
    """End one candidate's sitting now, with a reason; she is graded on what she answered."""
    competition = competition_for(code)
    sitting = _sitting(competition, sitting_id)
    form = CsrfForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(_("The form has expired. Reload the page and try again."))
        proctor.end(sitting, request.form.get("reason", ""), current_user)
    except ServiceError as error:
        return _refused_on_board(competition, str(error))
    flash(_("%(name)s's sitting is ended and graded.", name=sitting.entrant.name), "success")
    return redirect(url_for(".exam_proctor", code=competition.code))


def _key_page(competition: Competition, exam: Exam, status: int = 200, problem: str | None = None):
    uses = keys.uses_of(exam)
    return render_template(
        "exams/exam_key.html",
        competition=competition,
        exam=exam,
        versions=keys.versions_of(uses),
        items=grading.key_items(exam, uses),
        uses=uses,
        history=keys.corrections_of(exam),
        problem=problem,
        kinds=KIND_LABELS,
        typed=request.form if status != 200 else {},
    ), status


@bp.get("/competitions/<code>/exam/key")
def exam_key(code: str):
    """List the questions on the papers with their keys; correct one with a reason."""
    competition = competition_for(code)
    return _key_page(competition, exam_or_404(competition))


@bp.post("/competitions/<code>/exam/key")
def correct_key(code: str):
    """Correct one question's key, regrade every sitting, and say how many scores changed."""
    competition = competition_for(code)
    exam = exam_or_404(competition)
    form = CsrfForm()
    if not form.validate_on_submit():
        return _key_page(competition, exam, REFUSED, _("The form has expired. Reload the page and try again."))
    try:
        changed = keys.correct_key(
            exam,
            request.form.get("version_id", type=int) or 0,
            request.form.get("answer", ""),
            request.form.get("tolerance", ""),
            request.form.get("reason", ""),
            current_user,
        )
    except ServiceError as error:
        return _key_page(competition, exam, REFUSED, str(error))
    flash(
        ngettext(
            "The key is corrected: %(num)d score changed.", "The key is corrected: %(num)d scores changed.", changed
        ),
        "success",
    )
    return redirect(url_for(".exam_key", code=competition.code))


@bp.get("/competitions/<code>/exam/analysis")
def exam_analysis(code: str):
    """Show the item analysis: the paper's figures, each item's, and the charts."""
    competition = competition_for(code)
    exam = exam_or_404(competition)
    return render_template(
        "exams/exam_analysis.html",
        competition=competition,
        exam=exam,
        report=statistics.report(exam),
        percent=statistics.percent,
        figure=statistics.figure,
        bar=statistics.bar,
        kinds=KIND_LABELS,
    )


@bp.get("/competitions/<code>/exam/analysis.xlsx")
def exam_analysis_xlsx(code: str):
    """Download the item analysis table as .xlsx."""
    competition = competition_for(code)
    exam = exam_or_404(competition)
    found = statistics.report(exam)
    if found is None:
        abort(404)
    return Response(
        statistics.workbook(exam, found),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=exam-{exam.code}-analysis.xlsx"},
    )
