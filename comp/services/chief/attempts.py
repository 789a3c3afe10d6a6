"""Attempts not taken (a run a rider did not start, or did not improve on): recorded by the chief judge.

In a stage of attempts (`Stage.best`: three runs, the best counts) an attempt nobody marked is
either still to come or not taken. The chief judge says which: a run recorded as not taken has no
score and keeps nobody waiting (the entrant is complete without it), appears as "—" in the progress
grid, and is audited. A run some judge has marked cannot be recorded as not taken: one of the two
would be wrong. Undoing it puts the attempt back among the marks due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.models import Competition, Criterion, Entrant, Mark, NotTaken, Stage, User
from comp.models.competition import NOT_TAKEN_REASONS
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import lifecycle


@dataclass(frozen=True)
class Attempt:
    """An attempt the chief may record as not taken: a score criterion of a stage of attempts."""

    criterion_id: int
    label: str  # "决赛 · 第3轮"


@dataclass(frozen=True)
class Skipped:
    """One attempt recorded as not taken."""

    id: int
    code: str
    name: str | None
    attempt: str
    reason: str
    by: str
    at: datetime


def attempts_of(competition: Competition) -> tuple[Attempt, ...]:
    """Return the attempts of the competition's stages of attempts, in scheme order."""
    rows = db.session.execute(
        sa.select(Criterion.id, Stage.name + " · " + Criterion.name)
        .join(Stage)
        .where(Stage.competition_id == competition.id, Stage.best.is_not(None), Criterion.kind == "score")
        .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
    ).all()
    return tuple(Attempt(cid, label) for cid, label in rows)


def recorded(competition: Competition, revealed: bool) -> tuple[Skipped, ...]:
    """Return the attempts recorded as not taken, newest first; names only once revealed."""
    rows = db.session.execute(
        sa.select(NotTaken, Entrant.secret_code, Entrant.name, Stage.name + " · " + Criterion.name, User.display_name)
        .join(Entrant, Entrant.id == NotTaken.entrant_id)
        .join(Criterion, Criterion.id == NotTaken.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .outerjoin(User, User.id == NotTaken.recorded_by_id)
        .where(NotTaken.competition_id == competition.id)
        .order_by(NotTaken.id.desc())
    ).all()
    return tuple(
        Skipped(n.id, code or "—", name if revealed else None, label, n.reason, by or "", n.recorded_at)
        for n, code, name, label, by in rows
    )


def _require_running(competition: Competition) -> None:
    if competition.status != "running":
        raise ServiceError(_("Attempts can be recorded only while the competition is running."))


def record(competition: Competition, actor, code: str, criterion_id: int, reason: str) -> NotTaken:
    """Record that the entrant with this secret code did not take this attempt (DNS or DNI)."""
    _require_running(competition)
    if reason not in NOT_TAKEN_REASONS:
        raise ServiceError(_("Choose DNS (did not start) or DNI (did not improve)."))
    entrant = db.session.scalar(
        sa.select(Entrant).where(
            Entrant.competition_id == competition.id, Entrant.secret_code == (code or "").strip().upper()
        )
    )
    if entrant is None:
        raise ServiceError(_("No entrant has the secret code “%(code)s”.", code=code))
    attempt = next((a for a in attempts_of(competition) if a.criterion_id == criterion_id), None)
    if attempt is None:
        raise ServiceError(_("Choose an attempt of a stage where only the best count."))
    return _write(competition, actor, entrant, attempt, reason)


def _write(competition: Competition, actor, entrant: Entrant, attempt: Attempt, reason: str) -> NotTaken:
    with transaction():
        marked = db.session.scalar(
            sa.select(sa.func.count(Mark.id)).where(
                Mark.entrant_id == entrant.id, Mark.criterion_id == attempt.criterion_id
            )
        )
        if marked:
            raise ServiceError(
                _(
                    "%(code)s has %(n)s marks on %(attempt)s: a marked attempt was taken.",
                    code=entrant.secret_code,
                    n=marked,
                    attempt=attempt.label,
                )
            )
        pair = (NotTaken.entrant_id == entrant.id, NotTaken.criterion_id == attempt.criterion_id)
        if db.session.scalar(sa.select(NotTaken.id).where(*pair)) is not None:
            raise ServiceError(
                _(
                    "%(attempt)s of %(code)s is already recorded as not taken.",
                    attempt=attempt.label,
                    code=entrant.secret_code,
                )
            )
        skipped = NotTaken(
            competition_id=competition.id,
            entrant_id=entrant.id,
            criterion_id=attempt.criterion_id,
            reason=reason,
            recorded_by_id=getattr(actor, "id", None),
            recorded_at=utcnow(),
        )
        db.session.add(skipped)
        db.session.flush()
        lifecycle.touch(competition)
        audit.record(
            "attempt.not_taken", actor, competition, skipped, entrant=entrant.ref, attempt=attempt.label, reason=reason
        )
    return skipped


def undo(competition: Competition, actor, skipped_id: int) -> None:
    """Take back an attempt recorded as not taken: it is due again."""
    _require_running(competition)
    skipped = db.session.get(NotTaken, skipped_id)
    if skipped is None or skipped.competition_id != competition.id:
        raise ServiceError(_("No such attempt is recorded as not taken in this competition."))
    with transaction():
        entrant = db.session.get(Entrant, skipped.entrant_id)
        audit.record(
            "attempt.not_taken_undone",
            actor,
            competition,
            skipped,
            entrant=entrant.ref if entrant else None,
            criterion=skipped.criterion_id,
            reason=skipped.reason,
        )
        db.session.delete(skipped)
        lifecycle.touch(competition)
