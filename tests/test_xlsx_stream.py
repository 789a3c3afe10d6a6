"""The streamed .xlsx writer: what openpyxl reads back is what went in, chunk by chunk."""

import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from comp.services.common import xlsx_stream


def _read(chunks) -> tuple[str, list[tuple]]:
    sheet = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
    return sheet.title, list(sheet.iter_rows(values_only=True))


def test_round_trip_with_numbers_text_and_gaps():
    title, rows = _read(
        xlsx_stream.stream(
            ["姓名 Name", "名次 Rank", "总分"], [["张三", 1, Decimal("98.50")], ["李四", None, ""]], "人才库"
        )
    )
    assert title == "人才库"
    assert rows == [("姓名 Name", "名次 Rank", "总分"), ("张三", 1, 98.5), ("李四", None, None)]


def test_formulas_are_neutralised_and_xml_is_escaped():
    _, rows = _read(xlsx_stream.stream(["a"], [['=HYPERLINK("x")'], ["<b>&\"'"], ["bell\x07 here"]]))
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("x")', "<b>&\"'", "bell here"]


def test_streams_in_chunks_and_keeps_every_row():
    chunks = list(xlsx_stream.stream(["n"], ([i] for i in range(5001))))
    assert len(chunks) > 2  # the download starts before the last row is written
    _, rows = _read(chunks)
    assert len(rows) == 5002 and rows[-1] == (5000,)


def test_a_title_excel_refuses_is_cleaned():
    title, _ = _read(xlsx_stream.stream(["a"], [], "a/b:c*d?e[f]g" * 5))
    assert "/" not in title and ":" not in title and len(title) <= 31


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20), max_size=8))
def test_any_text_survives(values):
    _, rows = _read(xlsx_stream.stream(["h"] * max(len(values), 1), [values]))
    cleaned = [xlsx_stream._ILLEGAL.sub("", str(xlsx_stream.safe_cell(v))) or None for v in values]
    got = list(rows[1]) if len(rows) > 1 else []
    assert got + [None] * (len(values) - len(got)) == cleaned
