"""Closing registration and numbering the entrants happen together or not at all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Competition, Entrant
from comp.services.hall import draw


def _state(competition_id: int) -> tuple[str, list[int | None], int]:
    """Return what another connection sees: the status, the numbers, and the audit events."""
    with db.engine.connect() as other:
        status = other.scalar(sa.select(Competition.status).where(Competition.id == competition_id))
        numbers = list(other.scalars(sa.select(Entrant.number).where(Entrant.competition_id == competition_id)))
        events = other.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    return status, numbers, events


def test_a_failure_while_numbering_leaves_registration_open(hall_competition, monkeypatch):
    competition = hall_competition(extra=5)
    before = _state(competition.id)
    assert before[0] == "open"

    def numbered_then_failed(competition, actor):
        for n, entrant in enumerate(competition.entrants, start=1):
            entrant.number = n
        db.session.flush()
        raise RuntimeError("the database went away")

    monkeypatch.setattr(draw, "_number", numbered_then_failed)
    with pytest.raises(RuntimeError):
        draw.close_registration(competition)
    db.session.expire_all()
    assert _state(competition.id) == before
    assert competition.status == "open"


def test_a_clash_while_numbering_is_refused_and_registration_stays_open(hall_competition, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from comp.services import ServiceError

    competition = hall_competition(extra=3)
    before = _state(competition.id)

    def clash(competition, actor):
        raise IntegrityError("INSERT", {}, Exception("unique"))

    monkeypatch.setattr(draw, "_number", clash)
    with pytest.raises(ServiceError):
        draw.close_registration(competition)
    db.session.expire_all()
    assert _state(competition.id) == before
