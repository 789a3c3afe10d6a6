"""A candidate's sitting: admission by account or ID number + exam code, the start, each answer, the end.

An answer is saved like a judge's mark: with the version the device last saw, the check inside the
UPDATE's WHERE. One device answers at a time; opening the paper elsewhere takes over, and the first
device's next save is refused. The clock is the server's: a save after the deadline is refused and
ends the sitting by time. The answer save is the exam day's hot path (2,000 phones, one save each
10 s): one read, one write, the question's kind from a per-process cache (versions never change).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.engine import CursorResult

from comp import idcard
from comp.exams import grading as core
from comp.exams import papers
from comp.exams.types import Item
from comp.extensions import db
from comp.models import Entrant, Worker
from comp.models.exam import Answer, Exam, Question, QuestionVersion, Sitting, SittingEvent
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.exams import grading

CANDIDATE_STATES = ("approved", "ok")
SEEN_EVERY = timedelta(seconds=15)  # last_seen_at is written at most this often by answer saves
CHOICES = ("single", "multiple")


class AnswerRefused(ServiceError):
    """A response the question does not take; nothing was written."""


class StaleAnswer(ServiceError):
    """A save over an old version from another device: the server's answer stands and is shown."""

    def __init__(self, response: str, version: int):
        super().__init__(_("This answer was changed on another device: the saved answer is shown."))
        self.response, self.version = response, version


class TakenOver(ServiceError):
    """The paper is open on another device, which now answers."""

    def __init__(self) -> None:
        super().__init__(_("The paper was opened on another device, which now answers."))


class TimeUp(ServiceError):
    """The time is up: the sitting is ended and the answer is not saved."""

    def __init__(self) -> None:
        super().__init__(_("The time is up: the paper has been submitted."))


class Finished(ServiceError):
    """The sitting has ended: nothing more is saved."""

    def __init__(self) -> None:
        super().__init__(_("The paper has been submitted: answers can no longer change."))


@dataclass(frozen=True)
class Who:
    """Who asks: the worker behind the login, if any, and the entrants admitted by ID number + exam code."""

    worker_id: int | None = None
    admitted: tuple[int, ...] = ()


@dataclass(frozen=True)
class Saved:
    """A saved answer as the page shows it: the SHOWN letters, its version, the seconds left."""

    position: int
    response: str
    version: int
    remaining: int


def _mine(who: Who) -> sa.ColumnElement[bool]:
    """The condition that an entrant is one the asker may sit as."""
    return sa.and_(
        Entrant.type == "person",
        Entrant.status.in_(CANDIDATE_STATES),
        sa.or_(Entrant.worker_id == (who.worker_id or 0), Entrant.id.in_(list(who.admitted))),
    )


def admit(code: str, id_number: str) -> Entrant | None:
    """Return the candidate of the exam with this code and this ID number, or None whatever was wrong."""
    try:
        digest = idcard.protector().lookup_hash(idcard.normalize(id_number))
    except idcard.IdNumberError:
        return None
    return db.session.scalar(
        sa.select(Entrant)
        .join(Worker, Worker.id == Entrant.worker_id)
        .join(Exam, Exam.competition_id == Entrant.competition_id)
        .where(
            Exam.code == code.strip().upper(),
            Exam.status.in_(("ready", "closed")),
            Worker.id_hash == digest,
            Entrant.type == "person",
            Entrant.status.in_(CANDIDATE_STATES),
        )
    )


def admitted_elsewhere(admitted: Sequence[int], entrant: Entrant) -> list[int]:
    """Return the admitted entrant ids a browser keeps beside this new admission: those of other competitions.

    One candidate per competition per browser: on a hall's shared computer the afternoon's candidate
    replaces the morning's, and never lands on her sitting.
    """
    ids = [i for i in admitted if isinstance(i, int) and i != entrant.id]
    if not ids:
        return []
    query = sa.select(Entrant.id).where(Entrant.id.in_(ids), Entrant.competition_id != entrant.competition_id)
    others = set(db.session.scalars(query))
    return [i for i in ids if i in others]


def exams_of(who: Who) -> list[tuple[Exam, Entrant, Sitting | None]]:
    """Return the asker's exams (ready or closed) with the entrant she sits as and her sitting, if started."""
    if not who.worker_id and not who.admitted:
        return []
    rows = db.session.execute(
        sa.select(Exam, Entrant, Sitting)
        .join(Entrant, Entrant.competition_id == Exam.competition_id)
        .outerjoin(Sitting, sa.and_(Sitting.exam_id == Exam.id, Sitting.entrant_id == Entrant.id))
        .where(_mine(who), Exam.status.in_(("ready", "closed")))
        .order_by(Exam.opens_at.desc(), Exam.id)
    )
    return [(exam, entrant, sitting) for exam, entrant, sitting in rows]


def candidate_for(code: str, who: Who) -> tuple[Exam, Entrant]:
    """Return the exam with this code and the asker's entrant in it; LookupError when there is none."""
    row = db.session.execute(
        sa.select(Exam, Entrant)
        .join(Entrant, Entrant.competition_id == Exam.competition_id)
        .where(Exam.code == code, Exam.status.in_(("ready", "closed")), _mine(who))
        # The candidate admitted in this browser before the account's own entrant: she typed her ID number.
        .order_by(Entrant.id.in_(list(who.admitted)).desc(), Entrant.id)
    ).first()
    if row is None:
        raise LookupError("no such exam for this candidate")
    return row[0], row[1]


def sitting_of(exam: Exam, entrant: Entrant) -> Sitting | None:
    """Return the entrant's sitting of the exam, if she started."""
    return db.session.scalar(sa.select(Sitting).where(Sitting.exam_id == exam.id, Sitting.entrant_id == entrant.id))


def remaining(sitting: Sitting, now: datetime | None = None) -> int:
    """Return the whole seconds left on the sitting's clock by the server's time."""
    return max(0, int((sitting.deadline - (now or utcnow())).total_seconds()))


def state(exam: Exam, sitting: Sitting | None, now: datetime | None = None) -> str:
    """Say where the candidate stands: before, ready, running, finished, or closed."""
    now = now or utcnow()
    if sitting is not None:
        return "finished" if sitting.finished_at is not None else "running"
    if exam.status != "ready" or now >= exam.closes_at:
        return "closed"
    return "before" if now < exam.opens_at else "ready"


def results_open(exam: Exam, now: datetime | None = None) -> bool:
    """Tell whether candidates may see their scores (and the key, if shown): no one can still be answering.

    The organizer's close ends every sitting; past the window's close, a candidate the proctor gave extra
    time may still be answering, and the key would reach her from a finished neighbour.
    """
    now = now or utcnow()
    if exam.status == "closed":
        return True
    if now < exam.closes_at:
        return False
    running = sa.select(Sitting.id).where(
        Sitting.exam_id == exam.id, Sitting.finished_at.is_(None), Sitting.deadline > now
    )
    return not db.session.scalar(sa.select(running.exists()))


def finish_if_overdue(sitting: Sitting, now: datetime | None = None) -> bool:
    """End the sitting by time if its deadline has passed; tell whether it did."""
    if sitting.finished_at is not None or (now or utcnow()) < sitting.deadline:
        return False
    try:
        with transaction():
            grading.finish(sitting, "time")
    except ServiceError:  # the scores are locked: the sitting stays as it is, its clock at 0
        return False
    return True


def pool_for(exam: Exam) -> list[Item]:
    """Return the items a paper is drawn from: the current version of each question of the bank not retired."""
    latest = (
        sa.select(QuestionVersion.question_id, sa.func.max(QuestionVersion.number).label("number"))
        .join(Question, Question.id == QuestionVersion.question_id)
        .where(Question.bank_id == exam.bank_id, Question.retired.is_(False))
        .group_by(QuestionVersion.question_id)
        .subquery()
    )
    versions = db.session.scalars(
        sa.select(QuestionVersion).join(
            latest,
            sa.and_(QuestionVersion.question_id == latest.c.question_id, QuestionVersion.number == latest.c.number),
        )
    )
    return [grading.key_item(v, exam.corrections) for v in versions]


def start(exam: Exam, entrant: Entrant, device: str, now: datetime | None = None) -> Sitting:
    """Draw the candidate's paper and start her clock; a started sitting is resumed on this device instead."""
    now = now or utcnow()
    existing = sitting_of(exam, entrant)
    if existing is not None:
        take_over(existing, device)
        return existing
    if exam.status != "ready" or now >= exam.closes_at:
        raise ServiceError(_("The exam is closed."))
    if now < exam.opens_at:
        raise ServiceError(_("The exam has not opened yet."))
    try:
        paper = papers.draw(papers.parse_blueprint(exam.blueprint), pool_for(exam), exam.seed, entrant.ref)
    except ValueError:
        raise ServiceError(_("The paper cannot be drawn: tell the organizer.")) from None
    deadline = min(now + timedelta(minutes=exam.duration_minutes), exam.closes_at)
    sitting = Sitting(
        exam_id=exam.id,
        entrant_id=entrant.id,
        paper=papers.paper_data(paper),
        started_at=now,
        deadline=deadline,
        device=device,
        last_seen_at=now,
    )
    try:
        with transaction():
            db.session.add(sitting)
            db.session.flush()
            db.session.add(SittingEvent(sitting_id=sitting.id, kind="start", at=now, detail={"device": device[:8]}))
    except sa.exc.IntegrityError:  # the same candidate pressed start on two devices at once
        found = sitting_of(exam, entrant)
        if found is None:
            raise
        take_over(found, device)
        return found
    return sitting


def take_over(sitting: Sitting, device: str, now: datetime | None = None) -> str:
    """Make this device the one that answers (`takeover`), or note a reload on it (`resume`); return which."""
    if sitting.finished_at is not None:
        return "finished"
    now = now or utcnow()
    kind = "resume" if sitting.device == device else "takeover"
    with transaction():
        detail = {"device": device[:8]} | ({"from": sitting.device[:8]} if kind == "takeover" else {})
        sitting.device, sitting.last_seen_at = device, now
        db.session.add(SittingEvent(sitting_id=sitting.id, kind=kind, at=now, detail=detail))
    return kind


def focus_lost(sitting: Sitting, device: str, now: datetime | None = None) -> None:
    """Count a focus loss (a tab switch, another app) for the proctor: one UPDATE and one event."""
    if sitting.finished_at is not None:
        return
    now = now or utcnow()
    with transaction():
        db.session.execute(
            sa.update(Sitting)
            .where(Sitting.id == sitting.id)
            .values(focus_losses=Sitting.focus_losses + 1, last_seen_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.add(SittingEvent(sitting_id=sitting.id, kind="focus", at=now, detail={"device": device[:8]}))


def submit(sitting: Sitting, actor=None, now: datetime | None = None) -> None:
    """End the sitting at the candidate's request and grade it (by time when the deadline has passed)."""
    if sitting.finished_at is not None:
        return
    now = now or utcnow()
    with transaction():
        db.session.add(SittingEvent(sitting_id=sitting.id, kind="submit", at=now, actor_id=getattr(actor, "id", None)))
        grading.finish(sitting, "time" if now >= sitting.deadline else "candidate", actor)


# --- the answer save: the hot path -----------------------------------------------------------------

_ITEMS: dict[int, Item] = {}  # question versions never change once written: a process keeps what it read


def _item(ref: int) -> Item:
    """Return the question version as the core normalizes responses with (kind and options)."""
    item = _ITEMS.get(ref)
    if item is None:
        row = db.session.execute(
            sa.select(QuestionVersion.kind, QuestionVersion.options).where(QuestionVersion.id == ref)
        ).one()
        if len(_ITEMS) > 20000:
            _ITEMS.clear()
        item = _ITEMS[ref] = Item(ref=ref, kind=row.kind, options=tuple(row.options or ()), answer="")
    return item


_CONTEXT = (  # built once: the sitting, its clock and device, and the answer at the position, in one statement
    sa.select(
        Sitting.id,
        Sitting.paper,
        Sitting.deadline,
        Sitting.device,
        Sitting.finished_at,
        Sitting.last_seen_at,
        Exam.status,
        Answer.response,
        Answer.version,
        Answer.saved_at,
    )
    .join(Exam, Exam.id == Sitting.exam_id)
    .join(Entrant, Entrant.id == Sitting.entrant_id)
    .outerjoin(Answer, sa.and_(Answer.sitting_id == Sitting.id, Answer.position == sa.bindparam("position")))
    .where(
        Exam.code == sa.bindparam("code"),
        Entrant.type == "person",
        Entrant.status.in_(CANDIDATE_STATES),
        sa.or_(
            Entrant.worker_id == sa.bindparam("worker_id"),
            Entrant.id.in_(sa.bindparam("admitted", expanding=True)),
        ),
    )
)
_ANSWERS = cast(sa.Table, Answer.__table__)
_INSERT = sa.insert(_ANSWERS)
_UPDATE = (
    sa.update(_ANSWERS)
    .where(_ANSWERS.c.sitting_id == sa.bindparam("sid"), _ANSWERS.c.position == sa.bindparam("pos"))
    .where(_ANSWERS.c.version == sa.bindparam("seen"))
    .values(response=sa.bindparam("response"), version=sa.bindparam("new_version"), saved_at=sa.bindparam("now"))
)
_SITTINGS = cast(sa.Table, Sitting.__table__)
_HOLD = (  # FOR NO KEY UPDATE: as the UPDATE that ends a sitting, without blocking the answers' foreign keys
    sa.select(_SITTINGS.c.id)
    .where(
        _SITTINGS.c.id == sa.bindparam("sid"),
        _SITTINGS.c.finished_at.is_(None),
        _SITTINGS.c.deadline > sa.bindparam("now"),
        _SITTINGS.c.device == sa.bindparam("device"),
    )
    .with_for_update(key_share=True)
)
_SEEN = sa.update(_SITTINGS).where(_SITTINGS.c.id == sa.bindparam("sid")).values(last_seen_at=sa.bindparam("now"))


def _stored(item: Item, order: Sequence[int], shown: str) -> str:
    """Return the response in stored letters, refusing what the question does not take."""
    text = (shown or "").strip()
    if not text:
        return ""  # the answer cleared
    if len(text) > 32:
        raise AnswerRefused(_("The answer is too long."))
    try:
        value = core.normalize(item, text)
    except ValueError:
        raise AnswerRefused(_("“%(answer)s” is not an answer this question takes.", answer=text[:20])) from None
    if item.kind == "single" and len(value) != 1:
        raise AnswerRefused(_("Choose one answer."))
    return papers.shown_to_stored(value, tuple(order)) if item.kind in CHOICES else value


def as_shown(entry: dict, response: str | None) -> str:
    """Return a stored response as the candidate's paper shows it."""
    if not response or not entry.get("o"):
        return response or ""
    return papers.stored_to_shown(response, tuple(entry["o"]))


def save_answer(code: str, who: Who, position: int, shown: str, seen: int, device: str) -> Saved:
    """Save the candidate's answer at a position over the version `seen`, from the device that answers.

    Three statements (the context, the hold on the sitting, the write) and a fourth every SEEN_EVERY to
    note the device is alive.
    LookupError when there is no such sitting or position (404); AnswerRefused, StaleAnswer, TakenOver,
    TimeUp or Finished otherwise.
    """
    now = utcnow()
    params = {"code": code, "position": position, "worker_id": who.worker_id or 0, "admitted": list(who.admitted)}
    row = db.session.execute(_CONTEXT, params).first()
    if row is None or not 0 <= position < len(row.paper or ()):
        raise LookupError("no such sitting or position")
    entry = row.paper[position]
    if row.finished_at is not None:
        raise Finished()
    if now >= row.deadline:
        finish_if_overdue(db.session.get_one(Sitting, row.id), now)
        raise TimeUp()
    if row.status != "ready":
        raise Finished()
    if row.device != device:
        raise TakenOver()
    if not 0 <= seen < 2**31:
        raise AnswerRefused(_("The page is out of date: reload it."))
    stored = _stored(_item(int(entry["v"])), entry.get("o") or (), shown)
    version = row.version or 0
    if version != seen:
        if row.response == stored:
            return Saved(position, as_shown(entry, stored), version, remaining_of(row.deadline, now))
        if version == 0 or not _same_device_since(row.id, row.saved_at):
            raise StaleAnswer(as_shown(entry, row.response), version)
        seen = version  # this device wrote the newer answer (its reply was lost): its latest choice stands
    try:
        with transaction():
            _hold(row.id, device, now)
            _write(row, position, stored, version, seen, now)
    except sa.exc.IntegrityError:  # a first answer raced by another save at the same position
        stale = _stale(row.id, position, entry)
        if stale.response == as_shown(entry, stored):  # a retry of itself: the one written stands
            return Saved(position, stale.response, stale.version, remaining_of(row.deadline, now))
        raise stale from None
    return Saved(position, as_shown(entry, stored), seen + 1 if version else 1, remaining_of(row.deadline, now))


def _hold(sitting_id: int, device: str, now: datetime) -> None:
    """Lock the sitting's row until the commit if it still takes answers from this device, or refuse the save.

    Ending a sitting takes the same row lock (`grading.claim`), so an answer is either written before the
    sitting ends, and graded, or refused: never saved after the grade was read.
    """
    if db.session.execute(_HOLD, {"sid": sitting_id, "device": device, "now": now}).first() is not None:
        return
    finished_at, deadline, active = db.session.execute(
        sa.select(Sitting.finished_at, Sitting.deadline, Sitting.device).where(Sitting.id == sitting_id)
    ).one()
    if finished_at is not None:
        raise Finished()
    if active != device:
        raise TakenOver()
    raise TimeUp()


def _write(row: Any, position: int, stored: str, version: int, seen: int, now: datetime) -> None:
    """Insert the first answer, or update the one at version `seen` (the check and the write are one step)."""
    if version == 0:
        values = {"sitting_id": row.id, "position": position, "response": stored, "version": 1, "saved_at": now}
        db.session.execute(_INSERT, values)
    else:
        update = {"sid": row.id, "pos": position, "seen": seen, "response": stored, "new_version": seen + 1}
        done = cast("CursorResult[Any]", db.session.execute(_UPDATE, {**update, "now": now}))
        if done.rowcount != 1:
            raise _stale(row.id, position, row.paper[position])
    if now - row.last_seen_at >= SEEN_EVERY:
        db.session.execute(_SEEN, {"sid": row.id, "now": now})


def remaining_of(deadline: datetime, now: datetime) -> int:
    """Return the whole seconds from now to the deadline, never below 0."""
    return max(0, int((deadline - now).total_seconds()))


def _same_device_since(sitting_id: int, saved_at: datetime | None) -> bool:
    """Tell whether the answer was saved after the active device last took over (so that device wrote it)."""
    changed = db.session.scalar(
        sa.select(sa.func.max(SittingEvent.at)).where(
            SittingEvent.sitting_id == sitting_id, SittingEvent.kind.in_(("start", "takeover"))
        )
    )
    return saved_at is not None and changed is not None and saved_at >= changed


def _stale(sitting_id: int, position: int, entry: dict) -> StaleAnswer:
    """Build the refusal of a stale save from the answer as the database holds it now."""
    row = db.session.execute(
        sa.select(Answer.response, Answer.version).where(Answer.sitting_id == sitting_id, Answer.position == position)
    ).first()
    return StaleAnswer("", 0) if row is None else StaleAnswer(as_shown(entry, row.response), row.version)
