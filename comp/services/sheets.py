"""Spreadsheets (.xlsx) in and out: neutralised cells, bounded reading, streamed writing."""
from __future__ import annotations

import io
from typing import Iterable

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

from comp.services import ServiceError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 20_000


class SheetError(ValueError):
    """An upload that is not a readable .xlsx workbook."""


def safe_cell(value):
    """Neutralise text a spreadsheet would run as a formula (=, +, -, @) by quoting it."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_xlsx(headers: list[str], rows: Iterable[Iterable], title: str = "Sheet1") -> bytes:
    """Return an .xlsx workbook of one sheet, every text cell neutralised."""
    return write_workbook([(title, headers, rows)])


def write_workbook(sheets: Iterable[tuple[str, list[str], Iterable[Iterable]]]) -> bytes:
    """Return an .xlsx workbook of several (title, headers, rows) sheets, every text cell neutralised."""
    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([safe_cell(h) for h in headers])
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_xlsx(data: bytes, max_rows: int = MAX_ROWS) -> list[list]:
    """Return the first sheet's rows as lists of cell values; refuse a file that is not .xlsx."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl lets zipfile, XML and KeyError failures through as they are
        raise SheetError(_("not a readable .xlsx file (%(error)s)", error=type(error).__name__)) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            if len(rows) > max_rows:
                raise SheetError(_("more than %(count)s rows", count=max_rows))
            rows.append(list(row))
        return rows
    finally:
        workbook.close()


def read_upload(data: bytes, filename: str, max_bytes: int, max_rows: int = MAX_ROWS) -> list[list]:
    """Read an uploaded .xlsx into rows; refuse an oversized, mistyped, unreadable or empty file, saying which."""
    if len(data) > max_bytes:
        raise ServiceError(_("The file is too large: %(size)s KB, the limit is %(limit)s KB.",
                             size=len(data) // 1024, limit=max_bytes // 1024))
    if not filename.lower().endswith(".xlsx"):
        raise ServiceError(_("Upload an .xlsx workbook (Excel 2007 or later); “%(name)s” is not one.", name=filename))
    try:
        table = read_xlsx(data, max_rows=max_rows)
    except SheetError as error:
        raise ServiceError(_("The file is not a readable .xlsx workbook: %(reason)s.", reason=error)) from None
    if not table:
        raise ServiceError(_("The file is empty."))
    return table
