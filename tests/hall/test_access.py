"""Role matrix: only the competition's organizers reach the draw, lists, check-in and judges pages."""

from __future__ import annotations

import pytest

from comp.extensions import db
from comp.models import OrgUnit
from tests.conftest import csrf_token

PAGES = [
    "draw",
    "checkin",
    "judges",
    "lists/signin.pdf",
    "lists/workstations.xlsx",
    "lists/codes.pdf",
    "checkin/counts",
]
POSTS = ["draw/close", "draw/numbers", "draw/lots", "judges/new", "judges/existing"]


@pytest.fixture()
def county_competition(hall_competition):
    """Return a competition organized by 晋江 county union, with a sister county 石狮."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    db.session.add_all([city, jinjiang, shishi])
    db.session.commit()
    competition = hall_competition()
    competition.organizer_unit_id = jinjiang.id
    db.session.commit()
    return competition, {"city": city, "jinjiang": jinjiang, "shishi": shishi}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    "who,expected",
    [
        ("city-organizer", 200),
        ("county-organizer", 200),
        ("other-county-organizer", 403),
        ("judge", 403),
        ("worker", 403),
        ("admin", 200),
    ],
)
def test_who_reaches_the_hall_pages(client, auth, make_user, county_competition, page, who, expected):
    competition, units = county_competition
    unit = {"city-organizer": "city", "county-organizer": "jinjiang", "other-county-organizer": "shishi"}.get(who)
    role = who.rsplit("-", 1)[-1]
    make_user("someone", role, org_unit_id=units[unit].id if unit else None)
    auth.login("someone")
    assert client.get(f"/competitions/{competition.code}/{page}").status_code == expected


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_log_in(client, hall_competition, page):
    competition = hall_competition()
    response = client.get(f"/competitions/{competition.code}/{page}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", POSTS)
def test_posts_are_refused_to_others(client, auth, make_user, county_competition, path):
    competition, units = county_competition
    make_user("other", "organizer", org_unit_id=units["shishi"].id)
    auth.login("other")
    token = csrf_token(client, "/")
    response = client.post(f"/competitions/{competition.code}/{path}", data={"csrf_token": token})
    assert response.status_code == 403
    assert competition.status == "open"


def test_an_unknown_competition_is_not_found(client, auth, make_user):
    make_user("organizer", "organizer")
    auth.login("organizer")
    assert client.get("/competitions/NOPE/draw").status_code == 404
