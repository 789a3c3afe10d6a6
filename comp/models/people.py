"""The organization tree, user accounts and workers (职工)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from comp.extensions import Model
from comp.models.types import utcnow

ORG_KINDS = ("city", "county", "enterprise", "workshop", "team")
# A liaison (企业联络员) is an enterprise union's account: it registers that enterprise's employees only.
ROLES = ("admin", "organizer", "liaison", "judge", "worker")
SKILL_GRADES = {5: "五级/初级工", 4: "四级/中级工", 3: "三级/高级工", 2: "二级/技师", 1: "一级/高级技师"}


def _in(column: str, values) -> str:
    """Return a SQL CHECK expression limiting a column to the given strings."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class OrgUnit(Model):
    """A node of the union tree: city union → county unions → enterprises → workshops/teams."""

    __tablename__ = "org_unit"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", ORG_KINDS), name="kind"),
        sa.UniqueConstraint("parent_id", "name"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    code: so.Mapped[str | None] = so.mapped_column(sa.String(32), unique=True)

    parent: so.Mapped[OrgUnit | None] = so.relationship(back_populates="children", remote_side="OrgUnit.id")
    children: so.Mapped[list[OrgUnit]] = so.relationship(back_populates="parent")

    def lineage(self) -> list[OrgUnit]:
        """Return this unit and its ancestors, nearest first."""
        chain: list[OrgUnit] = []
        node: OrgUnit | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def county(self) -> OrgUnit | None:
        """Return the county union this unit belongs to, if any."""
        return next((u for u in self.lineage() if u.kind == "county"), None)

    def __repr__(self) -> str:
        return f"<OrgUnit {self.kind} {self.name}>"


class User(UserMixin, Model):
    """A login account with one role; judges and workers are tied to their records."""

    __tablename__ = "user"
    __table_args__ = (sa.CheckConstraint(_in("role", ROLES), name="role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(16))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    org_unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    worker_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("worker.id"), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    password_changed_at: so.Mapped[datetime | None]
    last_login_at: so.Mapped[datetime | None]

    org_unit: so.Mapped[OrgUnit | None] = so.relationship()
    worker: so.Mapped[Worker | None] = so.relationship(back_populates="user")

    # The token of the session this object was loaded for (set at login and by the user loader):
    # Flask-Login keeps it in the cookie instead of the user's id, so ending the server-side
    # session ends the cookie too.
    if TYPE_CHECKING:  # for the type checker only: the ORM refuses an annotation other than Mapped[]
        session_token: str | None
    session_token = None  # not a column: unannotated, so the ORM leaves it alone

    def get_id(self) -> str:
        """Return what Flask-Login keeps in the session cookie: the session's token, never the id."""
        return self.session_token or ""

    # UserMixin compares users by get_id(), which is now a session token: compare rows by identity
    # (the session's identity map gives one object per row), as every other model does.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password (the policy is checked by `services.accounts`)."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """Tell whether a password was ever set (an invited account has none until activated)."""
        return not self.password_hash.startswith("!")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        """Tell Flask-Login the user is logged in: only a live session of an active user loads one.

        Without reading `active`, which a commit expires: asking after the commit (the response's
        headers do) would cost a query.
        """
        return True

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Worker(Model):
    """A worker or craftsman; the ID-card number is stored encrypted with a keyed hash."""

    __tablename__ = "worker"
    __table_args__ = (
        sa.CheckConstraint("skill_grade BETWEEN 1 AND 5", name="skill_grade"),
        sa.CheckConstraint("gender IN ('M', 'F')", name="gender"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    id_cipher: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    id_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    id_masked: so.Mapped[str | None] = so.mapped_column(sa.String(18))
    gender: so.Mapped[str | None] = so.mapped_column(sa.String(1))
    # The year alone: with the masked number (first 4 + last 4) a full birth date left two
    # unknown digits, so the database file alone narrowed a number to about ten candidates.
    birth_year: so.Mapped[int | None]
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    employer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    trade: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    skill_grade: so.Mapped[int | None] = so.mapped_column(index=True)
    mentor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("worker.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    employer: so.Mapped[OrgUnit | None] = so.relationship()
    mentor: so.Mapped[Worker | None] = so.relationship(remote_side="Worker.id", back_populates="apprentices")
    apprentices: so.Mapped[list[Worker]] = so.relationship(back_populates="mentor")
    honours: so.Mapped[list[Honour]] = so.relationship(back_populates="worker", cascade="all, delete-orphan")
    user: so.Mapped[User | None] = so.relationship(back_populates="worker")

    def __repr__(self) -> str:
        return f"<Worker {self.name} {self.id_masked}>"


class Honour(Model):
    """An honour a worker holds (劳动模范, 泉州工匠, 技术能手 …), with year and issuer."""

    __tablename__ = "honour"
    __table_args__ = (
        sa.UniqueConstraint("worker_id", "title", "year"),
        sa.CheckConstraint("status IN ('awarded', 'recommended')", name="status"),
        sa.Index("ix_honour_title_year", "title", "year"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(64))
    year: so.Mapped[int]
    issuer: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    # "awarded", or "recommended" when a competition's results put the worker forward for it.
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="awarded", server_default="awarded")
    competition_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="SET NULL"))

    worker: so.Mapped[Worker] = so.relationship(back_populates="honours")
