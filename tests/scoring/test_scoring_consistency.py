"""Rules 8 and 9: discrepancies between marks and judge bias."""

from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from comp.scoring import (
    BiasPart,
    Criterion,
    Discrepancy,
    JudgeBias,
    MarkSummary,
    Scheme,
    Stage,
    bias_parts,
    discrepancies,
    judge_bias,
)

ROUTE = Criterion("practical.route", "航线", D("40"))
SAFETY = Criterion("practical.safety", "安全", D("10"))
SCHEME = Scheme((Stage("practical", "实操", D("1"), (ROUTE, SAFETY)),))
SHARE = D("0.20")


@pytest.mark.parametrize(
    "key, marks, flagged",
    [
        ("practical.route", ["30", "38"], False),  # spread 8 = 20 % of 40: not past it
        ("practical.route", ["30", "38.01"], True),
        ("practical.route", ["20", "30", "35"], True),
        ("practical.route", ["40"], False),  # one mark has no spread
        ("practical.safety", ["5", "7"], False),
        ("practical.safety", ["5", "7.5"], True),
    ],
)
def test_discrepancy(key, marks, flagged):
    summaries = {("E1", key): MarkSummary.of(D(m) for m in marks)}
    found = discrepancies(SCHEME, summaries, SHARE)
    assert bool(found) is flagged
    if flagged:
        spread = max(D(m) for m in marks) - min(D(m) for m in marks)
        assert found == (Discrepancy("E1", key, spread, F(spread) / F(SCHEME.criterion(key).max)),)


def test_discrepancies_ordered_by_ref_then_criterion_and_filtered():
    wide = MarkSummary.of([D("0"), D("10")])
    summaries = {
        ("E2", "practical.safety"): wide,
        ("E1", "practical.safety"): wide,
        ("E1", "practical.route"): MarkSummary.of([D("0"), D("40")]),
    }
    found = discrepancies(SCHEME, summaries, SHARE)
    assert [(d.ref, d.criterion) for d in found] == [
        ("E1", "practical.route"),
        ("E1", "practical.safety"),
        ("E2", "practical.safety"),
    ]
    assert [d.ref for d in discrepancies(SCHEME, summaries, SHARE, refs=["E2"])] == ["E2"]


def test_bias_parts_deviate_from_the_other_judges():
    marks = [
        ("J1", "E1", "practical.route", D("40")),
        ("J2", "E1", "practical.route", D("30")),
        ("J3", "E1", "practical.route", D("20")),
        # Two marks only: no basis for a bias, left out.
        ("J1", "E2", "practical.route", D("40")),
        ("J2", "E2", "practical.route", D("0")),
    ]
    # J1: (40 − 25) / 40 = 3/8; J2: (30 − 30) / 40 = 0; J3: (20 − 35) / 40 = −3/8.
    assert bias_parts(marks, SCHEME) == [
        BiasPart("J1", 1, F(3, 8)),
        BiasPart("J2", 1, F(0)),
        BiasPart("J3", 1, F(-3, 8)),
    ]


def test_bias_parts_refuse_an_unknown_criterion():
    with pytest.raises(ValueError, match="practical.nope"):
        bias_parts([("J1", "E1", "practical.nope", D("1"))], SCHEME)


@pytest.mark.parametrize(
    "parts, expected",
    [
        (
            [BiasPart("J1", 2, F("0.2")), BiasPart("J1", 2, F("0.2"))],
            [JudgeBias("J1", 4, F("0.1"), False)],
        ),  # exactly the threshold: not past it
        (
            [BiasPart("J2", 1, F("-0.11")), BiasPart("J1", 3, F("0.31"))],
            [JudgeBias("J1", 3, F("0.31") / 3, True), JudgeBias("J2", 1, F("-0.11"), True)],
        ),
        ([BiasPart("J1", 0, F(0))], []),
        ([], []),
    ],
)
def test_judge_bias(parts, expected):
    assert list(judge_bias(parts, D("0.10"))) == expected


def test_lock_blockers_name_the_incomplete_entrants_and_the_open_flags():
    from comp.scoring import LockBlocker, lock_blockers
    from comp.scoring.types import EntrantResult, Results

    done = EntrantResult("E1", "ok", 1, None, None, complete=True)
    due = EntrantResult("E2", "ok", None, None, None, complete=False)  # a mark still due
    absent = EntrantResult("E3", "absent", None, None, None)
    results = Results((done, due, absent))
    assert lock_blockers(results) == (LockBlocker("marks-missing", ("E2",)),)
    assert lock_blockers(results, ["K7 theory.exam"]) == (
        LockBlocker("marks-missing", ("E2",)),
        LockBlocker("discrepancies-open", ("K7 theory.exam",)),
    )
    assert lock_blockers(Results((done, absent))) == ()
