"""What a published competition left in each worker's record: standings and the honours it earned."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.competition import Competition, Entrant
from comp.models.people import User, Worker
from comp.models.types import Scaled, utcnow


class Standing(Model):
    """One entrant's published result, written when the results are published (以赛促升's input).

    Profiles, the talent pool and the dashboard read these rows instead of recomputing
    hundreds of competitions; a competition sent back from published to locked loses them.
    """

    __tablename__ = "standing"
    __table_args__ = (
        sa.Index("ix_standing_worker_year", "worker_id", "year"),
        sa.Index("ix_standing_award_year", "award", "year"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"), unique=True)
    worker_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("worker.id"))
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    year: so.Mapped[int]
    rank: so.Mapped[int | None]
    award: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    total: so.Mapped[Decimal | None] = so.mapped_column(Scaled(2))
    # Published stage scores by stage key, as strings ("85.50").
    stages: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)

    competition: so.Mapped[Competition] = so.relationship()
    entrant: so.Mapped[Entrant] = so.relationship()
    worker: so.Mapped[Worker | None] = so.relationship()


class OutcomeGrant(Model):
    """An honour recommendation or a skill-grade promotion a competition earned, once confirmed."""

    __tablename__ = "outcome_grant"
    __table_args__ = (
        sa.UniqueConstraint("competition_id", "worker_id", "kind", "title"),
        sa.CheckConstraint("kind IN ('honour', 'grade')", name="kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("worker.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    # The honour's title, or "grade" for a promotion.
    title: so.Mapped[str] = so.mapped_column(sa.String(64))
    rank: so.Mapped[int | None]
    grade_from: so.Mapped[int | None]
    grade_to: so.Mapped[int | None]
    confirmed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    competition: so.Mapped[Competition] = so.relationship()
    entrant: so.Mapped[Entrant] = so.relationship()
    worker: so.Mapped[Worker] = so.relationship()
    confirmed_by: so.Mapped[User | None] = so.relationship()


class Computed(Model):
    """A computation every app process shares: a competition's live board or results, or the city's figures.

    `scope` names what it is of: a competition's id, or "city:2026" for the dashboard's year. The
    stamp says which data the payload was built from; a process that finds its stamp current uses
    the payload instead of computing it again, and `claimed_until` lets exactly one process at a
    time rebuild a stale one (comp.services.common.computed). A competition's rows go with it.
    """

    __tablename__ = "computed"

    kind: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    scope: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    competition_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True
    )
    stamp: so.Mapped[str] = so.mapped_column(sa.String(64))
    built_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    claimed_until: so.Mapped[datetime | None]
    payload: so.Mapped[str] = so.mapped_column(sa.Text)
