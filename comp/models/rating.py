"""Innovation studios (劳模工匠创新工作室) and craftsman teams (工匠班组), with members."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.people import OrgUnit, Worker, _in

UNIT_KINDS = ("studio", "team")
UNIT_LEVELS = ("city", "province", "national")


class Unit(Model):
    """A studio or craftsman team attached to an enterprise."""

    __tablename__ = "unit"
    __table_args__ = (
        sa.UniqueConstraint("kind", "enterprise_id", "name"),
        sa.CheckConstraint(_in("kind", UNIT_KINDS), name="kind"),
        sa.CheckConstraint(f"level IS NULL OR {_in('level', UNIT_LEVELS)}", name="level"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    name: so.Mapped[str] = so.mapped_column(sa.String(120), index=True)
    enterprise_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    workshop: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    leader_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("worker.id"))
    level: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    founded: so.Mapped[date | None]

    enterprise: so.Mapped[OrgUnit | None] = so.relationship()
    leader: so.Mapped[Worker | None] = so.relationship()
    members: so.Mapped[list[UnitMember]] = so.relationship(back_populates="unit", cascade="all, delete-orphan")
    achievements: so.Mapped[list[Achievement]] = so.relationship(back_populates="unit", cascade="all, delete-orphan")


class UnitMember(Model):
    """A worker's membership of a studio or team."""

    __tablename__ = "unit_member"
    __table_args__ = (sa.UniqueConstraint("unit_id", "worker_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("worker.id"), index=True)
    role: so.Mapped[str | None] = so.mapped_column(sa.String(32))

    unit: so.Mapped[Unit] = so.relationship(back_populates="members")
    worker: so.Mapped[Worker] = so.relationship()


class Achievement(Model):
    """A studio's yearly achievement: a project, patent, named method (操作法) or trainees."""

    __tablename__ = "achievement"
    __table_args__ = (sa.CheckConstraint("kind IN ('project', 'patent', 'method', 'training', 'other')", name="kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    year: so.Mapped[int]
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))

    unit: so.Mapped[Unit] = so.relationship(back_populates="achievements")
