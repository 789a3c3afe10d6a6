"""Craftsman management in the browser, on the Quanzhou demo: the dashboard, the talent pool,
a profile, confirming a competition's honours, the worker's own profile, the public list."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp import demo
from comp.extensions import db
from comp.models import Competition, Honour, OutcomeGrant, Worker
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "jiangxin2026"  # the demo's


@pytest.fixture()
def city(app):
    """Load the demo (its accounts share the demo password)."""
    demo.load()
    db.session.commit()


def _demo_login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def test_organizer_dashboard_pool_profile_and_honours(page, live_server, city):
    _demo_login(page, live_server, "organizer")
    # The dashboard: headline figures and charts on the home page.
    assert page.locator("svg").first.is_visible()
    screenshot(page, "dashboard")

    # The talent pool: every drone pilot of 晋江, then one of them.
    page.goto(f"{live_server}/people")
    page.select_option("select[name=trade]", "无人机驾驶员")
    county = page.locator("select[name=county] option", has_text="晋江").first.get_attribute("value")
    page.select_option("select[name=county]", county)
    page.locator("#pool-form button[type=submit]").click()
    page.wait_for_url("**county=*")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#pool-results tbody tr")
    rows.first.wait_for()
    expected = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Worker)
        .where(Worker.trade == "无人机驾驶员", Worker.employer.has(parent_id=int(county)))
    )
    assert rows.count() == expected > 0
    screenshot(page, "talent-pool")
    rows.first.locator("a").first.click()
    page.wait_for_url("**/people/*")
    assert page.locator("h1").is_visible()
    screenshot(page, "profile-organizer")

    # Confirm this year's drone final's honours: they land in the winner's profile.
    page.goto(f"{live_server}/competitions/QZ-2026-UAV/honours")
    boxes = page.locator("#qualifiers input[name=entrant]")
    assert boxes.count() > 0
    screenshot(page, "honours")
    page.get_by_role("button", name="确认所选").click()
    page.wait_for_url("**/honours")
    assert page.locator(".flash-success").is_visible()
    assert page.locator("#qualifiers input[name=entrant]").count() == 0
    winner = db.session.scalar(
        sa.select(OutcomeGrant.worker_id)
        .join(Competition)
        .where(Competition.code == "QZ-2026-UAV", OutcomeGrant.rank == 1, OutcomeGrant.title == "技术能手")
    )
    page.goto(f"{live_server}/people/{winner}")
    assert page.get_by_text("技术能手").first.is_visible()
    assert (
        db.session.scalar(
            sa.select(Honour.status).where(Honour.worker_id == winner, Honour.year == 2026, Honour.title == "技术能手")
        )
        == "recommended"
    )


def test_worker_opens_her_profile(page, live_server, city):
    _demo_login(page, live_server, "worker")
    page.goto(f"{live_server}/people/me")
    page.wait_for_url("**/people/*")
    assert page.get_by_text("2026年泉州市无人机驾驶职工技能竞赛").first.is_visible()
    screenshot(page, "profile-worker")


def test_public_list(page, live_server, city):
    page.goto(f"{live_server}/c/")
    assert page.get_by_text("2026年泉州市无人机驾驶职工技能竞赛").first.is_visible()
    assert page.get_by_text("2025年泉州市无人机驾驶职工技能竞赛").first.is_visible()
    screenshot(page, "public-list")
