"""Certificates (荣誉证书), the log of their verifications, the seal, and batch files."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.competition import Entrant
from comp.models.types import utcnow


class Certificate(Model):
    """A certificate for an awarded entrant, verifiable by its number and code."""

    __tablename__ = "certificate"
    __table_args__ = (sa.CheckConstraint("status IN ('valid', 'revoked')", name="status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id"), index=True)
    award: so.Mapped[str] = so.mapped_column(sa.String(32))
    rank: so.Mapped[int | None]
    issued_on: so.Mapped[date]
    verify_code: so.Mapped[str] = so.mapped_column(sa.String(32))
    status: so.Mapped[str] = so.mapped_column(sa.String(8), default="valid")
    revoked_at: so.Mapped[datetime | None]
    revoke_reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    replaced_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("certificate.id"))

    entrant: so.Mapped[Entrant] = so.relationship()
    replaced_by: so.Mapped[Certificate | None] = so.relationship(remote_side=[id])


class Verification(Model):
    """One look-up of a certificate on the public verification page or API."""

    __tablename__ = "verification"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    certificate_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("certificate.id"), index=True)
    result: so.Mapped[str] = so.mapped_column(sa.String(8))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class CertificateSeal(Model):
    """The organizer's seal (公章) printed over the issuer's name, one per competition."""

    __tablename__ = "certificate_seal"
    __table_args__ = (sa.CheckConstraint("width > 0 AND height > 0", name="size"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), unique=True)
    png: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    width: so.Mapped[int]
    height: so.Mapped[int]
    uploaded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    uploaded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))


BATCH_KINDS = ("pdf", "zip")
BATCH_STATES = ("running", "done", "failed")


class CertificateBatch(Model):
    """A batch file of a competition's certificates, built in the background with its progress."""

    __tablename__ = "certificate_batch"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('pdf', 'zip')", name="kind"),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
        sa.CheckConstraint("done >= 0 AND done <= total", name="progress"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    status: so.Mapped[str] = so.mapped_column(sa.String(8), default="running")
    total: so.Mapped[int] = so.mapped_column(default=0)
    done: so.Mapped[int] = so.mapped_column(default=0)
    filename: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    finished_at: so.Mapped[datetime | None]
