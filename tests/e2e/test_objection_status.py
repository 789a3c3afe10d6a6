"""In the browser: an objection lodged on a phone leads to its status page; certificates after an early issue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comp.extensions import db
from comp.services import exchange
from comp.services.setup import lifecycle
from tests.certs.conftest import competition_doc
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_objection_gets_a_reference_and_a_status_page(page, live_server, make_competition):
    competition = make_competition(status="locked")
    lifecycle.publish(competition)
    page.goto(f"{live_server}/c/{competition.code}/results")
    page.fill("#name", "王五")
    page.fill("#contact", "13800000000")
    page.fill("#text", "第2名的实操成绩有误，请复核。")
    page.click("#objection button[type=submit], #objection input[type=submit]")
    page.locator("#objection-ref").wait_for()
    assert page.locator("#objection-ref").inner_text() == f"YY-{competition.code}-0001"
    assert page.locator("#objection-status").inner_text().strip() == "已受理"
    assert page.locator("#objection-address").inner_text() == page.url
    _no_sideways_scroll(page)
    screenshot(page, "objection-status")


def test_the_certificates_page_after_an_early_issue(page, live_server, make_user):
    competition = exchange.import_competition(competition_doc("E2E-2026-EARLY", 8))
    lifecycle.publish(competition)
    competition.published_at -= timedelta(days=1)  # four days of the notice period left
    db.session.commit()
    make_user("organizer1", "organizer")
    page.goto(f"{live_server}/login")
    page.fill("#username", "organizer1")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/competitions/{competition.code}/certificates")
    page.check("form.cert-issue input[name=now]")
    page.click("form.cert-issue button[type=submit]")
    page.locator("#cert-issued").wait_for()
    assert page.locator("form.cert-issue").count() == 0
    assert "提前颁发" in page.locator("#cert-issued").inner_text()
    _no_sideways_scroll(page)
    screenshot(page, "certificates-early-issue")
