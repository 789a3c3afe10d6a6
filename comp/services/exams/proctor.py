"""The proctor's view of an exam: who has started, is answering, went silent, has submitted; extend, end, verify.

The board is read in a few grouped queries whatever the number of candidates, and stamped cheaply
(the answers' count and last save, the events, the sittings' clocks) so a page refreshing every few
seconds is answered "nothing changed" without being rendered. Extending a candidate's time and ending
a sitting are audited with the proctor and the reason. A candidate's paper can be drawn again from the
recorded seed and compared with the one she was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.exams import papers
from comp.exams.types import PaperItem
from comp.extensions import db
from comp.models import Entrant
from comp.models.exam import Answer, Exam, Sitting, SittingEvent
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.exams import grading
from comp.services.exams import sitting as sittings

SILENT_AFTER = timedelta(seconds=60)  # a device not heard from for longer has gone silent
MAX_EXTENSION = 600  # minutes one extension may add
STATES = ("waiting", "answering", "silent", "submitted", "timeup")


@dataclass(frozen=True)
class Row:
    """One candidate on the proctor's board."""

    entrant: Entrant
    sitting: Sitting | None
    state: str  # one of STATES
    answered: int
    remaining: int  # seconds by the server's clock
    takeovers: int

    @property
    def questions(self) -> int:
        """Count the questions on the candidate's paper."""
        return len(self.sitting.paper) if self.sitting is not None else 0


def candidates(exam: Exam) -> list[Entrant]:
    """Return the entrants who may sit the exam, in number order."""
    return list(
        db.session.scalars(
            sa.select(Entrant)
            .where(
                Entrant.competition_id == exam.competition_id,
                Entrant.type == "person",
                Entrant.status.in_(sittings.CANDIDATE_STATES),
            )
            .order_by(Entrant.number, Entrant.ref)
        )
    )


def state_of(sitting: Sitting | None, now: datetime) -> str:
    """Say where a candidate stands for the proctor."""
    if sitting is None:
        return "waiting"
    if sitting.finished_at is not None:
        return "timeup" if sitting.finished_by == "time" else "submitted"
    if now >= sitting.deadline:
        return "timeup"
    return "answering" if now - sitting.last_seen_at <= SILENT_AFTER else "silent"


def board(exam: Exam, now: datetime | None = None) -> list[Row]:
    """Return every candidate with her sitting's state, answers given, time left and device take-overs."""
    now = now or utcnow()
    seated = {s.entrant_id: s for s in db.session.scalars(sa.select(Sitting).where(Sitting.exam_id == exam.id))}
    answered = dict(
        db.session.execute(
            sa.select(Answer.sitting_id, sa.func.count(Answer.id))
            .join(Sitting, Sitting.id == Answer.sitting_id)
            .where(Sitting.exam_id == exam.id, Answer.response != "")
            .group_by(Answer.sitting_id)
        ).all()
    )
    takeovers = dict(
        db.session.execute(
            sa.select(SittingEvent.sitting_id, sa.func.count(SittingEvent.id))
            .join(Sitting, Sitting.id == SittingEvent.sitting_id)
            .where(Sitting.exam_id == exam.id, SittingEvent.kind == "takeover")
            .group_by(SittingEvent.sitting_id)
        ).all()
    )
    rows = []
    for entrant in candidates(exam):
        sitting = seated.get(entrant.id)
        left = 0 if sitting is None or sitting.finished_at else sittings.remaining(sitting, now)
        sid = sitting.id if sitting else 0
        rows.append(Row(entrant, sitting, state_of(sitting, now), answered.get(sid, 0), left, takeovers.get(sid, 0)))
    return rows


def stamp(exam: Exam, now: datetime | None = None) -> str:
    """Return a cheap stamp of what the board shows; the same stamp means nothing to redraw."""
    now = now or utcnow()
    answers = db.session.execute(
        sa.select(sa.func.count(Answer.id), sa.func.max(Answer.saved_at))
        .join(Sitting, Sitting.id == Answer.sitting_id)
        .where(Sitting.exam_id == exam.id)
    ).one()
    sitting_row = db.session.execute(
        sa.select(
            sa.func.count(Sitting.id),
            sa.func.count(Sitting.finished_at),
            sa.func.coalesce(sa.func.sum(Sitting.extra_minutes), 0),
            sa.func.coalesce(sa.func.sum(Sitting.focus_losses), 0),
            sa.func.max(Sitting.last_seen_at),
        ).where(Sitting.exam_id == exam.id)
    ).one()
    events = db.session.scalar(sa.select(sa.func.max(SittingEvent.id)).join(Sitting).where(Sitting.exam_id == exam.id))
    # The clock moves the remaining minutes and the silent state: redraw at least every 15 seconds.
    tick = int(now.timestamp()) // 15
    parts = [*answers, *sitting_row, events, tick, exam.status]
    return ".".join("" if p is None else str(p.timestamp() if isinstance(p, datetime) else p) for p in parts)


def sitting_in(exam: Exam | None, sitting_id: int) -> Sitting:
    """Return the exam's sitting with this id; LookupError if it is not one of this exam's."""
    found = db.session.get(Sitting, sitting_id)
    if exam is None or found is None or found.exam_id != exam.id:
        raise LookupError("no such sitting in this exam")
    return found


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ServiceError(_("Write the reason: it is kept in the audit trail."))
    return text[:200]


def extend(sitting: Sitting, minutes: int | None, reason: str | None, actor) -> None:
    """Give one candidate more time (minutes, with a reason); audited and logged on her sitting."""
    text = _reason(reason)
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_EXTENSION:
        raise ServiceError(_("Extend by a whole number of minutes from 1 to 600."))
    if sitting.finished_at is not None:
        raise ServiceError(_("This sitting has ended: its time can no longer be extended."))
    if sitting.exam.status == "closed":
        raise ServiceError(_("The exam is closed."))
    with transaction():
        before = sitting.deadline
        sitting.extra_minutes += minutes
        sitting.deadline = before + timedelta(minutes=minutes)
        db.session.add(
            SittingEvent(
                sitting_id=sitting.id,
                kind="extend",
                actor_id=getattr(actor, "id", None),
                detail={"minutes": minutes, "reason": text},
            )
        )
        audit.record(
            "exam.extended",
            actor,
            sitting.exam.competition,
            sitting,
            entrant=sitting.entrant.ref,
            minutes=minutes,
            reason=text,
            deadline=sitting.deadline.isoformat(timespec="seconds"),
            previous=before.isoformat(timespec="seconds"),
        )


def end(sitting: Sitting, reason: str | None, actor) -> None:
    """End a candidate's sitting now (the proctor), with a reason; she is graded on what she answered."""
    text = _reason(reason)
    if sitting.finished_at is not None:
        raise ServiceError(_("This sitting has ended already."))
    with transaction():
        db.session.add(
            SittingEvent(
                sitting_id=sitting.id,
                kind="submit",
                actor_id=getattr(actor, "id", None),
                detail={"by": "proctor", "reason": text},
            )
        )
        grading.finish(sitting, "proctor", actor)
        audit.record("exam.ended", actor, sitting.exam.competition, sitting, entrant=sitting.entrant.ref, reason=text)


@dataclass(frozen=True)
class Difference:
    """One position where the rebuilt paper differs from the stored one."""

    position: int
    stored: PaperItem | None
    rebuilt: PaperItem | None


def compare(exam: Exam, sitting: Sitting) -> tuple[tuple[PaperItem, ...], list[Difference]]:
    """Draw the candidate's paper again from the recorded seed; return the stored paper and the differences."""
    stored = papers.paper_from(sitting.paper)
    try:
        rebuilt = papers.draw(
            papers.parse_blueprint(exam.blueprint), sittings.pool_for(exam), exam.seed, sitting.entrant.ref
        )
    except ValueError as error:
        raise ServiceError(_("The paper cannot be drawn again: %(problem)s", problem=str(error))) from None
    differences = [
        Difference(i, stored[i] if i < len(stored) else None, rebuilt[i] if i < len(rebuilt) else None)
        for i in range(max(len(stored), len(rebuilt)))
        if i >= len(stored) or i >= len(rebuilt) or stored[i] != rebuilt[i]
    ]
    return stored, differences


def finished_or_swept(exam: Exam) -> int:
    """Sweep the overdue sittings when the scores may still change; return how many ended."""
    if exam.status == "draft" or exam.competition.status in grading.FINAL_STATES:
        return 0
    return grading.sweep(exam)
