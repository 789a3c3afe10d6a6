"""What the studios' and teams' upload tells people (issue 15, findings 3 and 4): the reader and the
template it shares with the registration upload."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import Upload
from tests.units.conftest import sheet, text, upload

FORMULA = "a formula is not accepted: type the value itself"


def kept() -> Upload:
    return db.session.scalar(sa.select(Upload))


def test_a_formula_cell_is_called_a_formula(client, organizer, tree):
    upload(client, sheet([["工作室", "=1+1", "晋江翔鹭航空", "", "", ""]]))
    assert [(p["row"], p["field"], p["message"]) for p in kept().problems] == [(2, "name", FORMULA)]


def test_columns_are_named_in_the_readers_language(client, organizer, tree):
    organizer.locale = "zh"
    db.session.commit()
    upload(client, sheet([["工作室", "翔鹭工作室", "晋江翔鹭航空", "", "", "不是日期"]]))
    page = text(client.get(f"/units/import/{kept().token}"))
    assert '<td class="nowrap">成立日期</td>' in page and "成立日期 Founded" not in page


def test_an_unknown_enterprise_gets_the_closest_names(client, county_organizer, tree):
    upload(client, sheet([["工作室", "某工作室", "晋江翔鹭", "", "", ""], ["班组", "某班组", "石狮锦绣", "", "", ""]]))
    messages = {p["row"]: p["message"] for p in kept().problems}
    assert messages[2].endswith("Did you mean “晋江翔鹭航空”?")
    assert "石狮锦绣服装" not in messages[3]  # another county's enterprise is never offered


def test_a_broken_file_is_named_as_such(client, organizer, tree):
    page = text(upload(client, sheet([["工作室", "翔鹭工作室", "晋江翔鹭航空", "", "", ""]])[:400]))
    assert "The file is not an Excel .xlsx workbook, or it is damaged" in page and "BadZip" not in page


def test_the_template_offers_dropdowns_and_skips_its_example(client, county_organizer, tree):
    book = load_workbook(io.BytesIO(client.get("/units/template.xlsx").data))
    assert [c for (c,) in book["Choices"].iter_rows(values_only=True)] == ["单位 Enterprise", "晋江翔鹭航空"]
    dropdowns = {str(v.sqref): v.formula1 for v in book.worksheets[0].data_validations.dataValidation}
    assert dropdowns == {
        "A2:A5001": '"工作室,班组"',
        "C2:C5001": "'Choices'!$A$2:$A$2",
        "E2:E5001": '"市级,省级,国家级"',
    }
    data = io.BytesIO()
    book.save(data)
    response = upload(client, data.getvalue())
    assert response.status_code == 422 and "The file has no units below its header row." in text(response)
