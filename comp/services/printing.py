"""Printable hall lists: sign-in sheet (签到表), workstation list (工位表), secret-code envelope list.

PDFs are drawn on a reportlab canvas in the embedded CJK font only, A4 portrait, with the
competition's name at the top of every page, the table header repeated and page numbers.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from comp.certificates.fonts import cjk_font
from comp.extensions import db
from comp.models import Competition, Entrant, OrgUnit
from comp.models.types import utcnow
from comp.services import audit, transaction
from comp.services.sheets import write_xlsx

LISTED = ("approved", "ok", "absent")
MARGIN = 15 * mm
FONT_SIZE = 10
MIN_FONT_SIZE = 7


@dataclass(frozen=True)
class Table:
    """A list to print: its title, columns (header, width in mm) and rows of text."""

    title: str
    columns: tuple[tuple[str, float], ...]
    rows: list[tuple]
    row_height: float = 8 * mm
    paper_only: int = 0  # trailing columns left out of the spreadsheet (the signature column)


def _entrants(competition: Competition, *order) -> list[tuple]:
    return db.session.execute(
        sa.select(Entrant.number, Entrant.name, OrgUnit.name, Entrant.session, Entrant.workstation,
                  Entrant.secret_code)
        .outerjoin(OrgUnit, OrgUnit.id == Entrant.employer_id)
        .where(Entrant.competition_id == competition.id, Entrant.status.in_(LISTED), Entrant.number.is_not(None))
        .order_by(*order)).all()


def signin_table(competition: Competition) -> Table:
    """Return the sign-in sheet: number, name, employer, session, workstation, and room to sign."""
    rows = [(n, name, employer or "", s or "", w or "", "")
            for n, name, employer, s, w, _code in _entrants(competition, Entrant.number)]
    return Table(_("Sign-in sheet"), ((_("No."), 16), (_("Name"), 32), (_("Employer"), 62), (_("Session"), 16),
                                      (_("Workstation"), 20), (_("Signature"), 34)), rows, 11 * mm, paper_only=1)


def workstation_table(competition: Competition) -> Table:
    """Return the workstation list: session, workstation and number, never a name or a secret code."""
    rows = [(s, w, n) for n, _name, _employer, s, w, _code in
            _entrants(competition, Entrant.session, Entrant.workstation, Entrant.number) if s]
    return Table(_("Workstation list"), ((_("Session"), 40), (_("Workstation"), 60), (_("No."), 80)), rows)


def codes_table(competition: Competition) -> Table:
    """Return the secret-code envelope list: contestant number → secret code, for the organizer only."""
    rows = [(n, code or "") for n, _name, _employer, _s, _w, code in _entrants(competition, Entrant.number)]
    return Table(_("Secret codes — confidential, for the sealed envelope"),
                 ((_("No."), 60), (_("Secret code"), 120)), rows)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than the width, character by character (Chinese has no spaces)."""
    lines, line = [], ""
    for ch in text:
        if line and stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


def _fit(text: str, font: str, width: float, max_lines: int = 1, size: float = FONT_SIZE) -> tuple[list[str], float]:
    """Return the text's lines and a font size at which they fit, shortened with … when they must be."""
    while size > MIN_FONT_SIZE and len(_wrap(text, font, size, width)) > max_lines:
        size -= 0.5
    lines = _wrap(text, font, size, width) or [""]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines = lines[:max_lines - 1] + [last + "…"]
    return lines, size


class _Printer:
    """Draw one table over as many A4 pages as it needs."""

    def __init__(self, competition: Competition, table: Table):
        self.font = cjk_font()
        self.competition, self.table = competition, table
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, initialFontName=self.font, initialFontSize=FONT_SIZE,
                             pageCompression=1)
        self.canvas.setTitle(f"{competition.name} · {table.title}")
        self.top = A4[1] - MARGIN - 22 * mm
        self.per_page = max(1, int((self.top - MARGIN - 10 * mm) // table.row_height) - 1)

    def render(self) -> bytes:
        rows = self.table.rows or [("—",)]
        pages = [rows[i:i + self.per_page] for i in range(0, len(rows), self.per_page)]
        for number, chunk in enumerate(pages, start=1):
            self._header(number, len(pages))
            y = self._row([h for h, _w in self.table.columns], self.top, shaded=True)
            for row in chunk:
                y = self._row(row, y)
            self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()

    def _header(self, page: int, pages: int) -> None:
        c, width = self.canvas, A4[0]
        lines, size = _fit(self.competition.name, self.font, width - 2 * MARGIN, 1, 14)
        c.setFont(self.font, size)
        c.drawCentredString(width / 2, A4[1] - MARGIN - 6 * mm, lines[0])
        c.setFont(self.font, 12)
        c.drawCentredString(width / 2, A4[1] - MARGIN - 14 * mm, self.table.title)
        c.setFont(self.font, 8)
        c.drawString(MARGIN, MARGIN - 6 * mm, f"{self.competition.code} · {format_datetime(utcnow(), 'yyyy-MM-dd HH:mm')}")
        c.drawRightString(width - MARGIN, MARGIN - 6 * mm, _("Page %(page)d of %(pages)d", page=page, pages=pages))

    def _row(self, cells, top: float, shaded: bool = False) -> float:
        c, height, x = self.canvas, self.table.row_height, MARGIN
        bottom = top - height
        if shaded:
            c.setFillGray(0.9)
            c.rect(MARGIN, bottom, sum(w for _h, w in self.table.columns) * mm, height, stroke=0, fill=1)
            c.setFillGray(0)
        for (_header, width), value in zip(self.table.columns, list(cells) + [""] * len(self.table.columns)):
            c.rect(x, bottom, width * mm, height, stroke=1, fill=0)
            lines, size = _fit("" if value is None else str(value), self.font, width * mm - 3 * mm,
                               2 if height >= 10 * mm else 1)
            c.setFont(self.font, size)
            leading = size * 1.2
            baseline = bottom + (height + leading * (len(lines) - 1)) / 2 - size * 0.35
            for i, line in enumerate(lines):
                c.drawString(x + 1.5 * mm, baseline - i * leading, line)
            x += width * mm
        return bottom


def pdf(competition: Competition, table: Table) -> bytes:
    """Return the table as an A4 PDF drawn in the embedded CJK font."""
    return _Printer(competition, table).render()


def xlsx(table: Table) -> bytes:
    """Return the table as an .xlsx workbook, formula-like text neutralised."""
    columns = [h for h, _w in table.columns][:len(table.columns) - table.paper_only]
    return write_xlsx(columns, (row[:len(columns)] for row in table.rows), title=table.title)


def codes_pdf(competition: Competition, actor=None) -> bytes:
    """Return the secret-code envelope list, and audit who printed it."""
    table = codes_table(competition)
    with transaction():
        audit.record("lists.codes", actor, competition, competition, entrants=len(table.rows))
    return pdf(competition, table)
