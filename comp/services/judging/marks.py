"""Judges' marks: who may mark what, saving a mark as a versioned upsert, and the sign-off.

A mark is saved with the version the tablet last saw; a save based on an older version is
refused with the newer value, so two tablets (or a reopened sheet) never overwrite each
other silently. Every change appends a MarkChange and bumps the competition's version.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.engine import CursorResult

from comp import scoring
from comp.extensions import db
from comp.labels import status_label
from comp.models import (
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    JudgeCriterion,
    Mark,
    MarkChange,
    SheetSignoff,
    Stage,
    User,
)
from comp.models.judging import MARK_SCALE
from comp.models.types import plain, utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit, wording
from comp.services.judging.recusal import is_recused
from comp.services.setup import lifecycle

# Digits with an optional decimal part: no sign, exponent ("1e2"), "NaN" or thousands separator.
PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
OPEN_STATES = ("draft", "open", "closed")


class MarkRefused(ServiceError):
    """A typed value the rules refuse; nothing was written."""


class StaleMark(ServiceError):
    """A save based on an old version: a newer value was saved first."""

    def __init__(self, value: Decimal | None, version: int):
        super().__init__(
            _(
                "A newer value was saved meanwhile: %(value)s (version %(version)s).",
                value=plain(value) if value is not None else "—",
                version=version,
            )
        )
        self.value = value
        self.version = version


def assignment_of(judge: User, competition: Competition) -> JudgeAssignment | None:
    """Return the judge's seat on the competition's panel, if any."""
    return db.session.scalar(
        sa.select(JudgeAssignment).where(
            JudgeAssignment.competition_id == competition.id, JudgeAssignment.user_id == judge.id
        )
    )


def judge_criteria(assignment: JudgeAssignment) -> list[Criterion]:
    """Return the criteria the judge marks, in the order of the scheme."""
    return list(
        db.session.scalars(
            sa.select(Criterion)
            .join(JudgeCriterion, JudgeCriterion.criterion_id == Criterion.id)
            .join(Stage)
            .where(JudgeCriterion.assignment_id == assignment.id)
            .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
        )
    )


def check_can_mark(judge: User, entrant: Entrant, criterion: Criterion | None = None) -> None:
    """Raise PermissionError unless the judge sits on the panel, marks the criterion, is not recused."""
    query = sa.select(JudgeAssignment.id).where(
        JudgeAssignment.competition_id == entrant.competition_id, JudgeAssignment.user_id == judge.id
    )
    if criterion is not None:
        query = query.join(JudgeCriterion, JudgeCriterion.assignment_id == JudgeAssignment.id).where(
            JudgeCriterion.criterion_id == criterion.id
        )
    if db.session.scalar(query) is None:
        raise PermissionError("the judge is not on the panel or does not mark this criterion")
    if is_recused(judge, entrant):
        raise PermissionError("the judge is recused from this entrant")


def closed_reason(
    competition: Competition, entrant: Entrant | None = None, signoff: SheetSignoff | None = None
) -> str | None:
    """Say why marks cannot be entered now, or None when they can."""
    if competition.status in OPEN_STATES:
        return _(
            "Marking starts when the competition is running (now: %(state)s).", state=status_label(competition.status)
        )
    if competition.status != "running":
        return _(
            "The scores are locked (%(state)s): marks can no longer change.", state=status_label(competition.status)
        )
    if entrant is not None and entrant.status != "ok":
        return _("This entrant is not checked in: there is nothing to mark.")
    if signoff is not None:
        return _("You signed this sheet. Only the chief judge can reopen it.")
    return None


def signoff_of(judge: User, entrant: Entrant) -> SheetSignoff | None:
    """Return the judge's signature on the entrant's sheet, if signed."""
    return db.session.scalar(
        sa.select(SheetSignoff).where(SheetSignoff.entrant_id == entrant.id, SheetSignoff.judge_id == judge.id)
    )


def current_mark(judge: User, entrant: Entrant, criterion: Criterion) -> Mark | None:
    """Return the judge's mark for the entrant on the criterion, if any."""
    return db.session.scalar(
        sa.select(Mark).where(
            Mark.entrant_id == entrant.id, Mark.judge_id == judge.id, Mark.criterion_id == criterion.id
        )
    )


def parse_value(criterion: Criterion, raw: str | None) -> Decimal:
    """Parse a typed mark; refuse — never clamp or round — anything the rules do not accept."""
    text = (raw or "").strip()
    if not text:
        raise MarkRefused(_("Enter a mark."))
    if text.startswith("-") and PLAIN_NUMBER.fullmatch(text[1:]):
        raise MarkRefused(_("%(value)s is below the minimum 0.", value=text))
    if not PLAIN_NUMBER.fullmatch(text):
        raise MarkRefused(
            _("“%(value)s” is not a number: type digits and at most one decimal point, e.g. 35.5.", value=text)
        )
    rule = scoring.Criterion(
        criterion.key, criterion.name, criterion.max_value, criterion.kind, criterion.aggregation, criterion.step
    )
    try:
        return scoring.parse_mark(rule, text)
    except scoring.MarkError as error:
        raise MarkRefused(_("%(problem)s.", problem=wording.message(error.code, error.params))) from None


def record_mark(
    judge: User,
    entrant: Entrant,
    criterion: Criterion,
    raw_value: str | None,
    seen_version: int,
    tablet_session: str | None,
    reason: str | None = None,
) -> Mark:
    """Save the judge's mark unless a newer one was saved since `seen_version`; return the mark."""
    check_can_mark(judge, entrant, criterion)
    closed = closed_reason(entrant.competition, entrant, signoff_of(judge, entrant))
    if closed:
        raise ServiceError(closed)
    cents = int(parse_value(criterion, raw_value) * MARK_SCALE)
    try:
        with transaction():
            return _upsert(judge, entrant, criterion, cents, seen_version, tablet_session, reason)
    except sa.exc.IntegrityError:
        # Another process saved the first mark at the same moment: its value stands.
        current = current_mark(judge, entrant, criterion)
        if current is not None and current.value_cents == cents:
            return current
        raise _stale(judge, entrant, criterion) from None


def _upsert(
    judge: User, entrant: Entrant, criterion: Criterion, cents: int, seen: int, source: str | None, reason: str | None
) -> Mark:
    """Insert the first mark or update the one at version `seen`, with its MarkChange."""
    mark = current_mark(judge, entrant, criterion)
    if mark is not None and mark.value_cents == cents:
        return mark  # the same value again, e.g. a retry whose answer was lost: nothing changes
    if (mark.version if mark else 0) != seen:
        raise StaleMark(mark.value if mark else None, mark.version if mark else 0)
    old = mark.value_cents if mark else None
    if mark is None:
        mark = Mark(
            competition_id=entrant.competition_id,
            entrant_id=entrant.id,
            judge_id=judge.id,
            criterion_id=criterion.id,
            value_cents=cents,
            version=1,
        )
        db.session.add(mark)
        db.session.flush()
    else:
        # The version in the WHERE clause makes the check and the write one step: of two
        # app processes saving over the same version, exactly one updates a row.
        updated = cast(  # an UPDATE's result is a CursorResult, which counts the rows
            "CursorResult[Any]",
            db.session.execute(
                sa.update(Mark)
                .where(Mark.id == mark.id, Mark.version == seen)
                .values(value_cents=cents, version=seen + 1, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            ),
        )
        if updated.rowcount != 1:
            raise _stale(judge, entrant, criterion)
        db.session.expire(mark)
    db.session.add(
        MarkChange(
            competition_id=entrant.competition_id,
            entrant_id=entrant.id,
            judge_id=judge.id,
            criterion_id=criterion.id,
            old_cents=old,
            new_cents=cents,
            actor_id=judge.id,
            source=(source or None),
            reason=reason,
        )
    )
    lifecycle.touch(entrant.competition)
    return mark


def _stale(judge: User, entrant: Entrant, criterion: Criterion) -> StaleMark:
    """Build the refusal of a stale save from the mark as the database holds it now."""
    row = db.session.execute(
        sa.select(Mark.value_cents, Mark.version).where(
            Mark.entrant_id == entrant.id, Mark.judge_id == judge.id, Mark.criterion_id == criterion.id
        )
    ).first()
    if row is None:
        return StaleMark(None, 0)
    return StaleMark(Decimal(row.value_cents).scaleb(-2), row.version)


def sign_sheet(judge: User, entrant: Entrant) -> SheetSignoff:
    """Sign the judge's finished sheet for the entrant; it is then read-only for the judge."""
    check_can_mark(judge, entrant)
    closed = closed_reason(entrant.competition, entrant, signoff_of(judge, entrant))
    if closed:
        raise ServiceError(closed)
    assignment = assignment_of(judge, entrant.competition)
    assert assignment is not None  # check_can_mark() found the judge on the panel
    criteria = judge_criteria(assignment)
    cents = dict(
        db.session.execute(
            sa.select(Mark.criterion_id, Mark.value_cents).where(
                Mark.entrant_id == entrant.id, Mark.judge_id == judge.id
            )
        ).all()
    )
    missing = [c.name for c in criteria if c.id not in cents]
    if missing:
        raise ServiceError(_("The sheet cannot be signed yet: no mark for %(criteria)s.", criteria=", ".join(missing)))
    try:
        with transaction():
            signoff = SheetSignoff(entrant_id=entrant.id, judge_id=judge.id)
            db.session.add(signoff)
            db.session.flush()
            audit.record(
                "sheet.signed",
                judge,
                entrant.competition,
                entrant,
                judge_id=judge.id,
                marks={c.path: plain(Decimal(cents[c.id]).scaleb(-2)) for c in criteria},
            )
    except sa.exc.IntegrityError:
        raise ServiceError(_("This sheet is already signed.")) from None
    return signoff
