"""Certificates (荣誉证书) and the log of their verifications."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import db
from comp.models.competition import Entrant
from comp.models.types import utcnow


class Certificate(db.Model):
    """A certificate for an awarded entrant, verifiable by its number and code."""

    __tablename__ = "certificate"
    __table_args__ = (sa.CheckConstraint("status IN ('valid', 'revoked')", name="status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id"), index=True)
    award: so.Mapped[str] = so.mapped_column(sa.String(32))
    rank: so.Mapped[Optional[int]]
    issued_on: so.Mapped[date]
    verify_code: so.Mapped[str] = so.mapped_column(sa.String(32))
    status: so.Mapped[str] = so.mapped_column(sa.String(8), default="valid")
    revoked_at: so.Mapped[Optional[datetime]]
    revoke_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    replaced_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("certificate.id"))

    entrant: so.Mapped[Entrant] = so.relationship()


class Verification(db.Model):
    """One look-up of a certificate on the public verification page or API."""

    __tablename__ = "verification"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    certificate_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("certificate.id"))
    result: so.Mapped[str] = so.mapped_column(sa.String(8))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
