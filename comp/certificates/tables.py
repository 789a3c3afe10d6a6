"""Tables drawn as A4 PDFs: the hall's printed lists and the results bulletin.

Drawn on a reportlab canvas in the embedded CJK font only, A4 portrait, with a heading at the
top of every page, the table header repeated and page numbers. Nothing here reads the database:
the services build the `Table` and pass it in.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from comp.certificates.fonts import cjk_font

MARGIN = 15 * mm
FONT_SIZE = 10
MIN_FONT_SIZE = 7
NOTE_SIZE = 9
NOTE_LEADING = NOTE_SIZE * 1.45
NOTE_GAP = 6 * mm


@dataclass(frozen=True)
class Table:
    """A list to print: its title, columns (header, width in mm) and rows of text."""

    title: str
    columns: tuple[tuple[str, float], ...]
    rows: list[tuple]
    row_height: float = 8 * mm
    paper_only: int = 0  # trailing columns left out of the spreadsheet (the signature column)
    notes: tuple[str, ...] = ()  # paragraphs printed under the table, on its last page


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than the width, character by character (Chinese has no spaces)."""
    lines, line = [], ""
    for ch in text:
        if line and stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


def _wrap_words(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than the width, between words where there are spaces (an address stays whole)."""
    lines, line = [], ""
    for word in (w for w in text.replace(" ", " \0").split("\0")):
        if stringWidth(word.rstrip(), font, size) > width:  # a run of Chinese: fill the line, then break anywhere
            pieces = _wrap(line + word, font, size, width)
            lines.extend(pieces[:-1])
            line = pieces[-1]
            continue
        if line and stringWidth(line + word.rstrip(), font, size) > width:
            lines.append(line.rstrip())
            line = ""
        line += word
    return lines + [line.rstrip()] if line.strip() else lines


def _fit(text: str, font: str, width: float, max_lines: int = 1, size: float = FONT_SIZE) -> tuple[list[str], float]:
    """Return the text's lines and a font size at which they fit, shortened with … when they must be."""
    while size > MIN_FONT_SIZE and len(_wrap(text, font, size, width)) > max_lines:
        size -= 0.5
    lines = _wrap(text, font, size, width) or [""]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last + "…"]
    return lines, size


class _Printer:
    """Draw one table over as many A4 pages as it needs."""

    def __init__(self, heading: str, code: str, table: Table):
        self.font = cjk_font()
        self.heading, self.code, self.table = heading, code, table
        self.buffer = io.BytesIO()
        self.canvas = Canvas(
            self.buffer, pagesize=A4, initialFontName=self.font, initialFontSize=FONT_SIZE, pageCompression=1
        )
        self.canvas.setTitle(f"{heading} · {table.title}")
        self.top = A4[1] - MARGIN - 22 * mm
        self.per_page = max(1, int((self.top - MARGIN - 10 * mm) // table.row_height) - 1)

    def render(self) -> bytes:
        rows = self.table.rows or [("—",)]
        pages: list[list] = [rows[i : i + self.per_page] for i in range(0, len(rows), self.per_page)]
        notes = self._note_lines()
        # The notes go under the last rows, or on a page of their own when they do not fit there.
        last_bottom = self.top - (len(pages[-1]) + 1) * self.table.row_height
        if notes and last_bottom - NOTE_GAP - len(notes) * NOTE_LEADING < MARGIN:
            pages.append([])
        for number, chunk in enumerate(pages, start=1):
            self._header(number, len(pages))
            y = self.top
            if chunk:
                y = self._row([h for h, _w in self.table.columns], self.top, shaded=True)
                for row in chunk:
                    y = self._row(row, y)
            if number == len(pages):
                self._notes(notes, y - NOTE_GAP)
            self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()

    def _note_lines(self) -> list[str]:
        width = A4[0] - 2 * MARGIN
        return [line for note in self.table.notes for line in _wrap_words(note, self.font, NOTE_SIZE, width)]

    def _notes(self, lines: list[str], top: float) -> None:
        self.canvas.setFont(self.font, NOTE_SIZE)
        for i, line in enumerate(lines):
            self.canvas.drawString(MARGIN, top - NOTE_SIZE - i * NOTE_LEADING, line)

    def _header(self, page: int, pages: int) -> None:
        c, width = self.canvas, A4[0]
        lines, size = _fit(self.heading, self.font, width - 2 * MARGIN, 1, 14)
        c.setFont(self.font, size)
        c.drawCentredString(width / 2, A4[1] - MARGIN - 6 * mm, lines[0])
        c.setFont(self.font, 12)
        c.drawCentredString(width / 2, A4[1] - MARGIN - 14 * mm, self.table.title)
        c.setFont(self.font, 8)
        c.drawString(MARGIN, MARGIN - 6 * mm, f"{self.code} · {format_datetime(datetime.now(UTC), 'yyyy-MM-dd HH:mm')}")
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
            lines, size = _fit(
                "" if value is None else str(value), self.font, width * mm - 3 * mm, 2 if height >= 10 * mm else 1
            )
            c.setFont(self.font, size)
            leading = size * 1.2
            baseline = bottom + (height + leading * (len(lines) - 1)) / 2 - size * 0.35
            for i, line in enumerate(lines):
                c.drawString(x + 1.5 * mm, baseline - i * leading, line)
            x += width * mm
        return bottom


def pdf(heading: str, code: str, table: Table) -> bytes:
    """Return the table as an A4 PDF under the heading, with the code and the time in every footer."""
    return _Printer(heading, code, table).render()
