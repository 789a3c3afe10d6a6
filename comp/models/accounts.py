"""Sessions that can be ended, one-time account links, and workers' requests about their records."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.people import User, Worker, _in
from comp.models.types import utcnow

LINK_PURPOSES = ("activate", "reset")
REQUEST_KINDS = ("claim", "change")
REQUEST_STATES = ("pending", "accepted", "rejected", "withdrawn")


class UserSession(Model):
    """One login: the cookie carries its random token, the database only the token's hash.

    Every request looks the session up, so logging out, disabling the account, changing or
    resetting the password and "log out everywhere" end it at once on every app server; a
    replayed old cookie finds no live session.
    """

    __tablename__ = "user_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    revoked_at: so.Mapped[datetime | None]
    # logout, logout_all, password, reset, disabled, role …: why the session ended.
    revoked_reason: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    user: so.Mapped[User] = so.relationship()


class AccountLink(Model):
    """A one-time link to set a password: activation of a new account, or a reset.

    The link is a signed (row id, nonce) pair; the row makes it single-use and lets a newer
    link replace an older one.
    """

    __tablename__ = "account_link"
    __table_args__ = (sa.CheckConstraint(_in("purpose", LINK_PURPOSES), name="purpose"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16))
    nonce: so.Mapped[str] = so.mapped_column(sa.String(32))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    @property
    def live(self) -> bool:
        """Tell whether the link can still be used."""
        return self.used_at is None and self.revoked_at is None and self.expires_at > utcnow()


class WorkerRequest(Model):
    """A worker account's request about a worker record, decided by an organizer of its union.

    `claim`: the account says a record already on file is theirs (matched by ID number), and
    an organizer links them; `change`: the owner asks for a correction of their record's
    identity fields, which no form overwrites on its own.
    """

    __tablename__ = "worker_request"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", REQUEST_KINDS), name="kind"),
        sa.CheckConstraint(_in("status", REQUEST_STATES), name="status"),
        sa.Index("ix_worker_request_status_kind", "status", "kind"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    worker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="pending")
    # claim: what the person gave at sign-up (name, phone, employer_id …);
    # change: {"fields": {field: new value}, "reason": text}.
    detail: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    decided_at: so.Mapped[datetime | None]
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    worker: so.Mapped[Worker] = so.relationship()
    decided_by: so.Mapped[User | None] = so.relationship(foreign_keys=[decided_by_id])
