"""Rule 7: team standings from the best members' published totals."""

from decimal import Decimal as D

import pytest

from comp.scoring import EntrantResult, TeamResult, team_standings


def member(ref, team, rank, total):
    """Build a ranked (or, with rank None, unranked) team member."""
    return EntrantResult(ref, "ok", rank, D(total) if total else None, None, complete=rank is not None, team=team)


@pytest.mark.parametrize(
    "members, counted, expected",
    [
        ("best three of four count", 3, [TeamResult("X", 1, D("270.00"), ("A", "B", "C"))]),
        ("a team with fewer counts what it has", 5, [TeamResult("X", 1, D("330.00"), ("A", "B", "C", "D"))]),
        ("counted is a rule", 1, [TeamResult("X", 1, D("100.00"), ("A",))]),
    ],
)
def test_counted_members(members, counted, expected):
    results = [
        member("A", "X", 1, "100"),
        member("B", "X", 2, "90"),
        member("C", "X", 3, "80"),
        member("D", "X", 4, "60"),
    ]
    assert list(team_standings(results, counted)) == expected


def test_ties_broken_by_best_member_then_shared():
    results = [
        member("A1", "A", 2, "90"),
        member("A2", "A", 3, "80"),  # 170, best 90
        member("B1", "B", 1, "95"),
        member("B2", "B", 6, "75"),  # 170, best 95
        member("C1", "C", 3, "80"),
        member("C2", "C", 2, "90"),  # 170, best 90: shares with A
        member("D1", "D", 9, "10"),
    ]
    assert [(t.team, t.rank, t.total, t.members) for t in team_standings(results, 2)] == [
        ("B", 1, D("170"), ("B1", "B2")),
        ("A", 2, D("170"), ("A1", "A2")),
        ("C", 2, D("170"), ("C2", "C1")),
        ("D", 4, D("10"), ("D1",)),
    ]


def test_members_tied_on_rank_listed_by_ref():
    results = [member("Z", "T", 1, "90"), member("M", "T", 1, "90"), member("A", "T", 3, "80")]
    assert team_standings(results, 3)[0].members == ("M", "Z", "A")


def test_unranked_and_teamless_entrants_do_not_count():
    results = [member("A", "T", 1, "90"), member("B", "T", None, None), member("C", "", 2, "80")]
    assert team_standings(results, 3) == (TeamResult("T", 1, D("90"), ("A",)),)
