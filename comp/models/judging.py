"""Judges' assignments and conflicts, their marks, and the marks' append-only history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.competition import Competition, Criterion, Entrant
from comp.models.people import User, _in
from comp.models.types import Scaled, utcnow

MARK_SCALE = 100  # marks are kept as integer hundredths so the database sums them exactly


class JudgeAssignment(Model):
    """A judge (裁判) on a competition's panel; at most one chief judge (裁判长) per competition."""

    __tablename__ = "judge_assignment"
    __table_args__ = (
        sa.UniqueConstraint("competition_id", "user_id"),
        sa.UniqueConstraint("competition_id", "ref"),
        sa.Index(
            "uq_judge_assignment_one_chief",
            "competition_id",
            unique=True,
            sqlite_where=sa.text("is_chief"),
            postgresql_where=sa.text("is_chief"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    ref: so.Mapped[str] = so.mapped_column(sa.String(40))
    is_chief: so.Mapped[bool] = so.mapped_column(default=False)

    competition: so.Mapped[Competition] = so.relationship()
    user: so.Mapped[User] = so.relationship()
    criteria: so.Mapped[list[JudgeCriterion]] = so.relationship(
        back_populates="assignment", cascade="all, delete-orphan"
    )


class JudgeCriterion(Model):
    """A criterion a judge marks in a competition."""

    __tablename__ = "judge_criterion"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "criterion_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assignment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("judge_assignment.id", ondelete="CASCADE"), index=True
    )
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"))

    assignment: so.Mapped[JudgeAssignment] = so.relationship(back_populates="criteria")
    criterion: so.Mapped[Criterion] = so.relationship()


class JudgeConflict(Model):
    """A conflict of interest a judge declared with an entrant (回避)."""

    __tablename__ = "judge_conflict"
    __table_args__ = (sa.UniqueConstraint("judge_id", "entrant_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    judge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(200))
    declared_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Mark(Model):
    """One judge's value for one entrant on one criterion, as integer hundredths."""

    __tablename__ = "mark"
    __table_args__ = (
        sa.UniqueConstraint("entrant_id", "judge_id", "criterion_id"),
        # No sign check: a signed scale (−3…+3) takes negative marks; the criterion's range is checked on entry.
        sa.CheckConstraint("version >= 1", name="version"),
        sa.Index("ix_mark_competition_criterion_entrant", "competition_id", "criterion_id", "entrant_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"))
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    judge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"))
    value_cents: so.Mapped[int]
    version: so.Mapped[int] = so.mapped_column(default=1)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    entrant: so.Mapped[Entrant] = so.relationship()
    judge: so.Mapped[User] = so.relationship()
    criterion: so.Mapped[Criterion] = so.relationship()

    @property
    def value(self) -> Decimal:
        """Return the mark as a Decimal."""
        return Decimal(self.value_cents).scaleb(-2)


class MarkChange(Model):
    """An append-only record of one change of a mark: who, when, old → new, why."""

    __tablename__ = "mark_change"
    # Counting and taking the last change of a competition (its stamp) reads this index alone.
    __table_args__ = (sa.Index("ix_mark_change_competition_changes", "competition_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"))
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    judge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"))
    old_cents: so.Mapped[int | None]
    new_cents: so.Mapped[int | None]
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    source: so.Mapped[str | None] = so.mapped_column(sa.String(64))


class SheetSignoff(Model):
    """A judge's signature on a finished score sheet (one entrant), reopened only by the chief."""

    __tablename__ = "sheet_signoff"
    __table_args__ = (sa.UniqueConstraint("entrant_id", "judge_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    judge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    signed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class DiscrepancyReview(Model):
    """The chief judge's decision on a flagged spread: marks confirmed, or a re-mark requested.

    A confirmation holds for the marks as they were (`spread_cents`); if a mark changes
    afterwards the spread is flagged again.
    """

    __tablename__ = "discrepancy_review"
    __table_args__ = (
        sa.UniqueConstraint("entrant_id", "criterion_id"),
        sa.CheckConstraint("state IN ('confirmed', 'remark')", name="state"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"))
    state: so.Mapped[str] = so.mapped_column(sa.String(16))
    spread_cents: so.Mapped[int]
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Objection(Model):
    """An objection lodged during the public notice period (公示), and the chief judge's ruling."""

    __tablename__ = "objection"
    __table_args__ = (sa.CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    contact: so.Mapped[str] = so.mapped_column(sa.String(120))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="open")
    ruling: so.Mapped[str | None] = so.mapped_column(sa.Text)
    ruled_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    ruled_at: so.Mapped[datetime | None]
    # The reference given to whoever lodged it (YY-<competition code>-0001) and the SHA-256 of the token in the
    # address of its status page, which only they hold. Both empty on objections lodged before they existed.
    ref: so.Mapped[str | None] = so.mapped_column(sa.String(80), unique=True)
    token_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)


class RemarkRequest(Model):
    """The chief judge's request that one judge look at one mark again, and the judge's answer.

    One row per judge asked. Whether the judge has re-marked is read from the marks' own history:
    a MarkChange by the judge for the entrant and criterion with an id above `after_change_id`
    (the highest id when asked). So a save writes nothing here; `answer` records only what no
    MarkChange shows: the judge kept the mark ('kept'), or a later review of the chief made the
    request moot ('withdrawn').
    """

    __tablename__ = "remark_request"
    __table_args__ = (
        sa.CheckConstraint("answer IN ('kept', 'withdrawn')", name="answer"),
        sa.Index("ix_remark_request_judge", "competition_id", "judge_id"),
        sa.Index("ix_remark_request_mark", "entrant_id", "criterion_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"))
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"))
    judge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    review_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("discrepancy_review.id", ondelete="CASCADE"), index=True)
    note: so.Mapped[str] = so.mapped_column(sa.String(200))
    asked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    asked_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    old_cents: so.Mapped[int | None]  # the judge's mark when asked
    after_change_id: so.Mapped[int] = so.mapped_column(default=0)  # the highest MarkChange.id when asked
    answered_at: so.Mapped[datetime | None]
    answer: so.Mapped[str | None] = so.mapped_column(sa.String(16))

    entrant: so.Mapped[Entrant] = so.relationship()
    criterion: so.Mapped[Criterion] = so.relationship()


# waiting for the second mark; agreed within the tolerance; differs, for the chief judge; third, waiting for a third
# marker; kept (the panel's mark) or second (the second mark), as the chief judge or the third mark decided.
RECHECK_STATES = ("waiting", "agreed", "differs", "third", "kept", "second")


class RecheckSample(Model):
    """A re-check sample (复核抽样) drawn before the lock: the award zone plus a share of the rest, from a seed.

    `zone` and `pool` are the entrant refs the draw started from (those in the award zone, and the
    others ranked), so the sample can be drawn again from its seed and compared, like the lot draw.
    """

    __tablename__ = "recheck_sample"
    __table_args__ = (
        sa.CheckConstraint("share >= 0 AND share <= 10000", name="share"),
        sa.CheckConstraint("tolerance > 0 AND tolerance <= 10000", name="tolerance"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), unique=True)
    seed: so.Mapped[str] = so.mapped_column(sa.String(32))
    share: so.Mapped[Decimal] = so.mapped_column(Scaled(4))  # of the entrants outside the award zone
    tolerance: so.Mapped[Decimal] = so.mapped_column(Scaled(4))  # of the criterion's range
    zone: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    pool: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    marker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    drawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    drawn_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    items: so.Mapped[list[RecheckItem]] = so.relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="RecheckItem.id"
    )


class RecheckItem(Model):
    """One sampled (entrant, criterion): the panel's mark, the second marker's blind mark, and the chief's ruling."""

    __tablename__ = "recheck_item"
    __table_args__ = (
        sa.UniqueConstraint("sample_id", "entrant_id", "criterion_id"),
        sa.CheckConstraint(_in("state", RECHECK_STATES), name="state"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sample_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("recheck_sample.id", ondelete="CASCADE"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"))
    second_cents: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    second_at: so.Mapped[datetime | None]
    # A third marker the chief judge asked: their blind mark picks the nearer of the panel's and the second.
    third_marker_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    third_cents: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    state: so.Mapped[str] = so.mapped_column(sa.String(12), default="waiting")
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    resolved_at: so.Mapped[datetime | None]

    sample: so.Mapped[RecheckSample] = so.relationship(back_populates="items")
    entrant: so.Mapped[Entrant] = so.relationship()
    criterion: so.Mapped[Criterion] = so.relationship()
