"""The set-up pages: new competition, details, clone, and who may reach them."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition
from comp.services.results import get_competition, scheme_of


def form(**overrides) -> dict:
    """Return a valid new-competition form as the browser posts it."""
    data = {
        "code": "QZ-2027-TEA",
        "name": "2027年泉州市评茶师职工技能竞赛",
        "kind": "competition",
        "unit_kind": "",
        "trade": "评茶师",
        "level": "city",
        "year": "2027",
        "registration_opens": "2027-03-01T09:00",
        "registration_closes": "2027-03-31T17:30",
        "capacity": "200",
        "trades": "评茶师，茶艺师、 评茶员",
        "age_min": "18",
        "age_max": "60",
        "min_grade": "4",
        "team_by": "team",
    }
    data.update(overrides)
    return data


def text(response) -> str:
    """Return the answer's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def test_new_competition_form_offers_own_unions_and_the_counties(browser, tree):
    page = text(browser.get("/competitions/new"))
    assert 'name="code"' in page and "泉州市总工会" in page and "石狮市总工会" in page
    assert "一级/高级技师" in page and 'name="csrf_token"' in page


def test_create_a_competition_in_the_browser(browser, tree):
    response = browser.post(
        "/competitions/new", form(organizer_unit_id=str(tree["city"].id), counties=[str(tree["jinjiang"].id)])
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/competitions/QZ-2027-TEA")
    competition = get_competition("QZ-2027-TEA")
    assert competition.status == "draft" and competition.organizer_unit_id == tree["city"].id
    assert competition.eligibility == {
        "trades": ["评茶师", "茶艺师", "评茶员"],
        "age_min": 18,
        "age_max": 60,
        "min_grade": 4,
        "counties": [tree["jinjiang"].id],
    }
    # Typed in Beijing time, stored in UTC.
    assert competition.registration_opens.isoformat() == "2027-03-01T01:00:00"
    overview = text(browser.get(response.headers["Location"]))
    assert "2027-03-01 09:00" in overview and "晋江市总工会" in overview


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"code": "QZ 2027!"}, "Use letters, digits"),
        ({"kind": "rating", "unit_kind": ""}, "studios or teams"),
        ({"registration_closes": "2027-02-01T09:00"}, "close after it opens"),
        ({"age_min": "60", "age_max": "20"}, "below the minimum age"),
    ],
)
def test_create_refuses_bad_fields_next_to_them(browser, tree, overrides, message):
    response = browser.post("/competitions/new", form(organizer_unit_id=str(tree["city"].id), **overrides))
    assert response.status_code == 422 and message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Competition.id))) == 0


def test_create_refuses_a_code_already_used(browser, tree, make_competition):
    used = make_competition()
    response = browser.post("/competitions/new", form(code=used.code, organizer_unit_id=str(tree["city"].id)))
    assert response.status_code == 422 and f"The code “{used.code}” is already used" in text(response)


def test_edit_details_keeps_the_code(browser, tree, make_competition):
    competition = make_competition(status="draft")
    page = text(browser.get(f"/competitions/{competition.code}/details"))
    assert f'value="{competition.code}"' in page and "disabled" in page
    response = browser.post(
        f"/competitions/{competition.code}/details",
        form(code="CHANGED", name="新名称", organizer_unit_id=str(tree["city"].id)),
    )
    assert response.status_code == 302
    db.session.refresh(competition)
    assert competition.name == "新名称" and competition.code.startswith("T-2026")


def test_clone_in_the_browser(browser, make_competition):
    source = make_competition()
    page = text(browser.get(f"/competitions/{source.code}/clone"))
    assert 'value="2027"' in page and 'value="T-2027-001"' in page
    response = browser.post(f"/competitions/{source.code}/clone", {"code": "T-2027-001", "year": "2027"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/competitions/T-2027-001")
    clone = get_competition("T-2027-001")
    assert clone.status == "draft" and clone.year == 2027 and clone.entrants == []
    assert scheme_of(clone) == scheme_of(source)


def test_clone_refuses_a_used_code(browser, make_competition):
    source = make_competition()
    response = browser.post(f"/competitions/{source.code}/clone", {"code": source.code, "year": "2027"})
    assert response.status_code == 422 and "already used" in text(response)


def test_home_links_each_competition_to_its_overview(browser, make_competition):
    competition = make_competition()
    page = browser.get("/").get_data(as_text=True)
    assert 'href="/competitions/new"' in page and f'href="/competitions/{competition.code}"' in page


# ---------------------------------------------------------------- who may reach the set-up pages


PAGES = [
    ("get", "/competitions/new"),
    ("post", "/competitions/new"),
    ("get", "/competitions/{code}"),
    ("get", "/competitions/{code}/edit"),
    ("get", "/competitions/{code}/details"),
    ("post", "/competitions/{code}/transition"),
    ("get", "/competitions/{code}/clone"),
    ("post", "/competitions/{code}/clone"),
    ("post", "/competitions/{code}/stages"),
    ("post", "/competitions/{code}/rules"),
    ("get", "/competitions/{code}/preview"),
]


def reach(client, token: str, method: str, url: str):
    """Request a set-up page the way its own form would."""
    if method == "get":
        return client.get(url)
    return client.post(url, data={"target": "open"}, headers={"X-CSRFToken": token})


@pytest.fixture()
def county_competition(make_competition, tree):
    """Return a competition organized by the 晋江 county union."""
    competition = make_competition(status="draft", organizer="晋江市总工会")
    assert competition.organizer_unit_id == tree["jinjiang"].id
    return competition


def _as(competition: Competition, status: str) -> Competition:
    competition.status = status
    db.session.commit()
    return competition


# A draft is not found at all by whoever may not manage it; a competition beyond draft is refused.
@pytest.mark.parametrize("status, refused", [("draft", 404), ("open", 403)])
@pytest.mark.parametrize("method, url", PAGES)
@pytest.mark.parametrize("role", ["worker", "judge"])
def test_workers_and_judges_are_refused(
    client, auth, make_user, county_competition, role, method, url, status, refused
):
    _as(county_competition, status)
    make_user("someone", role)
    auth.login("someone")
    from tests.conftest import csrf_token

    response = reach(client, csrf_token(client, "/"), method, url.format(code=county_competition.code))
    assert response.status_code == (refused if "{code}" in url else 403)


@pytest.mark.parametrize("status", ["draft", "open"])
@pytest.mark.parametrize("method, url", PAGES)
def test_anonymous_is_sent_to_log_in(client, county_competition, method, url, status):
    _as(county_competition, status)
    response = client.get(url.format(code=county_competition.code)) if method == "get" else None
    if response is None:  # a post without a session fails its CSRF check before anything else
        return
    if status == "draft" and "{code}" in url:
        assert response.status_code == 404
    else:
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("status, refused", [("draft", 404), ("open", 403)])
@pytest.mark.parametrize("method, url", [p for p in PAGES if "{code}" in p[1]])
def test_an_organizer_of_another_county_is_refused(
    client, auth, make_user, tree, county_competition, method, url, status, refused
):
    _as(county_competition, status)
    make_user("shishi", "organizer", org_unit_id=tree["shishi"].id)
    auth.login("shishi")
    from tests.conftest import csrf_token

    response = reach(client, csrf_token(client, "/"), method, url.format(code=county_competition.code))
    assert response.status_code == refused


@pytest.mark.parametrize("username, unit", [("city", "city"), ("jinjiang", "jinjiang"), ("admin", None)])
def test_organizers_of_the_competition_and_admins_reach_it(
    client, auth, make_user, tree, county_competition, username, unit
):
    make_user(username, "admin" if username == "admin" else "organizer", org_unit_id=tree[unit].id if unit else None)
    auth.login(username)
    for method, url in PAGES:
        if method == "get":
            assert client.get(url.format(code=county_competition.code)).status_code == 200, url


def test_an_enterprise_liaison_cannot_create_competitions(client, auth, make_user, tree):
    make_user("liaison", "organizer", org_unit_id=tree["firm"].id)
    auth.login("liaison")
    assert client.get("/competitions/new").status_code == 403
