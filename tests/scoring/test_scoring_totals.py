"""Rules 2 and 3: stage scores and totals are exact; only published figures are rounded."""

from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from comp.scoring import (
    Criterion,
    Scheme,
    Stage,
    publish,
    round_half_up,
    stage_score,
    stage_scores,
    total,
)


@pytest.mark.parametrize(
    "exact, published",
    [
        (F("0.125"), D("0.13")),  # banker's rounding would give 0.12
        (F("0.135"), D("0.14")),
        (F("2.675"), D("2.68")),  # float(2.675) is 2.67499…; exact half-up is 2.68
        (F("0.3") * F("81.95"), D("24.59")),  # 24.585 exactly; 0.3 * 81.95 in float is 24.584999…
        (F(1, 3), D("0.33")),
        (F(2, 3), D("0.67")),
        (F("89.704"), D("89.70")),
        (F("59.995"), D("60.00")),
        (F(0), D("0.00")),
        (F(100), D("100.00")),
        (F("-0.125"), D("-0.13")),  # halves go away from zero, as Decimal's ROUND_HALF_UP
        (F("-0.001"), D("0.00")),  # no "-0.00"
    ],
)
def test_publish_rounds_half_up_from_the_exact_value(exact, published):
    figure = publish(exact)
    assert figure == published
    assert str(figure) == str(published)


@pytest.mark.parametrize(
    "exact, places, expected",
    [
        (F("0.0125"), 3, "0.013"),
        (F("-0.0105"), 3, "-0.011"),
        (F("2.5"), 0, "3"),
        (F("3.5"), 0, "4"),
        (F("0.5"), 0, "1"),
        (F("0.49999"), 0, "0"),
    ],
)
def test_round_half_up(exact, places, expected):
    assert str(round_half_up(exact, places)) == expected


PRACTICAL = Stage(
    "practical",
    "实际操作",
    D("70"),
    (
        Criterion("practical.route", "航线飞行", D("40")),
        Criterion("practical.safety", "安全操作", D("10")),
        Criterion("practical.violation", "违规扣分", D("10"), kind="deduction"),
    ),
)
THEORY = Stage("theory", "理论知识", D("30"), (Criterion("theory.exam", "理论考试", D("100"), aggregation="single"),))
SCHEME = Scheme((THEORY, PRACTICAL))


@pytest.mark.parametrize(
    "route, safety, violation, score",
    [
        ("40", "10", "0", F(100)),
        ("35.5", "9", "2", F(85)),  # (35.5 + 9 − 2) / 50
        ("30", "5", "0", F(70)),
        ("2", "1", "10", F(0)),  # the deduction outweighs the raw score: 0, never negative
        ("5", "5", "10", F(0)),  # exactly cancelled
        ("1", "0", "0", F(2)),
    ],
)
def test_stage_score(route, safety, violation, score):
    scores = {"practical.route": F(route), "practical.safety": F(safety), "practical.violation": F(violation)}
    assert stage_score(PRACTICAL, scores) == score


def test_a_stage_with_an_unscored_criterion_has_no_score():
    assert stage_score(PRACTICAL, {"practical.route": F(30), "practical.safety": F(5)}) is None
    assert stage_scores(SCHEME, {"theory.exam": F(80)}) == {"theory": F(80)}


@pytest.mark.parametrize(
    "theory, practical, exact, published",
    [
        (F(88), F(95), F("92.9"), D("92.90")),
        (F("81.95"), F(0), F("24.585"), D("24.59")),  # 30 × 81.95 / 100: the float trap
        # Exact stage scores go into the total: 100/3 → 33.333…, not 33.33 (which gives 33.33).
        (F(100, 3), F(100, 3), F(100, 3), D("33.33")),
        (F(0), F(0), F(0), D("0.00")),
    ],
)
def test_total_is_weighted_exactly_then_published(theory, practical, exact, published):
    result = total(SCHEME, {"theory": theory, "practical": practical})
    assert result == exact
    assert publish(result) == published


def test_total_uses_exact_stage_scores_not_published_ones():
    # Practical 59.375 (published 59.38) weighted 70 and theory 60 weighted 30:
    # exact 59.5625 → 59.56; from published stages 59.566 → 59.57.
    result = total(SCHEME, {"theory": F(60), "practical": F("59.375")})
    assert publish(result) == D("59.56")


def test_a_missing_stage_leaves_no_total():
    assert total(SCHEME, {"theory": F(80)}) is None


def test_zero_total_weight_is_refused():
    flat = Scheme((Stage("theory", "t", D("0"), THEORY.criteria),))
    with pytest.raises(ValueError, match="zero"):
        total(flat, {"theory": F(80)})
