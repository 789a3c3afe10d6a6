"""Theory exams: the organizer's pages — the set-up, its status, and papers rebuilt from the seed.

The exam-day pages (the proctor's board, the key, the item analysis) are in `proctoring`.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, to_user_timezone, to_utc
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional

from comp.blueprints.answers import REFUSED
from comp.blueprints.exams import bp
from comp.blueprints.setup.forms import choices
from comp.exams import papers
from comp.exams.types import KINDS, PaperItem
from comp.forms import Form
from comp.models import Competition
from comp.models.exam import Exam
from comp.models.types import plain
from comp.permissions import competition_for
from comp.services import ServiceError
from comp.services.exams import proctor, setup
from comp.services.setup import SetupError

ROW = re.compile(r"s-([0-9]{1,3})-kind")
SECTION_FIELDS = ("kind", "count", "points", "area", "difficulty")
KIND_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "truefalse": _l("True or false"),
    "numeric": _l("Numeric answer"),
}
STATUS_LABELS = {"draft": _l("draft"), "ready": _l("ready"), "closed": _l("closed")}
MULTIPLE_CHOICES = [("all", _l("All or nothing")), ("partial", _l("Partial credit if no wrong option is chosen"))]


def _id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ExamForm(Form):
    """The exam's scalar fields; the blueprint's rows are read from the post by name (s-<i>-<field>)."""

    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    bank_id = SelectField(_l("Question bank"), coerce=_id, validate_choice=False)
    criterion_id = SelectField(_l("Criterion the score is written to"), coerce=_id, validate_choice=False)
    marker_id = SelectField(_l("Marker (the judge the mark is written as)"), coerce=_id, validate_choice=False)
    multiple = SelectField(_l("Multiple choice scores"), choices=choices(MULTIPLE_CHOICES), validate_choice=False)
    shuffle_items = BooleanField(_l("Shuffle the questions for each candidate"))
    shuffle_options = BooleanField(_l("Shuffle the options for each candidate"))
    opens_at = DateTimeLocalField(_l("Opens"), validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes"), validators=[Optional()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[Optional()])
    show_answers = BooleanField(_l("After the exam closes, candidates may see their answers and the key"))
    seed = StringField(_l("Seed (empty: drawn at random and recorded)"), validators=[Optional(), Length(max=64)])

    def values(self) -> dict:
        """Return the typed values as the set-up service takes them (times in UTC)."""
        data = {name: self[name].data for name in self._fields if name != "csrf_token"}
        for name in ("opens_at", "closes_at"):
            data[name] = to_utc(data[name]) if data[name] else None
        return data


class CsrfForm(Form):
    """A post whose fields are read by name; this checks its CSRF token."""


def _local(moment):
    return None if moment is None else to_user_timezone(moment).replace(tzinfo=None)


def exam_or_404(competition: Competition) -> Exam:
    """Return the competition's exam; 404 when it has none."""
    exam = setup.exam_of(competition)
    if exam is None:
        abort(404)
    return exam


def _rows(posted: MultiDict) -> list[dict]:
    """Return the blueprint's typed rows in order."""
    indexes = sorted({int(m[1]) for name in posted if (m := ROW.fullmatch(name))})
    return [{f: posted.get(f"s-{i}-{f}", "") for f in SECTION_FIELDS} for i in indexes]


def _stored_rows(exam: Exam) -> list[dict]:
    return [
        {f: "" if s.get(f) is None else str(s.get(f)) for f in SECTION_FIELDS}
        for s in (exam.blueprint or {}).get("sections", [])
    ]


def _filled(competition: Competition, exam: Exam | None) -> ExamForm:
    if exam is None:
        banks = setup.banks_for(current_user)
        bank = next((b for b in banks if b.trade == competition.trade), banks[0] if banks else None)
        criteria = setup.criteria_of(competition)
        markers = setup.markers_of(competition).get(criteria[0].id, []) if criteria else []
        data = {
            "title": _("%(name)s · theory exam", name=competition.name)[:200],
            "bank_id": bank.id if bank else None,
            "criterion_id": criteria[0].id if criteria else None,
            "marker_id": markers[0].id if markers else None,
            "multiple": "all",
            "shuffle_items": True,
            "shuffle_options": True,
            "duration_minutes": 60,
        }
    else:
        data = {name: getattr(exam, name) for name in ("title", "bank_id", "criterion_id", "marker_id", "seed")}
        data |= {"opens_at": _local(exam.opens_at), "closes_at": _local(exam.closes_at)}
        data |= {"duration_minutes": exam.duration_minutes, "show_answers": exam.show_answers}
        data |= {k: exam.blueprint.get(k) for k in ("multiple", "shuffle_items", "shuffle_options")}
    return ExamForm(formdata=None, data=data)


def _choices(form: ExamForm, competition: Competition) -> dict:
    banks, criteria, markers = (
        setup.banks_for(current_user),
        setup.criteria_of(competition),
        setup.markers_of(competition),
    )
    form.bank_id.choices = choices((b.id, f"{b.name} · {b.trade}") for b in banks)
    form.criterion_id.choices = choices((c.id, f"{c.stage.name} · {c.name} ({plain(c.max_value)})") for c in criteria)
    judges: dict[int, tuple[str, list[str]]] = {}
    for c in criteria:
        for user in markers.get(c.id, []):
            judges.setdefault(user.id, (user.display_name, []))[1].append(c.name)
    form.marker_id.choices = choices((uid, f"{name} · {'、'.join(names)}") for uid, (name, names) in judges.items())
    return {"banks": banks, "criteria": {c.id: c for c in criteria}, "markers": judges}


def _setup_page(
    competition: Competition,
    exam: Exam | None,
    form: ExamForm,
    rows: list[dict],
    status: int = 200,
    problems: dict[str, str] | None = None,
):
    context = _choices(form, competition)
    usable = {bank.id for bank in context["banks"]}
    criterion = context["criteria"].get(form.criterion_id.data)
    total = setup.total_of(rows)
    problems = problems or {}

    def row_errors(index: int) -> list[str]:
        return [problems[f"s-{index}-{f}"] for f in SECTION_FIELDS if f"s-{index}-{f}" in problems]

    return render_template(
        "exams/exam_setup.html",
        competition=competition,
        exam=exam,
        form=form,
        # Counted only in a bank the organizer may use: a posted id of another union's bank counts nothing.
        sections=setup.availability(form.bank_id.data if form.bank_id.data in usable else None, rows),
        total=total,
        total_text=None if total is None else papers.fraction_text(total),
        problems=problems,
        row_errors=row_errors,
        criterion=criterion,
        scaled=criterion is not None and total is not None and total != criterion.max_value,
        fixed=setup.has_sittings(exam),
        kinds=[(k, KIND_LABELS[k]) for k in KINDS],
        ready_problems=setup.problems_before_ready(exam) if exam is not None and exam.status == "draft" else [],
        **context,
    ), status


def _kept(exam: Exam, values: dict, rows: list[dict]) -> list[dict]:
    """Fill in what the page shows disabled (and so does not post): fixed once drawn, the window once closed."""
    if exam.status == "closed" or setup.has_sittings(exam):
        values |= {name: getattr(exam, name) for name in ("bank_id", "criterion_id", "marker_id", "seed")}
        values |= {k: exam.blueprint.get(k) for k in ("multiple", "shuffle_items", "shuffle_options")}
        rows = _stored_rows(exam)
    if exam.status == "closed":
        values |= {"opens_at": exam.opens_at, "closes_at": exam.closes_at, "duration_minutes": exam.duration_minutes}
    return rows


@bp.get("/competitions/<code>/exam")
def exam_setup(code: str):
    """Show the competition's exam set-up (a new one filled from the competition)."""
    competition = competition_for(code)
    exam = setup.exam_of(competition)
    form = _filled(competition, exam)
    rows = _stored_rows(exam) if exam is not None else [dict(setup.NEW_SECTION)]
    return _setup_page(competition, exam, form, rows)


@bp.post("/competitions/<code>/exam")
def save_exam(code: str):
    """Save the exam set-up, add or remove a blueprint row, or show every refused field and write nothing."""
    competition = competition_for(code)
    exam = setup.exam_of(competition)
    form = ExamForm()
    rows = _rows(request.form)
    action = request.form.get("action", "save")
    if action == "add":
        return _setup_page(competition, exam, form, [*rows, dict(setup.NEW_SECTION)])
    if action.startswith("remove-") and action[7:].isdigit():
        index = int(action[7:])
        return _setup_page(competition, exam, form, [r for i, r in enumerate(rows) if i != index])
    if not form.validate_on_submit():
        return _setup_page(competition, exam, form, rows, REFUSED)
    values = form.values()
    if exam is not None:
        rows = _kept(exam, values, rows)
    try:
        exam = setup.save(competition, current_user, values, rows, exam)
    except SetupError as error:
        for name, message in error.problems.items():
            if name in form._fields:
                form[name].errors = [*form[name].errors, message]
        return _setup_page(competition, exam, form, rows, REFUSED, error.problems)
    except ServiceError as error:
        form.form_errors.append(str(error))
        return _setup_page(competition, exam, form, rows, REFUSED)
    flash(_("The exam is saved."), "success")
    return redirect(url_for(".exam_setup", code=competition.code))


@bp.post("/competitions/<code>/exam/status")
def exam_status(code: str):
    """Move the exam: ready, back to draft, or closed; a refused move is shown on the set-up page (422)."""
    competition = competition_for(code)
    exam = exam_or_404(competition)
    form = CsrfForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(_("The form has expired. Reload the page and try again."))
        ended = setup.set_status(exam, request.form.get("target", ""), current_user)
    except ServiceError as error:
        shown = _filled(competition, exam)
        shown.form_errors.append(str(error))
        return _setup_page(competition, exam, shown, _stored_rows(exam), REFUSED)
    flash(_("The exam is now “%(status)s”.", status=STATUS_LABELS[exam.status]), "success")
    if ended:
        flash(ngettext("%(num)d sitting was ended.", "%(num)d sittings were ended.", ended), "info")
    return redirect(url_for(".exam_setup", code=competition.code))


@bp.get("/competitions/<code>/exam/papers")
def exam_papers(code: str):
    """Pick a candidate and draw her paper again from the recorded seed: the same paper, or the differences."""
    competition = competition_for(code)
    exam = exam_or_404(competition)
    seated = [(row.entrant, row.sitting) for row in proctor.board(exam) if row.sitting is not None]
    chosen = next((pair for pair in seated if pair[0].id == request.args.get("entrant", type=int)), None)
    stored: tuple[PaperItem, ...] = ()
    differences: list[proctor.Difference] = []
    problem = None
    if chosen is not None:
        try:
            stored, differences = proctor.compare(exam, chosen[1])
        except ServiceError as error:
            problem = str(error)
    return render_template(
        "exams/exam_papers.html",
        competition=competition,
        exam=exam,
        seated=seated,
        chosen=chosen,
        stored=stored,
        differences=differences,
        problem=problem,
    )
