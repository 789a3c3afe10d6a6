"""What the registration upload tells people (issue 15, findings 3 and 4).

Columns are named in the reader's language only; a file that is not an .xlsx workbook is said to be
so, without the name of an exception; a formula cell is called a formula, not an empty cell; an
unknown employer gets the nearest names the uploader may use; the template has an example row the
import skips, a sheet listing the employers, and dropdowns for the columns with fixed choices.
"""

from __future__ import annotations

import html
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from comp.extensions import db
from comp.models import Entrant, Upload
from tests.registration.conftest import HEADERS, TRADE, login, organizer_of, person, post, sheet, table_counts, upload

FORMULA = "a formula is not accepted: type the value itself"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def kept() -> Upload:
    return db.session.scalar(sa.select(Upload))


def entrants(competition) -> list[str]:
    return list(db.session.scalars(sa.select(Entrant.name).where(Entrant.competition_id == competition.id)))


@pytest.fixture()
def organizer(auth, make_user, tree):
    """Log in an organizer of the city union (English pages)."""
    user = organizer_of(make_user, tree.city)
    login(auth, "organizer")
    return user


@pytest.fixture()
def liaison(auth, make_user, tree):
    """Log in the union liaison of 晋江翔鹭 (an enterprise, English pages)."""
    user = organizer_of(make_user, tree.aviation, "liaison")
    login(auth, "liaison")
    return user


def in_chinese(user) -> None:
    user.locale = "zh"
    db.session.commit()


def preview(client, competition) -> str:
    return text(client.get(f"/competitions/{competition.code}/registrations/upload/{kept().token}"))


# 1. Column names in the reader's language ---------------------------------------------------------


def test_the_report_names_columns_in_the_readers_language_only(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, name=""), person(2, employer="没有这家公司")]))
    page = preview(client, competition)
    assert '<td class="nowrap">Name</td>' in page and "<strong>Employer</strong>:" in page
    for bilingual in ("姓名 Name", "单位 Employer", "身份证号 ID number"):
        assert bilingual not in page
    in_chinese(organizer)
    page = preview(client, competition)
    assert '<td class="nowrap">姓名</td>' in page and "<strong>单位</strong>：" in page
    for english in ("Name", "Employer", "姓名 Name", "单位 Employer"):
        assert f'<td class="nowrap">{english}</td>' not in page and f"<strong>{english}</strong>" not in page


def test_a_missing_column_is_named_in_the_readers_language(client, organizer, open_competition):
    competition = open_competition()
    in_chinese(organizer)
    response = upload(client, competition.code, sheet([person(1)[:5]], headers=HEADERS[:5]))
    assert response.status_code == 422
    assert "技能等级（1-5）" in text(response) and "Grade" not in text(response)


def test_the_upload_page_lists_the_columns_in_the_readers_language(client, organizer, open_competition):
    competition = open_competition()
    in_chinese(organizer)
    page = text(client.get(f"/competitions/{competition.code}/registrations/upload"))
    assert "<strong>身份证号</strong>" in page and "ID number" not in page


def test_the_existing_header_spellings_are_still_read(client, organizer, open_competition):
    competition = open_competition()
    for headers in (
        HEADERS,
        ["姓名", "身份证号", "手机", "单位", "工种", "技能等级", "队名"],
        ["Name", "ID number", "Phone", "Employer", "Trade", "Grade", "Team"],
    ):
        db.session.execute(sa.delete(Upload))
        db.session.commit()
        assert upload(client, competition.code, sheet([person(1)], headers=headers)).status_code == 302
        assert kept().problems == []


# 2. A file that is not a workbook -----------------------------------------------------------------


def truncated() -> bytes:
    data = sheet([person(1)])
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "data",
    [b"name,id\n\xe5\xbc\xa0\xe4\xb8\x89,1\n", truncated(), b"PK\x03\x04" + b"\0" * 300],
    ids=["renamed text", "truncated", "zip signature only"],
)
def test_a_broken_file_is_called_not_an_xlsx_workbook_in_chinese(client, organizer, open_competition, data):
    competition = open_competition()
    in_chinese(organizer)
    before = table_counts()
    response = upload(client, competition.code, data)
    page = text(response)
    assert response.status_code == 422
    assert "该文件不是 Excel .xlsx 工作簿，或者已损坏" in page and "另存为“Excel 工作簿（.xlsx）”" in page
    assert not re.search(r"BadZip|zipfile|Error|Exception|zip 压缩包", page)
    assert table_counts() == before


def test_a_broken_file_is_called_not_an_xlsx_workbook_in_english(client, organizer, open_competition):
    competition = open_competition()
    page = text(upload(client, competition.code, truncated()))
    assert "The file is not an Excel .xlsx workbook, or it is damaged" in page
    assert "save it again as an Excel workbook (.xlsx)" in page and "BadZip" not in page


# 3. Formulas --------------------------------------------------------------------------------------


def test_a_formula_name_is_called_a_formula_not_missing(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, name="=1+1"), person(2)]))
    assert [(p["row"], p["field"], p["message"]) for p in kept().problems] == [(2, "name", FORMULA)]
    db.session.execute(sa.delete(Upload))
    in_chinese(organizer)
    upload(client, competition.code, sheet([person(1, name="=1+1"), person(2)]))
    page = preview(client, competition)
    assert "<strong>姓名</strong>：不接受公式：请直接填写数值或文字本身" in page and "未填写" not in page


def test_formulas_in_several_columns_are_each_named(client, organizer, open_competition):
    competition = open_competition()
    row = person(1)
    row[3], row[5] = "=A1", "=2+1"  # employer, grade
    upload(client, competition.code, sheet([row]))
    assert {(p["field"], p["message"]) for p in kept().problems} == {("employer", FORMULA), ("grade", FORMULA)}


def test_a_formula_is_never_imported(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, name="=1+1"), person(2)]))
    post(client, f"/competitions/{competition.code}/registrations/upload/{kept().token}/confirm", {"mode": "valid"})
    assert entrants(competition) == ["工人002"]


def test_text_that_looks_like_a_formula_is_still_told_apart(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, name="'=1+1")]))
    assert [p["message"] for p in kept().problems] == ["begins with =, like a spreadsheet formula"]


# 4. Did you mean ----------------------------------------------------------------------------------


def test_an_unknown_employer_gets_the_closest_names(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, employer="晋江翔鹭航空")]))
    (problem,) = kept().problems
    assert problem["field"] == "employer"
    assert problem["message"] == (
        "unknown employer “晋江翔鹭航空”: no enterprise has this name. Did you mean “晋江翔鹭航空科技有限公司”?"
    )
    db.session.execute(sa.delete(Upload))
    in_chinese(organizer)
    upload(client, competition.code, sheet([person(1, employer="晋江翔鹭航空")]))
    assert "您是否要填写“晋江翔鹭航空科技有限公司”？" in preview(client, competition)


def test_a_liaison_is_offered_only_their_own_enterprise(client, liaison, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, employer="石狮锦绣服装有限公司")]))
    messages = [p["message"] for p in kept().problems if p["field"] == "employer"]
    assert messages and all("石狮市锦绣服装有限公司" not in m for m in messages)


def test_no_suggestion_when_nothing_is_close(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, employer="完全不同")]))
    assert "Did you mean" not in kept().problems[0]["message"]


# 5. The template ----------------------------------------------------------------------------------


def template(client, competition) -> Workbook:
    response = client.get(f"/competitions/{competition.code}/registrations/template.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def choices(book: Workbook) -> dict[str, list]:
    listed = book.worksheets[1]
    columns = list(listed.iter_cols(values_only=True))
    return {column[0]: [v for v in column[1:] if v is not None] for column in columns}


def validations(book: Workbook) -> dict[str, str]:
    """Return the first sheet's dropdowns: cell range → source."""
    return {str(v.sqref): v.formula1 for v in book.worksheets[0].data_validations.dataValidation}


def test_the_template_lists_the_employers_and_offers_dropdowns(client, organizer, open_competition, tree):
    competition = open_competition(eligibility={"trades": [TRADE, "电工"]})
    book = template(client, competition)
    assert book.sheetnames[1] == "Choices"
    listed = choices(book)
    assert {tree.aviation.name, tree.garment.name} <= set(listed["单位 Employer"])
    assert listed["工种 Trade"] == [TRADE, "电工"]
    dropdowns = validations(book)
    employers = len(listed["单位 Employer"]) + 1
    assert dropdowns["D2:D5001"] == f"'Choices'!$A$2:$A${employers}"
    assert dropdowns["E2:E5001"] == "'Choices'!$B$2:$B$3"
    assert dropdowns["F2:F5001"] == '"1,2,3,4,5"'


def test_a_liaisons_template_lists_only_their_enterprise(client, liaison, open_competition, tree):
    competition = open_competition()
    book = template(client, competition)
    assert choices(book)["单位 Employer"] == [tree.aviation.name]
    assert "工种 Trade" not in choices(book)  # any trade: the column stays free
    assert set(validations(book)) == {"D2:D5001", "F2:F5001"}


def test_a_chinese_template_names_its_list_sheet_in_chinese(client, organizer, open_competition):
    competition = open_competition()
    in_chinese(organizer)
    book = template(client, competition)
    assert book.sheetnames[1] == "选项"
    assert validations(book)["D2:D5001"].startswith("'选项'!$A$2:$A$")


def test_the_untouched_template_imports_nobody(client, organizer, open_competition):
    competition = open_competition()
    book = template(client, competition)
    example = [c.value for c in book.worksheets[0][2]]
    assert str(example[0]).startswith("示例")
    before = table_counts()
    data = io.BytesIO()
    book.save(data)
    response = upload(client, competition.code, data.getvalue())
    assert response.status_code == 422 and "The file has no registrations below its header row." in text(response)
    assert table_counts() == before


def test_the_template_filled_below_its_example_imports_only_the_people(client, organizer, open_competition):
    competition = open_competition()
    book = template(client, competition)
    book.worksheets[0].append(person(1))
    data = io.BytesIO()
    book.save(data)
    assert upload(client, competition.code, data.getvalue()).status_code == 302
    assert [r["row"] for r in kept().rows] == [3] and kept().problems == []
    post(client, f"/competitions/{competition.code}/registrations/upload/{kept().token}/confirm", {"mode": "all"})
    assert entrants(competition) == ["工人001"]
