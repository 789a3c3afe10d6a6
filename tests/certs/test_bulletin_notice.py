"""The printed results bulletin states the notice period and where and how to lodge an objection."""

from __future__ import annotations

import io

import flask_babel
import pytest
from pypdf import PdfReader

from comp.services.certs import batches as certificate_print
from comp.services.setup import lifecycle


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://jx.example.org")
    flask_babel.refresh()


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_bulletin_prints_the_notice_period_and_the_objection_address(client, published, organizer):
    competition = published(days=1)
    response = client.get(f"/competitions/{competition.code}/certificates/bulletin.pdf")
    text = _text(response.data)
    assert "Notice period: from" in text
    ends = lifecycle.notice_ends(competition)
    assert ends is not None
    from comp.services.certs import local_time

    assert local_time(ends).strftime("%Y-%m-%d %H:%M") in text
    assert local_time(competition.published_at).strftime("%Y-%m-%d %H:%M") in text
    assert f"https://jx.example.org/c/{competition.code}/results" in text
    assert "lodge an objection" in text and competition.organizer in text


def test_a_long_bulletin_keeps_its_notes_on_the_last_page(app, published):
    competition = published(entrants=60)
    with app.test_request_context():
        reader = PdfReader(io.BytesIO(certificate_print.bulletin_pdf(competition)))
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert "Notice period: from" in pages[-1] and all("Notice period" not in p for p in pages[:-1])


def test_no_notes_before_publication(app, published):
    competition = published()
    competition.published_at = None
    with app.test_request_context():
        assert certificate_print.bulletin_notes(competition) == ()
