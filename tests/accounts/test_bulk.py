"""Judges and liaisons from an .xlsx sheet (comp/services/accounts/bulk.py, /accounts/import).

An upload is read and checked row by row and kept for a preview that names each bad row and its
column; nothing is created before the confirmation. Confirming "all" refuses a file with any bad
row and creates nothing; confirming "only the valid rows" creates exactly those, each account
without a password and with its own activation link, then shows their QR sheet. Discarding
creates nothing. A liaison belongs to an enterprise. An organizer imports only within their own
county's subtree, and never sees another organizer's upload.
"""

from __future__ import annotations

import html
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from comp.extensions import db
from comp.models import AccountLink, AuditEvent, Upload, User
from comp.services import ServiceError
from comp.services.accounts import bulk, links
from tests.conftest import PASSWORD, csrf_token

HEADERS = ["姓名", "单位", "账号（可不填）"]
LABELS = {"name": "Name", "unit": "Unit", "username": "Username"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Unit names of the `tree` fixture.
CITY, JJ, SS, AIR, GARMENT = "泉州市总工会", "晋江市总工会", "石狮市总工会", "晋江翔鹭航空", "石狮锦绣服装"


@pytest.fixture()
def people(tree, make_user):
    """Accounts that exist before any import (English pages for the organizers)."""
    return {
        "boss": make_user("boss", "admin", locale="en"),
        "jj": make_user("jjorg", "organizer", locale="en", org_unit_id=tree.jinjiang.id),
        "ss": make_user("ssorg", "organizer", locale="en", org_unit_id=tree.shishi.id),
        "taken": make_user("taken01", "judge", org_unit_id=tree.jinjiang.id),
    }


def sheet(rows: list[list], headers: list | None = None) -> bytes:
    """Return an .xlsx workbook (built in memory) with the header row and the rows."""
    workbook = Workbook()
    workbook.active.append(HEADERS if headers is None else headers)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def login(app, username: str):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302
    return client


def upload(client, data: bytes, role: str = "judge", filename: str = "people.xlsx", token: str | None = None):
    """Post a sheet through the upload form."""
    fields = {
        "csrf_token": csrf_token(client, "/accounts/import") if token is None else token,
        "role": role,
        "sheet": FileStorage(io.BytesIO(data), filename),
    }
    boundary, body = encode_multipart(fields)
    return client.post("/accounts/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def kept() -> Upload | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Upload).where(Upload.kind == bulk.KIND))


def post(client, url: str, data: dict | None = None, **kwargs):
    """Post a form with a CSRF token taken from the upload page."""
    return client.post(url, data={"csrf_token": csrf_token(client, "/accounts/import"), **(data or {})}, **kwargs)


def usernames() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(User.username)))


def created_by_import() -> list[User]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(User).where(User.username.not_in(BEFORE)).order_by(User.id)))


BEFORE = ("boss", "jjorg", "ssorg", "taken01")

# A judges' sheet uploaded by the 晋江 organizer: good rows and every kind of bad one.
JUDGES = [
    ["林清华", JJ, ""],  # row 2: good, username generated
    ["", JJ, ""],  # row 3: no name
    ["王五", "不存在的工会", ""],  # row 4: unknown unit
    ["赵六", SS, ""],  # row 5: another county's union
    ["孙七", CITY, ""],  # row 6: the city union, above the organizer's own
    ["周八", AIR, "zhou.ba"],  # row 7: good, username given
    ["吴九", AIR, "ZHOU.BA"],  # row 8: the same username as row 7 (case does not matter)
    ["郑十", JJ, "taken01"],  # row 9: a username already taken
    ["王\t十一", JJ, ""],  # row 10: a control character (tab) in the name
    ["\u202e陈十二", JJ, ""],  # row 11: a bidi override (not printable)
    ["冯十三", JJ, "feng 13"],  # row 12: a space in the username
    ["褚十四", "", ""],  # row 13: no unit (a county organizer must place every account)
    ["卫十五", AIR, ""],  # row 14: good
]
GOOD_ROWS = {2: "林清华", 7: "周八", 14: "卫十五"}
EXPECTED = {
    (3, "name"),
    (4, "unit"),
    (5, "unit"),
    (6, "unit"),
    (8, "username"),
    (9, "username"),
    (10, "name"),
    (11, "name"),
    (12, "username"),
    (13, "unit"),
}


# The report --------------------------------------------------------------------------------------------


def test_a_judges_file_gets_a_report_naming_each_bad_row_and_column(app, people):
    client = login(app, "jjorg")
    response = upload(client, sheet(JUDGES))
    assert response.status_code == 302
    upload_row = kept()
    assert upload_row is not None and upload_row.user_id == people["jj"].id
    assert response.headers["Location"] == f"/accounts/import/{upload_row.token}"
    assert {(p["row"], p["field"]) for p in upload_row.problems} == EXPECTED
    # Each column is named in the user's language only (English here), not by its header in the file.
    assert {p["column"] for p in upload_row.problems} == set(LABELS.values())

    page = text(client.get(response.headers["Location"]))
    for message in (
        "no union or enterprise is named “不存在的工会”",
        "you may place accounts only within your own union",
        "the same username is in row 7",
        "username “taken01” is taken",
        "without control characters",
        "use letters, digits, dot, dash or underscore",
    ):
        assert message in page, message
    # Each bad row is marked in the table of all rows, with its column named.
    for row, field in EXPECTED:
        match = re.search(rf'<tr id="row-{row}" class="reg-row-bad">(.*?)</tr>', page, re.S)
        assert match, row
        assert f"<strong>{LABELS[field]}</strong>:" in match.group(1), (row, field)
    for row in GOOD_ROWS:
        assert re.search(rf'<tr id="row-{row}" class="">.*?✓', page, re.S), row
    # Nothing is created before the confirmation.
    assert usernames() == set(BEFORE)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountLink)) == 0


def test_the_service_reports_the_same(app, people):
    rows = bulk.parse(sheet(JUDGES), "people.xlsx")
    assert [r["row"] for r in rows] == list(range(2, 15))
    report = bulk.check_rows(people["jj"], "judge", rows)
    assert {(p["row"], p["field"]) for p in report} == EXPECTED


def test_a_formula_in_the_name_is_refused(app, people):
    """A formula cell gives no name (its value is not computed); text that a spreadsheet would run is refused."""
    client = login(app, "jjorg")
    rows = [['=HYPERLINK("http://x","点我")', JJ, ""], ["@SUM(A1)", JJ, ""], ["+陈", JJ, ""], ["林清华", JJ, ""]]
    assert upload(client, sheet(rows)).status_code == 302
    problems = {(p["row"], p["field"]): p["message"] for p in kept().problems}
    assert set(problems) == {(2, "name"), (3, "name"), (4, "name")}
    assert "formula" in problems[(3, "name")] and "formula" in problems[(4, "name")]


# Confirming ---------------------------------------------------------------------------------------------


def test_confirming_all_refuses_a_file_with_bad_rows_and_creates_nothing(app, people):
    client = login(app, "jjorg")
    upload(client, sheet(JUDGES))
    token = kept().token
    response = post(client, f"/accounts/import/{token}/confirm", {"mode": "all"})
    assert response.status_code == 302 and response.headers["Location"] == f"/accounts/import/{token}"
    assert "10 rows have problems: nothing was imported." in text(client.get(response.headers["Location"]))
    assert usernames() == set(BEFORE)
    assert kept() is not None  # the upload stays for another choice
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.like("account.%")))


def test_confirming_the_valid_rows_creates_exactly_them_each_with_a_link(app, tree, people):
    client = login(app, "jjorg")
    upload(client, sheet(JUDGES), filename="judges.xlsx")
    token = kept().token
    response = post(client, f"/accounts/import/{token}/confirm", {"mode": "valid"})
    assert response.status_code == 302

    made = created_by_import()
    assert [u.display_name for u in made] == list(GOOD_ROWS.values())
    assert [u.username for u in made] == ["judge0001", "zhou.ba", "judge0002"]
    assert [u.org_unit_id for u in made] == [tree.jinjiang.id, tree.aviation.id, tree.aviation.id]
    assert all(u.role == "judge" and u.active and not u.has_password for u in made)
    assert all(u.created_by_id == people["jj"].id for u in made)
    for user, row in zip(made, GOOD_ROWS, strict=True):
        link = links.live_link(user)
        assert link is not None and link.purpose == "activate" and link.created_by_id == people["jj"].id
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "account.created", AuditEvent.object_id == user.id)
        )
        assert event.actor_id == people["jj"].id
        assert event.detail["by"] == "import" and event.detail["row"] == row
    (summary,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "account.imported"))
    assert summary.actor_id == people["jj"].id
    assert summary.detail["created"] == 3 and summary.detail["skipped"] == 10
    assert summary.detail["filename"] == "judges.xlsx"
    assert kept() is None  # the upload is gone

    # The activation sheet of exactly those accounts, each with its own link on PUBLIC_BASE_URL.
    location = response.headers["Location"]
    assert location.startswith("/accounts/sheet?")
    assert sorted(int(i) for i in re.findall(r"id=(\d+)", location)) == sorted(u.id for u in made)
    page = text(client.get(location))
    for user in made:
        assert links.url(links.live_link(user)) in page
        assert links.url(links.live_link(user)).startswith(app.config["PUBLIC_BASE_URL"] + "/activate/")
    assert page.count('class="activation-card') == 3
    assert "3 accounts created." in page

    # The confirmed upload cannot be confirmed again.
    assert post(client, f"/accounts/import/{token}/confirm", {"mode": "valid"}).status_code == 404
    assert len(created_by_import()) == 3


def test_an_imported_account_is_activated_through_its_link(app, people):
    client = login(app, "jjorg")
    upload(client, sheet([["林清华", AIR, "lin.qh"]]))
    post(client, f"/accounts/import/{kept().token}/confirm", {"mode": "all"})
    (user,) = created_by_import()
    token = links.token(links.live_link(user))
    person = app.test_client()
    form = {"password": "a quiet river at dawn", "repeat": "a quiet river at dawn"}
    response = person.post(f"/activate/{token}", data={**form, "csrf_token": csrf_token(person, f"/activate/{token}")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("a quiet river at dawn")


def test_a_clean_file_is_created_whole_and_generated_names_follow_the_last(app, tree, people, make_user):
    make_user("judge0007", "judge", org_unit_id=tree.jinjiang.id)
    make_user("judge12345678", "judge", org_unit_id=tree.jinjiang.id)  # too long a number: not in the series
    client = login(app, "boss")
    rows = [["甲", CITY, ""], ["乙", AIR, ""], ["丙", "", ""]]  # an admin may leave a judge's unit empty
    upload(client, sheet(rows))
    assert kept().problems == []
    assert "Every row is valid." in text(client.get(f"/accounts/import/{kept().token}"))
    assert post(client, f"/accounts/import/{kept().token}/confirm", {"mode": "all"}).status_code == 302
    made = {u.display_name: u for u in created_by_import() if u.created_by_id == people["boss"].id}
    assert {n: u.username for n, u in made.items()} == {"甲": "judge0008", "乙": "judge0009", "丙": "judge0010"}
    assert {n: u.org_unit_id for n, u in made.items()} == {"甲": tree.city.id, "乙": tree.aviation.id, "丙": None}


def test_a_generated_name_never_takes_a_name_a_later_row_asks_for(app, people):
    """Row 2 gets a generated name; row 3 asks for judge0001 itself: both rows are valid, both are created."""
    client = login(app, "jjorg")
    upload(client, sheet([["甲", JJ, ""], ["乙", JJ, "judge0001"]]))
    assert kept().problems == []
    response = post(client, f"/accounts/import/{kept().token}/confirm", {"mode": "all"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/sheet")
    assert {u.display_name: u.username for u in created_by_import()} == {"甲": "judge0002", "乙": "judge0001"}


def test_a_username_taken_after_the_preview_refuses_the_confirmation(app, tree, people, make_user):
    client = login(app, "jjorg")
    upload(client, sheet([["甲", JJ, "late.one"], ["乙", JJ, ""]]))
    token = kept().token
    make_user("late.one", "judge", org_unit_id=tree.jinjiang.id)  # someone took it in the meantime
    response = post(client, f"/accounts/import/{token}/confirm", {"mode": "all"})
    assert response.status_code == 302
    assert "The accounts changed since this report was made" in text(client.get(response.headers["Location"]))
    assert {(p["row"], p["field"]) for p in kept().problems} == {(2, "username")}
    assert usernames() == set(BEFORE) | {"late.one"}


def test_discarding_creates_nothing(app, people):
    client = login(app, "jjorg")
    upload(client, sheet(JUDGES))
    token = kept().token
    response = post(client, f"/accounts/import/{token}/discard")
    assert response.status_code == 302 and response.headers["Location"] == "/accounts/import"
    assert kept() is None
    assert usernames() == set(BEFORE)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountLink)) == 0
    assert post(client, f"/accounts/import/{token}/confirm", {"mode": "valid"}).status_code == 404
    assert client.get(f"/accounts/import/{token}").status_code == 404
    assert usernames() == set(BEFORE)


# Liaisons ---------------------------------------------------------------------------------------------


def test_a_liaisons_file_requires_an_enterprise(app, tree, people):
    client = login(app, "boss")
    rows = [
        ["联络甲", AIR, ""],  # row 2: an enterprise
        ["联络乙", JJ, ""],  # row 3: a county union
        ["联络丙", CITY, ""],  # row 4: the city union
        ["联络丁", "", ""],  # row 5: none, even for an admin
        ["联络戊", GARMENT, "wu.liaison"],  # row 6: an enterprise
    ]
    assert upload(client, sheet(rows), role="liaison").status_code == 302
    problems = {(p["row"], p["field"]): p["message"] for p in kept().problems}
    assert set(problems) == {(3, "unit"), (4, "unit"), (5, "unit")}
    assert "an enterprise" in problems[(3, "unit")] and JJ in problems[(3, "unit")]
    assert problems[(5, "unit")] == "missing"
    assert "Enterprise liaison" in text(client.get(f"/accounts/import/{kept().token}"))

    post(client, f"/accounts/import/{kept().token}/confirm", {"mode": "valid"})
    made = created_by_import()
    assert [(u.display_name, u.role, u.org_unit_id) for u in made] == [
        ("联络甲", "liaison", tree.aviation.id),
        ("联络戊", "liaison", tree.garment.id),
    ]
    assert [u.username for u in made] == ["liaison0001", "wu.liaison"]
    assert all(links.live_link(u) is not None for u in made)


def test_an_unknown_role_is_refused_by_the_service(people):
    with pytest.raises(ServiceError):
        bulk.start(people["boss"], "admin", "x.xlsx", sheet([["甲", CITY, ""]]))
    assert kept() is None


def test_the_upload_form_refuses_a_role_other_than_judge_or_liaison(app, people):
    client = login(app, "boss")
    response = upload(client, sheet([["甲", CITY, ""]]), role="organizer")
    assert response.status_code == 422
    assert kept() is None


# Scope -----------------------------------------------------------------------------------------------


def test_an_organizer_cannot_import_for_another_countys_units(app, people):
    client = login(app, "ssorg")
    rows = [["甲", JJ, ""], ["乙", AIR, ""], ["丙", CITY, ""], ["丁", GARMENT, ""]]
    upload(client, sheet(rows))
    problems = {(p["row"], p["field"]) for p in kept().problems}
    assert problems == {(2, "unit"), (3, "unit"), (4, "unit")}
    post(client, f"/accounts/import/{kept().token}/confirm", {"mode": "valid"})
    made = created_by_import()
    assert [u.display_name for u in made] == ["丁"]  # only the row in their own county

    # A file with nothing of their own creates nothing at all.
    upload(client, sheet([["甲", JJ, ""], ["乙", AIR, ""]]), role="liaison")
    token = kept().token
    response = post(client, f"/accounts/import/{token}/confirm", {"mode": "valid"})
    assert "No row is valid: nothing to import." in text(client.get(response.headers["Location"]))
    assert [u.display_name for u in created_by_import()] == ["丁"]


def test_an_organizer_never_reaches_another_organizers_upload(app, people):
    owner = login(app, "ssorg")
    upload(owner, sheet([["丁", GARMENT, ""]]))
    token = kept().token
    other = login(app, "jjorg")
    assert other.get(f"/accounts/import/{token}").status_code == 404
    assert post(other, f"/accounts/import/{token}/confirm", {"mode": "all"}).status_code == 404
    assert post(other, f"/accounts/import/{token}/discard").status_code == 404
    assert kept() is not None and usernames() == set(BEFORE)
    # Not even an admin opens it: an upload is its uploader's own.
    assert login(app, "boss").get(f"/accounts/import/{token}").status_code == 404


def test_a_kept_upload_is_checked_again_against_its_confirmer(app, people):
    """The rows are checked against the actor on confirmation too: a tampered upload gains nothing."""
    client = login(app, "jjorg")
    upload(client, sheet([["甲", JJ, ""]]))
    upload_row = kept()
    # As if the kept rows had been changed after the check: the row now names another county.
    upload_row.rows = [{**upload_row.rows[0], "unit": SS}]
    db.session.commit()
    response = post(client, f"/accounts/import/{upload_row.token}/confirm", {"mode": "all"})
    assert response.status_code == 302
    assert "The accounts changed since this report was made" in text(client.get(response.headers["Location"]))
    assert {(p["row"], p["field"]) for p in kept().problems} == {(2, "unit")}
    assert usernames() == set(BEFORE)


# Files that are not a sheet of people ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, data, message",
    [
        ("people.csv", "姓名,单位\n林清华,晋江市总工会\n".encode(), "Upload an .xlsx workbook (Excel 2007 or later)"),
        ("people.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "Upload an .xlsx workbook"),
        ("people.xlsx", b"this is not a zip file", "The file is not an Excel .xlsx workbook, or it is damaged"),
        ("people.xlsx", sheet([["林清华", "晋江市总工会"]], headers=["名字", "地方"]), "missing columns: Name, Unit"),
        ("people.xlsx", sheet([]), "The file has no people below its header row."),
    ],
)
def test_a_file_that_is_not_a_sheet_of_people_gets_a_clear_message(app, people, filename, data, message):
    client = login(app, "jjorg")
    response = upload(client, data, filename=filename)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'role="alert"' in page
    assert kept() is None and usernames() == set(BEFORE)


def test_no_file_is_refused(app, people):
    client = login(app, "jjorg")
    boundary, body = encode_multipart({"csrf_token": csrf_token(client, "/accounts/import"), "role": "judge"})
    response = client.post("/accounts/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 422
    assert "Choose a file." in text(response)
    assert kept() is None


def test_headers_are_found_by_name_and_extra_columns_ignored(app, tree, people):
    client = login(app, "jjorg")
    headers = ["备注", "账号", "单位", "姓名"]
    upload(client, sheet([["随便", "hh01", AIR, "黄"]], headers=headers))
    assert kept().problems == []
    (row,) = kept().rows
    assert row == {"row": 2, "name": "黄", "unit": AIR, "username": "hh01", "role": "judge"}


# The template -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role, title", [("judge", "裁判"), ("liaison", "联络员")])
def test_the_template_is_an_xlsx_with_the_expected_headers(app, people, role, title):
    client = login(app, "boss")
    response = client.get(f"/accounts/import/template.xlsx?role={role}")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert f"{role}s-template.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert workbook.active.title == title
    assert list(rows[0]) == HEADERS
    assert len(rows) == 2  # the header and one example, marked as such
    assert str(rows[1][0]).startswith("示例")

    # The template sent back untouched imports nobody: its example row is skipped, never a fake person.
    untouched = upload(client, response.data, role=role, filename=f"{role}s-template.xlsx")
    assert untouched.status_code == 422 and "The file has no people below its header row." in text(untouched)
    assert kept() is None


def test_an_unknown_role_gets_the_judges_template(app, people):
    response = login(app, "jjorg").get("/accounts/import/template.xlsx?role=admin")
    assert response.status_code == 200
    assert "judges-template.xlsx" in response.headers["Content-Disposition"]


# Who may import -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["worker", "judge", "liaison"])
def test_workers_judges_and_liaisons_are_refused(app, tree, people, make_user, role):
    make_user("someone", role, org_unit_id=tree.aviation.id if role == "liaison" else None)
    client = login(app, "someone")
    assert client.get("/accounts/import").status_code == 403
    assert client.get("/accounts/import/template.xlsx").status_code == 403
    token = csrf_token(client, "/account")
    assert upload(client, sheet([["甲", AIR, ""]]), token=token).status_code == 403
    assert kept() is None

    # Nor can they reach an organizer's kept upload.
    upload(login(app, "jjorg"), sheet([["甲", AIR, ""]]))
    kept_token = kept().token
    assert client.get(f"/accounts/import/{kept_token}").status_code == 403
    for action in ("confirm", "discard"):
        data = {"csrf_token": token, "mode": "all"}
        assert client.post(f"/accounts/import/{kept_token}/{action}", data=data).status_code == 403
    assert kept() is not None and usernames() == set(BEFORE) | {"someone"}


def test_anonymous_is_sent_to_login(client, people):
    response = client.get("/accounts/import")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# CSRF -------------------------------------------------------------------------------------------------


def test_posts_without_csrf_are_refused(app, people):
    client = login(app, "jjorg")
    assert upload(client, sheet([["甲", AIR, ""]]), token="forged").status_code == 400
    assert kept() is None
    upload(client, sheet([["甲", AIR, ""]]))
    token = kept().token
    for bad in ({}, {"csrf_token": "forged"}):
        assert client.post(f"/accounts/import/{token}/confirm", data={"mode": "all", **bad}).status_code == 400
        client.post(f"/accounts/import/{token}/discard", data=bad)
    assert kept() is not None  # neither confirmed nor discarded
    assert usernames() == set(BEFORE)
    assert post(client, f"/accounts/import/{token}/confirm", {"mode": "all"}).status_code == 302
    assert [u.display_name for u in created_by_import()] == ["甲"]
