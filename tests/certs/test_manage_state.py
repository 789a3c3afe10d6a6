"""The certificates page follows the state: before issuing, after an (early) issue, and a refusal said once."""

from __future__ import annotations

import html

import flask_babel
import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Certificate
from tests.conftest import csrf_token


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    """Read the page in English (the organizer has no language of his own)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
    flask_babel.refresh()


def _page(client, competition) -> str:
    return html.unescape(client.get(f"/competitions/{competition.code}/certificates").get_data(as_text=True))


def _post(client, competition, path, **data):
    token = csrf_token(client, f"/competitions/{competition.code}/certificates")
    return client.post(f"/competitions/{competition.code}/certificates{path}", data={"csrf_token": token, **data})


def _issue_action(competition) -> str:
    return f'action="/competitions/{competition.code}/certificates/issue"'


def test_after_an_early_issue_the_page_says_so_and_drops_the_button(client, published, organizer):
    competition = published(days=1)  # the notice period runs four more days
    before = _page(client, competition)
    assert "Certificates are issued after the notice period" in before and _issue_action(competition) in before
    _post(client, competition, "/issue", now="y")
    page = _page(client, competition)
    assert "Certificates are issued after the notice period" not in page
    assert _issue_action(competition) not in page
    assert "6 valid certificates; last issued on" in page
    assert "They were issued early, before the end of the notice period." in page
    assert 'href="#batches"' in page and "Every award winner holds a valid certificate." in page


def test_after_an_issue_on_time_nothing_says_early(client, published, organizer):
    competition = published()
    _post(client, competition, "/issue")
    page = _page(client, competition)
    assert "6 valid certificates; last issued on" in page and "early" not in page
    assert _issue_action(competition) not in page


def test_a_missing_certificate_is_offered_by_count(client, issued, organizer):
    competition, new = issued()
    _post(client, competition, f"/{new[0].number}/revoke", reason="误发")
    page = _page(client, competition)
    assert "5 valid certificates" in page
    assert _issue_action(competition) in page and "Issue the 1 missing certificate" in page
    _post(client, competition, "/issue")
    assert db.session.scalar(sa.select(sa.func.count()).where(Certificate.status == "valid")) == 6


def test_the_refusal_is_shown_once(client, published, organizer):
    competition = published(days=1)
    response = _post(client, competition, "/issue")  # without ticking "issue now"
    assert response.status_code == 303
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.count("Certificates are issued after the notice period") == 1
    # Without the flash, the page still says it inline, once.
    assert _page(client, competition).count("Certificates are issued after the notice period") == 1


def test_the_refusal_before_publication_is_shown_once(client, published, organizer):
    competition = published()
    competition.status = "locked"
    db.session.commit()
    response = _post(client, competition, "/issue")
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.count("Certificates are issued once the results are published.") == 1
