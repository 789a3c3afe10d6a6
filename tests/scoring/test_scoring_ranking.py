"""Rule 4: rank by published total, then the tie-break chain; ties share a rank."""

from decimal import Decimal as D

import pytest

from comp.scoring import (
    Criterion,
    EntrantResult,
    FrozenMap,
    Scheme,
    Stage,
    applicable_tiebreak,
    rank,
)

SCHEME = Scheme(
    (
        Stage("theory", "理论", D("30"), (Criterion("theory.exam", "考试", D("100")),)),
        Stage("practical", "实操", D("70"), (Criterion("practical.route", "航线", D("40")),)),
    )
)
NO_PRACTICAL = Scheme((SCHEME.stages[0],))
DEFAULT = ("stage:practical", "time")


def entrant(ref, total, practical="0", time=None, status="ok", complete=True, route="0"):
    """Build a scored entrant: total, practical stage score and route criterion score."""
    return EntrantResult(
        ref,
        status,
        None,
        D(total) if complete else None,
        None,
        stages=FrozenMap({"practical": D(practical)}),
        complete=complete,
        time_seconds=time,
        criteria=FrozenMap({"practical.route": D(route)}),
    )


@pytest.mark.parametrize(
    "field, chain, scheme, expected",
    [
        # (ref, total, practical stage, time) rows → ranks
        (
            "plain order",
            [("A", "90", "0", None), ("B", "80", "0", None), ("C", "85", "0", None)],
            SCHEME,
            {"A": 1, "C": 2, "B": 3},
        ),
        ("tie broken by practical", [("A", "90", "80", 100), ("B", "90", "85", 200)], SCHEME, {"B": 1, "A": 2}),
        ("then by time", [("A", "90", "85", 300), ("B", "90", "85", 200)], SCHEME, {"B": 1, "A": 2}),
        (
            "a missing time ranks after a recorded one",
            [("A", "90", "85", None), ("B", "90", "85", 9999)],
            SCHEME,
            {"B": 1, "A": 2},
        ),
        ("two missing times stay tied", [("A", "90", "85", None), ("B", "90", "85", None)], SCHEME, {"A": 1, "B": 1}),
        (
            "full tie shares the rank: 1, 2, 2, 4",
            [("A", "95", "90", 10), ("B", "90", "85", 20), ("C", "90", "85", 20), ("D", "80", "1", 1)],
            SCHEME,
            {"A": 1, "B": 2, "C": 2, "D": 4},
        ),
        (
            "published total decides before any tie-break",
            [("A", "90.01", "0", 999), ("B", "90.00", "100", 1)],
            SCHEME,
            {"A": 1, "B": 2},
        ),
        (
            "no practical stage: straight to time",
            [("A", "90", "99", 300), ("B", "90", "0", 200)],
            NO_PRACTICAL,
            {"B": 1, "A": 2},
        ),
    ],
)
def test_rank(field, chain, scheme, expected):
    results = [entrant(ref, total, practical, time) for ref, total, practical, time in chain]
    assert rank(results, DEFAULT, scheme) == expected


def test_criterion_tie_break():
    results = [entrant("A", "90", route="30"), entrant("B", "90", route="31")]
    assert rank(results, ("criterion:practical.route",), SCHEME) == {"B": 1, "A": 2}
    assert rank(results, (), SCHEME) == {"A": 1, "B": 1}


def test_deduction_criterion_breaks_ties_the_other_way():
    """Less deducted ranks higher: a criterion tie-break on a deduction is ascending."""
    violation = Criterion("practical.violation", "违规", D("10"), kind="deduction")
    scheme = Scheme((Stage("practical", "实操", D("1"), (SCHEME.stages[1].criteria[0], violation)),))
    results = [
        EntrantResult(ref, "ok", None, D("90"), None, complete=True, criteria=FrozenMap({"practical.violation": D(v)}))
        for ref, v in (("A", "2"), ("B", "1"))
    ]
    assert rank(results, ("criterion:practical.violation",), scheme) == {"B": 1, "A": 2}


@pytest.mark.parametrize(
    "status, complete",
    [
        ("absent", False),
        ("disqualified", True),
        ("withdrawn", False),
        ("pending", False),
        ("approved", False),
        ("ok", False),
    ],
)
def test_only_complete_ok_entrants_are_ranked(status, complete):
    others = [entrant("A", "50"), entrant("X", "99", status=status, complete=complete)]
    assert rank(others, DEFAULT, SCHEME) == {"A": 1}


@pytest.mark.parametrize(
    "chain, scheme, kept",
    [
        (DEFAULT, SCHEME, DEFAULT),
        (DEFAULT, NO_PRACTICAL, ("time",)),
        (("criterion:practical.route", "criterion:theory.nope"), SCHEME, ("criterion:practical.route",)),
    ],
)
def test_applicable_tiebreak(chain, scheme, kept):
    assert applicable_tiebreak(chain, scheme) == kept
