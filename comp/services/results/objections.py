"""Objections lodged by the public during the notice period (公示), and the chief judge's rulings."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.models import Competition, Objection
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import lifecycle

NAME_MAX, CONTACT_MAX, TEXT_MAX, RULING_MAX = 64, 120, 2000, 2000
RULINGS = ("upheld", "dismissed")


def accepting(competition: Competition) -> bool:
    """Tell whether objections may be lodged now: published and within the notice period."""
    return competition.status == "published" and not lifecycle.notice_over(competition)


def lodge(competition: Competition, name: str, contact: str, text: str) -> Objection:
    """Store an objection to published results; refused outside the notice period or when incomplete."""
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
    with transaction():
        objection = Objection(competition_id=competition.id, name=name, contact=contact, text=text)
        db.session.add(objection)
        db.session.flush()
        # The contact stays out of the audit detail: it is personal data the ruling does not need.
        audit.record("objection.lodged", None, competition, objection, length=len(text))
    return objection


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
