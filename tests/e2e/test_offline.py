"""A judge's tablet loses the network: a mark kept on the tablet is sent from any page once it is back.

The score sheet keeps each mark it could not send in localStorage, per user; app.js sends it again from
whichever page the judge is on (load, `online`, every few seconds), with the same versioned save, and the
judge's home lists what waits. A refused save keeps the judge's value on screen.
"""

from __future__ import annotations

import json
import time

import pytest

from comp.extensions import db
from tests.conftest import PASSWORD
from tests.e2e import test_judging as judging
from tests.e2e.conftest import screenshot
from tests.judging.conftest import criterion_of, judge_of

pytestmark = pytest.mark.e2e

# The live server a test can stop, and J2's blank sheet for E1, as the score sheet's own tests use them.
server, sheet_setup = judging.server, judging.sheet_setup
_login, _saved_value = judging._login, judging._saved_value

OUTBOX = "Object.keys(localStorage).filter(k => k.startsWith('jx:mark:')).sort()"
MARKS = "**/mark/*"


def _expect(locator):
    from playwright.sync_api import expect

    # The outbox answers after a round trip to the server; on a loaded 2-core CI machine that has taken over
    # the default 5 s once, so the waits here allow 15 s (a wait ends as soon as the page shows the answer).
    expect.set_options(timeout=15_000)
    return expect(locator)


def _until(check, timeout: float = 20) -> None:
    """Poll a condition from Python (the CSP forbids the eval Playwright's wait_for_function needs)."""
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.25)


def _key(judge, competition, entrant, criterion) -> str:
    return f"jx:mark:{judge.id}:{competition.code}:{entrant.secret_code}:{criterion.id}"


def _keep(page, key: str, **entry) -> None:
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, json.dumps(entry)])


def test_a_mark_entered_offline_is_sent_from_the_home_without_reopening_the_sheet(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, server.url, judge.username)
    page.goto(f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}")
    page.wait_for_selector("#tally-total")

    page.context.set_offline(True)
    page.fill(f"#value-{route.id}", "36.5")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="unsaved"]')
    # The pages load again, but the marks still do not get through (a captive or flaky network).
    page.route(MARKS, lambda r: r.abort())
    page.context.set_offline(False)

    page.goto(f"{server.url}/judge/{competition.code}")
    _expect(page.locator("#outbox")).to_be_visible()
    _expect(page.locator("#outbox .outbox-count")).to_have_text("(1)")
    item = page.locator("#outbox .outbox-list li")
    _expect(item).to_have_count(1)
    _expect(item).to_contain_text(entrant.secret_code)
    _expect(item).to_contain_text(route.name)
    _expect(item).to_contain_text("36.5")
    _expect(item).to_contain_text("尚未发送")
    tile = page.locator(f'a.entrant-tile[href$="/{entrant.secret_code}"]')
    _expect(tile).to_have_class("entrant-tile unsent")
    _expect(tile.locator(".tile-unsent")).to_have_text("1 项仅存于本平板，尚未发送")
    _expect(tile.locator(".tile-progress")).to_contain_text("0")  # the server's count: not claimed as marked
    screenshot(page, "judging-home-unsent")

    page.goto(f"{server.url}/")
    _expect(page.locator("#outbox .outbox-list li")).to_have_count(1)
    screenshot(page, "judging-assignments-unsent")
    assert _saved_value(judge, entrant, route) is None
    assert page.evaluate(OUTBOX) == [_key(judge, competition, entrant, route)]

    page.goto(f"{server.url}/judge/{competition.code}")
    page.unroute(MARKS)
    page.context.set_offline(True)
    page.context.set_offline(False)  # the browser's `online` event: sent at once, on this page
    _expect(page.locator("#outbox")).to_be_hidden()
    _expect(tile.locator(".tile-progress")).to_contain_text("1 / 2")  # the list reloaded the server's count
    _expect(tile.locator(".tile-unsent")).to_have_count(0)
    assert errors == []
    assert _saved_value(judge, entrant, route) == 3650
    assert page.evaluate(OUTBOX) == []


def test_the_network_back_while_a_doomed_send_is_on_its_way_sends_at_once(page, server, sheet_setup):
    """The home's first send hangs (a captive network) and fails only after the network is back: the mark
    goes as soon as that send gives up, not at the next retry ten seconds later."""
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    _login(page, server.url, judge.username)
    page.goto(f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}")
    page.wait_for_selector("#tally-total")
    page.context.set_offline(True)
    page.fill(f"#value-{route.id}", "34.5")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="unsaved"]')
    held: list = []
    hold = [True]

    def handle(request_route):
        # While `hold`, a send is neither answered nor refused: it hangs. Then sends go through.
        if hold[0]:
            held.append(request_route)
        else:
            request_route.continue_()

    page.route(MARKS, handle)
    page.context.set_offline(False)
    page.goto(f"{server.url}/judge/{competition.code}")

    def from_home() -> list:
        # The sheet's own resend (htmx names the page it came from) died with the sheet; the home's is a fetch.
        return [r for r in held if "hx-current-url" not in r.request.headers]

    for _ in range(100):  # Playwright calls the route handler only while the test talks to it
        if from_home():
            break
        page.wait_for_timeout(100)
    (home_send,) = from_home()
    hold[0] = False
    page.context.set_offline(True)
    page.context.set_offline(False)  # `online` while the first send is still on its way
    started = time.monotonic()
    home_send.abort()
    _expect(page.locator("#outbox")).to_be_hidden()
    assert time.monotonic() - started < 5  # the retry timer would have waited 10 s
    assert _saved_value(judge, entrant, route) == 3450
    assert page.evaluate(OUTBOX) == []


def test_a_sheet_closed_while_offline_is_sent_when_any_page_opens(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    _login(page, server.url, judge.username)
    page.goto(f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}")
    page.wait_for_selector("#tally-total")
    page.context.set_offline(True)
    page.fill(f"#value-{route.id}", "32")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="unsaved"]')
    context = page.context
    page.close()  # the tablet's tab is closed while offline

    context.set_offline(False)
    again = context.new_page()
    again.goto(f"{server.url}/")
    _until(lambda: _saved_value(judge, entrant, route) == 3200)
    _until(lambda: again.evaluate(OUTBOX) == [])


def test_a_stale_mark_is_refused_kept_and_shown_never_overwriting(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    _login(page, server.url, judge.username)
    sheet = f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}"
    page.goto(sheet)
    page.fill(f"#value-{route.id}", "36")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="saved"]')
    key = _key(judge, competition, entrant, route)
    # The sheet forgets the row's outbox entry once htmx has settled the swapped row, a moment after it
    # shows "saved": wait for that, or it would forget the entry planted next (as CI saw once).
    _until(lambda: page.evaluate("k => localStorage.getItem(k)", key) is None)
    # Another tablet's answer lost long ago: the value 30 based on the blank sheet (version 0).
    url = f"/judge/{competition.code}/sheet/{entrant.secret_code}/mark/{route.id}"
    _keep(page, key, value="30", version="0", reason="", url=url, session="other-tablet", label=route.name)

    page.goto(f"{server.url}/judge/{competition.code}")
    refused = page.locator("#outbox .outbox-list li.refused")
    _expect(refused).to_contain_text("服务器拒绝")
    _expect(refused).to_contain_text("36")  # the server's message names the newer value
    assert _saved_value(judge, entrant, route) == 3600
    assert "refused" in json.loads(page.evaluate("k => localStorage.getItem(k)", key))
    screenshot(page, "judging-home-refused")

    refused.locator("a").click()  # the sheet resends it and shows the choice, the value kept in the field
    page.wait_for_selector(f'#mark-{route.id}[data-state="stale"]')
    assert page.input_value(f"#value-{route.id}") == "30"
    assert _saved_value(judge, entrant, route) == 3600


def test_a_second_judge_on_the_tablet_never_sends_the_first_judges_marks(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    other = judge_of(competition, "J3")  # J3 marks the same criterion
    other.set_password(PASSWORD)
    db.session.commit()
    other_before = _saved_value(other, entrant, route)
    _login(page, server.url, judge.username)
    key = _key(judge, competition, entrant, route)
    url = f"/judge/{competition.code}/sheet/{entrant.secret_code}/mark/{route.id}"
    _keep(page, key, value="29", version="0", reason="", url=url, session="t", label=route.name)
    page.context.clear_cookies()  # J2's login ended before the tablet reached the network

    _login(page, server.url, other.username)
    _expect(page.locator("#outbox")).to_be_hidden()
    page.goto(f"{server.url}/judge/{competition.code}")
    _expect(page.locator("#outbox")).to_be_hidden()
    time.sleep(1)
    assert _saved_value(other, entrant, route) == other_before
    assert _saved_value(judge, entrant, route) is None
    assert page.evaluate(OUTBOX) == [key]  # kept for J2

    page.context.clear_cookies()
    _login(page, server.url, judge.username)
    _until(lambda: _saved_value(judge, entrant, route) == 2900)


def test_a_save_refused_because_the_sheet_closed_keeps_the_typed_and_tapped_values(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    safety = criterion_of(competition, "practical.safety")
    _login(page, server.url, judge.username)
    page.goto(f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}")
    page.wait_for_selector("#tally-total")
    competition.status = "locked"  # the chief judge locked the scores while this sheet was open
    db.session.commit()

    page.fill(f"#value-{route.id}", "34")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="closed"]')
    assert page.input_value(f"#value-{route.id}") == "34"
    assert page.inner_text(f"#state-{route.id}").strip()
    page.click(f'#mark-{safety.id} button[value="6"]')
    page.wait_for_selector(f'#mark-{safety.id}[data-state="closed"]')
    assert page.get_attribute(f'#mark-{safety.id} button[value="6"]', "aria-pressed") == "true"
    assert _saved_value(judge, entrant, route) is None and _saved_value(judge, entrant, safety) is None
