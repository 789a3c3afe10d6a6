"""Printable lists: PDFs in the embedded CJK font only, .xlsx with formula cells neutralised."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, Entrant
from comp.services.hall import draw, printing
from tests.hall.conftest import add_entrants


@pytest.fixture()
def drawn(hall_competition):
    """Return a competition with 62 numbered, drawn entrants, one of them named like a formula."""
    competition = hall_competition(extra=59)
    add_entrants(competition, 1, names=['=HYPERLINK("http://evil","点我")'])
    draw.close_registration(competition)
    draw.draw_lots(competition, 2, 40, "lists")
    return competition


def pages(data: bytes) -> int:
    """Count the pages of a reportlab PDF."""
    return len(re.findall(rb"/Type /Page\b(?!s)", data))


def sheet_rows(data: bytes) -> list[tuple]:
    """Return the first sheet's rows of an .xlsx."""
    workbook = load_workbook(io.BytesIO(data))
    return [tuple(c.value for c in row) for row in workbook.worksheets[0].iter_rows()]


@pytest.mark.parametrize("table", [printing.signin_table, printing.workstation_table, printing.codes_table])
def test_pdfs_use_only_the_embedded_cjk_font(app, drawn, table):
    with app.test_request_context():
        data = printing.pdf(drawn, table(drawn))
    assert data.startswith(b"%PDF")
    assert b"/BaseFont /Helvetica" not in data and b"Helvetica" not in data
    assert b"WenQuanYiMicroHei" in data
    assert pages(data) >= 1


def test_a_long_sign_in_sheet_breaks_into_numbered_pages(app, drawn):
    with app.test_request_context():
        data = printing.pdf(drawn, printing.signin_table(drawn))
    assert pages(data) == 4  # 20 rows of 11 mm fit on an A4 page under the header


def test_an_empty_list_still_prints(app, hall_competition):
    competition = hall_competition()
    with app.test_request_context():
        assert pages(printing.pdf(competition, printing.signin_table(competition))) == 1


def test_the_sign_in_sheet_lists_number_name_employer_and_place(app, drawn):
    with app.test_request_context():
        table = printing.signin_table(drawn)
    first = table.rows[0]
    entrant = db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == drawn.id, Entrant.number == 1))
    assert first == (1, entrant.name, "晋江无人机公司", entrant.session, entrant.workstation, "")
    assert [r[0] for r in table.rows] == list(range(1, 63))


def test_the_workstation_list_carries_no_names_nor_codes(app, drawn):
    with app.test_request_context():
        table = printing.workstation_table(drawn)
    names_and_codes = set(db.session.scalars(sa.select(Entrant.name).where(Entrant.competition_id == drawn.id)))
    names_and_codes |= set(db.session.scalars(sa.select(Entrant.secret_code).where(Entrant.competition_id == drawn.id)))
    assert all(len(row) == 3 for row in table.rows)
    assert not {str(v) for row in table.rows for v in row} & names_and_codes
    assert table.rows == sorted(table.rows)


def test_the_xlsx_neutralises_a_name_that_looks_like_a_formula(app, drawn):
    with app.test_request_context():
        table = printing.signin_table(drawn)
        rows = sheet_rows(printing.xlsx(table))
    assert rows[0] == tuple(header for header, _width in table.columns[:5])  # no signature column
    assert len(rows) == 63
    evil = next(r for r in rows if "HYPERLINK" in str(r[1]))
    assert evil[1].startswith("'=")


def test_downloads_are_attachments_with_sensible_names(client, organizer, drawn):
    base = f"/competitions/{drawn.code}/lists"
    for name, ext, kind in [
        ("signin", "pdf", "application/pdf"),
        ("workstations", "pdf", "application/pdf"),
        ("signin", "xlsx", "spreadsheetml"),
        ("workstations", "xlsx", "spreadsheetml"),
        ("codes", "pdf", "application/pdf"),
    ]:
        response = client.get(f"{base}/{name}.{ext}")
        assert response.status_code == 200, (name, ext)
        assert kind in response.mimetype
        assert response.headers["Content-Disposition"] == f"attachment; filename={drawn.code}-{name}.{ext}"
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"{base}/codes.xlsx").status_code == 404
    assert client.get(f"{base}/other.pdf").status_code == 404


def test_printing_the_secret_codes_is_audited(client, organizer, drawn):
    client.get(f"/competitions/{drawn.code}/lists/codes.pdf")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "lists.codes"))
    assert event.actor_id == organizer.id and event.detail == {"entrants": 62}
