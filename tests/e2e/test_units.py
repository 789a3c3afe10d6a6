"""The units registry, an edit page with htmx rows, and a rated team's profile, at tablet and phone size."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from comp.extensions import db
from comp.models import Achievement, OrgUnit, Unit, UnitMember
from comp.services import exchange
from comp.services.setup import lifecycle
from tests.conftest import PASSWORD, valid_id
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect
RATING = json.loads((Path(__file__).parents[1] / "scoring" / "data" / "rating.json").read_text(encoding="utf-8"))


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


@pytest.fixture()
def rated_team(make_user, make_worker):
    """A county, an enterprise with studios and teams, and a team rated in 2025 and 2026."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    county = OrgUnit(kind="county", name="泉港区总工会", parent=city)
    org = OrgUnit(kind="enterprise", name="泉港石化", parent=county)
    db.session.add_all([city, county, org])
    db.session.flush()
    db.session.add_all(
        Unit(kind="studio", name=f"泉港石化创新工作室{n}", enterprise_id=org.id, level="city") for n in range(1, 8)
    )
    team = Unit(kind="team", name="泉港石化第5班组", enterprise_id=org.id, level="province", workshop="催化裂化车间")
    db.session.add(team)
    db.session.commit()
    for n, (name, trade) in enumerate((("郑国强", "石化操作工"), ("林美华", "化工检验员")), start=1):
        worker = make_worker(name, id_number=valid_id(60 + n), employer_id=org.id, trade=trade)
        db.session.add(UnitMember(unit_id=team.id, worker_id=worker.id, role="班组长" if n == 1 else None))
    db.session.add(Achievement(unit_id=team.id, year=2025, kind="method", title="郑国强催化剂装填操作法"))
    db.session.commit()
    for year in (2025, 2026):
        doc = copy.deepcopy(RATING)
        doc["competition"].update(code=f"PJ-{year}-TEAM", year=year, name=f"{year}年度“六型”工匠班组评定")
        if year == 2025:  # a weaker year before, so the trend rises
            for mark in doc["marks"]:
                if mark["entrant"] == "T5":
                    mark["value"] = str(Decimal(mark["value"]) - 10)
        lifecycle.publish(exchange.import_competition(doc))
    make_user("organizer", "organizer", org_unit_id=city.id)
    return team


def test_registry_and_profile(page, live_server, rated_team):
    _login(page, live_server, "organizer")
    page.goto(f"{live_server}/units")
    assert page.locator(".unit-table tbody tr").count() == 13  # the ratings brought the other five teams
    page.select_option("select[name=kind]", "team")
    expect(page.locator(".unit-table tbody tr")).to_have_count(6)  # the htmx filter swaps the list
    screenshot(page, "units-registry")

    page.click("text=泉港石化第5班组")
    page.wait_for_url(f"{live_server}/units/{rated_team.id}")
    assert page.locator("svg polyline").count() == 1
    assert page.locator("svg circle").count() == 2
    assert page.locator(".award", has_text="四星").count() == 1 and page.locator(".award", has_text="三星").count() == 1
    screenshot(page, "units-profile")

    page.goto(f"{live_server}/units/{rated_team.id}/edit")
    page.fill("#achievement-year", "2026")
    page.fill("#achievement-title", "一种催化剂快速装填装置")
    page.click("#achievements button[type=submit] >> text=/添加|Add achievement/")
    page.wait_for_selector("#achievements >> text=一种催化剂快速装填装置")
    screenshot(page, "units-edit")

    page.goto(f"{live_server}/enterprises/{rated_team.enterprise_id}")
    screenshot(page, "units-enterprise")
