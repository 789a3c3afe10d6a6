"""Spreadsheets (.xlsx) in and out: neutralised cells, bounded reading, streamed writing.

An upload is measured before openpyxl reads it. openpyxl pads every row to the width and length
a sheet declares, so a 2 KB file declaring A1:XFD1048576 would cost hundreds of megabytes and
a minute. The zip is weighed by its parts' declared sizes first (zipfile reads no further than
them), then every part streams through expat, counting rows, cells and elements, and the first
limit broken refuses the file; only then does openpyxl read the first sheet, bounded by the
rows and columns the scan found.
"""

from __future__ import annotations

import difflib
import io
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from xml.parsers.expat import ExpatError, ParserCreate, XMLParserType

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from comp.services import ServiceError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 20_000
MAX_COLS = 64
# 5,000 rows of 30 columns. It bounds time (openpyxl reads about 40,000 cells a second) and, through
# the element count, the memory of the parts openpyxl parses whole: any part can be routed there.
MAX_CELLS = 150_000
MAX_PARTS = 500  # a workbook with a few pictures has a few dozen
MAX_UNPACKED = 32 * 1024 * 1024  # 150,000 cells of 20 Chinese characters unpack to about 16 MB
MAX_RATIO = 100  # spreadsheets pack 5 to 25 times; deflate bombs 1,000 times
RATIO_FLOOR = 1024 * 1024  # below this a part may pack as well as it likes: the element count bounds it
CHUNK = 64 * 1024
MAIN_NAMESPACES = frozenset(
    {"http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main"}
)
CELL_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


class Formula(str):
    """A cell holding a formula, as read: its text ("=1+1"). Imports refuse it: its value may not be in the file."""


EXAMPLE_MARKS = ("示例", "example")


def is_example(cells: Sequence) -> bool:
    """Tell the template's example row: its first cell begins with 示例 or "example"."""
    first = cells[0] if cells else None
    return isinstance(first, str) and first.strip().lower().startswith(EXAMPLE_MARKS)


def formula_message() -> str:
    """Return what a row's report says of a formula cell."""
    return _("a formula is not accepted: type the value itself")


def formula_keys(cells: Sequence, positions: dict[str, int]) -> list[str]:
    """Return the keys of the columns whose cell in this row holds a formula."""
    return [key for key, at in positions.items() if at < len(cells) and isinstance(cells[at], Formula)]


def with_formulas(row: dict, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Replace what a row's report says of its formula cells by one "a formula is not accepted" each."""
    formulas = row.get("formulas") or []
    if not formulas:
        return found
    return [(key, formula_message()) for key in formulas] + [(k, m) for k, m in found if k not in formulas]


def quoted_list(names: Iterable[str]) -> str:
    """Return names as “A”, “B” in the user's language."""
    return _(", ").join(f"“{name}”" for name in names)


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """Return " Did you mean “A” or “B”?" naming the known names closest to `name`, or ""."""
    names = sorted(set(known))
    folded = name.strip().lower()
    close = difflib.get_close_matches(name.strip(), names, n=n, cutoff=0.5)
    close += [k for k in names if folded and (folded in k.lower() or k.lower() in folded) and k not in close]
    if not close:
        return ""
    return _(" Did you mean %(names)s?", names=quoted_list(close[:n]))


class SheetError(ValueError):
    """An upload that is not a readable .xlsx workbook."""


class SheetTooLarge(SheetError):
    """A workbook that breaks a reading limit, refused before openpyxl reads it."""


@dataclass(frozen=True)
class Limits:
    """How much of a workbook is read: rows count the header row, cells every sheet's."""

    rows: int
    cols: int
    cells: int

    @property
    def elements(self) -> int:
        """Return the XML elements allowed in all parts: a cell takes two or three, a shared text two."""
        return 4 * self.cells + 50_000


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


@dataclass(frozen=True)
class Choice:
    """A template column that offers a dropdown: its fixed values, or a list written on the choices sheet."""

    column: int  # counted from 1 in the header row
    title: str  # the list's heading on the choices sheet
    values: Sequence[str] = field(default_factory=tuple)
    strict: bool = True  # refuse other values in Excel; False only warns
    listed: bool = True  # write the values on the choices sheet (else only inline, as "1,2,3")


EXAMPLE_FONT, EXAMPLE_FILL = Font(italic=True, color="666666"), PatternFill("solid", fgColor="F2F2F2")
HEADER_FONT = Font(bold=True)


def write_template(
    title: str, headers: list[str], example: list, choices: Sequence[Choice] = (), rows: int = MAX_ROWS
) -> bytes:
    """Return an import template: the header row, an example row the import skips (its first cell
    begins with 示例), dropdowns on the columns with fixed choices, and the longer lists on a second sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = title[:31]
    sheet.append([safe_cell(h) for h in headers])
    sheet.append([safe_cell(v) for v in example])
    for cell in sheet[1]:
        cell.font = HEADER_FONT
    for cell in sheet[2]:
        cell.font, cell.fill = EXAMPLE_FONT, EXAMPLE_FILL
    sheet.freeze_panes = "A2"
    for position, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = max(12, min(40, 2 * len(header) + 4))
    choices_sheet = _("Choices")
    listed = workbook.create_sheet(choices_sheet)
    listed_column = 0
    for choice in choices:
        if not choice.values:
            continue  # nothing to choose from: the column stays free
        if choice.listed:
            listed_column += 1
            letter = get_column_letter(listed_column)
            listed.cell(row=1, column=listed_column, value=safe_cell(choice.title)).font = HEADER_FONT
            for number, value in enumerate(choice.values, start=2):
                listed.cell(row=number, column=listed_column, value=safe_cell(value))
            listed.column_dimensions[letter].width = max(16, min(60, 2 * max(map(len, choice.values)) + 4))
            last = len(choice.values) + 1
            source = f"{quote_sheetname(choices_sheet)}!${letter}$2:${letter}${last}"
        else:
            source = '"' + ",".join(choice.values) + '"'
        validation = DataValidation(
            type="list",
            formula1=source,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if choice.strict else "warning",
            errorTitle=choice.title[:32],
            error=_("Choose a value from the list.") if choice.strict else _("This value is not in the list."),
        )
        letter = get_column_letter(choice.column)
        validation.add(f"{letter}2:{letter}{rows + 1}")
        sheet.add_data_validation(validation)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(value: int) -> str:
    return f"{value:,}"


def _position(reference: str) -> tuple[int, int] | None:
    """Return (column, row) of a cell address such as "B7" or "$B$7", None for anything else."""
    match = CELL_REFERENCE.fullmatch(reference)
    if match is None:
        return None
    return _column_index(match[1]), int(match[2])


@lru_cache(maxsize=1024)  # a sheet names each of its few columns thousands of times
def _column_index(letters: str) -> int:
    return column_index_from_string(letters.upper())


def _row_number(text: str) -> int:
    """Return a row's number as openpyxl reads it ("7" or "7.0"); refuse anything else."""
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not number.is_integer():
        raise SheetError(_("a row is numbered “%(number)s”, which is not a row number", number=text[:20]))
    return int(number)


def _names(*locals_: str) -> list[str]:
    """Return the names expat gives these SpreadsheetML elements, in either namespace."""
    return [f"{namespace}}}{local}" for namespace in sorted(MAIN_NAMESPACES) for local in locals_]


SHEET_ROOTS, STRINGS_ROOTS = frozenset(_names("worksheet", "dialogsheet")), frozenset(_names("sst"))


class _Scan:
    """Count what a workbook's parts hold, refusing at the first limit broken."""

    def __init__(self, limits: Limits):
        self.limits, self.max_elements = limits, limits.elements
        self.elements = self.cells = self.strings = self.widest = 0
        self.row = self.column = self.rows_in_part = 0
        self.parser: XMLParserType | None = None
        self.visitors: dict[str, Callable[[dict], None]] = {}
        self.sheet_visitors: dict[str, Callable[[dict], None]] = {
            **dict.fromkeys(_names("dimension"), self.dimension),
            **dict.fromkeys(_names("row"), self.row_start),
            **dict.fromkeys(_names("c"), self.cell),
        }
        self.string_visitors: dict[str, Callable[[dict], None]] = dict.fromkeys(_names("si"), self.string)

    def part(self, stream) -> None:
        """Stream one part through expat; a part that is not XML ends where expat stops, as it does for openpyxl."""
        self.parser = parser = ParserCreate(namespace_separator="}")
        parser.StartElementHandler = self.root
        parser.StartDoctypeDeclHandler = self.doctype
        self.row, self.column, self.rows_in_part = 0, 0, 0
        try:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except ExpatError:
            pass  # openpyxl parses with the same expat and fails at the same byte; an image fails at once

    def doctype(self, *_args) -> None:
        raise SheetError(_("it contains a document type declaration, which no .xlsx file has"))

    def root(self, name: str, _attributes: dict) -> None:
        """Count the root element, and choose by it what the part's other elements are looked at for."""
        self.count()
        self.visitors = (
            self.sheet_visitors if name in SHEET_ROOTS else self.string_visitors if name in STRINGS_ROOTS else {}
        )
        assert self.parser is not None  # expat calls this handler while part() parses
        self.parser.StartElementHandler = self.visit if self.visitors else self.count

    def visit(self, name: str, attributes: dict) -> None:
        self.count()
        visit = self.visitors.get(name)
        if visit is not None:
            visit(attributes)

    def count(self, *_element) -> None:
        self.elements += 1
        if self.elements > self.max_elements:
            raise SheetTooLarge(
                _("its contents are too intricate: more than %(limit)s XML elements", limit=_number(self.max_elements))
            )

    def dimension(self, attributes: dict) -> None:
        reference = attributes.get("ref", "")
        position = _position(reference.rpartition(":")[2])
        if position is None:
            return  # openpyxl refuses it when it loads the sheet
        column, row = position
        if row > self.limits.rows:
            raise SheetTooLarge(
                _(
                    "the sheet declares %(rows)s rows (%(reference)s); at most %(limit)s are read",
                    rows=_number(row),
                    reference=reference[:30],
                    limit=_number(self.limits.rows),
                )
            )
        if column > self.limits.cols:
            raise SheetTooLarge(
                _(
                    "the sheet declares %(columns)s columns (%(reference)s); at most %(limit)s are read",
                    columns=_number(column),
                    reference=reference[:30],
                    limit=self.limits.cols,
                )
            )

    def row_start(self, attributes: dict) -> None:
        number = attributes.get("r")
        self.row = _row_number(number) if number is not None else self.row + 1
        self.column, self.rows_in_part = 0, self.rows_in_part + 1
        self.check_row(self.row)
        if self.rows_in_part > self.limits.rows:
            raise SheetTooLarge(_("the sheet has more than %(limit)s rows", limit=_number(self.limits.rows)))

    def check_row(self, number: int) -> None:
        if number > self.limits.rows:
            raise SheetTooLarge(
                _(
                    "the sheet uses row %(row)s; at most %(limit)s rows are read",
                    row=_number(number),
                    limit=_number(self.limits.rows),
                )
            )

    def cell(self, attributes: dict) -> None:
        reference = attributes.get("r")
        if reference is None:
            self.column += 1
        else:
            position = _position(reference)
            if position is None:
                raise SheetError(
                    _("a cell has the address “%(reference)s”, which is not a cell address", reference=reference[:20])
                )
            self.column = position[0]
            self.check_row(position[1])
        if self.column > self.limits.cols:
            raise SheetTooLarge(
                _(
                    "the sheet uses column %(column)s (row %(row)s); at most %(limit)s columns are read",
                    column=get_column_letter(self.column),
                    row=_number(self.row),
                    limit=self.limits.cols,
                )
            )
        self.cells += 1
        if self.cells > self.limits.cells:
            raise SheetTooLarge(_("the workbook has more than %(limit)s cells", limit=_number(self.limits.cells)))
        if self.column > self.widest:
            self.widest = self.column

    def string(self, _attributes: dict) -> None:
        self.strings += 1
        if self.strings > self.limits.cells:
            raise SheetTooLarge(_("the workbook stores more than %(limit)s texts", limit=_number(self.limits.cells)))


def _open(data: bytes) -> zipfile.ZipFile:
    """Open the upload as a zip; refuse one with too many parts, too much inside, or parts packed like a bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise SheetError(
            _("its contents are not in the .xlsx format: it may be an .xls, .csv or text file renamed to .xlsx")
        ) from None
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise SheetTooLarge(
            _(
                "it holds %(count)s files; at most %(limit)s are read",
                count=_number(len(parts)),
                limit=_number(MAX_PARTS),
            )
        )
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise SheetTooLarge(
                _(
                    "a part unpacks to %(ratio)s times its packed size; at most %(limit)s times is read",
                    ratio=_number(part.file_size // max(part.compress_size, 1)),
                    limit=MAX_RATIO,
                )
            )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED:
        raise SheetTooLarge(
            _(
                "it unpacks to %(size)s MB; at most %(limit)s MB are read",
                size=_number(-(-unpacked // 2**20)),
                limit=_number(MAX_UNPACKED // 2**20),
            )
        )
    return archive


def _scan(data: bytes, limits: Limits) -> int:
    """Stream every part of the workbook through the limits; return the widest column used."""
    scan = _Scan(limits)
    with _open(data) as archive:
        for part in archive.infolist():
            try:
                with archive.open(part) as stream:
                    scan.part(stream)
            except (zipfile.BadZipFile, zlib.error, EOFError):
                raise SheetError(_("it is damaged: part of it cannot be unpacked")) from None
            except (RuntimeError, NotImplementedError):
                raise SheetError(_("it is protected by a password, or packed in a way Excel does not use")) from None
    return scan.widest


def _rows(data: bytes, limits: Limits, widest: int) -> list[list]:
    """Return the first sheet's rows as openpyxl reads them, no further than the scan found cells.

    Formulas are read as formulas, not as the values a spreadsheet last saved with them (a file
    written by a program has none): a formula cell is a `Formula`, which an import refuses.
    """
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl lets zipfile, XML, KeyError and its own failures through as they are
        raise SheetError(_("it is a packed file, but not an Excel workbook")) from None
    try:
        if not workbook.worksheets:
            raise SheetError(_("the workbook has no worksheet"))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared dimension may be larger, or smaller, than the cells
        try:
            return [
                [_value(cell) for cell in row] for row in sheet.iter_rows(max_row=limits.rows, max_col=widest or None)
            ]
        except Exception:  # a cell naming a shared text that is not there, a date out of range, …
            raise SheetError(_("the first sheet is damaged: some of its cells cannot be read")) from None
    finally:
        workbook.close()


def _value(cell):
    """Return a cell's value; a formula as a `Formula` (array and table formulas as their text too)."""
    if cell.data_type == "f":
        value = cell.value
        return Formula(value if isinstance(value, str) else str(getattr(value, "text", "") or "="))
    return cell.value


def read_xlsx(
    data: bytes, max_rows: int = MAX_ROWS, *, max_cols: int = MAX_COLS, max_cells: int | None = None
) -> list[list]:
    """Return the first sheet's rows as lists of cell values; refuse a file that is not .xlsx or is too large."""
    limits = Limits(
        rows=max_rows + 1,
        cols=max_cols,  # + 1: the header row
        cells=min((max_rows + 1) * max_cols, MAX_CELLS) if max_cells is None else max_cells,
    )
    return _rows(data, limits, _scan(data, limits))


def read_upload(
    data: bytes,
    filename: str,
    max_bytes: int,
    max_rows: int = MAX_ROWS,
    *,
    max_cols: int = MAX_COLS,
    max_cells: int | None = None,
) -> list[list]:
    """Read an uploaded .xlsx into rows; refuse an oversized, mistyped, unreadable or empty file, saying which."""
    if len(data) > max_bytes:
        raise ServiceError(
            _(
                "The file is too large: %(size)s KB, the limit is %(limit)s KB.",
                size=len(data) // 1024,
                limit=max_bytes // 1024,
            )
        )
    if not filename.lower().endswith(".xlsx"):
        raise ServiceError(_("Upload an .xlsx workbook (Excel 2007 or later); “%(name)s” is not one.", name=filename))
    try:
        table = read_xlsx(data, max_rows=max_rows, max_cols=max_cols, max_cells=max_cells)
    except SheetTooLarge as error:
        raise ServiceError(_("The workbook is larger than an upload may be: %(reason)s.", reason=error)) from None
    except SheetError as error:
        raise ServiceError(
            _(
                "The file is not an Excel .xlsx workbook, or it is damaged (%(reason)s). Open it in Excel or WPS, "
                "save it again as an Excel workbook (.xlsx), and upload that file.",
                reason=error,
            )
        ) from None
    if not table:
        raise ServiceError(_("The file is empty."))
    return table
