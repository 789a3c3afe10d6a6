"""Reading uploaded .xlsx files: legit workbooks exactly, hostile ones refused before openpyxl pads them.

Every hostile file is built here with zipfile around a minimal workbook skeleton; the big ones are
written into the zip in chunks, so building them costs the test little.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator

import openpyxl.xml
import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from comp.services import ServiceError
from comp.services.common import sheets
from comp.services.common.sheets import SheetError, SheetTooLarge, read_upload, read_xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml"

SKELETON = {
    "[Content_Types].xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{CT_MAIN}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT_MAIN}.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="{CT_MAIN}.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{CT_MAIN}.sharedStrings+xml"/>
</Types>""",
    "_rels/.rels": f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>""",
    "xl/workbook.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>""",
    "xl/_rels/workbook.xml.rels": f"""<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="{PKG_REL}">
<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/>
<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>""",
    # openpyxl warns about a workbook without styles, and the suite turns warnings into errors
    "xl/styles.xml": f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="{MAIN}"><fonts count="1"><font/></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>
<cellXfs count="1"><xf xfId="0"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>""",
}


def chunks(*parts: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """Yield bytes and the items of iterables of bytes in order."""
    for part in parts:
        if isinstance(part, bytes):
            yield part
        else:
            yield from part


def worksheet(rows: bytes | Iterable[bytes], dimension: str | None = None) -> Iterator[bytes]:
    """Yield a worksheet part around the given <row> elements, with a <dimension> if one is given."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}">'.encode()
    if dimension:
        head += f'<dimension ref="{dimension}"/>'.encode()
    return chunks(head + b"<sheetData>", rows, b"</sheetData></worksheet>")


def shared_strings(items: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """Yield a sharedStrings part around the given <si> elements."""
    return chunks(f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{MAIN}">'.encode(), items, b"</sst>")


def workbook(sheet: Iterable[bytes], strings: Iterable[bytes] | None = None, **extra: bytes | str) -> bytes:
    """Return a zipped workbook: the skeleton (extra parts added or replacing), the sheet and texts streamed in."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**SKELETON, **extra}.items():
            archive.writestr(name, text)
        for name, content in [("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)]:
            with archive.open(name, "w") as part:
                for chunk in content if content is not None else shared_strings(b""):
                    part.write(chunk)
    return buffer.getvalue()


def cell(ref: str, text: str = "x") -> bytes:
    """Return an inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def row(number: int, *cells: bytes) -> bytes:
    """Return a <row> holding the cells."""
    return f'<row r="{number}">'.encode() + b"".join(cells) + b"</row>"


def small(rows: int = 3, columns: int = 3) -> bytes:
    """Return a hand-built workbook of `rows` rows of `columns` inline cells, no dimension."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return workbook(
        worksheet(
            b"".join(
                row(r, *(cell(f"{letters[c]}{r}", f"{letters[c]}{r}") for c in range(columns)))
                for r in range(1, rows + 1)
            )
        )
    )


def dimension_bomb() -> bytes:
    """Return the probe's file: the whole sheet declared, one cell in its last row."""
    return workbook(worksheet(row(1048576, cell("A1048576")), dimension="A1:XFD1048576"))


def empty_cells(count: int) -> Iterator[bytes]:
    """Yield `count` empty cells all at A1, in 100,000-cell chunks: millions of them pack into a few KB."""
    block = b'<c r="A1"/>' * 100_000
    for _ in range(count // 100_000):
        yield block


def openpyxl_sheet(rows: int = 5000) -> tuple[bytes, list[list]]:
    """Return a workbook openpyxl writes (header + rows, dimension A1:G<rows+1>) and the rows it holds."""
    table = [["姓名 Name", "身份证号 ID number", "手机 Phone", "单位 Employer", "工种 Trade", "技能等级 Grade", "Team"]]
    table += [
        [
            f"工人{n:04d}",
            f"35050219900101{n:04d}",
            13900000000 + n,
            "晋江翔鹭航空科技有限公司",
            "焊工",
            n % 5 + 1,
            None if n % 3 else f"队{n}",
        ]
        for n in range(rows)
    ]
    book = Workbook()
    for line in table:
        book.active.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), table


def patched(data: bytes, name: str, *, size: int | None = None, flags: int | None = None) -> bytes:
    """Return the zip with one member's recorded uncompressed size, or its flags, rewritten in both headers."""
    buffer, encoded = bytearray(data), name.encode()
    for signature, size_at, flags_at, name_at in [(b"PK\x03\x04", 22, 6, 30), (b"PK\x01\x02", 24, 8, 46)]:
        start = buffer.find(signature)
        while buffer[start + name_at : start + name_at + len(encoded)] != encoded:
            start = buffer.find(signature, start + 1)
        if size is not None:
            buffer[start + size_at : start + size_at + 4] = size.to_bytes(4, "little")
        if flags is not None:
            buffer[start + flags_at : start + flags_at + 2] = flags.to_bytes(2, "little")
    return bytes(buffer)


@pytest.fixture(autouse=True)
def english(app):
    """Read the messages in English: the Chinese may not be merged yet."""
    with force_locale("en"):
        yield


@pytest.fixture(scope="module")
def legit() -> tuple[bytes, list[list]]:
    """Return openpyxl's workbook of a header and 5,000 rows, and those rows."""
    return openpyxl_sheet(5000)


def test_openpyxl_workbook_of_5000_rows_reads_exactly(legit):
    data, table = legit
    assert b'<dimension ref="A1:G5001"' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert read_xlsx(data, max_rows=5000) == table


def test_one_row_over_the_limit_is_refused_by_its_declared_dimension(legit):
    data, _table = legit
    with pytest.raises(SheetTooLarge, match=r"^the sheet declares 5,001 rows \(A1:G5001\); at most 5,000 are read$"):
        read_xlsx(data, max_rows=4999)


def test_a_sheet_exactly_at_the_limits_reads():
    assert read_xlsx(small(rows=4, columns=5), max_rows=3, max_cols=5, max_cells=20)[3] == [
        "A4",
        "B4",
        "C4",
        "D4",
        "E4",
    ]


def test_a_dimension_smaller_than_the_cells_does_not_cut_the_sheet():
    rows = b"".join(row(r, cell(f"A{r}", str(r)), cell(f"C{r}", "c")) for r in (1, 2, 4))
    assert read_xlsx(workbook(worksheet(rows, dimension="A1"))) == [
        ["1", None, "c"],
        ["2", None, "c"],
        [None, None, None],
        ["4", None, "c"],
    ]


def test_ragged_rows_are_padded_to_the_widest_cell():
    rows = row(1, cell("A1", "a")) + row(2, cell("A2"), cell("B2"), cell("D2", "d")) + b'<row r="3"/>'
    assert read_xlsx(workbook(worksheet(rows))) == [["a", None, None, None], ["x", "x", None, "d"], [None] * 4]


def test_cells_and_rows_without_references_count_on():
    rows = (
        b'<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row><row/>'
        b'<row><c t="inlineStr"><is><t>c</t></is></c></row>'
    )
    assert read_xlsx(workbook(worksheet(rows))) == [["a", "b"], [None, None], ["c", None]]


def test_shared_strings_are_read():
    strings = shared_strings(b"<si><t>\xe5\xb7\xa5</t></si><si><r><t>a</t></r><r><t>b</t></r></si>")
    rows = row(1, b'<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1"><v>7</v></c>')
    assert read_xlsx(workbook(worksheet(rows), strings)) == [["工", "ab", 7]]


def test_only_the_first_sheet_is_read_and_the_others_are_measured():
    second = worksheet(row(1, cell("A1", "second")))
    wb_parts = {
        "xl/workbook.xml": SKELETON["xl/workbook.xml"].replace(
            "</sheets>", '<sheet name="Two" sheetId="2" r:id="rId9"/></sheets>'
        ),
        "xl/_rels/workbook.xml.rels": SKELETON["xl/_rels/workbook.xml.rels"].replace(
            "</Relationships>",
            f'<Relationship Id="rId9" Type="{REL}/worksheet" Target="worksheets/sheet2.xml"/></Relationships>',
        ),
    }
    data = workbook(
        worksheet(row(1, cell("A1", "first"))), **wb_parts, **{"xl/worksheets/sheet2.xml": b"".join(second)}
    )
    assert read_xlsx(data) == [["first"]]
    far = worksheet(row(9000, cell("A9000")))
    data = workbook(worksheet(row(1, cell("A1", "first"))), **wb_parts, **{"xl/worksheets/sheet2.xml": b"".join(far)})
    with pytest.raises(SheetTooLarge, match="uses row 9,000"):
        read_xlsx(data, max_rows=5000)


def test_openpyxl_parses_with_the_same_expat_as_the_scan():
    # The scan stops a part where expat stops; lxml would read some parts further than that.
    assert not openpyxl.xml.LXML


def many(element: bytes, count: int) -> Iterator[bytes]:
    """Yield `count` copies of an element in blocks of up to 10,000."""
    for start in range(0, count, 10_000):
        yield element * min(10_000, count - start)


TOO_LARGE = [
    pytest.param(
        dimension_bomb,
        {},
        "the sheet declares 1,048,576 rows (A1:XFD1048576); at most 5,001 are read",
        id="dimension bomb",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(1, cell("A1")), dimension="A1:XFD1")),
        {},
        "the sheet declares 16,384 columns (A1:XFD1); at most 64 are read",
        id="dimension wide",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(1048576, cell("A1048576")))),
        {},
        "the sheet uses row 1,048,576; at most 5,001 rows are read",
        id="last row",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(2, cell("A1048576")))),
        {},
        "the sheet uses row 1,048,576; at most 5,001 rows are read",
        id="cell in the last row",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(1, cell("XFD1")))),
        {},
        "the sheet uses column XFD (row 1); at most 64 columns are read",
        id="column XFD",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(1, *[b"<c/>"] * 65))),
        {},
        "the sheet uses column BM (row 1); at most 64 columns are read",
        id="unnumbered cells",
    ),
    pytest.param(
        lambda: workbook(worksheet(many(b"<row/>", 5002))),
        {},
        "the sheet uses row 5,002; at most 5,001 rows are read",
        id="unnumbered rows",
    ),
    pytest.param(
        lambda: workbook(worksheet(many(b'<row r="1"/>', 5002))),
        {},
        "the sheet has more than 5,001 rows",
        id="one row repeated",
    ),
    pytest.param(
        lambda: workbook(worksheet(chunks(b'<row r="1">', many(b'<c r="A1"/>', 1001), b"</row>"))),
        {"max_cells": 1000},
        "the workbook has more than 1,000 cells",
        id="cells",
    ),
    pytest.param(
        lambda: workbook(worksheet(many(b"<row>" + b"<c/>" * 64 + b"</row>", 2344))),
        {},
        "the workbook has more than 150,000 cells",
        id="cells by default",
    ),
    pytest.param(
        lambda: workbook(worksheet(b""), shared_strings(many(b"<si><t>x</t></si>", 1001))),
        {"max_cells": 1000},
        "the workbook stores more than 1,000 texts",
        id="shared strings",
    ),
    pytest.param(
        lambda: workbook(worksheet(b""), **{"xl/custom.xml": b"<a>" + b"<b/>" * 54_000 + b"</a>"}),
        {"max_cells": 1000},
        "its contents are too intricate: more than 54,000 XML elements",
        id="elements",
    ),
    pytest.param(
        lambda: workbook(worksheet(b""), **{f"xl/media/{n}.png": b"" for n in range(494)}),
        {},
        "it holds 501 files; at most 500 are read",
        id="files",
    ),
]


@pytest.mark.parametrize("build, limits, message", TOO_LARGE)
def test_hostile_workbook_is_refused_saying_which_limit(build, limits, message):
    with pytest.raises(SheetTooLarge) as refusal:
        read_xlsx(build(), max_rows=5000, **limits)
    assert str(refusal.value) == message


PACKED_TIGHT = [
    pytest.param(
        lambda: workbook(worksheet(chunks(b'<row r="1">', empty_cells(3_000_000), b"</row>"))),
        id="3,000,000 empty cells",
    ),
    pytest.param(
        lambda: workbook(worksheet(b""), shared_strings(many(b"<si><t/></si>", 3_000_000))), id="huge sharedStrings"
    ),
    pytest.param(lambda: patched(small(), "xl/worksheets/sheet1.xml", size=2**31), id="size overstated"),
]


@pytest.mark.parametrize("build", PACKED_TIGHT)
def test_part_packed_like_a_bomb_is_refused_before_it_is_unpacked(build):
    with pytest.raises(SheetTooLarge) as refusal:
        read_xlsx(build(), max_rows=5000)
    # the ratio depends on zlib's version; the limit it breaks does not
    assert re.fullmatch(
        r"a part unpacks to [\d,]{3,} times its packed size; at most 100 times is read", str(refusal.value)
    )


def test_unpacked_size_is_limited(monkeypatch, legit):
    monkeypatch.setattr(sheets, "MAX_UNPACKED", 2**20)
    data, _table = legit
    with pytest.raises(SheetTooLarge, match=r"^it unpacks to [23] MB; at most 1 MB are read$"):
        read_xlsx(data, max_rows=5000)


BILLION_LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>"""

NOT_XLSX = "its contents are not in the .xlsx format: it may be an .xls, .csv or text file renamed to .xlsx"
UNREADABLE = [
    pytest.param(b"name,id\n", NOT_XLSX, id="text"),
    pytest.param(b"", NOT_XLSX, id="empty"),
    pytest.param(
        b"PK\x03\x04" + bytes(range(256)) * 2,
        NOT_XLSX,
        id="zip signature, then noise",
    ),
    pytest.param(
        lambda: patched(small(), "xl/worksheets/sheet1.xml", size=100),
        "it is damaged: part of it cannot be unpacked",
        id="size understated",
    ),
    pytest.param(
        lambda: patched(small(), "xl/worksheets/sheet1.xml", flags=1),
        "it is protected by a password, or packed in a way Excel does not use",
        id="encrypted part",
    ),
    pytest.param(
        lambda: zipped({"notes.txt": b"hello"}),
        "it is a packed file, but not an Excel workbook",
        id="zip of something else",
    ),
    pytest.param(
        lambda: workbook(chunks(BILLION_LAUGHS, worksheet(b""))),
        "it contains a document type declaration, which no .xlsx file has",
        id="billion laughs",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(1, b'<c r="1A"/>'))),
        "a cell has the address “1A”, which is not a cell address",
        id="cell address",
    ),
    pytest.param(
        lambda: workbook(worksheet(b'<row r="x"/>')),
        "a row is numbered “x”, which is not a row number",
        id="row number",
    ),
    pytest.param(
        lambda: workbook(worksheet(row(1, b'<c r="A1" t="s"><v>5</v></c>'))),
        "the first sheet is damaged: some of its cells cannot be read",
        id="missing shared string",
    ),
    pytest.param(
        lambda: workbook(worksheet(b""), **{"xl/workbook.xml": f'<workbook xmlns="{MAIN}"><sheets/></workbook>'}),
        "the workbook has no worksheet",
        id="no worksheet",
    ),
]


def zipped(parts: dict[str, bytes]) -> bytes:
    """Return a zip of the given parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("build, message", UNREADABLE)
def test_unreadable_file_is_refused_saying_what_is_wrong(build, message):
    with pytest.raises(SheetError) as refusal:
        read_xlsx(build() if callable(build) else build)
    assert not isinstance(refusal.value, SheetTooLarge)
    assert str(refusal.value) == message


def test_upload_words_a_limit_and_a_damage_differently():
    with pytest.raises(
        ServiceError,
        match=r"^The workbook is larger than an upload may be: the sheet declares "
        r"1,048,576 rows \(A1:XFD1048576\); at most 5,001 are read\.$",
    ):
        read_upload(dimension_bomb(), "reg.xlsx", max_bytes=2**21, max_rows=5000)
    with pytest.raises(
        ServiceError,
        match=r"^The file is not an Excel \.xlsx workbook, or it is damaged \(its contents are not in the \.xlsx "
        r"format: it may be an \.xls, \.csv or text file renamed to \.xlsx\)\. Open it in Excel or WPS, save it "
        r"again as an Excel workbook \(\.xlsx\), and upload that file\.$",
    ):
        read_upload(b"not a workbook", "reg.xlsx", max_bytes=2**21)
    assert read_upload(small(1, 2), "reg.xlsx", max_bytes=2**21, max_cols=2) == [["A1", "B1"]]
