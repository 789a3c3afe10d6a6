"""Setting up a competition's theory exam: bank, criterion and marker, blueprint, window, seed and status.

An exam writes its score to one `single` criterion of the competition as the mark of one judge who marks
that criterion. Its blueprint says how many items of each kind, area and difficulty a paper draws, and
each candidate's paper is drawn from the recorded seed. Once a paper is drawn (a sitting exists) the
blueprint, seed, bank, criterion and marker are fixed. The status moves draft → ready (the bank has
enough items and the marker is set) → closed (overdue sittings end by time, the others by the proctor).
Every change is validated per field, made in one transaction and audited.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from types import SimpleNamespace
from typing import cast

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.codes import random_code
from comp.exams import papers
from comp.exams.types import KINDS, MULTIPLE_RULES, Item
from comp.extensions import db
from comp.models import Competition, Criterion, JudgeAssignment, JudgeCriterion, Stage, User
from comp.models.exam import Exam, QuestionBank, Sitting
from comp.permissions import scope
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.exams import grading
from comp.services.exams import sitting as sittings
from comp.services.setup import SetupError

POINTS = re.compile(r"\d{1,4}(?:\.\d{1,2})?")
FIXED_ONCE_DRAWN = ("bank_id", "criterion_id", "marker_id", "blueprint", "seed")
NEW_SECTION = {"kind": "single", "count": "10", "points": "1", "area": "", "difficulty": ""}
MAX_DURATION = 24 * 60


@dataclass(frozen=True)
class SectionView:
    """A blueprint row as the page shows it: what was typed, how many items match, whether the bank falls short."""

    index: int
    typed: dict
    matching: int
    short: int  # items missing for this section once the earlier sections have drawn theirs; 0 when enough


def exam_of(competition: Competition) -> Exam | None:
    """Return the competition's theory exam, if set up."""
    return db.session.scalar(sa.select(Exam).where(Exam.competition_id == competition.id).order_by(Exam.id).limit(1))


def banks_for(user: User) -> list[QuestionBank]:
    """Return the question banks the user may use: those kept by a union within their scope."""
    query = sa.select(QuestionBank).order_by(QuestionBank.trade, QuestionBank.name, QuestionBank.id)
    units = scope(user)
    if units is not None:
        query = query.where(QuestionBank.owner_unit_id.in_(units))
    return list(db.session.scalars(query))


def criteria_of(competition: Competition) -> list[Criterion]:
    """Return the competition's score criteria marked by a single mark: the ones an exam may feed."""
    return list(
        db.session.scalars(
            sa.select(Criterion)
            .join(Stage)
            .where(Stage.competition_id == competition.id, Criterion.kind == "score", Criterion.aggregation == "single")
            .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
        )
    )


def markers_of(competition: Competition) -> dict[int, list[User]]:
    """Return, by criterion id, the judges on the competition's panel who mark it."""
    rows = db.session.execute(
        sa.select(JudgeCriterion.criterion_id, User)
        .join(JudgeAssignment, JudgeAssignment.id == JudgeCriterion.assignment_id)
        .join(User, User.id == JudgeAssignment.user_id)
        .where(JudgeAssignment.competition_id == competition.id)
        .order_by(JudgeAssignment.ref, User.id)
    ).all()
    found: dict[int, list[User]] = {}
    for criterion_id, user in rows:
        found.setdefault(criterion_id, []).append(user)
    return found


def has_sittings(exam: Exam | None) -> bool:
    """Tell whether any candidate has started the exam (a paper is drawn)."""
    if exam is None or exam.id is None:
        return False
    return db.session.scalar(sa.select(sa.func.count(Sitting.id)).where(Sitting.exam_id == exam.id)) != 0


def bank_pool(bank_id: int | None) -> list[Item]:
    """Return the bank's drawable items, as a paper is drawn from them (the sitting's pool)."""
    if not bank_id:
        return []
    # The pool reads only the bank and the key corrections: a bank not yet saved on an exam is asked the same way.
    return sittings.pool_for(cast(Exam, SimpleNamespace(bank_id=bank_id, corrections={})))


def new_code() -> str:
    """Return an exam code (考试码) no other exam has."""
    while True:
        code = random_code(8)
        if db.session.scalar(sa.select(Exam.id).where(Exam.code == code)) is None:
            return code


def _section(index: int, row: dict, problems: dict[str, str]) -> dict:
    """Check one typed blueprint row; return it in the blueprint's JSON form."""
    name = f"s-{index}-"
    kind = (row.get("kind") or "").strip()
    if kind not in KINDS:
        problems[name + "kind"] = _("Choose the question type.")
    count_text = (row.get("count") or "").strip()
    count = int(count_text) if count_text.isdigit() and len(count_text) <= 4 else 0
    if not 1 <= count <= 500:
        problems[name + "count"] = _("The number of questions is a whole number from 1 to 500.")
    points_text = (row.get("points") or "").strip()
    points = Fraction(points_text) if POINTS.fullmatch(points_text) else None
    if points is None or points <= 0:
        problems[name + "points"] = _(
            "Points per question: a number above 0 with at most two decimals, such as 1 or 0.5."
        )
    area = (row.get("area") or "").strip()
    if len(area) > 64:
        problems[name + "area"] = _("The knowledge area has at most 64 characters.")
    difficulty_text = (row.get("difficulty") or "").strip()
    if difficulty_text and difficulty_text not in ("1", "2", "3", "4", "5"):
        problems[name + "difficulty"] = _("The difficulty is 1 (easy) to 5 (hard), or any.")
    return {
        "kind": kind,
        "count": count,
        "points": points_text,
        "area": area,
        "difficulty": int(difficulty_text) if difficulty_text in ("1", "2", "3", "4", "5") else None,
    }


def blueprint_from(rows: list[dict], multiple: str, shuffle_items: bool, shuffle_options: bool, problems) -> dict:
    """Check the typed blueprint rows and rules; return the blueprint JSON (problems by field otherwise)."""
    if not rows:
        problems["sections"] = _("Add at least one section of questions.")
    sections = [_section(i, row, problems) for i, row in enumerate(rows)]
    if multiple not in MULTIPLE_RULES:
        problems["multiple"] = _("Choose how a multiple-choice question scores.")
    data = {
        "sections": sections,
        "multiple": multiple,
        "shuffle_items": bool(shuffle_items),
        "shuffle_options": bool(shuffle_options),
    }
    if not problems:
        try:
            data = papers.blueprint_data(papers.parse_blueprint(data))
        except ValueError as error:
            problems["sections"] = str(error)
    return data


def availability(bank_id: int | None, rows: list[dict]) -> list[SectionView]:
    """Return each typed row with how many bank items match it and how many are missing."""
    pool = bank_pool(bank_id)
    views = []
    short: dict[int, int] = {}
    try:
        checked = papers.parse_blueprint(blueprint_from(rows, "all", True, True, {}))
        short = {index: needed - available for index, needed, available in papers.shortfalls(checked, pool)}
    except (ValueError, TypeError, KeyError):
        pass  # an unreadable row: its own message says why; no shortfall is counted for it
    for index, row in enumerate(rows):
        difficulty = (row.get("difficulty") or "").strip()
        matching = sum(
            1
            for item in pool
            if item.kind == row.get("kind")
            and (not (row.get("area") or "").strip() or item.area == row["area"].strip())
            and (not difficulty or str(item.difficulty) == difficulty)
        )
        views.append(SectionView(index, row, matching, short.get(index, 0)))
    return views


def total_of(rows: list[dict]) -> Fraction | None:
    """Return the paper's total points from the typed rows, or None while a row is unreadable."""
    total = Fraction(0)
    for row in rows:
        count, points = (row.get("count") or "").strip(), (row.get("points") or "").strip()
        if not count.isdigit() or not POINTS.fullmatch(points):
            return None
        total += int(count) * Fraction(points)
    return total


def _choose(competition: Competition, actor: User, values: dict, problems: dict[str, str]) -> None:
    """Check the bank, criterion and marker chosen."""
    if values.get("bank_id") not in {b.id for b in banks_for(actor)}:
        problems["bank_id"] = _("Choose a question bank of your union.")
    criteria = {c.id: c for c in criteria_of(competition)}
    criterion_id = values.get("criterion_id")
    if criterion_id not in criteria:
        problems["criterion_id"] = _(
            "Choose a score criterion of this competition given by a single mark (aggregation “single”)."
        )
    elif values.get("marker_id") not in {u.id for u in markers_of(competition).get(criterion_id, [])}:
        problems["marker_id"] = _("The marker must be a judge of the panel who marks the chosen criterion.")
    other = db.session.scalar(sa.select(Exam).where(Exam.criterion_id == criterion_id))
    if other is not None and other.competition_id != competition.id:
        problems["criterion_id"] = _("Another exam writes to this criterion already.")


def _check_window(values: dict, problems: dict[str, str]) -> None:
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if not isinstance(opens, datetime):
        problems["opens_at"] = _("Enter when the exam opens.")
    if not isinstance(closes, datetime):
        problems["closes_at"] = _("Enter when the exam closes.")
    elif isinstance(opens, datetime) and closes <= opens:
        problems["closes_at"] = _("The exam must close after it opens.")
    duration = values.get("duration_minutes")
    if not isinstance(duration, int) or not 1 <= duration <= MAX_DURATION:
        problems["duration_minutes"] = _("The duration is a number of minutes from 1 to 1440.")


def check(competition: Competition, actor: User, values: dict, rows: list[dict], exam: Exam | None) -> dict:
    """Check everything typed; return the exam's new column values, or raise SetupError by field."""
    problems: dict[str, str] = {}
    title = (values.get("title") or "").strip()
    if not title or len(title) > 200:
        problems["title"] = _("Enter the exam's title (at most 200 characters).")
    _choose(competition, actor, values, problems)
    _check_window(values, problems)
    blueprint = blueprint_from(
        rows,
        values.get("multiple", ""),
        bool(values.get("shuffle_items")),
        bool(values.get("shuffle_options")),
        problems,
    )
    seed = (values.get("seed") or "").strip()
    if len(seed) > 64:
        problems["seed"] = _("The seed has at most 64 characters.")
    new = {
        "title": title,
        "bank_id": values.get("bank_id"),
        "criterion_id": values.get("criterion_id"),
        "marker_id": values.get("marker_id"),
        "blueprint": blueprint,
        "seed": seed or (exam.seed if exam is not None else secrets.token_hex(8)),
        "opens_at": values.get("opens_at"),
        "closes_at": values.get("closes_at"),
        "duration_minutes": values.get("duration_minutes"),
        "show_answers": bool(values.get("show_answers")),
    }
    if has_sittings(exam):
        assert exam is not None
        for field in FIXED_ONCE_DRAWN:
            if new[field] != getattr(exam, field):
                problems[field if field != "blueprint" else "sections"] = _(
                    "Candidates have started: the papers are drawn, so this can no longer change."
                )
    if exam is not None and exam.status == "closed":
        problems.update({f: _("The exam is closed.") for f in ("opens_at", "closes_at") if new[f] != getattr(exam, f)})
    if problems:
        raise SetupError(problems)
    return new


def _shown(value) -> object:
    """Return a column value as the audit trail keeps it."""
    return value.isoformat(timespec="minutes") if isinstance(value, datetime) else value


def save(competition: Competition, actor: User, values: dict, rows: list[dict], exam: Exam | None = None) -> Exam:
    """Create the competition's exam or change it; every field checked, audited with what changed."""
    if exam is None and exam_of(competition) is not None:
        raise ServiceError(_("This competition has an exam already."))
    new = check(competition, actor, values, rows, exam)
    with transaction():
        if exam is None:
            exam = Exam(competition_id=competition.id, code=new_code(), status="draft", corrections={})
            exam.created_by_id = actor.id
            db.session.add(exam)
            changed = {k: _shown(v) for k, v in new.items()}
        else:
            changed = {k: [_shown(getattr(exam, k)), _shown(v)] for k, v in new.items() if getattr(exam, k) != v}
        for name, value in new.items():
            setattr(exam, name, value)
        db.session.flush()
        audit.record("exam.saved", actor, competition, exam, code=exam.code, changed=changed)
    return exam


def problems_before_ready(exam: Exam) -> list[str]:
    """Say what keeps the exam from being made ready: a bank short of items, a marker not on the criterion."""
    problems = []
    if exam.marker_id not in {u.id for u in markers_of(exam.competition).get(exam.criterion_id, [])}:
        problems.append(_("The marker no longer marks the exam's criterion: assign a judge to the criterion first."))
    try:
        blueprint = papers.parse_blueprint(exam.blueprint)
    except ValueError as error:
        return [*problems, str(error)]
    for index, needed, available in papers.shortfalls(blueprint, bank_pool(exam.bank_id)):
        problems.append(
            _(
                "Section %(n)s needs %(needed)s questions; the bank has %(available)s.",
                n=index + 1,
                needed=needed,
                available=available,
            )
        )
    return problems


def set_status(exam: Exam, target: str, actor: User) -> int:
    """Move the exam: draft → ready, ready → draft (before any sitting), ready → closed; return sittings ended."""
    moves = {("draft", "ready"), ("ready", "draft"), ("ready", "closed")}
    if (exam.status, target) not in moves:
        raise ServiceError(
            _("The exam cannot move from “%(from)s” to “%(to)s”.", **{"from": exam.status, "to": target})
        )
    if target == "ready":
        problems = problems_before_ready(exam)
        if problems:
            raise ServiceError(" ".join(problems))
    if target == "draft" and has_sittings(exam):
        raise ServiceError(_("Candidates have started: the exam can no longer go back to draft."))
    ended = 0
    with transaction():
        if target == "closed":
            ended = grading.sweep(exam)
            open_ones = db.session.scalars(
                sa.select(Sitting).where(Sitting.exam_id == exam.id, Sitting.finished_at.is_(None))
            ).all()
            if open_ones:  # still answering when the organizer closes: ended by the proctor, in one batch
                grading.finish_many(exam, open_ones, "proctor", actor)
                ended += len(open_ones)
        previous, exam.status = exam.status, target
        audit.record(f"exam.{target}", actor, exam.competition, exam, code=exam.code, previous=previous, ended=ended)
    return ended
