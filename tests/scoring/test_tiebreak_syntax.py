"""The tie-break chain's syntax, read in one place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comp.scoring import TieBreak


@pytest.mark.parametrize(
    "entry, parsed",
    [
        ("time", TieBreak("time")),
        ("stage:practical", TieBreak("stage", "practical")),
        ("criterion:practical.safety", TieBreak("criterion", "practical.safety")),
    ],
)
def test_the_three_forms_are_read_and_written_back(entry, parsed):
    assert TieBreak.parse(entry) == parsed
    assert str(parsed) == entry


@pytest.mark.parametrize(
    "entry", ["", "stage", "stage:", "criterion:practical", "criterion:a.b.c", "team:x", "Time", None, 3, ["stage:x"]]
)
def test_anything_else_is_not_an_entry(entry):
    assert TieBreak.parse(entry) is None


def test_what_an_entry_names():
    assert TieBreak("stage", "practical").names("practical")
    assert TieBreak("criterion", "practical.safety").names("practical")
    assert TieBreak("criterion", "practical.safety").names("practical", "safety")
    assert not TieBreak("stage", "practical").names("practical", "safety")
    assert not TieBreak("criterion", "practical.safety").names("theory")
    assert not TieBreak("time").names("practical")


@given(st.text(max_size=30))
def test_an_entry_read_is_written_back_unchanged(entry):
    parsed = TieBreak.parse(entry)
    if parsed is not None:
        assert str(parsed) == entry
