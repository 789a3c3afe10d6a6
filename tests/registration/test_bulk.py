"""Bulk registration from .xlsx: bad files refused whole, bad rows reported, all or only the valid rows."""

from __future__ import annotations

import html
import io
import os
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Upload, Worker
from comp.services import ServiceError
from comp.services.registration import bulk as registration_bulk
from tests.conftest import valid_id
from tests.registration.conftest import (
    HEADERS,
    TRADE,
    login,
    organizer_of,
    person,
    post,
    sheet,
    table_counts,
    upload,
)
from tests.test_sheets import dimension_bomb


def text(response) -> str:
    """Return the page with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def entrants(competition) -> list[Entrant]:
    """Return the competition's entrants by ref."""
    return db.session.scalars(
        sa.select(Entrant).where(Entrant.competition_id == competition.id).order_by(Entrant.ref)
    ).all()


def kept() -> Upload:
    """Return the one upload waiting for confirmation."""
    return db.session.scalar(sa.select(Upload))


def report(upload_row: Upload) -> set[tuple[int, str]]:
    """Return (row, field) of every problem of the upload."""
    return {(p["row"], p["field"]) for p in upload_row.problems}


def confirm(client, competition, mode: str, approve: bool = True):
    """Confirm the kept upload, with the organizer's "approve at once" ticked or not."""
    return post(
        client,
        f"/competitions/{competition.code}/registrations/upload/{kept().token}/confirm",
        {"mode": mode, **({"approve": "y"} if approve else {})},
    )


@pytest.fixture()
def organizer(auth, make_user, tree):
    """Log in an organizer of the city union."""
    user = organizer_of(make_user, tree.city)
    login(auth, "organizer")
    return user


@pytest.fixture()
def liaison(auth, make_user, tree):
    """Log in the union liaison of 晋江翔鹭 (an enterprise)."""
    user = organizer_of(make_user, tree.aviation, "liaison")
    login(auth, "liaison")
    return user


def test_template_has_the_header_row_the_importer_reads_and_an_example(client, organizer, open_competition):
    competition = open_competition()
    response = client.get(f"/competitions/{competition.code}/registrations/template.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS and len(rows) == 2 and str(rows[1][0]).startswith("示例")


def test_organizer_imports_a_clean_sheet_approved(client, organizer, open_competition, tree):
    competition = open_competition(capacity=10)
    response = upload(client, competition.code, sheet([person(1), person(2, team="一队")]))
    assert response.status_code == 302 and "/upload/" in response.location
    preview = text(client.get(response.location))
    assert "Every row is valid." in preview and "Approve the imported people at once" in preview
    assert valid_id(1) not in preview and valid_id(1)[:4] + "*" * 10 + valid_id(1)[-4:] in preview
    response = confirm(client, competition, "all")
    assert response.status_code == 302 and response.location.endswith(f"/competitions/{competition.code}/registrations")
    rows = entrants(competition)
    assert [(e.ref, e.name, e.status, e.team) for e in rows] == [
        ("R0001", "工人001", "approved", ""),
        ("R0002", "工人002", "approved", "一队"),
    ]
    assert all(e.employer_id == tree.aviation.id and e.registered_by_id == organizer.id for e in rows)
    worker = rows[0].worker
    assert (worker.trade, worker.skill_grade, worker.phone) == (TRADE, 3, "13900000001")
    assert kept() is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "registration.imported"))
    assert event.detail["imported"] == 2 and event.detail["status"] == "approved"


def test_organizer_may_import_as_pending(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1)]))
    confirm(client, competition, "all", approve=False)
    assert [e.status for e in entrants(competition)] == ["pending"]


def test_known_people_are_found_by_id_number(client, organizer, open_competition, make_worker, tree):
    competition = open_competition()
    known = make_worker("工人001", id_number=valid_id(1), employer_id=tree.aviation.id)
    workers = db.session.scalar(sa.select(sa.func.count(Worker.id)))
    upload(client, competition.code, sheet([person(1), person(2)]))
    confirm(client, competition, "all")
    assert db.session.scalar(sa.select(sa.func.count(Worker.id))) == workers + 1
    assert entrants(competition)[0].worker_id == known.id


def test_liaison_imports_pending_and_only_own_employees(client, liaison, open_competition, tree):
    competition = open_competition()
    assert client.get(f"/competitions/{competition.code}/registrations").status_code == 403
    page = text(client.get(f"/competitions/{competition.code}/registrations/upload"))
    assert "You may register employees of 晋江翔鹭航空科技有限公司 only." in page
    upload(client, competition.code, sheet([person(1), person(2, employer="石狮市锦绣服装有限公司")]))
    preview = text(client.get(f"/competitions/{competition.code}/registrations/upload/{kept().token}"))
    assert "wait for the organizer's approval" in preview
    assert report(kept()) == {(3, "employer")}
    assert "you may register only employees of 晋江翔鹭航空科技有限公司" in preview
    response = confirm(client, competition, "valid")
    assert response.status_code == 302
    assert [(e.name, e.status) for e in entrants(competition)] == [("工人001", "pending")]


def test_liaison_respects_the_window(client, liaison, open_competition):
    competition = open_competition(opens_in_days=2)
    response = upload(client, competition.code, sheet([person(1)]))
    assert response.status_code == 422 and "Registration opens on" in text(response)


def test_organizer_uploads_outside_the_window_but_not_when_closed(client, organizer, open_competition):
    late = open_competition(closes_in_days=-1)
    assert upload(client, late.code, sheet([person(1)])).status_code == 302
    closed = open_competition(status="closed")
    response = upload(client, closed.code, sheet([person(1)]))
    assert response.status_code == 422 and "Registration is not open" in text(response)


@pytest.mark.parametrize(
    "data, filename, expected",
    [
        (os.urandom(4000), "reg.xlsx", "The file is not an Excel .xlsx workbook, or it is damaged"),
        (b"PK\x03\x04" + os.urandom(500), "reg.xlsx", "The file is not an Excel .xlsx workbook, or it is damaged"),
        (b"name,id\n", "reg.csv", "Upload an .xlsx workbook"),
        (b"", "reg.xlsx", "The file is not an Excel .xlsx workbook, or it is damaged"),
    ],
)
def test_unreadable_files_are_refused(client, organizer, open_competition, data, filename, expected):
    competition = open_competition()
    before = table_counts()
    response = upload(client, competition.code, data, filename)
    assert response.status_code == 422 and expected in text(response)
    assert table_counts() == before


def test_dimension_bomb_is_refused_before_it_is_read(client, organizer, open_competition):
    competition = open_competition()
    before = table_counts()
    response = upload(client, competition.code, dimension_bomb())
    assert response.status_code == 422
    assert (
        "The workbook is larger than an upload may be: the sheet declares 1,048,576 rows (A1:XFD1048576); "
        "at most 5,001 are read."
    ) in text(response)
    assert table_counts() == before


def test_oversized_file_is_refused(client, organizer, open_competition):
    competition = open_competition()
    response = upload(client, competition.code, b"PK" + b"\0" * (2 * 1024 * 1024 + 10))
    assert response.status_code == 422
    assert "The file is too large" in text(response) and "the limit is 2048 KB" in text(response)
    assert kept() is None


@pytest.mark.parametrize(
    "headers, expected",
    [
        (["姓名", "身份证号", "手机", "单位", "工种"], "missing columns: Skill grade (1-5)"),
        (["Name", "ID number", "Phone", "Employer", "Trade", "Grade", "Age"], "unknown columns: Age"),
        (["名字", "证件", "手机", "单位", "工种", "等级"], "missing columns: Name, ID number"),
        (HEADERS + ["姓名"], "repeated columns: 姓名"),
    ],
)
def test_wrong_columns_are_named(client, organizer, open_competition, headers, expected):
    competition = open_competition()
    response = upload(client, competition.code, sheet([person(1)[: len(headers)]], headers=headers))
    assert response.status_code == 422 and expected in text(response)


def test_columns_in_any_order_and_either_language(client, organizer, open_competition):
    competition = open_competition()
    headers = ["Grade", "Trade", "单位", "Phone", "身份证号码", "姓名"]
    row = person(1)
    upload(client, competition.code, sheet([[row[5], row[4], row[3], row[2], row[1], row[0]]], headers=headers))
    assert kept().problems == []


def test_empty_sheet_is_refused(client, organizer, open_competition):
    competition = open_competition()
    response = upload(client, competition.code, sheet([[None] * 7]))
    assert response.status_code == 422 and "no registrations below its header row" in text(response)


def bad_sheet(competition_code_has_grade_limit: bool = False) -> bytes:
    """Return a sheet with one good row and one bad row for each kind of problem."""
    bad_digit = valid_id(3)[:-1] + ("0" if valid_id(3)[-1] != "0" else "1")
    return sheet(
        [
            person(1),  # row 2: valid
            person(2, name=""),  # row 3: missing name
            person(3, id_number=bad_digit),  # row 4: bad check digit
            person(4, trade="评茶师"),  # row 5: unknown trade
            person(1, name="工人001"),  # row 6: duplicate of row 2
            person(6, employer="不存在的公司"),  # row 7: unknown employer
            person(7, grade=5),  # row 8: ineligible grade
            person(8, name='\'=HYPERLINK("http://x")'),  # row 9: formula-like text
            person(9, grade="高"),  # row 10: grade not a number
            person(10),  # row 11: valid
        ]
    )


def test_every_bad_row_is_reported_with_row_column_and_reason(client, organizer, open_competition):
    competition = open_competition(eligibility={"trades": [TRADE], "min_grade": 3})
    upload(client, competition.code, bad_sheet())
    assert report(kept()) == {
        (3, "name"),
        (4, "id_number"),
        (5, "trade"),
        (6, "id_number"),
        (7, "employer"),
        (8, "grade"),
        (9, "name"),
        (10, "grade"),
    }
    page = text(client.get(f"/competitions/{competition.code}/registrations/upload/{kept().token}"))
    for fragment in (
        "missing",
        "bad ID number: the digits do not agree with the check digit",
        "trade “评茶师” is not one of this competition's trades (无人机驾驶员)",
        "duplicate: the same ID number is in row 2",
        "unknown employer “不存在的公司”: no enterprise has this name",
        "skill grade 五级/初级工 (5) is below the required 三级/高级工 (3)",
        "begins with =, like a spreadsheet formula",
        "must be a whole number from 1 (highest) to 5 (lowest), not “高”",
    ):
        assert fragment in page, fragment
    assert "HYPERLINK" in page and '<a href="http://x"' not in page
    assert "Import only the 2 valid rows" in page and re.search(r'value="all"\s+disabled', page)


def test_a_formula_cell_is_reported_as_a_formula_not_as_missing(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1, name='=HYPERLINK("http://x")')]))
    assert [(p["row"], p["field"], p["message"]) for p in kept().problems] == [
        (2, "name", "a formula is not accepted: type the value itself")
    ]


def test_import_all_is_refused_and_writes_nothing(client, organizer, open_competition):
    competition = open_competition(eligibility={"trades": [TRADE], "min_grade": 3})
    upload(client, competition.code, bad_sheet())
    before = table_counts()
    response = confirm(client, competition, "all")
    assert response.status_code == 302 and "/upload/" in response.location
    assert "8 rows have problems: nothing was imported" in text(client.get(response.location))
    assert table_counts() == before


def test_only_the_valid_rows_are_imported(client, organizer, open_competition):
    competition = open_competition(eligibility={"trades": [TRADE], "min_grade": 3})
    upload(client, competition.code, bad_sheet())
    confirm(client, competition, "valid")
    assert [(e.ref, e.name) for e in entrants(competition)] == [("R0001", "工人001"), ("R0002", "工人010")]
    assert kept() is None
    assert not db.session.scalar(sa.select(Worker).where(Worker.name.like("=%")))


def test_a_failure_while_writing_leaves_nothing_half_written(client, organizer, open_competition, monkeypatch):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1), person(2), person(3)]))
    before = table_counts()
    from comp.services.registration import rows as registration_rows

    real, calls = registration_rows.enter, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(registration_rows, "enter", failing)
    with pytest.raises(RuntimeError):
        registration_bulk.confirm(kept(), organizer, only_valid=False)
    assert table_counts() == before


def test_already_registered_people_are_reported(client, organizer, open_competition, make_worker, tree):
    competition = open_competition()
    worker = make_worker("工人001", id_number=valid_id(1), employer_id=tree.aviation.id)
    db.session.add(Entrant(competition_id=competition.id, ref="R0001", name="工人001", worker_id=worker.id))
    db.session.commit()
    make_worker("工人002", id_number=valid_id(2), employer_id=tree.aviation.id)
    upload(client, competition.code, sheet([person(1), person(2, name="另一个名字")]))
    messages = {(p["row"], p["field"]): p["message"] for p in kept().problems}
    assert "already registered for the competition (R0001" in messages[(2, "id_number")]
    assert messages[(3, "name")] == "does not match the name on record for this ID number"


def test_rows_beyond_the_capacity_are_reported(client, organizer, open_competition):
    competition = open_competition(capacity=3)
    upload(client, competition.code, sheet([person(n) for n in range(1, 6)]))
    assert report(kept()) == {(5, "row"), (6, "row")}
    assert "over capacity: only 3 places are left" in kept().problems[0]["message"]
    confirm(client, competition, "valid")
    assert len(entrants(competition)) == 3


def test_report_that_changed_since_the_preview_is_shown_again(client, organizer, open_competition, make_worker, tree):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1), person(2)]))
    worker = make_worker("工人002", id_number=valid_id(2), employer_id=tree.aviation.id)
    db.session.add(Entrant(competition_id=competition.id, ref="R0001", name="工人002", worker_id=worker.id))
    db.session.commit()
    response = confirm(client, competition, "all")
    assert "The registrations changed since this report was made" in text(client.get(response.location))
    assert report(kept()) == {(3, "id_number")}
    assert len(entrants(competition)) == 1


def test_uploads_belong_to_their_uploader(client, auth, organizer, open_competition, make_user, tree):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1)]))
    token = kept().token
    auth.logout()
    organizer_of(make_user, tree.city, "colleague")
    login(auth, "colleague")
    assert client.get(f"/competitions/{competition.code}/registrations/upload/{token}").status_code == 404
    response = post(client, f"/competitions/{competition.code}/registrations/upload/{token}/confirm", {"mode": "all"})
    assert response.status_code == 404
    assert entrants(competition) == []


def test_discard_forgets_the_upload(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1)]))
    response = post(client, f"/competitions/{competition.code}/registrations/upload/{kept().token}/discard")
    assert response.status_code == 302 and kept() is None and entrants(competition) == []


def test_id_numbers_are_not_kept_in_clear_in_the_upload(client, organizer, open_competition):
    competition = open_competition()
    upload(client, competition.code, sheet([person(1)]))
    assert valid_id(1) not in str(kept().rows)


def test_numbers_typed_as_numbers_are_read_as_text(client, organizer, open_competition):
    competition = open_competition()
    row = person(1)
    row[2], row[5] = 13900000001, 3.0
    upload(client, competition.code, sheet([row]))
    assert kept().problems == []


def test_parse_refuses_more_rows_than_the_limit(app, monkeypatch):
    monkeypatch.setattr(registration_bulk, "MAX_ROWS", 3)
    with force_locale("en"), pytest.raises(ServiceError, match=r"declares 6 rows \(A1:G6\); at most 4 are read"):
        registration_bulk.parse(sheet([person(n) for n in range(1, 6)]), "big.xlsx")


def _statements_to_confirm(competition, user, rows: list[list]) -> int:
    """Count the statements other than INSERT a confirmation of these rows sends (BEGIN and COMMIT aside).

    INSERTs are left out: PostgreSQL gets them in batches (insertmanyvalues); SQLite runs them one by one,
    in process, where a statement costs microseconds, not a round trip.
    """
    stored = registration_bulk.start(competition, user, "sheet.xlsx", sheet(rows))
    db.session.commit()
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith("INSERT"):
            sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        registration_bulk.confirm(db.session.get(Upload, stored.id), user, only_valid=False)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_a_sheet_costs_statements_by_the_batch_not_by_the_row(open_competition, make_user, make_worker, tree):
    # 5,000 rows one round trip or more each took ~30 s on PostgreSQL, past gunicorn's timeout: the people
    # on record and their entries are read for the whole sheet, and the rows are written in one flush.
    user = organizer_of(make_user, tree.city)
    for n in range(1, 11):  # people on record: found by ID number, not created again
        make_worker(f"工人{n:03d}", id_number=valid_id(n), employer_id=tree.aviation.id)
    db.session.commit()
    first, second = open_competition(), open_competition()
    workers = db.session.scalar(sa.select(sa.func.count()).select_from(Worker))
    small = _statements_to_confirm(first, user, [person(n) for n in range(1, 21)])
    large = _statements_to_confirm(second, user, [person(n) for n in range(1, 201)])
    assert large - small < 10, (small, large)  # ten times the rows, the same reads
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Worker)) == workers + 190
