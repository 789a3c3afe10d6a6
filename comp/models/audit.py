"""The append-only audit trail of everything that changes a competition's outcome."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.judging import MarkChange
from comp.models.types import utcnow


class AuditEvent(Model):
    """One audited action: who did what to which object, when, with what details."""

    __tablename__ = "audit_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    competition_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True
    )
    object_type: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    object_id: so.Mapped[int | None]
    detail: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)


class Upload(Model):
    """An uploaded spreadsheet held between its preview and its confirmation."""

    __tablename__ = "upload"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    competition_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    rows: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    problems: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit record."""


def _refuse(mapper, connection, target):
    raise AppendOnlyError(f"{type(target).__name__} records are append-only")


for _model in (AuditEvent, MarkChange):
    sa.event.listen(_model, "before_update", _refuse)
    sa.event.listen(_model, "before_delete", _refuse)
