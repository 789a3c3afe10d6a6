"""A worker sits the theory exam on her phone: answers, loses the network, changes phones, runs out of time.

The page saves each choice at once and keeps what it could not send in localStorage, resent in order when
the network returns; a second device takes over (the first is told); the server's clock ends the sitting
and her score becomes the theory criterion's mark, which the competition's results show.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models.exam import Answer, Sitting, SittingEvent
from comp.models.types import utcnow
from comp.services import results as results_service
from tests.e2e.conftest import VIEWPORTS, screenshot
from tests.exams.sitting_helpers import ID_E1, make_exam, worker_of

pytestmark = pytest.mark.e2e

CHOICE = "#exam form.exam-q:not([data-kind=numeric])"
OUTBOX = "Object.keys(localStorage).filter(k => k.startsWith('jx:exam:')).length"


def _expect(locator):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    return expect(locator)


def _until(check, timeout: float = 20) -> None:
    """Poll a condition from Python (the CSP forbids the eval Playwright's wait_for_function needs)."""
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.25)


def _phone(browser):
    page = browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN").new_page()
    page.viewport_name = "phone"  # what screenshot() names the file with
    return page


def _answers() -> int:
    db.session.rollback()  # read what the server's threads committed
    return db.session.scalar(sa.select(sa.func.count(Answer.id))) or 0


def _takeovers() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(SittingEvent.id)).where(SittingEvent.kind == "takeover")) or 0


def _choose(page, index: int) -> None:
    """Tap the first option of the index-th choice question; wait until the page has handled it."""
    form = page.locator(CHOICE).nth(index)
    form.locator(".q-option").first.click()


def test_a_worker_sits_the_exam_through_a_lost_network_a_second_phone_and_the_end_of_time(
    browser, live_server, make_competition, make_user
):
    competition = make_competition(status="running")
    exam = make_exam(competition, duration=30)
    make_user("zhangsan", worker_id=worker_of(competition, "E1").id)
    make_user("chief", role="admin")
    errors: list[str] = []

    # Phone 1: she logs in, finds her exam and starts it.
    first = _phone(browser)
    first.on("pageerror", lambda error: errors.append(str(error)))
    first.goto(f"{live_server}/login")
    first.fill("#username", "zhangsan")
    first.fill("#password", "correct horse 42")
    first.click("#submit")
    first.wait_for_url(f"{live_server}/")
    first.goto(f"{live_server}/exam")
    first.click("a.exam-link")
    first.click("#start-form button")
    first.wait_for_selector("#exam")
    _expect(first.locator("#exam-clock")).to_have_text(re.compile(r"^(30:00|29:[45]\d)$"))  # the server's 30 min
    _choose(first, 0)
    _expect(first.locator('.exam-nav a[data-state="answered"]')).to_have_count(1)
    _until(lambda: _answers() == 1)

    # The network goes: the answer waits on the phone, counted on screen, and is sent when it returns.
    first.context.set_offline(True)
    _choose(first, 1)
    _expect(first.locator("#exam-outbox")).to_be_visible()
    _expect(first.locator("#exam-outbox")).to_contain_text("1")
    assert first.evaluate(OUTBOX) == 1
    screenshot(first, "exam-offline")
    assert _answers() == 1
    first.context.set_offline(False)
    _expect(first.locator("#exam-outbox")).to_be_hidden()
    _until(lambda: _answers() == 2)
    assert first.evaluate(OUTBOX) == 0

    # Phone 2: by exam code and ID number; the paper continues with her answers, and this phone answers now.
    second = _phone(browser)
    second.on("pageerror", lambda error: errors.append(str(error)))
    second.goto(f"{live_server}/exam")
    second.fill('input[name="code"]', exam.code)
    second.fill('input[name="id_number"]', ID_E1)
    second.click("#admit-form button")
    second.wait_for_selector("#exam")
    _expect(second.locator('.exam-nav a[data-state="answered"]')).to_have_count(2)
    _choose(second, 2)
    _until(lambda: _answers() == 3)

    # Phone 1 is told it no longer answers.
    _choose(first, 3)
    _expect(first.locator("#exam-taken")).to_be_visible()
    screenshot(first, "exam-taken-over")
    assert _answers() == 3

    # The time runs out on phone 2: the server ends the sitting and the page shows it submitted.
    sitting = db.session.scalar(sa.select(Sitting))
    sitting.deadline = utcnow() + timedelta(seconds=4)
    db.session.commit()
    second.reload()
    second.wait_for_selector("#exam-finished", timeout=20_000)
    screenshot(second, "exam-finished")
    db.session.rollback()
    sitting = db.session.scalar(sa.select(Sitting))
    assert sitting.finished_by == "time" and sitting.score_cents is not None

    # Her theory score is in the competition's results.
    expected = next(r for r in results_service.document(competition)["results"] if r["ref"] == "E1")["stages"]["theory"]
    chief = _phone(browser)
    chief.goto(f"{live_server}/login")
    chief.fill("#username", "chief")
    chief.fill("#password", "correct horse 42")
    chief.click("#submit")
    chief.wait_for_url(f"{live_server}/")
    chief.goto(f"{live_server}/competitions/{competition.code}/results")
    row = chief.locator("#standings tr", has_text="E1")
    _expect(row).to_contain_text(str(expected))
    assert str(expected) not in ("90", "90.00")
    assert errors == []


def test_an_unsent_answer_survives_a_reload_and_the_first_phone_can_take_the_paper_back(
    browser, live_server, make_competition
):
    from tests.exams.sitting_helpers import ID_E1 as number

    make_exam(make_competition(status="running"), duration=30)
    errors: list[str] = []

    def enter(page):
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server}/exam")
        page.fill('input[name="code"]', "EXAMCODE")
        page.fill('input[name="id_number"]', number)
        page.click("#admit-form button")

    first = _phone(browser)
    enter(first)
    first.click("#start-form button")
    first.wait_for_selector("#exam")
    # The answers do not get through (a captive network): the choice waits on the phone.
    first.route("**/answers/*", lambda route: route.abort())
    _choose(first, 0)
    _expect(first.locator("#exam-outbox")).to_be_visible()
    assert first.evaluate(OUTBOX) == 1
    first.unroute("**/answers/*")
    first.reload()  # before the retry timer: the reloaded page puts the choice back and sends it
    _until(lambda: _answers() == 1)
    _expect(first.locator("#exam-outbox")).to_be_hidden()
    _expect(first.locator('.exam-nav a[data-state="answered"]')).to_have_count(1)

    second = _phone(browser)
    enter(second)
    second.wait_for_selector("#exam")
    _until(lambda: _takeovers() == 1)  # the page claims the paper after it shows: a tap before then still counts
    _choose(first, 1)
    _expect(first.locator("#exam-taken")).to_be_visible()
    first.click("#exam-continue")  # she goes back to the first phone
    first.wait_for_selector("#exam-taken", state="hidden")
    _choose(first, 1)
    _until(lambda: _answers() == 2)
    assert errors == []


def test_a_number_being_typed_is_saved_without_leaving_the_field(browser, live_server, make_competition):
    from tests.exams.sitting_helpers import ID_E1 as number

    make_exam(make_competition(status="running"), duration=30)
    page = _phone(browser)
    page.goto(f"{live_server}/exam")
    page.fill('input[name="code"]', "EXAMCODE")
    page.fill('input[name="id_number"]', number)
    page.click("#admit-form button")
    _expect(page.locator("#start-form [data-loading-note]")).to_be_hidden()  # the script ran: no "reload" hint
    page.click("#start-form button")
    page.wait_for_selector("#exam")
    field = page.locator('#exam form.exam-q[data-kind="numeric"] input[name="response"]')
    field.click()
    field.press_sequentially("3.5")  # and she keeps the field: no change event, the time may be running out
    _until(lambda: _answers() == 1)
    db.session.rollback()
    assert db.session.scalar(sa.select(Answer.response)) == "3.5"
    assert page.evaluate("document.activeElement.name") == "response"


def test_submit_waits_for_unsent_answers_and_a_refused_page_asks_for_a_reload(browser, live_server, make_competition):
    from tests.exams.sitting_helpers import ID_E1 as number

    make_exam(make_competition(status="running"), duration=30)
    page = _phone(browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/exam")
    page.fill('input[name="code"]', "EXAMCODE")
    page.fill('input[name="id_number"]', number)
    page.click("#admit-form button")
    page.click("#start-form button")
    page.wait_for_selector("#exam")
    # Enter ("Go" on the keypad) in a number saves it: the page is not posted and reloaded.
    field = page.locator('#exam form.exam-q[data-kind="numeric"] input[name="response"]')
    field.fill("2.5")
    field.press("Enter")
    _until(lambda: _answers() == 1)
    assert page.url.endswith("/exam/EXAMCODE") and page.locator("#exam").count() == 1

    # An answer that cannot be sent: pressing submit hands in nothing and says why.
    page.route("**/answers/*", lambda route: route.abort())
    _choose(page, 0)
    _expect(page.locator("#exam-outbox")).to_be_visible()
    dialogs: list[str] = []

    def confirm(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.click("#submit-form button")
    _expect(page.locator("#exam-submit-note")).to_contain_text("未发送")
    screenshot(page, "exam-submit-waits")
    db.session.rollback()
    assert db.session.scalar(sa.select(Sitting.finished_at)) is None and dialogs == []  # nothing asked, nothing sent

    # The server refuses the page itself (its session expired: an HTML 403): no endless retry, a reload is asked.
    page.unroute("**/answers/*")
    page.route("**/answers/*", lambda route: route.fulfill(status=403, content_type="text/html", body="<p>403</p>"))
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _expect(page.locator("#exam-outbox")).to_contain_text("刷新")
    assert page.evaluate(OUTBOX) == 1  # kept for the reload to send

    # Reloaded with the network back, the answer is sent, and submit asks first, then hands in the paper.
    page.unroute("**/answers/*")
    page.reload()
    _until(lambda: _answers() == 2)
    page.click("#submit-form button")
    page.wait_for_selector("#exam-finished")
    assert len(dialogs) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(Sitting.finished_by)) == "candidate"
    assert errors == []
