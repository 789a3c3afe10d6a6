"""Fixtures of the hall: competitions with approved entrants, logged-in organizers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from comp.extensions import db
from comp.models import Entrant, OrgUnit
from comp.models.types import utcnow


def add_entrants(
    competition, count: int, status: str = "approved", employer: OrgUnit | None = None, names=None
) -> list[Entrant]:
    """Add entrants registered one second apart, in the order given."""
    start = utcnow() - timedelta(days=1)
    base = len(competition.entrants)
    made = []
    for i in range(count):
        name = names[i] if names else f"选手{base + i + 1:03d}"
        entrant = Entrant(
            competition=competition,
            ref=f"R{base + i + 1}",
            name=name,
            status=status,
            employer_id=employer.id if employer else None,
            registered_at=start + timedelta(seconds=base + i),
        )
        db.session.add(entrant)
        made.append(entrant)
    db.session.commit()
    return made


@pytest.fixture(autouse=True)
def english():
    """Read the services' messages in English, whatever the default language."""
    with force_locale("en"):
        yield


@pytest.fixture()
def hall_competition(make_competition):
    """Return a factory of competitions whose imported entrants (E1, E2) are approved and unnumbered."""

    def make(status: str = "open", extra: int = 0, **header):
        competition = make_competition(status=status, **header)
        start = utcnow() - timedelta(days=2)
        for i, entrant in enumerate(sorted(competition.entrants, key=lambda e: e.ref)):
            entrant.status = "approved"
            entrant.registered_at = start + timedelta(seconds=i)
        db.session.commit()
        if extra:
            add_entrants(competition, extra)
        return competition

    return make


@pytest.fixture()
def organizer(auth, make_user):
    """Log in an organizer who reads English and return the account."""
    user = make_user("organizer", "organizer", locale="en")
    assert auth.login("organizer").status_code == 302
    return user


def htmx_headers() -> dict:
    """Return the headers htmx sends."""
    return {"HX-Request": "true"}
