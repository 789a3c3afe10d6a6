"""In the browser: the hall screen follows a mark, the chief judge confirms and locks, the public reads results."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Objection, Worker
from comp.services import results
from comp.services.results import objections
from comp.services.setup import lifecycle
from tests.chief.helpers import entrant, judge, set_mark, sign
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _chief(competition) -> str:
    user = judge(competition, "J1")
    user.set_password(PASSWORD)
    db.session.commit()
    return user.username


def test_live_board_shows_a_mark_another_judge_enters(page, live_server, make_competition):
    competition = make_competition(status="running")
    set_mark(competition, "E1", "J1", "theory.exam", None)
    code = entrant(competition, "E1").secret_code
    page.goto(f"{live_server}/c/{competition.code}/live")
    row = page.locator("#live-board tr", has_text=code)
    assert row.locator("td").last.inner_text().strip() == "4/5"
    screenshot(page, "live-board")
    set_mark(competition, "E1", "J1", "theory.exam", "95")  # a judge's tablet saves the missing mark
    page.wait_for_function(
        "code => [...document.querySelectorAll('#live-board tr')].some("
        "r => r.textContent.includes(code) && r.textContent.includes('5/5'))",
        arg=code,
        timeout=6000,
    )
    assert page.locator("#live-board").get_attribute("data-version") == results.stamp_of(competition)
    page.goto(f"{live_server}/c/{competition.code}/live?screen=1")
    assert page.locator("header.site").count() == 0
    screenshot(page, "live-screen")


def test_chief_confirms_a_discrepancy_and_locks(page, live_server, make_competition):
    competition = make_competition(status="running")
    set_mark(competition, "E2", "J3", "practical.route", "39")
    sign(competition, "E2", "J1", "J2", "J3")
    _login(page, live_server, _chief(competition))
    page.goto(f"{live_server}/chief/{competition.code}")
    assert page.locator("article.flag").count() == 1
    assert "张三" not in page.content() and "李四" not in page.content()
    screenshot(page, "chief-console")
    page.fill("article.flag input[name=note]", "复核录像，评分无误")
    page.click("article.flag button[value=confirm]")
    page.wait_for_selector("article.flag.flag-confirmed")
    assert page.locator("#discrepancies .flash-success").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#lock button[type=submit]")
    page.wait_for_selector("text=张三")
    db.session.refresh(competition)
    assert competition.status == "locked"
    screenshot(page, "chief-console-locked")


def test_public_results_with_the_notice_period(page, live_server, make_competition):
    competition = make_competition(status="locked")
    worker = db.session.get(Worker, entrant(competition, "E1").worker_id)
    worker.phone = "13905951234"
    db.session.commit()
    lifecycle.publish(competition)
    page.goto(f"{live_server}/c/{competition.code}/results")
    content = page.content()
    assert "张三" in content and worker.phone not in content and worker.id_masked not in content
    assert page.locator("#objection form").count() == 1
    screenshot(page, "public-results")
    page.fill("#name", "王五")
    page.fill("#contact", "13800000000")
    page.fill("#text", "第1名的理论成绩与公布的考试成绩不符，请复核。")
    page.click("#objection [type=submit]")
    page.wait_for_url(re.compile(rf".*/c/{competition.code}/objections/[^/]+$"))  # the lodger's own status page
    lodged = db.session.scalars(sa.select(Objection)).one()
    assert lodged.ref in page.inner_text("main")
    screenshot(page, "public-results-objection")


def test_chief_rules_on_an_objection(page, live_server, make_competition):
    competition = make_competition(status="locked")
    lifecycle.publish(competition)
    objections.lodge(competition, "王五", "13800000000", "李四的实操成绩偏低，请复核航线飞行的评分。")
    _login(page, live_server, _chief(competition))
    page.goto(f"{live_server}/chief/{competition.code}")
    assert page.locator("article.objection").count() == 1
    screenshot(page, "chief-console-objection")
    page.check("article.objection input[value=dismissed]")
    page.fill("article.objection textarea[name=ruling]", "经复核录像，评分无误，异议不成立。")
    page.click("article.objection button[type=submit]")
    page.wait_for_selector("article.objection.objection-dismissed")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Objection.status)) == "dismissed"
