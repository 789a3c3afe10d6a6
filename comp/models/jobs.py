"""Export jobs: a file prepared in the background for the user who asked, with its progress."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.types import utcnow


class ExportJob(Model):
    """A big export (the whole city's talent pool, say) written to a file by the job worker.

    The row is the job's record, as a CertificateBatch is a batch's: running, done or failed, how
    many rows are written of how many, and a heartbeat (`updated_at`) a stalled job is found by.
    `params` are what the user asked for (the filters), read again when the job runs.
    """

    __tablename__ = "export_job"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('talent_pool')", name="kind"),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
        sa.CheckConstraint("done >= 0 AND done <= total", name="progress"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    status: so.Mapped[str] = so.mapped_column(sa.String(8), default="running")
    total: so.Mapped[int] = so.mapped_column(default=0)
    done: so.Mapped[int] = so.mapped_column(default=0)
    filename: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    finished_at: so.Mapped[datetime | None]
