"""The dashboard's rating figures agree: a locked rating with seven units shows 1 rating held and 7 units rated."""

from __future__ import annotations

import html
import re

import pytest

from comp.extensions import db
from comp.models import Entrant, Unit
from comp.services.dashboard import citystats


@pytest.fixture(autouse=True)
def _no_cached_figures():
    citystats.forget()
    yield
    citystats.forget()


def _rating(make_competition, status: str, units: int, year: int = 2026, withdrawn: int = 0):
    rating = make_competition(status, year=year)
    rating.kind = "rating"
    for n in range(units + withdrawn):
        unit = Unit(kind="studio" if n % 2 else "team", name=f"第{n + 1}工作室{status}")
        db.session.add(unit)
        db.session.flush()
        db.session.add(
            Entrant(
                competition_id=rating.id,
                ref=f"U{n + 1:04d}",
                type=unit.kind,
                name=unit.name,
                unit_id=unit.id,
                status="withdrawn" if n >= units else "ok",
            )
        )
    db.session.commit()
    return rating


def test_a_locked_rating_counts_its_units_before_publication(make_competition):
    _rating(make_competition, "locked", 7, withdrawn=1)  # no standings yet: they come with publication
    _rating(make_competition, "draft", 3)  # not held: neither it nor its units count
    stats = citystats.stats(2026)
    assert (stats.ratings, stats.rated_units) == (1, 7)
    assert citystats.stats(2025).rated_units == 0


def test_a_unit_in_two_ratings_counts_once(make_competition):
    first = _rating(make_competition, "locked", 2)
    second = make_competition("running", year=2026)
    second.kind = "rating"
    unit_id = db.session.scalars(db.select(Entrant.unit_id).where(Entrant.competition_id == first.id)).first()
    again = Entrant(competition_id=second.id, ref="U0001", type="studio", name="x", unit_id=unit_id, status="ok")
    db.session.add(again)
    db.session.commit()
    stats = citystats.stats(2026)
    assert (stats.ratings, stats.rated_units) == (2, 2)


def test_the_page_shows_agreeing_figures_and_says_what_they_count(client, auth, make_user, make_competition):
    _rating(make_competition, "locked", 7)
    make_user("organizer", "organizer", locale="en")
    auth.login("organizer")
    page = html.unescape(client.get("/?year=2026").get_data(as_text=True))
    assert re.search(r'id="fig-ratings">1<', page) and re.search(r'id="fig-rated">7<', page)
    assert "Units rated are the studios and teams taking part in those ratings" in page
