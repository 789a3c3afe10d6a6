"""The rating pages: new campaign, nominations; the role matrix."""

import html

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Entrant
from comp.services import results
from comp.services.setup import ratings


def _post_campaign(browser, **form):
    data = {"unit_kind": "team", "year": "2026", "code": "RT-2026-TEAM", "name": "", "organizer_unit_id": "0"}
    return browser.post("/competitions/ratings/new", {**data, **form})


def test_the_new_campaign_page_shows_the_default_schemes(browser):
    page = browser.get("/competitions/ratings/new").get_data(as_text=True)
    assert "学习型" in page and "推广应用价值" in page and "五星 ≥ 90" in page
    assert 'value="RT-20' in page


def test_the_organizer_creates_a_campaign_and_lands_in_the_editor(browser, tree):
    answer = _post_campaign(browser, organizer_unit_id=str(tree["city"].id))
    assert answer.status_code == 302 and answer.location.endswith("/competitions/RT-2026-TEAM/edit")
    rating = db.session.scalar(sa.select(Competition).where(Competition.code == "RT-2026-TEAM"))
    assert rating.kind == "rating" and rating.name == "2026年度泉州市“六型”工匠班组评定"
    editor = browser.get(answer.location).get_data(as_text=True)
    assert "和谐型" in editor


def test_a_refused_campaign_shows_why(browser, tree):
    _post_campaign(browser, organizer_unit_id=str(tree["city"].id))
    answer = _post_campaign(browser, organizer_unit_id=str(tree["city"].id))
    assert answer.status_code == 422 and "already used" in answer.get_data(as_text=True)


def test_nominations_list_filter_nominate_and_remove(browser, campaign, units):
    rating = campaign()
    page = browser.get(f"/competitions/{rating.code}/nominations").get_data(as_text=True)
    assert "制帮班组" in page and "裂解车间一班" in page and "陈明创新工作室" not in page
    fragment = browser.get(f"/competitions/{rating.code}/nominations?q=石化", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and "裂解车间一班" in fragment and "制帮班组" not in fragment

    answer = browser.post(
        f"/competitions/{rating.code}/nominations", {"unit": [str(units["制帮班组"].id), str(units["裂解车间一班"].id)]}
    )
    assert answer.status_code == 302
    assert [e.ref for e in ratings.nominations(rating)] == ["U0001", "U0002"]

    first = ratings.nominations(rating)[0]
    answer = browser.post(f"/competitions/{rating.code}/nominations/{first.id}/remove", htmx=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in body and "The nomination was removed." in body
    assert [e.name for e in ratings.nominations(rating)] == ["裂解车间一班"]


def test_an_empty_nomination_comes_back_with_its_message(browser, campaign, units):
    rating = campaign()
    answer = browser.post(f"/competitions/{rating.code}/nominations", {}, htmx=True)
    assert answer.status_code == 422 and "Choose at least one unit" in answer.get_data(as_text=True)


def test_a_running_campaign_lists_its_nominations_read_only(browser, campaign, units, organizer):
    rating = campaign()
    ratings.nominate(rating, [units["制帮班组"].id], organizer)
    rating.status = "running"
    db.session.commit()
    page = browser.get(f"/competitions/{rating.code}/nominations").get_data(as_text=True)
    assert "制帮班组" in page and "Nominations are closed" in page and "/remove" not in page
    entrant = db.session.scalar(sa.select(Entrant))
    assert browser.post(f"/competitions/{rating.code}/nominations/{entrant.id}/remove").status_code == 422


@pytest.mark.parametrize(
    "role, expected", [("organizer", 200), ("admin", 200), ("worker", 403), ("judge", 403), (None, 302)]
)
def test_role_matrix(client, auth, make_user, campaign, units, role, expected):
    rating = campaign()
    if role:
        make_user(f"the-{role}", role)
        auth.login(f"the-{role}")
    answer = client.get("/competitions/ratings/new")
    assert answer.status_code == expected
    if role is None:
        assert "/login" in answer.location
    # The campaign is a draft: not found at all by whoever may not manage it.
    assert client.get(f"/competitions/{rating.code}/nominations").status_code == (200 if expected == 200 else 404)
    if role in ("worker", "judge", None):
        entrant_less = client.post(f"/competitions/{rating.code}/nominations", data={"unit": units["制帮班组"].id})
        assert entrant_less.status_code in (302, 400, 403, 404)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Entrant)) == 0


def test_another_county_organizer_cannot_manage_the_citys_campaign(client, auth, make_user, campaign, tree):
    rating = campaign()
    make_user("county", "organizer", org_unit_id=tree["jinjiang"].id)
    auth.login("county")
    assert client.get(f"/competitions/{rating.code}/nominations").status_code == 404  # a draft they do not manage
    assert client.get("/competitions/ratings/new").status_code == 200


def test_a_competition_has_no_nominations_page(browser, make_competition):
    competition = make_competition(status="draft")
    assert browser.get(f"/competitions/{competition.code}/nominations").status_code == 422


def test_a_rating_speaks_of_no_completion_time_and_starts_without_a_tie_break(browser, campaign):
    rating = campaign("studio", code="RT-2026-STUDIO")
    parsed = results.rules_of(rating, results.scheme_of(rating))
    assert parsed.tiebreak == ()
    editor = browser.get(f"/competitions/{rating.code}/edit").get_data(as_text=True)
    assert "Completion time" not in editor and "stage:practical" not in editor
    assert "No tie-break: tied totals share a rank." in editor


def test_a_chain_entry_the_scheme_lacks_is_named_in_words(browser, campaign):
    rating = campaign("team")
    rating.rules = {}  # the default chain: the practical stage, then completion time; a rating has neither
    db.session.commit()
    editor = html.unescape(browser.get(f"/competitions/{rating.code}/edit").get_data(as_text=True))
    assert ">The stage “practical”: not in this scheme, so skipped</option>" in editor
    assert ">Completion time: not recorded in a rating, so skipped</option>" in editor
    assert "stage:practical:" not in editor


def test_a_rating_speaks_of_studios_and_teams_not_contestants(browser, campaign, units, organizer):
    rating = campaign()
    ratings.nominate(rating, [units["制帮班组"].id], organizer)
    rating.status = "running"
    for entrant in rating.entrants:
        entrant.status = "ok"
    db.session.commit()
    page = browser.get(f"/competitions/{rating.code}/results").get_data(as_text=True)
    assert "Studio or team" in page and "Code" in page
    assert ">No.<" not in page and "Checked in" not in page and ">Name<" not in page
    overview = browser.get(f"/competitions/{rating.code}").get_data(as_text=True)
    assert "Being rated" in overview and "Checked in" not in overview
