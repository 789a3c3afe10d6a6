"""Competitions and ratings, their stages and criteria, and their entrants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.people import OrgUnit, User, Worker, _in
from comp.models.types import Scaled, utcnow

if TYPE_CHECKING:
    from comp.models.rating import Unit  # for the annotation only: the mapper finds Unit by its name

KINDS = ("competition", "rating")
LEVELS = ("city", "county", "enterprise")
STATES = ("draft", "open", "closed", "running", "locked", "published", "archived")
PUBLIC_STATES = ("published", "archived")  # results, names and certificates are public
FINAL_STATES = ("locked", *PUBLIC_STATES)  # the scores are final: names are revealed to the organizers
CRITERION_KINDS = ("score", "deduction")
AGGREGATIONS = ("mean", "trimmed", "median", "single")
ENTRANT_STATUSES = ("pending", "approved", "ok", "absent", "disqualified", "withdrawn", "rejected")
ENTRANT_TYPES = ("person", "studio", "team")
TEAM_BY = ("team", "employer", "county")


class Competition(Model):
    """A skills competition (竞赛) or a rating (评定) of studios and teams."""

    __tablename__ = "competition"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.CheckConstraint(_in("level", LEVELS), name="level"),
        sa.CheckConstraint(_in("status", STATES), name="status"),
        sa.CheckConstraint(_in("team_by", TEAM_BY), name="team_by"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        sa.CheckConstraint("year BETWEEN 1990 AND 2100", name="year"),
        sa.CheckConstraint("unit_kind IS NULL OR unit_kind IN ('studio', 'team')", name="unit_kind"),
        sa.CheckConstraint("version >= 1", name="version"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="competition")
    trade: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    level: so.Mapped[str] = so.mapped_column(sa.String(16), default="city")
    year: so.Mapped[int]
    organizer: so.Mapped[str] = so.mapped_column(sa.String(120))
    organizer_unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft", index=True)
    registration_opens: so.Mapped[datetime | None]
    registration_closes: so.Mapped[datetime | None]
    capacity: so.Mapped[int | None]
    eligibility: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    rules: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    team_by: so.Mapped[str] = so.mapped_column(sa.String(16), default="team")
    unit_kind: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    # Bumped by every change that can move a result, so a hall screen polling with the
    # version it holds gets 204 No Content, and cached results know they are stale.
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    draw_seed: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    drawn_at: so.Mapped[datetime | None]
    certificate: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict, server_default="{}")
    outcomes: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict, server_default="{}")
    locked_at: so.Mapped[datetime | None]
    published_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    organizer_unit: so.Mapped[OrgUnit | None] = so.relationship()
    stages: so.Mapped[list[Stage]] = so.relationship(
        back_populates="competition", order_by="Stage.position", cascade="all, delete-orphan"
    )
    entrants: so.Mapped[list[Entrant]] = so.relationship(back_populates="competition", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Competition {self.code} {self.status}>"


class Stage(Model):
    """A stage (理论知识, 实际操作 …) with its weight in the total."""

    __tablename__ = "stage"
    __table_args__ = (
        sa.UniqueConstraint("competition_id", "key"),
        sa.CheckConstraint("weight >= 0", name="weight"),
        sa.CheckConstraint("best IS NULL OR best >= 1", name="best"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    weight: so.Mapped[Decimal] = so.mapped_column(Scaled(4))
    # A stage of attempts (runs, rounds): only the best `best` of its score criteria count; None: all of them.
    best: so.Mapped[int | None]
    position: so.Mapped[int] = so.mapped_column(default=0)

    competition: so.Mapped[Competition] = so.relationship(back_populates="stages")
    criteria: so.Mapped[list[Criterion]] = so.relationship(
        back_populates="stage", order_by="Criterion.position", cascade="all, delete-orphan"
    )


class Criterion(Model):
    """A scored item (评分项) of a stage: its maximum, kind and aggregation of judges' marks."""

    __tablename__ = "criterion"
    __table_args__ = (
        sa.UniqueConstraint("stage_id", "key"),
        sa.CheckConstraint(_in("kind", CRITERION_KINDS), name="kind"),
        sa.CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
        sa.CheckConstraint("max_value > 0", name="max_value"),
        sa.CheckConstraint("step IS NULL OR step > 0", name="step"),
        sa.CheckConstraint("trim >= 1", name="trim"),
        sa.CheckConstraint("low_value < max_value", name="low_value"),
        sa.CheckConstraint("worth IS NULL OR worth > 0", name="worth"),
        sa.CheckConstraint("places IS NULL OR (places >= 0 AND places <= 4)", name="places"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    stage_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("stage.id", ondelete="CASCADE"), index=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    max_value: so.Mapped[Decimal] = so.mapped_column(Scaled(2))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="score")
    aggregation: so.Mapped[str] = so.mapped_column(sa.String(16), default="mean")
    step: so.Mapped[Decimal | None] = so.mapped_column(Scaled(2))
    # A judgement scale (0–3 in steps of 1): the tablet shows one tap-button per value.
    fixed_scale: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # A trimmed mean drops this many marks from each end (1 by default; 2 of 7 judges in diving).
    trim: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # The judges' range is low_value…max_value (below 0 on a signed scale, −3…+3); `worth` is the points the
    # top mark is worth when the scale is not points (a 0–3 judgement worth 5 points), None when it is.
    low_value: so.Mapped[Decimal] = so.mapped_column(Scaled(2), default=Decimal(0), server_default="0")
    worth: so.Mapped[Decimal | None] = so.mapped_column(Scaled(2))
    # A rule that rounds each criterion's aggregated mark before it counts (保留两位小数): the places kept, or None.
    places: so.Mapped[int | None]
    # Multiplied by a factor each entrant declares with their programme (a dive's degree of difficulty).
    factored: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    position: so.Mapped[int] = so.mapped_column(default=0)

    stage: so.Mapped[Stage] = so.relationship(back_populates="criteria")

    @property
    def path(self) -> str:
        """Return the criterion's exchange-format key, "stage.criterion"."""
        return f"{self.stage.key}.{self.key}"


class Entrant(Model):
    """A registration of a worker, or in a rating of a studio or team, in a competition."""

    __tablename__ = "entrant"
    __table_args__ = (
        sa.UniqueConstraint("competition_id", "ref"),
        sa.UniqueConstraint("competition_id", "number"),
        sa.UniqueConstraint("competition_id", "secret_code"),
        sa.UniqueConstraint("competition_id", "worker_id"),
        sa.UniqueConstraint("competition_id", "unit_id"),
        sa.CheckConstraint(_in("status", ENTRANT_STATUSES), name="status"),
        sa.CheckConstraint(_in("type", ENTRANT_TYPES), name="type"),
        sa.CheckConstraint("time_seconds IS NULL OR time_seconds >= 0", name="time_seconds"),
        sa.CheckConstraint("number IS NULL OR number > 0", name="number"),
        sa.CheckConstraint(
            "(type = 'person' AND unit_id IS NULL) OR (type <> 'person' AND worker_id IS NULL)", name="person_or_unit"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    ref: so.Mapped[str] = so.mapped_column(sa.String(40))
    type: so.Mapped[str] = so.mapped_column(sa.String(8), default="person")
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    worker_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("worker.id"), index=True)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    employer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"))
    team: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    status_reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    number: so.Mapped[int | None]
    secret_code: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    workstation: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    session: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    time_seconds: so.Mapped[int | None]
    checked_in_at: so.Mapped[datetime | None]
    registered_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    registered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    competition: so.Mapped[Competition] = so.relationship(back_populates="entrants")
    worker: so.Mapped[Worker | None] = so.relationship()
    unit: so.Mapped[Unit | None] = so.relationship()
    employer: so.Mapped[OrgUnit | None] = so.relationship()
    registered_by: so.Mapped[User | None] = so.relationship()


class ProgrammeItem(Model):
    """One line of an entrant's declared programme: the factor a factored criterion is multiplied by for them.

    A dive's degree of difficulty (3.4 for 5154B) or an element's base value, declared before judging;
    the criterion's score is the judges' score × the factor, and the judges never mark the factor.
    """

    __tablename__ = "programme_item"
    __table_args__ = (
        sa.UniqueConstraint("entrant_id", "criterion_id"),
        sa.CheckConstraint("factor > 0", name="factor"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    factor: so.Mapped[Decimal] = so.mapped_column(Scaled(3))
    # What the entrant performs there, as the sport writes it (dive 5154B, element 4T): shown on sheets.
    label: so.Mapped[str] = so.mapped_column(sa.String(16), default="")


NOT_TAKEN_REASONS = ("DNS", "DNI")  # did not start the attempt; did not improve (not scored, by the sport's rule)


class NotTaken(Model):
    """An attempt an entrant did not take (a run, a round): no score, and the entrant is not waited for.

    Only in a stage of attempts (Stage.best); recorded by the chief judge, audited, and only where no
    judge has marked the attempt.
    """

    __tablename__ = "not_taken"
    __table_args__ = (
        sa.UniqueConstraint("entrant_id", "criterion_id"),
        sa.CheckConstraint(_in("reason", NOT_TAKEN_REASONS), name="reason"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"))
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    reason: so.Mapped[str] = so.mapped_column(sa.String(8))
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    recorded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
