"""Rules 5 and 6: awards by share of the ranked field, or by a minimum total."""

from decimal import Decimal as D

import pytest

from comp.scoring import (
    AwardTier,
    EntrantResult,
    Rules,
    award_by_threshold,
    award_mode,
    awards,
    count_cutoffs,
    share_cutoffs,
)

COMPETITION = Rules.default("competition")
RATING = Rules.default("rating")


@pytest.mark.parametrize(
    "ranked, cutoffs",
    [
        (5, (1, 2, 3)),  # 0.5 → 1, 1.5 → 2, 3.0 → 3: halves go up
        (10, (1, 3, 6)),
        (11, (1, 3, 7)),  # 1.1, 3.3, 6.6
        (15, (2, 5, 9)),  # 1.5 → 2, 4.5 → 5
        (4, (0, 1, 2)),  # 0.4 → 0: no first prize
        (1, (0, 0, 1)),
        (0, (0, 0, 0)),
    ],
)
def test_share_cutoffs(ranked, cutoffs):
    assert share_cutoffs(ranked, COMPETITION.award_tiers) == cutoffs


def field(*rows):
    """Build ranked entrants from (ref, rank, total) rows."""
    return [EntrantResult(ref, "ok", r, D(t), None, complete=True) for ref, r, t in rows]


def test_five_entrants_cut_at_a_half():
    # N=5, 10 %: C_1 = round_half_up(0.5) = 1, so exactly one first prize.
    ranked = field(("A", 1, "95"), ("B", 2, "90"), ("C", 3, "85"), ("D", 4, "80"), ("E", 5, "75"))
    assert awards(ranked, COMPETITION) == {
        "A": "一等奖",
        "B": "二等奖",
        "C": "三等奖",
        "D": None,
        "E": None,
    }


def test_a_tie_straddling_a_cut_off_gives_both_the_better_award():
    # N=5: C_1 = 1, but A and B share rank 1, so both take the first prize.
    ranked = field(("A", 1, "95"), ("B", 1, "95"), ("C", 3, "85"), ("D", 4, "80"), ("E", 5, "75"))
    assert awards(ranked, COMPETITION) == {
        "A": "一等奖",
        "B": "一等奖",
        "C": "三等奖",
        "D": None,
        "E": None,
    }


def test_the_award_minimum_applies_to_shares():
    ranked = field(("A", 1, "59.99"), ("B", 2, "59"), ("C", 3, "40"))
    assert awards(ranked, COMPETITION) == {"A": None, "B": None, "C": None}
    ranked = field(("A", 1, "60.00"), ("B", 2, "59.99"), ("C", 3, "40"))
    assert awards(ranked, COMPETITION) == {"A": "二等奖", "B": None, "C": None}  # C = (0, 1, 2)


def test_unranked_entrants_get_nothing():
    results = field(("A", 1, "95")) + [EntrantResult("X", "absent", None, None, None)]
    assert awards(results, COMPETITION) == {"A": "三等奖"}  # N=1: C = (0, 0, 1)


@pytest.mark.parametrize(
    "total, award",
    [
        ("100", "五星"),
        ("90.00", "五星"),
        ("89.99", "四星"),
        ("80", "四星"),
        ("70", "三星"),
        ("69.99", None),
        ("0", None),
    ],
)
def test_threshold_tiers(total, award):
    assert award_by_threshold(D(total), RATING.award_tiers) == award


def test_threshold_awards_ignore_rank():
    ranked = field(("A", 1, "93.39"), ("B", 2, "87.56"), ("C", 3, "68.28"))
    assert awards(ranked, RATING) == {"A": "五星", "B": "四星", "C": None}


@pytest.mark.parametrize(
    "tiers, mode",
    [
        (COMPETITION.award_tiers, "share"),
        (RATING.award_tiers, "min"),
        ((), None),
    ],
)
def test_award_mode(tiers, mode):
    assert award_mode(tiers) == mode


def test_mixed_tiers_are_refused():
    with pytest.raises(ValueError, match="all carry"):
        award_mode((AwardTier("a", share=D("0.1")), AwardTier("b", min=D("80"))))


def test_no_tiers_no_awards():
    assert awards(field(("A", 1, "99")), Rules(award_tiers=())) == {"A": None}


# ---------------------------------------------------------------- by a fixed number of places

PLACES = Rules(
    award_tiers=(AwardTier("一等奖", count=1), AwardTier("二等奖", count=3), AwardTier("三等奖", count=6)),
    tiebreak=(),
)


def test_fixed_places_give_one_three_and_six():
    # 一等奖1名、二等奖3名、三等奖6名 of a notice, twelve ranked entrants without a tie.
    ranked = field(*((f"E{n}", n, str(99 - n)) for n in range(1, 13)))
    got = awards(ranked, PLACES)
    assert award_mode(PLACES.award_tiers) == "count" and count_cutoffs(PLACES.award_tiers) == (1, 4, 10)
    assert [got[f"E{n}"] for n in range(1, 13)] == ["一等奖"] + ["二等奖"] * 3 + ["三等奖"] * 6 + [None, None]


def test_a_tie_for_first_takes_a_place_from_the_next_tier():
    # Two tied first both take 一等奖; 二等奖 still ends at place 4, so it goes to places 3 and 4 only.
    ranked = field(("A", 1, "95"), ("B", 1, "95"), ("C", 3, "90"), ("D", 4, "89"), ("E", 5, "88"))
    assert awards(ranked, PLACES) == {"A": "一等奖", "B": "一等奖", "C": "二等奖", "D": "二等奖", "E": "三等奖"}


def test_a_tie_across_the_last_cut_off_gives_all_of_them_the_award():
    rows = [(f"E{n}", n, str(99 - n)) for n in range(1, 10)] + [("X", 10, "80"), ("Y", 10, "80"), ("Z", 12, "79")]
    got = awards(field(*rows), PLACES)
    assert got["X"] == got["Y"] == "三等奖" and got["Z"] is None


def test_fixed_places_still_need_the_award_minimum():
    ranked = field(("A", 1, "95"), ("B", 2, "59.99"), ("C", 3, "50"))
    assert awards(ranked, PLACES) == {"A": "一等奖", "B": None, "C": None}


def test_fewer_entrants_than_places_leave_places_empty():
    ranked = field(("A", 1, "95"), ("B", 2, "90"))
    assert awards(ranked, PLACES) == {"A": "一等奖", "B": "二等奖"}


def test_tiers_must_not_mix_places_with_shares():
    with pytest.raises(ValueError):
        award_mode((AwardTier("一等奖", count=1), AwardTier("二等奖", share=D("0.2"))))
