"""Onboarding a union in the browser, on the Quanzhou demo: the city organizer creates a county
organizer, five liaisons and twenty judges from spreadsheets and prints their activation sheet; a
liaison activates and registers her enterprise's employees only; a judge activates and scores; a
worker signs up and her claim of the record on file waits for the organizer, who confirms it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from comp import demo
from comp.demo import data, roster
from comp.extensions import db
from comp.idcard import check_digit
from comp.models import AccountLink, Entrant, User, WorkerRequest
from tests.e2e.conftest import ARTIFACTS, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "jiangxin2026"  # the demo's
NOODLE_FIRM = data.ENTERPRISES["noodle"][0]
LIAISONS = [
    ("王丽珍", NOODLE_FIRM, "hutou-lx"),
    ("陈建安", data.ENTERPRISES["tea"][0], ""),
    ("黄秀云", data.ENTERPRISES["shoes"][0], ""),
    ("蔡志明", data.ENTERPRISES["garment"][0], ""),
    ("林美华", data.ENTERPRISES["power"][0], ""),
]
JUDGES = [
    (name, county, "")
    for name, county in zip(
        (
            "郑国强",
            "许丽芳",
            "吴志坚",
            "黄晓红",
            "刘建华",
            "张秀兰",
            "李国栋",
            "洪美玲",
            "施文杰",
            "苏丽华",
            "庄志远",
            "蔡雅琴",
            "周海峰",
            "林丽娟",
            "陈志勇",
            "王淑贞",
            "杨建新",
            "谢美珍",
            "何国平",
            "曾丽萍",
        ),
        list(data.COUNTIES) * 2,
    )
]


@pytest.fixture()
def city(app):
    """Load the demo (its accounts share the demo password)."""
    demo.load()
    db.session.commit()


def _sheet(tmp_path: Path, name: str, header: list[str], rows: list[tuple]) -> str:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / name
    book.save(path)
    return str(path)


def _login(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _new_device(page):
    """Return a fresh page in a new browser context: another person's phone or tablet."""
    context = page.context.browser.new_context(viewport=page.viewport_size, locale="zh-CN")
    other = context.new_page()
    other.viewport_name = page.viewport_name
    return other


def _activate(page, base: str, url: str, password: str) -> None:
    """Open a printed link (on PUBLIC_BASE_URL, http://testserver in the tests) on the live server."""
    page.goto(url.replace("http://testserver", base))
    page.fill("#password", password)
    page.fill("#repeat", password)
    page.click("#submit")


def _import(page, base: str, role: str, path: str) -> None:
    page.goto(f"{base}/accounts/import")
    page.check(f"input[name=role][value={role}]")
    page.set_input_files("#sheet", path)
    page.click("#submit")
    page.wait_for_url("**/accounts/import/*")
    assert page.locator(".reg-problems").count() == 0, page.inner_text("main")
    page.click("button[name=mode][value=all]")
    page.wait_for_url("**/accounts/sheet?*")


def test_a_union_onboards_its_people(page, live_server, city, tmp_path):
    base = live_server
    _login(page, base, "organizer")

    # A county organizer for Jinjiang, one at a time.
    page.goto(f"{base}/accounts/new")
    page.fill("#username", "jj-zhangmin")
    page.fill("#display_name", "张敏（晋江市总工会）")
    page.select_option("#role", "organizer")
    page.select_option("#unit", label="晋江市总工会")
    page.click("#submit")
    page.wait_for_url("**/accounts/*")
    assert page.locator("svg.qr").is_visible()
    county_link = page.input_value("#link-url")
    assert "/activate/" in county_link
    screenshot(page, "accounts-created")

    # Five liaisons and twenty judges from spreadsheets, each with a card on the activation sheet.
    header = ["姓名", "单位", "账号（可不填）"]
    _import(page, base, "liaison", _sheet(tmp_path, "liaisons.xlsx", header, LIAISONS))
    assert page.locator(".print-card").count() == 5
    cards = {
        page.locator(".print-card .card-name").nth(i).inner_text(): page.locator(".print-card .link-text")
        .nth(i)
        .inner_text()
        .strip()
        for i in range(5)
    }
    screenshot(page, "accounts-sheet-liaisons")
    _import(page, base, "judge", _sheet(tmp_path, "judges.xlsx", header, JUDGES))
    assert page.locator(".print-card").count() == 20
    assert page.locator(".print-card svg.qr").count() == 20
    judge_link = page.locator(".print-card .link-text").first.inner_text().strip()
    judge_name = page.locator(".print-card .card-name").first.inner_text()
    screenshot(page, "accounts-sheet-judges")
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.role == "judge", User.created_by_id.is_not(None))
        )
        == 20
    )
    page.goto(f"{base}/accounts?state=invited")
    screenshot(page, "accounts-list")

    # The Jinjiang organizer activates: he sees Jinjiang's accounts only.
    jinjiang = _new_device(page)
    _activate(jinjiang, base, county_link, "晋江市总工会组织部的口令")
    jinjiang.wait_for_url(f"{base}/")
    jinjiang.goto(f"{base}/accounts")
    listed = jinjiang.inner_text("#account-list")
    assert "黄秀云" in listed and "王丽珍" not in listed and "admin" not in listed
    jinjiang.context.close()

    # The rice-noodle liaison activates and uploads: her employee goes in, another firm's is reported.
    liaison = _new_device(page)
    _activate(liaison, base, cards["王丽珍"], "湖头米粉厂工会的报名口令")
    liaison.wait_for_url(f"{base}/")
    assert "QZ-2026-NOODLE" in liaison.inner_text("main")
    screenshot(liaison, "liaison-home")
    liaison.click(f"a[href='/competitions/{data.NOODLE}/registrations/upload']")
    rows = [
        ("林春燕", _id(701), "13905950701", NOODLE_FIRM, "米粉制作工", 4, ""),
        ("柯建国", _id(702), "13905950702", data.ENTERPRISES["shoes"][0], "米粉制作工", 4, ""),
    ]
    from comp.services.registration.rows import COLUMNS

    liaison.set_input_files("#sheet", _sheet(tmp_path, "noodle.xlsx", [c.header for c in COLUMNS], rows))
    liaison.click("#submit")
    liaison.wait_for_url("**/registrations/upload/*")
    assert liaison.locator(".reg-problems tbody tr").count() == 1
    assert "3" in liaison.locator(".reg-problems tbody tr td").first.inner_text()
    screenshot(liaison, "liaison-report")
    liaison.click("button[name=mode][value=valid]")
    liaison.wait_for_url(f"{base}/")
    assert "林春燕" in liaison.inner_text("main") and "柯建国" not in liaison.inner_text("main")
    for forbidden in ("/accounts", "/people", f"/competitions/{data.NOODLE}/registrations"):
        assert liaison.goto(f"{base}{forbidden}").status == 403
    liaison.context.close()
    db.session.rollback()
    entered = db.session.scalars(
        sa.select(Entrant.name).join(User, Entrant.registered_by_id == User.id).where(User.username == "hutou-lx")
    ).all()
    assert entered == ["林春燕"]

    # The organizer seats the first imported judge on the tea panel (running) for one criterion.
    page.goto(f"{base}/competitions/{data.TEA}/judges")
    page.select_option(
        "#user", label=next(o for o in page.locator("#user option").all_inner_texts() if o.startswith(judge_name))
    )
    page.locator("form[action$='/judges/existing'] button[type=submit]").click()
    card = page.locator("article.judge-card", has_text=judge_name)
    card.wait_for()
    card.locator("label.check", has_text="汤色").locator("input").check()
    card.locator("form.judge-criteria button[type=submit]").click()
    page.locator("article.judge-card", has_text=judge_name).locator("input:checked").first.wait_for()

    # The judge activates on a tablet and scores.
    judge = _new_device(page)
    _activate(judge, base, judge_link, "评茶裁判平板上的口令")
    judge.wait_for_url(f"{base}/")
    judge.click(f'a[href="/judge/{data.TEA}"]')
    judge.locator(".entrant-tile").first.click()
    judge.wait_for_selector("#tally-total")
    box = judge.locator("input[id^=value-]").first
    box.fill("8.5")
    judge.keyboard.press("Tab")
    judge.locator('[data-state="saved"]').first.wait_for()
    screenshot(judge, "onboarded-judge-sheet")
    judge.context.close()

    # A worker signs up; her record is on file, so a claim waits for the organizer.
    spec = next(s for s in roster.workers() if s.enterprise == "tea" and s.key not in ("wang", "chen", "su"))
    worker = _new_device(page)
    worker.goto(f"{base}/signup")
    worker.fill("#name", spec.name)
    worker.fill("#id_number", spec.id_number)
    worker.fill("#phone", "13905951888")
    worker.select_option("#employer", label=data.ENTERPRISES["tea"][0])
    worker.fill("#password", "凤山茶园里的一片新叶")
    worker.fill("#repeat", "凤山茶园里的一片新叶")
    screenshot(worker, "signup")
    worker.click("#submit")
    worker.wait_for_url(f"{base}/")
    assert worker.locator(".flash").first.is_visible()
    db.session.rollback()
    claim = db.session.scalar(
        sa.select(WorkerRequest).join(User, WorkerRequest.user_id == User.id).where(User.username == "13905951888")
    )
    assert claim.status == "pending" and claim.user.worker_id is None

    page.goto(f"{base}/accounts/requests")
    request = page.locator(f"#request-{claim.id}")
    assert spec.name in request.inner_text()
    screenshot(page, "accounts-requests")
    request.get_by_role("button", name="同意").click()
    page.wait_for_url("**/accounts/requests")
    db.session.rollback()
    assert db.session.get(WorkerRequest, claim.id).status == "accepted"
    worker.goto(f"{base}/people/me")
    worker.wait_for_url("**/people/*")
    assert spec.name in worker.inner_text("h1")
    worker.context.close()

    # Every link was used once and is spent.
    db.session.rollback()
    used = db.session.scalar(
        sa.select(sa.func.count()).select_from(AccountLink).where(AccountLink.used_at.is_not(None))
    )
    assert used == 3
    assert (ARTIFACTS / f"accounts-sheet-judges-{page.viewport_name}.png").exists()


def _id(seed: int) -> str:
    first17 = f"350524199203{seed % 100:02d}{seed % 1000:03d}"
    return first17 + check_digit(first17)


def test_an_old_cookie_is_refused_after_logout(page, live_server, city):
    """A session cookie copied before logging out opens nothing afterwards."""
    _login(page, live_server, "organizer")
    cookies = page.context.cookies()
    page.click("header.site button[type=submit]:has-text('退出')")
    page.wait_for_url("**/login")
    thief = page.context.browser.new_context()
    thief.add_cookies(cookies)
    other = thief.new_page()
    other.goto(f"{live_server}/accounts")
    assert "/login" in other.url
    thief.close()
