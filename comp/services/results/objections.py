"""Objections lodged by the public during the notice period (公示), and the chief judge's rulings."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.models import Competition, Objection
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit, refs
from comp.services.setup import lifecycle

NAME_MAX, CONTACT_MAX, TEXT_MAX, RULING_MAX = 64, 120, 2000, 2000
RULINGS = ("upheld", "dismissed")
REF_PREFIX = "YY"  # 异议: the reference reads YY-<competition code>-0001
TOKEN_BYTES = 24  # the status page's token: 32 URL-safe characters, 192 random bits


def accepting(competition: Competition) -> bool:
    """Tell whether objections may be lodged now: published and within the notice period."""
    return competition.status == "published" and not lifecycle.notice_over(competition)


def lodge(competition: Competition, name: str, contact: str, text: str) -> Objection:
    """Store an objection to published results; refused outside the notice period or when incomplete."""
    return lodge_with_token(competition, name, contact, text)[0]


def token_hash(token: str) -> str:
    """Return the stored form of a status-page token: its SHA-256, so a copy of the database opens no page."""
    return hashlib.sha256(token.encode()).hexdigest()


def _next_ref(competition: Competition) -> str:
    """Return the competition's next objection reference, numbered after its highest one."""
    prefix = f"{REF_PREFIX}-{competition.code}-"
    taken = db.session.scalars(sa.select(Objection.ref).where(Objection.competition_id == competition.id))
    return f"{prefix}{refs.last_number((r for r in taken if r), prefix) + 1:04d}"


def lodge_with_token(competition: Competition, name: str, contact: str, text: str) -> tuple[Objection, str]:
    """Store an objection as `lodge` does; return it with the token of its status page, which is stored hashed."""
    if not accepting(competition):
        raise ServiceError(_("Objections are accepted only during the notice period."))
    name, contact, text = (name or "").strip(), (contact or "").strip(), (text or "").strip()
    checks = (
        (name, NAME_MAX, _("Give your name.")),
        (contact, CONTACT_MAX, _("Give a phone number or e-mail address.")),
        (text, TEXT_MAX, _("Write what you object to.")),
    )
    for value, limit, message in checks:
        if not value:
            raise ServiceError(message)
        if len(value) > limit:
            raise ServiceError(_("Keep it to %(limit)d characters.", limit=limit))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction():
        # Two objections lodged at once must not draw the same number.
        db.session.execute(sa.select(Competition.id).where(Competition.id == competition.id).with_for_update())
        objection = Objection(
            competition_id=competition.id,
            name=name,
            contact=contact,
            text=text,
            ref=_next_ref(competition),
            token_hash=token_hash(token),
        )
        db.session.add(objection)
        db.session.flush()
        # The contact stays out of the audit detail: it is personal data the ruling does not need.
        audit.record("objection.lodged", None, competition, objection, length=len(text), ref=objection.ref)
    return objection, token


def by_token(competition: Competition, token: str) -> Objection | None:
    """Return the competition's objection whose status page the token opens, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        sa.select(Objection).where(
            Objection.competition_id == competition.id, Objection.token_hash == token_hash(token)
        )
    )


@dataclass(frozen=True)
class Progress:
    """Where an objection stands, as its status page tells the person who lodged it."""

    key: str  # lodged, review, upheld or rejected
    ruling: str | None
    ruled_at: datetime | None


def progress(competition: Competition, objection: Objection) -> Progress:
    """Say where the objection stands: lodged while the notice period runs, under review after, or ruled.

    An open objection is `lodged` while objections are still being received and `review` once the
    notice period is over (or the results were withdrawn), when the chief judge has them all before him.
    """
    if objection.status == "upheld":
        return Progress("upheld", objection.ruling, objection.ruled_at)
    if objection.status == "dismissed":
        return Progress("rejected", objection.ruling, objection.ruled_at)
    return Progress("lodged" if accepting(competition) else "review", None, None)


def for_competition(competition: Competition) -> list[Objection]:
    """Return the competition's objections, open ones first, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Objection)
            .where(Objection.competition_id == competition.id)
            .order_by(Objection.status != "open", Objection.created_at, Objection.id)
        )
    )


def rule(competition: Competition, actor, objection_id: int, status: str, ruling: str) -> Objection:
    """Record the chief judge's ruling on an open objection: upheld or dismissed, with the reasons."""
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.competition_id != competition.id:
        raise ServiceError(_("No such objection in this competition."))
    if objection.status != "open":
        raise ServiceError(_("This objection has been ruled on already."))
    if status not in RULINGS:
        raise ServiceError(_("Choose whether the objection is upheld or dismissed."))
    ruling = (ruling or "").strip()
    if not ruling:
        raise ServiceError(_("Write the ruling: what was checked and why."))
    if len(ruling) > RULING_MAX:
        raise ServiceError(_("Keep it to %(limit)d characters.", limit=RULING_MAX))
    with transaction():
        objection.status, objection.ruling = status, ruling
        objection.ruled_by_id, objection.ruled_at = actor.id, utcnow()
        audit.record(f"objection.{status}", actor, competition, objection, ruling=ruling)
    return objection
