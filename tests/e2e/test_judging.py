"""A judge at a tablet: marks save as they are entered, totals follow, nothing is lost while offline."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from werkzeug.serving import WSGIRequestHandler, make_server

from comp.extensions import db
from comp.models import Mark
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.judging.conftest import criterion_of, drop_marks, entrant_of, judge_of

pytestmark = pytest.mark.e2e

# Whether the page would ask "leave this page?": it cancels the beforeunload event.
LEAVING = (
    "(() => { const e = new Event('beforeunload', {cancelable: true});"
    " window.dispatchEvent(e); return e.defaultPrevented; })()"
)


class OneRequestPerConnection(WSGIRequestHandler):
    """HTTP/1.0: no keep-alive, so a stopped server really refuses the browser's next request."""

    protocol_version = "HTTP/1.0"


class RestartableServer:
    """The app on a fixed local port, which a test can stop and start again on the same port."""

    def __init__(self, app):
        self.app = app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.start()

    def start(self) -> None:
        """Serve on the port (werkzeug sets SO_REUSEADDR, so the port is free again at once)."""
        self.server = make_server(
            "127.0.0.1", self.port, self.app, threaded=True, request_handler=OneRequestPerConnection
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket: connections are refused."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None


@pytest.fixture()
def server(app):
    """Return a live server the test can stop and restart."""
    server = RestartableServer(app)
    yield server
    server.stop()


@pytest.fixture()
def sheet_setup(make_competition):
    """Return (competition, J2, E1) with J2's sheet for E1 blank and the safety criterion on a 0–10 scale."""
    competition = make_competition(status="running")
    judge, entrant = judge_of(competition, "J2"), entrant_of(competition, "E1")
    judge.set_password(PASSWORD)
    safety = criterion_of(competition, "practical.safety")
    safety.fixed_scale, safety.step = True, D("2")
    db.session.commit()
    drop_marks(judge, entrant)
    return competition, judge, entrant


def _expect(locator):
    """Return Playwright's retrying assertions (its polling runs no eval, which the CSP forbids)."""
    from playwright.sync_api import expect

    return expect(locator)


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _saved_value(judge, entrant, criterion) -> int | None:
    db.session.rollback()  # read what the server's threads committed, not a cached row
    return db.session.scalar(
        sa.select(Mark.value_cents).where(
            Mark.judge_id == judge.id, Mark.entrant_id == entrant.id, Mark.criterion_id == criterion.id
        )
    )


def test_a_judge_enters_marks_and_the_totals_follow(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    safety = criterion_of(competition, "practical.safety")
    _login(page, server.url, judge.username)
    screenshot(page, "judging-assignments")
    page.click(f'a[href="/judge/{competition.code}"]')
    page.wait_for_selector(".entrant-tile")
    screenshot(page, "judging-home")
    page.click(f"text={entrant.secret_code}")
    page.wait_for_selector("#tally-total")
    sheet_url = page.url
    assert page.inner_text("#tally-total") == "0"

    page.fill(f"#value-{route.id}", "35.5")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="saved"]')
    _expect(page.locator("#tally-total")).to_have_text("35.5")
    page.click(f'#mark-{safety.id} button[value="8"]')
    page.wait_for_selector(f'#mark-{safety.id}[data-state="saved"]')
    _expect(page.locator("#tally-total")).to_have_text("43.5")
    assert page.url == sheet_url  # no reload, no navigation
    assert page.get_attribute(f'#mark-{safety.id} button[value="8"]', "aria-pressed") == "true"
    assert page.is_enabled("#sign-sheet")
    assert (_saved_value(judge, entrant, route), _saved_value(judge, entrant, safety)) == (3550, 800)

    page.fill(f"#value-{route.id}", "45")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="refused"]')
    assert "45" in page.inner_text(f"#state-{route.id}") and "40" in page.inner_text(f"#state-{route.id}")
    assert page.input_value(f"#value-{route.id}") == "45"  # never clamped
    assert _saved_value(judge, entrant, route) == 3550
    screenshot(page, "judging-sheet")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#sign-sheet")
    page.wait_for_selector("#sheet .flash-success")
    assert page.is_disabled(f"#value-{route.id}") and page.input_value(f"#value-{route.id}") == "35.5"
    assert page.url == sheet_url
    screenshot(page, "judging-sheet-signed")


def test_a_mark_entered_while_the_server_is_down_is_saved_when_it_returns(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    _login(page, server.url, judge.username)
    page.goto(f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}")
    page.wait_for_selector("#tally-total")

    server.stop()
    page.fill(f"#value-{route.id}", "36.5")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="unsaved"]')
    assert "未保存" in page.inner_text(f"#state-{route.id}")
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('jx:mark:'))")
    assert stored == [f"jx:mark:{judge.id}:{competition.code}:{entrant.secret_code}:{route.id}"]
    screenshot(page, "judging-sheet-offline")
    assert _saved_value(judge, entrant, route) is None
    assert page.evaluate(LEAVING) is False  # the kept value is sent from whichever page comes next

    time.sleep(1)
    server.start()
    page.wait_for_selector(f'#mark-{route.id}[data-state="saved"]', timeout=20000)
    _expect(page.locator("#tally-total")).to_have_text("36.5")
    assert _saved_value(judge, entrant, route) == 3650
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('jx:mark:')).length") == 0
    assert page.evaluate(LEAVING) is False


def test_an_unsaved_mark_survives_a_reload(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    _login(page, server.url, judge.username)
    url = f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}"
    page.goto(url)
    page.wait_for_selector("#tally-total")
    # As if the tablet lost the answer to a save and was reloaded later: the outbox holds the value.
    page.evaluate(
        "([k, v]) => localStorage.setItem(k, v)",
        [f"jx:mark:{judge.id}:{competition.code}:{entrant.secret_code}:{route.id}", '{"value": "31", "version": "0"}'],
    )
    page.goto(url)
    page.wait_for_selector(f'#mark-{route.id}[data-state="saved"]')
    assert page.input_value(f"#value-{route.id}") == "31"
    assert _saved_value(judge, entrant, route) == 3100


def test_a_change_on_a_reopened_sheet_carries_the_chiefs_reason(page, server, sheet_setup):
    from comp.models import MarkChange
    from comp.services.common import audit

    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    audit.record(
        "sheet.reopened",
        judge_of(competition, "J1"),
        competition,
        None,
        entrant=entrant.ref,
        judge="J2",
        reason="请复核",
    )
    db.session.commit()
    _login(page, server.url, judge.username)
    page.goto(f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}")
    page.fill(f"#value-{route.id}", "30")
    page.keyboard.press("Tab")
    page.wait_for_selector(f'#mark-{route.id}[data-state="saved"]')
    db.session.rollback()
    change = db.session.scalar(sa.select(MarkChange).where(MarkChange.judge_id == judge.id))
    assert (change.new_cents, change.reason) == (3000, "请复核")
    assert change.source and len(change.source) == 24  # the tablet's session id from sessionStorage


def test_a_mark_entered_after_the_login_expired_is_saved_after_logging_in_again(page, server, sheet_setup):
    competition, judge, entrant = sheet_setup
    route = criterion_of(competition, "practical.route")
    _login(page, server.url, judge.username)
    sheet_url = f"{server.url}/judge/{competition.code}/sheet/{entrant.secret_code}"
    page.goto(sheet_url)
    page.wait_for_selector("#tally-total")

    page.context.clear_cookies()  # the session ended (expired, or logged out on another tablet)
    page.fill(f"#value-{route.id}", "33")
    page.keyboard.press("Tab")
    page.wait_for_url(f"{server.url}/login?*")  # the whole page, not the row, went to the login form
    assert page.locator(".mark-row").count() == 0
    assert _saved_value(judge, entrant, route) is None

    page.fill("#username", judge.username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(sheet_url)
    page.wait_for_selector(f'#mark-{route.id}[data-state="saved"]')
    assert page.input_value(f"#value-{route.id}") == "33"
    assert _saved_value(judge, entrant, route) == 3300
