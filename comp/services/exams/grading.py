"""Grading a sitting into the theory stage: the exact score, the criterion's mark, batched regrades.

A finished sitting is scored with the exam's key as corrected (`Exam.corrections` overrides a question
version's answer and tolerance), scaled to the criterion's maximum and written as the mark of the exam's
marker on its `single` criterion, with a MarkChange (source "exam:<id>") and an audit event. The stage
and the totals follow, since the results are computed from the marks. Every verb composes with the
caller's `transaction()`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from sqlalchemy.engine import CursorResult

from comp.exams import grading as core
from comp.exams import papers
from comp.exams.types import Item
from comp.extensions import db
from comp.models import AuditEvent, Competition, Criterion, Entrant, Mark, MarkChange
from comp.models.competition import FINAL_STATES
from comp.models.exam import Answer, Exam, Question, QuestionVersion, Sitting
from comp.models.types import plain, utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import lifecycle

REASON = "理论机考"  # the MarkChange reason of an exam's mark
TOLERANCE = Decimal("0.000001")  # QuestionVersion.tolerance keeps six places
# A mapped class's table is a Table: the batched writes go through Core, one executemany each.
_SITTINGS = cast(sa.Table, Sitting.__table__)
_MARKS = cast(sa.Table, Mark.__table__)
_CHANGES = cast(sa.Table, MarkChange.__table__)
_AUDIT = cast(sa.Table, AuditEvent.__table__)


def source(exam: Exam) -> str:
    """Return the MarkChange source of the exam's marks."""
    return f"exam:{exam.id}"


def key_item(version: QuestionVersion, corrections: dict) -> Item:
    """Return the core item of a question version with the exam's corrected key, if any."""
    fix = (corrections or {}).get(str(version.id))
    answer, tolerance = version.answer, version.tolerance
    if fix:
        answer = fix["answer"]
        tolerance = None if fix.get("tolerance") in (None, "") else Decimal(fix["tolerance"])
    return Item(
        ref=version.id,
        kind=version.kind,
        options=tuple(version.options or ()),
        answer=answer,
        tolerance=tolerance,
        area=version.area or "",
        difficulty=version.difficulty,
    )


def key_items(exam: Exam, refs: Iterable[int]) -> dict[int, Item]:
    """Return the items of these question versions by id, graded with the exam's corrected key."""
    ids = sorted(set(refs))
    if not ids:
        return {}
    versions = db.session.scalars(sa.select(QuestionVersion).where(QuestionVersion.id.in_(ids)))
    return {v.id: key_item(v, exam.corrections) for v in versions}


def used_refs(sittings: Sequence[Sitting]) -> set[int]:
    """Return the question-version ids on the sittings' papers."""
    return {int(entry["v"]) for s in sittings for entry in s.paper or ()}


def responses_of(sitting_ids: Sequence[int]) -> dict[int, dict[int, str]]:
    """Return each sitting's stored responses by position (one query)."""
    found: dict[int, dict[int, str]] = {i: {} for i in sitting_ids}
    if not sitting_ids:
        return found
    rows = db.session.execute(
        sa.select(Answer.sitting_id, Answer.position, Answer.response).where(Answer.sitting_id.in_(sitting_ids))
    )
    for sitting_id, position, response in rows:
        found[sitting_id][position] = response or ""
    return found


def points_of(exam: Exam, sitting: Sitting, items: dict[int, Item], responses: dict[int, str]) -> Fraction:
    """Return the sitting's exact points with the exam's corrected key."""
    blueprint = papers.parse_blueprint(exam.blueprint)
    return core.score(items, papers.paper_from(sitting.paper), responses, blueprint.multiple)


def cents_of(exam: Exam, criterion: Criterion, points: Fraction) -> int:
    """Return the criterion mark in hundredths for these points: scaled from the paper's total to the maximum."""
    total = papers.total_points(papers.parse_blueprint(exam.blueprint))
    return core.scaled_cents(points, total, criterion.max_value)


def refuse_final(competition: Competition) -> None:
    """Refuse a grading write once the competition's scores are locked or published."""
    if competition.status in FINAL_STATES:
        raise ServiceError(_("The scores are locked: the exam's marks can no longer change."))


def write_mark(exam: Exam, entrant_id: int, cents: int, actor, reason: str, mark: Mark | None = None) -> int | None:
    """Insert or update the exam's mark for the entrant (version + 1) with its MarkChange; return the old value."""
    now = utcnow()
    if mark is None:
        mark = db.session.scalar(
            sa.select(Mark).where(
                Mark.entrant_id == entrant_id, Mark.judge_id == exam.marker_id, Mark.criterion_id == exam.criterion_id
            )
        )
    old = mark.value_cents if mark is not None else None
    if old == cents:
        return old
    if mark is None:
        db.session.add(
            Mark(
                competition_id=exam.competition_id,
                entrant_id=entrant_id,
                judge_id=exam.marker_id,
                criterion_id=exam.criterion_id,
                value_cents=cents,
                version=1,
                updated_at=now,
            )
        )
    else:
        mark.value_cents, mark.version, mark.updated_at = cents, mark.version + 1, now
    db.session.add(
        MarkChange(
            competition_id=exam.competition_id,
            entrant_id=entrant_id,
            judge_id=exam.marker_id,
            criterion_id=exam.criterion_id,
            old_cents=old,
            new_cents=cents,
            actor_id=getattr(actor, "id", None),
            at=now,
            reason=reason[:200],
            source=source(exam),
        )
    )
    return old


def _cents_text(cents: int | None) -> str | None:
    return None if cents is None else plain(Decimal(cents).scaleb(-2))


def finish(sitting: Sitting, by: str, actor=None) -> None:
    """End the sitting and grade it into the exam criterion's mark, audited; nothing again once ended and graded."""
    if sitting.finished_at is not None and sitting.graded_at is not None:
        return  # ended and graded already: a second submit changes nothing
    exam = sitting.exam
    refuse_final(exam.competition)
    with transaction():
        if sitting.finished_at is None and not claim(sitting.id, by):
            # Another request (the sweep, a proctor, her other device) ended it a moment ago and graded it.
            db.session.refresh(sitting)
            if sitting.graded_at is not None:
                return
        hold_key(exam)
        items = key_items(exam, used_refs([sitting]))
        points = points_of(exam, sitting, items, responses_of([sitting.id])[sitting.id])
        cents = cents_of(exam, exam.criterion, points)
        sitting.points, sitting.score_cents, sitting.graded_at = str(points), cents, utcnow()
        old = write_mark(exam, sitting.entrant_id, cents, actor, REASON)
        audit.record(
            "exam.finished",
            actor,
            exam.competition,
            sitting,
            exam=exam.code,
            entrant=sitting.entrant.ref,
            by=sitting.finished_by,
            points=str(points),
            score=_cents_text(cents),
            previous=_cents_text(old),
        )


def claim(sitting_id: int, by: str) -> bool:
    """End the sitting unless another request did first; tell whether this one did (inside the transaction).

    The conditional UPDATE takes the sitting's row lock until the commit: an answer save holds the same lock
    while it writes (`sitting.save_answer`), so the answers read after the claim are every answer that will
    ever count, and of two requests ending the sitting together exactly one grades it.
    """
    now = utcnow()
    done = db.session.execute(
        sa.update(_SITTINGS)
        .where(_SITTINGS.c.id == sitting_id, _SITTINGS.c.finished_at.is_(None))
        .values(finished_at=now, finished_by=by)
    )
    claimed = cast("CursorResult[Any]", done).rowcount == 1
    sitting = db.session.identity_map.get(so.util.identity_key(Sitting, sitting_id))
    if claimed and sitting is not None:
        so.attributes.set_committed_value(sitting, "finished_at", now)
        so.attributes.set_committed_value(sitting, "finished_by", by)
    return claimed


def hold_key(exam: Exam, write: bool = False) -> None:
    """Read the exam's key corrections again under its row lock, held until the commit (inside the transaction).

    A grade takes it shared and a key correction exclusive: a sitting graded while a correction is made
    is either graded with the corrected key or finished before the correction's regrade reads the
    sittings, and two corrections made at once both stand.
    """
    statement = sa.select(Exam.corrections).where(Exam.id == exam.id)
    statement = statement.with_for_update(key_share=True) if write else statement.with_for_update(read=True)
    so.attributes.set_committed_value(exam, "corrections", db.session.scalar(statement) or {})


def claim_many(sitting_ids: Sequence[int], by: str, now: datetime) -> set[int]:
    """End those of these sittings no other request has ended; return their ids (one statement, as `claim`)."""
    if not sitting_ids:
        return set()
    statement = (
        sa.update(_SITTINGS)
        .where(_SITTINGS.c.id.in_(sitting_ids), _SITTINGS.c.finished_at.is_(None))
        .values(finished_at=now, finished_by=by)
        .returning(_SITTINGS.c.id)
    )
    return set(db.session.scalars(statement))


def finished_sittings(exam: Exam) -> list[Sitting]:
    """Return the exam's finished sittings in the order they were started."""
    return list(
        db.session.scalars(
            sa.select(Sitting).where(Sitting.exam_id == exam.id, Sitting.finished_at.is_not(None)).order_by(Sitting.id)
        )
    )


def bank_items(exam: Exam) -> dict[int, Item]:
    """Return the items of every question version of the exam's bank by id, graded with the corrected key."""
    query = sa.select(QuestionVersion).join(Question).where(Question.bank_id == exam.bank_id)
    return {v.id: key_item(v, exam.corrections) for v in db.session.scalars(query)}


def graded(exam: Exam, rows: Iterable[tuple[int, str | list]]) -> Iterator[tuple[int, Fraction, int]]:
    """Score each (sitting id, paper as JSON or its text) with the corrected key: (sitting id, points, cents).

    The keys and the answers are read once; each paper is decoded only as it is scored, so the regrade of
    thousands keeps few objects alive (holding every decoded paper at once made the collector the cost).
    """
    rows = list(rows)
    items = bank_items(exam)
    answers = responses_of([sitting_id for sitting_id, _paper in rows])
    blueprint = papers.parse_blueprint(exam.blueprint)
    total, maximum = papers.total_points(blueprint), exam.criterion.max_value
    for sitting_id, raw in rows:
        paper = papers.paper_from(json.loads(raw) if isinstance(raw, str) else raw)
        missing = {entry.ref for entry in paper}.difference(items)
        if missing:  # a version of another bank: graded as before, with its own key
            items.update(key_items(exam, missing))
        points = core.score(items, paper, answers[sitting_id], blueprint.multiple)
        yield sitting_id, points, core.scaled_cents(points, total, maximum)


def marks_of(exam: Exam) -> dict[int, Mark]:
    """Return the exam's marks (its marker's, on its criterion) by entrant id (one query)."""
    rows = db.session.scalars(
        sa.select(Mark).where(Mark.judge_id == exam.marker_id, Mark.criterion_id == exam.criterion_id)
    )
    return {m.entrant_id: m for m in rows}


def refs_of(exam: Exam) -> dict[int, str]:
    """Return the refs of the exam's competition's entrants by id (one query)."""
    query = sa.select(Entrant.id, Entrant.ref).where(Entrant.competition_id == exam.competition_id)
    return dict(db.session.execute(query).all())


def write_sittings(rows: list[dict]) -> None:
    """Write these columns of these sittings (by "id") in one batched UPDATE; loaded objects take the values."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    statement = sa.update(_SITTINGS).where(_SITTINGS.c.id == sa.bindparam("b_id"))
    statement = statement.values({c: sa.bindparam(f"b_{c}") for c in columns})
    db.session.execute(statement, [{f"b_{c}": value for c, value in row.items()} for row in rows])
    loaded = db.session.identity_map
    for row in rows:
        sitting = loaded.get(so.util.identity_key(Sitting, row["id"]))
        for column in columns if sitting is not None else ():
            so.attributes.set_committed_value(sitting, column, row[column])


def write_marks(exam: Exam, scores: dict[int, int], marks: dict[int, Mark], actor, reason: str) -> dict:
    """Write the exam's marks of these entrants in batches as `write_mark` does each; return the old values."""
    now, olds, updated, updates, inserts, changes = utcnow(), {}, [], [], [], []
    for entrant_id, cents in scores.items():
        mark = marks.get(entrant_id)
        old = olds[entrant_id] = mark.value_cents if mark is not None else None
        if old == cents:
            continue
        if mark is None:
            inserts.append(_mark_row(exam, entrant_id, cents=cents, version=1, now=now))
        else:
            updated.append(mark)
            updates.append({"b_id": mark.id, "b_cents": cents, "b_version": mark.version + 1, "b_at": now})
        changes.append(_change_row(exam, entrant_id, old, cents, actor, reason, now))
    if updates:
        statement = sa.update(_MARKS).where(_MARKS.c.id == sa.bindparam("b_id"))
        statement = statement.values(
            value_cents=sa.bindparam("b_cents"), version=sa.bindparam("b_version"), updated_at=sa.bindparam("b_at")
        )
        db.session.execute(statement, updates)
        for mark, row in zip(updated, updates):
            for column, key in (("value_cents", "b_cents"), ("version", "b_version"), ("updated_at", "b_at")):
                so.attributes.set_committed_value(mark, column, row[key])
    if inserts:
        db.session.execute(sa.insert(_MARKS), inserts)
    if changes:
        db.session.execute(sa.insert(_CHANGES), changes)
    return olds


def _mark_row(exam: Exam, entrant_id: int, cents: int, version: int, now: datetime) -> dict:
    return {
        "competition_id": exam.competition_id,
        "entrant_id": entrant_id,
        "judge_id": exam.marker_id,
        "criterion_id": exam.criterion_id,
        "value_cents": cents,
        "version": version,
        "updated_at": now,
    }


def _change_row(exam: Exam, entrant_id: int, old: int | None, cents: int, actor, reason: str, now: datetime) -> dict:
    return {
        "competition_id": exam.competition_id,
        "entrant_id": entrant_id,
        "judge_id": exam.marker_id,
        "criterion_id": exam.criterion_id,
        "old_cents": old,
        "new_cents": cents,
        "actor_id": getattr(actor, "id", None),
        "at": now,
        "reason": reason[:200],
        "source": source(exam),
    }


def regrade(exam: Exam, actor, reason: str) -> int:
    """Score every finished sitting again with the corrected key; rewrite changed marks; return how many changed."""
    refuse_final(exam.competition)
    # The paper as its JSON text, decoded one at a time by `graded`; rows, not objects: a regrade reads thousands.
    paper = sa.cast(Sitting.paper, sa.Text).label("paper")
    query = sa.select(Sitting.id, Sitting.entrant_id, Sitting.points, Sitting.score_cents, paper).where(
        Sitting.exam_id == exam.id, Sitting.finished_at.is_not(None)
    )
    sittings = {row.id: row for row in db.session.execute(query.order_by(Sitting.id))}
    marks, refs, now = marks_of(exam), refs_of(exam), utcnow()
    changed: list[dict] = []
    rows: list[dict] = []
    scores: dict[int, int] = {}
    for sitting_id, points, cents in graded(exam, ((i, row.paper) for i, row in sittings.items())):
        sitting, mark = sittings[sitting_id], marks.get(sittings[sitting_id].entrant_id)
        if str(points) == sitting.points and cents == sitting.score_cents and mark and mark.value_cents == cents:
            continue
        entrant = refs.get(sitting.entrant_id)
        changed.append({"entrant": entrant, "old": sitting.points, "new": str(points), "score": _cents_text(cents)})
        rows.append({"id": sitting_id, "points": str(points), "score_cents": cents, "graded_at": now})
        scores[sitting.entrant_id] = cents
    with transaction():
        write_sittings(rows)
        write_marks(exam, scores, marks, actor, f"{REASON}: {reason}")
        if changed:  # a new generation of the results: every board rebuilds at once, as after a ruling
            lifecycle.touch(exam.competition)
        audit.record(
            "exam.regraded",
            actor,
            exam.competition,
            exam,
            exam=exam.code,
            reason=reason,
            changed=changed,
            graded=len(sittings),
        )
    return len(changed)


def overdue(exam: Exam, now: datetime | None = None) -> list[Sitting]:
    """Return the exam's unfinished sittings whose deadline has passed."""
    return list(
        db.session.scalars(
            sa.select(Sitting)
            .where(Sitting.exam_id == exam.id, Sitting.finished_at.is_(None), Sitting.deadline <= (now or utcnow()))
            .order_by(Sitting.id)
        )
    )


def finish_many(exam: Exam, sittings: Sequence[Sitting], by: str, actor=None) -> int:
    """End and grade these unfinished sittings of the exam as `finish` does each, in batched writes.

    Return how many this call ended: a sitting another request ended meanwhile keeps its grade.
    """
    refuse_final(exam.competition)
    now = utcnow()
    entrants = {s.id: s.entrant_id for s in sittings}
    with transaction():
        # Claimed first, graded after: an answer saved before the claim counts, none can be saved after it,
        # and a sitting another request ended meanwhile is left to the grade it was given.
        claimed = claim_many(list(entrants), by, now)
        hold_key(exam)
        marks, refs = marks_of(exam), refs_of(exam)
        found = list(graded(exam, ((s.id, s.paper) for s in sittings if s.id in claimed)))
        write_sittings(
            [
                {"id": i, "finished_at": now, "finished_by": by, "points": str(p), "score_cents": c, "graded_at": now}
                for i, p, c in found
            ]
        )
        olds = write_marks(exam, {entrants[i]: c for i, _p, c in found}, marks, actor, REASON)
        # The events `audit.record` would add, inserted in one batch: the ORM inserts them one by one.
        events = [
            _finished_event(exam, i, refs.get(entrants[i]), by, p, c, olds[entrants[i]], actor) for i, p, c in found
        ]
        if events:
            db.session.execute(sa.insert(_AUDIT), events)
    return len(found)


def _finished_event(
    exam: Exam, sitting_id: int, entrant: str | None, by: str, points: Fraction, cents: int, old: int | None, actor
) -> dict:
    return {
        "at": utcnow(),
        "action": "exam.finished",
        "actor_id": getattr(actor, "id", None),
        "competition_id": exam.competition_id,
        "object_type": "sitting",
        "object_id": sitting_id,
        "detail": {
            "exam": exam.code,
            "entrant": entrant,
            "by": by,
            "points": str(points),
            "score": _cents_text(cents),
            "previous": _cents_text(old),
        },
    }


def sweep(exam: Exam) -> int:
    """Finish, by time, every unfinished sitting of the exam past its deadline; return how many."""
    late = overdue(exam)
    return finish_many(exam, late, "time") if late else 0
