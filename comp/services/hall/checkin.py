"""Check-in (检录): find an entrant by number or name and mark them present or absent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.converters import whole_number
from comp.extensions import db
from comp.labels import entrant_status_label, status_label
from comp.models import Competition, Entrant
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import lifecycle

OPEN_STATES = ("closed", "running")  # check-in happens on the day, before and while the contest runs
LISTED = ("approved", "ok", "absent")
MARKS = {"ok": "entrant.checked_in", "absent": "entrant.absent"}
LIMIT = 30


@dataclass(frozen=True)
class Counts:
    """The check-in tally: present, absent, and still waiting."""

    checked_in: int
    absent: int
    waiting: int

    @property
    def total(self) -> int:
        """Return how many entrants are expected in the hall."""
        return self.checked_in + self.absent + self.waiting


def _listed(competition: Competition) -> sa.Select:
    return sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.status.in_(LISTED))


def search(competition: Competition, query: str = "", limit: int = LIMIT) -> Sequence[Entrant]:
    """Return the entrants matching a contestant number (exactly) or a part of a name."""
    query = (query or "").strip()
    select = _listed(competition)
    number = whole_number(query)
    if number is not None:
        select = select.where(Entrant.number == number)
    elif query:
        select = select.where(sa.or_(Entrant.name.contains(query, autoescape=True), Entrant.ref == query))
    return db.session.scalars(select.order_by(Entrant.number.is_(None), Entrant.number, Entrant.id).limit(limit)).all()


def counts(competition: Competition) -> Counts:
    """Count the entrants checked in, absent and still waiting."""
    rows = dict(
        db.session.execute(
            sa.select(Entrant.status, sa.func.count())
            .where(Entrant.competition_id == competition.id, Entrant.status.in_(LISTED))
            .group_by(Entrant.status)
        ).all()
    )
    return Counts(rows.get("ok", 0), rows.get("absent", 0), rows.get("approved", 0))


def find(competition: Competition, entrant_id: int) -> Entrant | None:
    """Return the competition's entrant with this id, if any."""
    entrant = db.session.get(Entrant, entrant_id)
    return entrant if entrant is not None and entrant.competition_id == competition.id else None


def mark(competition: Competition, entrant: Entrant, status: str, actor=None) -> Entrant:
    """Mark an entrant present (`ok`) or `absent`; either can be undone while the hall is open."""
    if status not in MARKS:
        raise ServiceError(_("An entrant is marked present or absent."))
    if competition.status not in OPEN_STATES:
        raise ServiceError(
            _(
                "Check-in is possible only while registration is closed or the competition "
                "is running; it is now “%(state)s”.",
                state=status_label(competition.status),
            )
        )
    if entrant.status not in LISTED:
        raise ServiceError(
            _(
                "%(name)s is “%(status)s” and cannot be checked in.",
                name=entrant.name,
                status=entrant_status_label(entrant.status),
            )
        )
    if entrant.status == status:
        return entrant  # a second tap on the same button changes nothing
    with transaction():
        previous = entrant.status
        entrant.status = status
        entrant.checked_in_at = utcnow() if status == "ok" else None
        lifecycle.touch(competition)
        audit.record(MARKS[status], actor, competition, entrant, previous=previous, number=entrant.number)
    return entrant
