"""Spreadsheets (.xlsx) in and out: neutralised cells, bounded reading, streamed writing.

An upload is measured before openpyxl reads it. openpyxl pads every row to the width and length
a sheet declares, so a 2 KB file declaring A1:XFD1048576 would cost hundreds of megabytes and
a minute. The zip is weighed by its parts' declared sizes first (zipfile reads no further than
them), then every part streams through expat, counting rows, cells and elements, and the first
limit broken refuses the file; only then does openpyxl read the first sheet, bounded by the
rows and columns the scan found.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from xml.parsers.expat import ExpatError, ParserCreate, XMLParserType

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

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
        raise SheetError(_("it is not a zip archive, as every .xlsx file is")) from None
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
                raise SheetError(_("its zip archive is damaged: a part does not match its checksum")) from None
            except (RuntimeError, NotImplementedError):
                raise SheetError(_("its zip archive is encrypted or packed in a way Excel does not use")) from None
    return scan.widest


def _rows(data: bytes, limits: Limits, widest: int) -> list[list]:
    """Return the first sheet's rows as openpyxl reads them, no further than the scan found cells."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl lets zipfile, XML, KeyError and its own failures through as they are
        raise SheetError(_("it is a zip archive but not an Excel workbook")) from None
    try:
        if not workbook.worksheets:
            raise SheetError(_("the workbook has no worksheet"))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared dimension may be larger, or smaller, than the cells
        try:
            return [list(row) for row in sheet.iter_rows(max_row=limits.rows, max_col=widest or None, values_only=True)]
        except Exception:  # a cell naming a shared text that is not there, a date out of range, …
            raise SheetError(_("the first sheet is damaged: some of its cells cannot be read")) from None
    finally:
        workbook.close()


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
        raise ServiceError(_("The file is not a readable .xlsx workbook: %(reason)s.", reason=error)) from None
    if not table:
        raise ServiceError(_("The file is empty."))
    return table
