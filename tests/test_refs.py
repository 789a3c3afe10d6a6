"""Refs numbered after a letter (J1 … J10, U0001 …): their number, their order, the next one."""

from __future__ import annotations

from types import SimpleNamespace

from comp.services.common.refs import in_ref_order, last_number, ref_number


def test_a_ref_number_reads_the_digits_after_the_prefix():
    assert ref_number("J12", "J") == 12
    assert ref_number("U0003", "U") == 3


def test_a_ref_of_another_form_counts_as_zero():
    assert [ref_number(ref, "J") for ref in ("U1", "J", "J1a", "xJ1", "", None)] == [0, 0, 0, 0, 0, 0]


def test_the_last_number_is_the_highest_or_zero():
    assert last_number(["J2", "J10", "J9", "chief"], "J") == 10
    assert last_number([], "J") == 0


def test_rows_are_ordered_by_number_then_by_ref():
    rows = [SimpleNamespace(ref=ref) for ref in ("J10", "J2", "X", "J1", "A")]
    assert [row.ref for row in in_ref_order(rows, "J")] == ["A", "X", "J1", "J2", "J10"]
