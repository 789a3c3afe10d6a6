"""What the judges' and liaisons' upload tells people (issue 15, findings 3 and 4).

It shares the reader and the template of the registration upload: columns in the reader's language,
broken files named as such, formulas called formulas, "did you mean" for an unknown unit, and a
template with an example row the import skips, the units the uploader may name and a dropdown.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import User
from tests.accounts.test_bulk import (
    AIR,
    JJ,
    SS,
    kept,
    login,
    people,  # noqa: F401  (the fixture: the accounts that exist before)
    sheet,
    text,
    upload,
)

pytestmark = pytest.mark.usefixtures("people")

FORMULA = "a formula is not accepted: type the value itself"


def chinese(username: str) -> None:
    db.session.execute(sa.update(User).where(User.username == username).values(locale="zh"))
    db.session.commit()


def test_a_formula_cell_is_called_a_formula(app):
    client = login(app, "jjorg")
    upload(client, sheet([["=1+1", JJ, ""], ["林清华", "=A1", ""], ["周八", JJ, ""]]))
    assert sorted((p["row"], p["field"], p["message"]) for p in kept().problems) == [
        (2, "name", FORMULA),
        (3, "unit", FORMULA),
    ]


def test_columns_and_messages_are_in_the_readers_language(app):
    chinese("jjorg")
    client = login(app, "jjorg")
    upload(client, sheet([["=1+1", JJ, "bad name!"]]))
    page = text(client.get(f"/accounts/import/{kept().token}"))
    assert '<td class="nowrap">姓名</td>' in page and '<td class="nowrap">账号</td>' in page
    assert "账号（可不填）" not in page.split("<h2>")[1]
    assert "<strong>姓名</strong>：不接受公式" in page


def test_an_unknown_unit_gets_the_closest_names_the_uploader_may_use(app):
    client = login(app, "jjorg")
    upload(client, sheet([["林清华", "晋江翔鹭", ""], ["周八", "石狮市总工", ""]]))
    messages = {p["row"]: p["message"] for p in kept().problems}
    assert messages[2] == "no union or enterprise is named “晋江翔鹭”. Did you mean “晋江翔鹭航空”?"
    assert "石狮市总工会" not in messages[3]  # outside the 晋江 organizer's union: never offered


def test_a_broken_file_is_named_as_such(app):
    chinese("jjorg")
    client = login(app, "jjorg")
    data = sheet([["林清华", JJ, ""]])
    page = text(upload(client, data[:300]))
    assert "该文件不是 Excel .xlsx 工作簿，或者已损坏" in page and "BadZip" not in page


def test_the_template_lists_the_units_and_skips_its_example(app):
    client = login(app, "jjorg")
    book = load_workbook(io.BytesIO(client.get("/accounts/import/template.xlsx?role=liaison").data))
    assert book.sheetnames == ["联络员", "Choices"]
    listed = [c for (c,) in book["Choices"].iter_rows(values_only=True)]
    assert listed == ["单位", AIR]  # a liaison belongs to an enterprise of the organizer's union
    (dropdown,) = book.worksheets[0].data_validations.dataValidation
    assert str(dropdown.sqref) == "B2:B1001" and dropdown.formula1 == "'Choices'!$A$2:$A$2"
    judges = load_workbook(io.BytesIO(client.get("/accounts/import/template.xlsx?role=judge").data))
    assert JJ in [c for (c,) in judges["Choices"].iter_rows(values_only=True)]
    assert SS not in [c for (c,) in judges["Choices"].iter_rows(values_only=True)]

    book.worksheets[0].append(["周八", AIR, ""])
    data = io.BytesIO()
    book.save(data)
    assert upload(client, data.getvalue(), role="liaison").status_code == 302
    assert [(r["row"], r["name"]) for r in kept().rows] == [(3, "周八")]
