"""On a tablet in the hall: check an entrant in by number, look at the judges' panel and the draw."""

from __future__ import annotations

import pytest

from comp.services.hall import draw
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.hall.conftest import add_entrants

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


@pytest.fixture()
def hall(make_competition, make_user):
    """Return a closed, numbered and drawn competition of 12 entrants, and log-in name of its organizer."""
    competition = make_competition(status="open")
    for entrant in competition.entrants:
        entrant.status = "approved"
    add_entrants(
        competition,
        10,
        names=["陈晓燕", "林志强", "黄丽娟", "吴建华", "郑美玲", "王德福", "蔡雅婷", "许文斌", "洪淑芬", "欧阳子轩"],
    )
    draw.close_registration(competition)
    draw.draw_lots(competition, 2, 8, "e2e-seed")
    make_user("organizer1", "organizer", locale="zh")
    return competition


def test_checking_in_by_number_updates_the_row_and_the_tally(page, live_server, hall):
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{hall.code}/checkin")
    page.evaluate("window.__notReloaded = true")
    assert page.locator("#count-waiting").inner_text() == "12"
    page.locator("#checkin-q").press_sequentially("7")
    row = page.locator(".checkin-row")
    expect(row).to_have_count(1)
    expect(row.locator(".checkin-number")).to_have_text("7")
    screenshot(page, "hall-checkin-search")
    row.locator("button.present").click()
    expect(page.locator(".checkin-row.checkin-ok")).to_have_count(1)
    expect(page.locator("#count-ok")).to_have_text("1")
    expect(page.locator("#count-waiting")).to_have_text("11")
    assert page.evaluate("window.__notReloaded") is True
    box = row.locator("button.present").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    screenshot(page, "hall-checkin")


def test_the_judges_page(page, live_server, hall):
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{hall.code}/judges")
    assert page.locator("article.judge-card").count() == 3
    screenshot(page, "hall-judges")
    page.fill("#username", "judge.huang")
    page.fill("#display_name", "黄裁判")
    page.locator(".add-judge form").first.locator("button[type=submit]").click()
    expect(page.locator(".new-password")).to_be_visible()
    expect(page.locator(".new-password svg.qr")).to_be_visible()
    assert "/activate/" in page.locator("input.activation-link").input_value()
    expect(page.locator("article.judge-card")).to_have_count(4)
    screenshot(page, "hall-judges-added")


def test_the_draw_page(page, live_server, hall):
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{hall.code}/draw")
    assert page.locator("#draw-verified.flash-success").is_visible()
    screenshot(page, "hall-draw")
