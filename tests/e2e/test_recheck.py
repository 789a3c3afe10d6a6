"""In the browser: a re-check sample is drawn, re-marked blind and resolved before the lock (issue 17, item 9)."""

from __future__ import annotations

import pytest

from comp.extensions import db
from comp.models import RecheckItem
from tests.chief.helpers import criterion, entrant, judge
from tests.conftest import PASSWORD
from tests.e2e.conftest import VIEWPORTS, screenshot

pytestmark = pytest.mark.e2e


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _account(competition, ref: str) -> str:
    user = judge(competition, ref)
    user.set_password(PASSWORD)
    db.session.commit()
    return user.username


def test_a_recheck_is_drawn_remarked_and_resolved_before_the_lock(
    page, browser, live_server, make_competition, make_user
):
    competition = make_competition(status="running")
    make_user("organizer", "organizer")
    chief_user, marker_user = _account(competition, "J1"), _account(competition, "J2")
    route = criterion(competition, "practical.route")
    e2 = entrant(competition, "E2").secret_code

    desk = browser.new_context(viewport=VIEWPORTS["tablet"], locale="zh-CN")
    office = desk.new_page()
    try:
        # The organizer draws the sample on the console, with a seed of their own.
        _login(office, live_server, "organizer")
        office.goto(f"{live_server}/chief/{competition.code}")
        office.select_option("#recheck-marker", str(judge(competition, "J2").id))
        office.fill("#recheck-seed", "2026复核")
        office.click("#recheck-form button[type=submit]")
        office.wait_for_selector("#recheck table.recheck-table")
        assert "2026复核" in office.locator("#recheck").inner_text()

        # The second marker sees the task on their home and marks blind: no panel mark on the page.
        _login(page, live_server, marker_user)
        page.goto(f"{live_server}/judge/{competition.code}")
        page.click("#recheck-banner a")
        page.wait_for_url(f"**/judge/{competition.code}/recheck")
        assert "31.5" not in page.content() and "36.00" not in page.content()
        rows = page.locator("form.recheck-row")
        for index in range(rows.count()):
            row = page.locator("form.recheck-row").nth(index)
            text = row.inner_text()
            value = (
                "38"
                if (e2 in text and "航线飞行" in text)
                else ("90" if "理论" in text else "9" if "安全" in text else "36")
            )
            if e2 in text and "理论" in text:
                value = "80"
            if e2 in text and "安全" in text:
                value = "8"
            row.locator("input[name=value]").fill(value)
            row.locator("button[type=submit]").click()
            page.wait_for_load_state("networkidle")
        assert page.locator("form.recheck-row[data-state=empty]").count() == 0
        screenshot(page, "recheck-marker")

        # The chief judge sees the one difference and takes the second mark; then locks.
        office.close()
        office = desk.new_page()
        office.context.clear_cookies()
        _login(office, live_server, chief_user)
        office.goto(f"{live_server}/chief/{competition.code}")
        differing = office.locator("#recheck tr.incomplete")
        assert differing.count() == 1 and e2 in differing.inner_text()
        differing.locator("input[name=note]").fill("录像复核：航线完成度应为 38")
        differing.locator("button[value=second]").click()
        office.wait_for_selector("#recheck tr.incomplete", state="detached")
        office.viewport_name = "tablet"
        screenshot(office, "recheck-chief")
        # The lock, which waited for the re-check, now goes through.
        office.on("dialog", lambda dialog: dialog.accept())
        office.click("#lock button.big")
        office.wait_for_selector("#lock >> text=/已锁定|locked/i")
        db.session.expire_all()
        assert db.session.get(type(competition), competition.id).status == "locked"
        item = db.session.query(RecheckItem).filter_by(criterion_id=route.id, state="second").one()
        assert item.second_cents == 3800
    finally:
        desk.close()
