"""Units in and out as .xlsx: the per-row report, nothing written before confirmation, neutralised export."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, Unit, Upload
from tests.conftest import valid_id
from tests.units.conftest import post, sheet, text, upload

GOOD = ["工作室", "翔鹭创新工作室", "晋江翔鹭航空", "飞控车间", "市级", "2021-03-15"]
ROWS = [
    GOOD,  # row 2: valid
    ["班组", "", "晋江翔鹭航空", "", "", ""],  # row 3: missing name
    ["小组", "某小组", "晋江翔鹭航空", "", "", ""],  # row 4: unknown kind
    ["班组", "某班组", "不存在的公司", "", "", ""],  # row 5: unknown enterprise
    ["工作室", "翔鹭创新工作室", "晋江翔鹭航空", "", "", ""],  # row 6: duplicate of row 2
    ["班组", "已有班组", "石狮锦绣服装", "", "", ""],  # row 7: already registered
    ["班组", "锦绣班组", "石狮锦绣服装", "", "区级", ""],  # row 8: bad level
    ["team", "锦绣二组", "石狮锦绣服装", "", "", "2021-13-45"],  # row 9: bad founded date
    ["team", "锦绣三组", "石狮锦绣服装", "裁剪车间", "province", ""],  # row 10: valid
]


def kept() -> Upload:
    return db.session.scalar(sa.select(Upload))


def units() -> list[str]:
    return sorted(db.session.scalars(sa.select(Unit.name)))


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(client, organizer, tree, make_unit):
    make_unit("已有班组", tree.garment, kind="team")
    response = upload(client, sheet(ROWS))
    assert response.status_code == 302
    report = {(p["row"], p["field"]) for p in kept().problems}
    assert report == {
        (3, "name"),
        (4, "kind"),
        (5, "enterprise"),
        (6, "name"),
        (7, "name"),
        (8, "level"),
        (9, "founded"),
    }
    page = text(client.get(response.headers["Location"]))
    for message in (
        "unknown kind “小组”",
        "unknown enterprise “不存在的公司”",
        "duplicate: the same unit is in row 2",
        "duplicate: this unit is already registered",
        "unknown level “区级”",
        "not a date",
    ):
        assert message in page
    assert '<td class="nowrap">Founded</td>' in page and "成立日期 Founded" not in page
    assert "Import only the 2 valid rows" in page
    assert units() == ["已有班组"]  # nothing written before the confirmation

    refused = post(client, f"/units/import/{kept().token}/confirm", {"mode": "all"}, follow_redirects=True)
    assert "7 rows have problems: nothing was imported." in text(refused)
    assert units() == ["已有班组"]


def test_only_the_valid_rows_are_imported_in_one_go(client, organizer, tree, make_unit):
    make_unit("已有班组", tree.garment, kind="team")
    upload(client, sheet(ROWS))
    response = post(client, f"/units/import/{kept().token}/confirm", {"mode": "valid"}, follow_redirects=True)
    assert "2 units imported." in text(response)
    assert units() == ["已有班组", "翔鹭创新工作室", "锦绣三组"]
    studio = db.session.scalar(sa.select(Unit).where(Unit.name == "翔鹭创新工作室"))
    assert (studio.kind, studio.level, str(studio.founded), studio.workshop) == (
        "studio",
        "city",
        "2021-03-15",
        "飞控车间",
    )
    assert kept() is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "unit.imported"))
    assert event.detail["imported"] == 2 and event.detail["skipped"] == 7


def test_a_clean_sheet_imports_all_and_dates_typed_as_dates_are_read(client, organizer, tree):
    from datetime import datetime

    upload(client, sheet([["工作室", "翔鹭工作室", "晋江翔鹭航空", "", "国家级", datetime(2019, 6, 1)]]))
    assert kept().problems == []
    post(client, f"/units/import/{kept().token}/confirm", {"mode": "all"})
    assert str(db.session.scalar(sa.select(Unit.founded))) == "2019-06-01"


def test_a_file_that_is_not_the_template_is_refused_whole(client, organizer, tree):
    assert "The file is not an Excel .xlsx workbook, or it is damaged" in text(upload(client, b"not a workbook"))
    response = upload(client, sheet([GOOD], headers=["名称", "单位"]))
    assert response.status_code == 422 and "missing columns" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Upload.id))) == 0


def test_discard_forgets_the_upload(client, organizer, tree):
    upload(client, sheet([GOOD]))
    post(client, f"/units/import/{kept().token}/discard")
    assert kept() is None and units() == []


def test_export_neutralises_formulas_and_has_no_id_numbers(client, organizer, tree, make_unit, make_worker):
    leader = make_worker("林匠", id_number=valid_id(5))
    make_unit('=HYPERLINK("http://x")', tree.aviation, leader_id=leader.id, level="national")
    response = client.get("/units/export.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("类型 Kind", "名称 Name")
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][4] == "国家级 national"
    flat = " ".join(str(c) for row in rows for c in row if c)
    assert valid_id(5) not in flat and "林匠" not in flat


def test_the_template_round_trips_through_the_import(client, organizer, tree, make_unit):
    make_unit("翔鹭工作室", tree.aviation, level="city")
    exported = client.get("/units/export.xlsx").data
    db.session.execute(sa.delete(Unit))
    db.session.commit()
    upload(client, exported)
    assert kept().problems == []
    template = load_workbook(io.BytesIO(client.get("/units/template.xlsx").data)).active
    assert next(c.value for c in template[1]) == "类型 Kind"


# --- within the organizer's unions: another county's enterprises are problems, never written ---

SCOPED = [
    ["工作室", "翔鹭新工作室", "晋江翔鹭航空", "", "", ""],  # row 2: the Jinjiang organizer's
    ["班组", "锦绣新班组", "石狮锦绣服装", "", "", ""],  # row 3: another county's
    ["班组", "锦绣二班组", "石狮锦绣服装", "", "", ""],
]  # row 4: another county's


def test_rows_of_another_countys_enterprise_are_problems(client, county_organizer, tree, make_unit):
    make_unit("锦绣工作室", tree.garment)
    assert upload(client, sheet(SCOPED)).status_code == 302
    assert [(p["row"], p["field"]) for p in kept().problems] == [(3, "enterprise"), (4, "enterprise")]
    page = text(client.get(f"/units/import/{kept().token}"))
    assert "unknown enterprise “石狮锦绣服装”: no enterprise in your unions has this name" in page
    refused = post(client, f"/units/import/{kept().token}/confirm", {"mode": "all"}, follow_redirects=True)
    assert "2 rows have problems: nothing was imported." in text(refused)
    assert units() == ["锦绣工作室"]
    post(client, f"/units/import/{kept().token}/confirm", {"mode": "valid"})
    assert units() == ["翔鹭新工作室", "锦绣工作室"]
    assert db.session.scalar(sa.select(Unit.enterprise_id).where(Unit.name == "翔鹭新工作室")) == tree.aviation.id


def test_a_name_shared_with_another_countys_enterprise_is_read_as_ours(client, county_organizer, tree):
    from comp.models import OrgUnit

    db.session.add(OrgUnit(kind="enterprise", name="晋江翔鹭航空", parent=tree.shishi))
    db.session.commit()
    upload(client, sheet(SCOPED[:1]))
    assert kept().problems == []  # not "names 2 enterprises": the other one is none of the organizer's business
    post(client, f"/units/import/{kept().token}/confirm", {"mode": "all"})
    assert db.session.scalar(sa.select(Unit.enterprise_id).where(Unit.name == "翔鹭新工作室")) == tree.aviation.id


def test_the_confirmation_checks_the_scope_again(client, organizer, tree):
    upload(client, sheet(SCOPED))
    assert kept().problems == []  # the city union's organizer may import every row
    organizer.org_unit_id = tree.jinjiang.id  # moved to a county union before confirming
    db.session.commit()
    refused = post(client, f"/units/import/{kept().token}/confirm", {"mode": "all"}, follow_redirects=True)
    assert "2 rows have problems: nothing was imported." in text(refused)
    assert units() == []


@pytest.mark.parametrize(
    "who, expected", [("county_organizer", ["翔鹭工作室"]), ("organizer", ["无单位班组", "翔鹭工作室", "锦绣工作室"])]
)
def test_the_export_holds_the_units_of_the_organizers_unions(request, client, tree, make_unit, who, expected):
    request.getfixturevalue(who)
    make_unit("翔鹭工作室", tree.aviation)
    make_unit("锦绣工作室", tree.garment)
    db.session.add(Unit(kind="team", name="无单位班组", enterprise_id=None))
    db.session.commit()
    rows = list(load_workbook(io.BytesIO(client.get("/units/export.xlsx").data)).active.iter_rows(values_only=True))
    assert sorted(row[1] for row in rows[1:]) == expected
