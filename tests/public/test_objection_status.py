"""Whoever lodges an objection gets a reference and a private page that shows where it stands and the ruling."""

from __future__ import annotations

import hashlib
import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Objection
from comp.services.results import objections
from comp.services.setup import lifecycle
from tests.chief.helpers import htmx_post, login_judge
from tests.conftest import csrf_token


@pytest.fixture()
def published(make_competition):
    competition = make_competition(status="locked")
    lifecycle.publish(competition)
    return competition


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def lodge(client, competition, **fields):
    data = {"name": "王五", "contact": "13800000000", "text": "第2名的实操成绩有误，请复核。"} | fields
    data["csrf_token"] = csrf_token(client, f"/c/{competition.code}/results")
    return client.post(f"/c/{competition.code}/objections", data=data)


def test_lodging_gives_a_reference_and_leads_to_the_status_page(client, published):
    response = lodge(client, published)
    assert response.status_code == 303
    location = response.headers["Location"]
    token = location.rsplit("/", 1)[1]
    objection = db.session.scalar(sa.select(Objection))
    assert objection.ref == f"YY-{published.code}-0001"
    # The token is long, random, and stored only as its hash.
    assert len(token) >= 32 and token not in str(objection.token_hash)
    assert objection.token_hash == hashlib.sha256(token.encode()).hexdigest()
    page = client.get(location)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    body = text(page)
    assert f"Your objection has been received under reference YY-{published.code}-0001." in body
    assert f'<code id="objection-ref">YY-{published.code}-0001</code>' in body
    assert "第2名的实操成绩有误" in body and ">Lodged</span>" in body
    assert location in body  # the address to keep, written out
    assert "13800000000" not in body  # the contact is not shown again


def test_references_are_numbered_per_competition(client, published, make_competition):
    lodge(client, published)
    lodge(client, published)
    other = make_competition(status="locked", code="C-2026-OTHER")
    lifecycle.publish(other)
    lodge(client, other)
    refs = set(db.session.scalars(sa.select(Objection.ref)))
    assert refs == {f"YY-{published.code}-0001", f"YY-{published.code}-0002", "YY-C-2026-OTHER-0001"}


def test_only_the_token_opens_the_page(client, published, make_competition):
    location = lodge(client, published).headers["Location"]
    token = location.rsplit("/", 1)[1]
    forged = token[:-1] + ("y" if token.endswith("x") else "x")  # one character off (a random token may end in x)
    assert client.get(f"/c/{published.code}/objections/{forged}").status_code == 404
    assert client.get(f"/c/{published.code}/objections/1").status_code == 404
    # The token of one competition opens nothing under another's code.
    other = make_competition(status="locked", code="C-2026-OTHER")
    lifecycle.publish(other)
    assert client.get(f"/c/{other.code}/objections/{token}").status_code == 404
    assert client.get(f"/c/NO-SUCH/objections/{token}").status_code == 404


def test_the_page_shows_under_review_then_the_ruling(client, auth, published):
    location = lodge(client, published).headers["Location"]
    objection = db.session.scalar(sa.select(Objection))
    published.published_at -= timedelta(days=6)  # the notice period is over, the ruling not made yet
    db.session.commit()
    assert ">Under review</span>" in text(client.get(location))
    login_judge(auth, published, "J1")
    console = text(client.get(f"/chief/{published.code}"))
    assert f'<code class="objection-ref">{objection.ref}</code>' in console  # the chief finds what is quoted
    ruling = {"status": "dismissed", "ruling": "经复核，成绩无误。"}
    htmx_post(client, f"/chief/{published.code}/objections/{objection.id}", ruling)
    auth.logout()
    body = text(client.get(location))
    assert ">Not upheld</span>" in body and "经复核，成绩无误。" in body and "The chief judge ruled on" in body


def test_an_upheld_objection_shows_even_after_the_results_are_withdrawn(client, auth, published):
    location = lodge(client, published).headers["Location"]
    objection = db.session.scalar(sa.select(Objection))
    login_judge(auth, published, "J1")
    ruling = {"status": "upheld", "ruling": "第2名成绩录入有误，予以更正。"}
    htmx_post(client, f"/chief/{published.code}/objections/{objection.id}", ruling)
    auth.logout()
    published.status = "locked"  # withdrawn for the correction: the results page is gone
    db.session.commit()
    assert client.get(f"/c/{published.code}/results").status_code == 404
    body = text(client.get(location))
    assert ">Upheld</span>" in body and "第2名成绩录入有误" in body


def test_the_status_page_is_rate_limited(client, app, published, monkeypatch):
    monkeypatch.setitem(app.config, "OBJECTION_STATUS_LIMIT", "3 per minute")
    location = lodge(client, published).headers["Location"]
    assert [client.get(location).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_service_progress_keys(published):
    objection, token = objections.lodge_with_token(published, "王五", "13800000000", "有误")
    assert objections.by_token(published, token) is objection
    assert objections.by_token(published, "") is None and objections.by_token(published, "x" * 65) is None
    assert objections.progress(published, objection).key == "lodged"
