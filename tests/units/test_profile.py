"""Unit profiles with their rating history and trend; enterprise pages with units and workers' results."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from comp.extensions import db
from comp.models import Achievement, OrgUnit, UnitMember
from comp.services import exchange
from comp.services.setup import lifecycle
from tests.conftest import valid_id
from tests.units.conftest import text

RATING = json.loads((Path(__file__).parents[1] / "scoring" / "data" / "rating.json").read_text(encoding="utf-8"))


@pytest.fixture()
def petrochem(tree) -> OrgUnit:
    """The enterprise the example rating's teams belong to, under a county union."""
    county = OrgUnit(kind="county", name="泉港区总工会", parent=tree.city)
    org = OrgUnit(kind="enterprise", name="泉港石化", parent=county)
    db.session.add_all([county, org])
    db.session.commit()
    return org


def rate(year: int, code: str, publish: bool = True):
    """Import the example rating as the given year's campaign, published."""
    doc = copy.deepcopy(RATING)
    doc["competition"].update(code=code, year=year, name=f"{year}年度“六型”工匠班组评定")
    competition = exchange.import_competition(doc)
    assert competition.status == "locked"
    if publish:
        lifecycle.publish(competition)
    return competition


def test_profile_shows_members_achievements_and_rating_history(client, organizer, petrochem, make_unit, make_worker):
    team = make_unit("泉港石化第6班组", petrochem, kind="team", level="city")
    other = make_unit("泉港石化第1班组", petrochem, kind="team")
    member = make_worker("郑师傅", id_number=valid_id(31), trade="石化操作工", phone="13912345678")
    db.session.add_all(
        [
            UnitMember(unit_id=team.id, worker_id=member.id, role="班组长"),
            Achievement(unit_id=team.id, year=2025, kind="method", title="郑师傅操作法"),
        ]
    )
    db.session.commit()
    rate(2026, "PJ-2026-TEAM")
    page = text(client.get(f"/units/{team.id}"))
    assert "2026年度“六型”工匠班组评定" in page and "五星" in page and "93.39" in page
    assert "<svg" in page and "<polyline" not in page  # one year: a point, not a line
    assert "郑师傅" in page and "石化操作工" in page and "郑师傅操作法" in page
    content = page[page.index("<main") : page.index("</main>")]  # not the header's random CSRF token
    assert valid_id(31) not in content and "3505" not in content and "13912345678" not in content
    assert "68.28" in text(client.get(f"/units/{other.id}"))


def test_the_trend_joins_the_years_in_order(client, organizer, petrochem, make_unit):
    team = make_unit("泉港石化第4班组", petrochem, kind="team")
    rate(2025, "PJ-2025-TEAM")
    rate(2026, "PJ-2026-TEAM")
    page = text(client.get(f"/units/{team.id}"))
    assert page.count("82.61") >= 4 and "四星" in page  # two years, each in the table and the chart
    assert "<polyline" in page and page.index(">2025</text>") < page.index(">2026</text>")


def test_a_rating_still_running_is_not_in_the_history(client, organizer, petrochem, make_unit):
    team = make_unit("泉港石化第6班组", petrochem, kind="team")
    doc = copy.deepcopy(RATING)
    doc["marks"] = doc["marks"][:-1]  # incomplete marks: the import leaves it running
    exchange.import_competition(doc)
    page = text(client.get(f"/units/{team.id}"))
    assert "Not rated yet." in page and "<svg" not in page


def test_the_enterprise_page_lists_units_and_workers_results(client, organizer, tree, make_unit, make_competition):
    org = OrgUnit(kind="enterprise", name="晋江无人机公司", parent=tree.jinjiang)
    db.session.add(org)
    db.session.commit()
    studio = make_unit("无人机创新工作室", org)
    competition = make_competition()
    lifecycle.publish(competition)
    make_competition(status="running")  # unpublished results stay off the page
    page = text(client.get(f"/enterprises/{org.id}"))
    assert "晋江市总工会" in page
    assert f'href="/units/{studio.id}"' in page and "无人机创新工作室" in page
    assert competition.name in page and "张三" in page and "二等奖" in page  # rank 1 of 2: C1 = round(0.2) = 0
    assert "李四" not in page  # employed elsewhere
    assert page.count("张三") == 1


def test_an_unknown_enterprise_or_unit_is_not_found(client, organizer, tree):
    assert client.get(f"/enterprises/{tree.jinjiang.id}").status_code == 404  # a county, not an enterprise
    assert client.get("/units/999").status_code == 404
