"""In the browser: the chief judge asks for a re-mark, the judge sees it and re-marks, the console follows by itself."""

from __future__ import annotations

import pytest

from comp.extensions import db
from tests.chief.helpers import criterion, entrant, judge, set_mark
from tests.conftest import PASSWORD
from tests.e2e.conftest import VIEWPORTS, screenshot

pytestmark = pytest.mark.e2e

NOTE = "请复核航线飞行：录像显示第3航点偏航"


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


def test_a_remark_request_reaches_the_judge_and_the_console_keeps_the_history(
    page, browser, live_server, make_competition
):
    competition = make_competition(status="running")
    set_mark(competition, "E2", "J3", "practical.route", "39")  # 30, 31.5, 39 on a 40 maximum: flagged
    code, route = entrant(competition, "E2").secret_code, criterion(competition, "practical.route")
    chief_user, judge_user = _account(competition, "J1"), _account(competition, "J3")

    # The chief judge asks for a re-mark on the console (a tablet of their own).
    desk = browser.new_context(viewport=VIEWPORTS["tablet"], locale="zh-CN")
    console = desk.new_page()
    try:
        _login(console, live_server, chief_user)
        console.goto(f"{live_server}/chief/{competition.code}")
        console.fill("article.flag input[name=note]", NOTE)
        console.click("article.flag button[value=remark]")
        console.wait_for_selector("#remarks tr.remark-pending")
        assert console.locator("#remarks tr.remark-pending").count() == 3

        # The judge's home shows the request by secret code, with the chief's note.
        _login(page, live_server, judge_user)
        page.goto(f"{live_server}/judge/{competition.code}")
        banner = page.locator("section.remark-banner")
        assert banner.is_visible()
        assert code in banner.inner_text() and NOTE in banner.inner_text() and "航线飞行" in banner.inner_text()
        assert "李四" not in page.content() and "张三" not in page.content()
        screenshot(page, "judge-remark-home")

        # The sheet highlights the row with the note.
        banner.locator("a").first.click()
        page.wait_for_url(f"**/sheet/{code}#mark-{route.id}")
        row = page.locator(f"#mark-{route.id}")
        assert "remark-asked" in row.get_attribute("class")
        assert NOTE in row.inner_text()
        assert page.locator("#tally-score").is_visible()
        screenshot(page, "judge-remark-sheet")

        # Re-marking clears the highlight, on the saved row and on the next load of the sheet.
        page.fill(f"#value-{route.id}", "33")
        page.press(f"#value-{route.id}", "Tab")
        page.wait_for_selector(f"#mark-{route.id}[data-state=saved]:not(.remark-asked)")
        assert NOTE not in page.locator(f"#mark-{route.id}").inner_text()
        page.reload()
        assert "remark-asked" not in (page.locator(f"#mark-{route.id}").get_attribute("class") or "")
        page.goto(f"{live_server}/judge/{competition.code}")
        assert page.locator("section.remark-banner").count() == 0

        # The console, left open, refreshes itself: J3's answer with the old and the new mark.
        console.wait_for_selector("#remarks tr.remark-remarked", timeout=15000)
        answered = console.locator("#remarks tr.remark-remarked")
        assert "J3" in answered.inner_text() and "39.00" in answered.inner_text() and "33.00" in answered.inner_text()
        assert console.locator("#remarks tr.remark-pending").count() == 2
        console.locator("#remarks").scroll_into_view_if_needed()
        console.viewport_name = "tablet"  # the chief's desk is a tablet in both runs
        screenshot(console, "chief-remark-history")
    finally:
        desk.close()


# Whether the page would ask "leave this page?": it cancels the beforeunload event (an unsent mark).
LEAVING = (
    "(() => { const e = new Event('beforeunload', {cancelable: true});"
    " window.dispatchEvent(e); return e.defaultPrevented; })()"
)


def test_my_mark_stands_and_the_console_keeps_what_the_chief_types(page, browser, live_server, make_competition):
    competition = make_competition(status="running")
    set_mark(competition, "E2", "J3", "practical.route", "39")
    code, route = entrant(competition, "E2").secret_code, criterion(competition, "practical.route")
    chief_user, judge_user = _account(competition, "J1"), _account(competition, "J2")

    desk = browser.new_context(viewport=VIEWPORTS["tablet"], locale="zh-CN")
    console = desk.new_page()
    try:
        _login(console, live_server, chief_user)
        console.goto(f"{live_server}/chief/{competition.code}")
        console.fill("article.flag input[name=note]", NOTE)
        console.click("article.flag button[value=remark]")
        console.wait_for_selector("#remarks tr.remark-pending")

        # The chief starts typing a note; a mark changes elsewhere and the console refreshes meanwhile.
        stamp = console.locator("#console").get_attribute("data-stamp")
        console.fill("article.flag input[name=note]", "正在输入的说明")
        console.focus("article.flag input[name=note]")
        set_mark(competition, "E1", "J1", "theory.exam", "91")
        console.wait_for_function(
            "stamp => document.getElementById('console').dataset.stamp !== stamp", arg=stamp, timeout=15000
        )
        assert console.input_value("article.flag input[name=note]") == "正在输入的说明"
        assert console.evaluate("document.activeElement.name") == "note"  # still typing there

        # The judge answers that the mark stands: the row clears, the mark is unchanged.
        _login(page, live_server, judge_user)
        page.goto(f"{live_server}/judge/{competition.code}/sheet/{code}")
        row = page.locator(f"#mark-{route.id}")
        assert "remark-asked" in row.get_attribute("class")
        page.click(f"#keep-{route.id}")
        page.wait_for_selector(f"#mark-{route.id}:not(.remark-asked)")
        assert "已答复裁判长：维持原评分。" in page.locator(f"#mark-{route.id}").inner_text()
        assert page.input_value(f"#value-{route.id}") == "31.5"
        assert page.evaluate(LEAVING) is False  # nothing waits in the tablet's outbox

        # The console shows the answer by itself.
        console.wait_for_selector("#remarks tr.remark-kept", timeout=15000)
        kept = console.locator("#remarks tr.remark-kept").inner_text()
        assert "J2" in kept and "31.50" in kept and "维持原评分" in kept
    finally:
        desk.close()
