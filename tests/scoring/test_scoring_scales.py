"""A criterion's range and its points kept apart: signed scales (−3…+3) and judgement marks worth points (0–3 → 5).

Issue 17, items 6 and 10. The examples are the ones docs/rules.md §1.1 works through.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comp.scoring import (
    Criterion,
    MarkError,
    MarkSummary,
    Scheme,
    Stage,
    aggregate,
    check_mark,
    check_scheme,
    discrepancies,
    stage_score,
)

D = Decimal
JUDGEMENT = Criterion("practical.finish", "完成质量", D(3), step=D(1), worth=D(5))
MEASURE = Criterion("practical.size", "尺寸", D(5))
GOE = Criterion("jump.goe", "执行分", D(3), step=D(1), low=D(-3))


def summary(*marks: str) -> MarkSummary:
    return MarkSummary.of([D(m) for m in marks])


def test_a_judgement_of_0_to_3_is_worth_its_points():
    # Marks 2, 3, 3: mean 8/3, ÷ 3 × 5 = 40/9 (4.44 published).
    assert aggregate(JUDGEMENT, summary("2", "3", "3")) == Fraction(40, 9)
    assert JUDGEMENT.points == 5 and MEASURE.points == 5


def test_the_stage_maximum_adds_the_points_not_the_top_marks():
    stage = Stage("practical", "实际操作", D(1), (JUDGEMENT, MEASURE))
    assert stage.maximum == 10
    score = stage_score(stage, {JUDGEMENT.key: Fraction(40, 9), MEASURE.key: Fraction(4)})
    assert score == Fraction(760, 9)  # 100 × (40/9 + 4) ÷ 10 = 84.44…


@pytest.mark.parametrize("value", ["-1", "4", "2.5"])
def test_a_judgement_outside_its_scale_or_step_is_refused(value):
    with pytest.raises(MarkError) as refused:
        check_mark(JUDGEMENT, D(value))
    assert refused.value.code in ("below_minimum", "above_maximum", "off_step")


@pytest.mark.parametrize(
    "value, code", [("-3", None), ("3", None), ("-1", None), ("-4", "below_minimum"), ("0.5", "off_step")]
)
def test_a_signed_scale_takes_marks_from_its_lowest(value, code):
    if code is None:
        check_mark(GOE, D(value))
        return
    with pytest.raises(MarkError) as refused:
        check_mark(GOE, D(value))
    assert refused.value.code == code
    if code == "below_minimum":
        assert refused.value.params["min"] == D(-3)


def test_steps_count_from_the_lowest_mark():
    odd = Criterion("a.b", "x", D(3), step=D(2), low=D(-3))
    for value in ("-3", "-1", "1", "3"):
        check_mark(odd, D(value))
    with pytest.raises(MarkError):
        check_mark(odd, D(0))


def test_negative_marks_average_exactly():
    assert aggregate(GOE, summary("-2", "-1", "1")) == Fraction(-2, 3)


def test_discrepancies_are_measured_on_the_judges_range_not_on_the_points():
    scheme = Scheme((Stage("jump", "跳跃", D(1), (GOE, Criterion("jump.base", "基础", D(10)))),))
    # −3 and +3 on a −3…+3 scale: a spread of 6 of a range of 6.
    found = discrepancies(scheme, {("E1", GOE.key): summary("-3", "3")}, D("0.5"))
    assert [(d.criterion, d.spread, d.share) for d in found] == [(GOE.key, D(6), Fraction(1))]
    # −1 and +1 is a third of the range: below the flag line of one half.
    assert discrepancies(scheme, {("E1", GOE.key): summary("-1", "1")}, D("0.5")) == ()
    scheme = Scheme((Stage("practical", "实际操作", D(1), (JUDGEMENT,)),))
    # 0 and 3 on the 0–3 judgement is the whole range, whatever the 5 points it is worth.
    (flag,) = discrepancies(scheme, {("E1", JUDGEMENT.key): summary("0", "3")}, D("0.5"))
    assert flag.share == 1


@pytest.mark.parametrize(
    "criterion, path, code",
    [
        (Criterion("s.c", "x", D(3), low=D(3)), "low", "low_not_below_max"),
        (Criterion("s.c", "x", D(3), low=D(5)), "low", "low_not_below_max"),
        (Criterion("s.c", "x", D(3), kind="deduction", low=D(-1)), "low", "deduction_signed"),
        (Criterion("s.c", "x", D(3), low=D("-0.125")), "low", "too_many_places"),
        (Criterion("s.c", "x", D(3), worth=D(0)), "worth", "not_positive"),
        (Criterion("s.c", "x", D(3), worth=D("2.555")), "worth", "too_many_places"),
    ],
)
def test_a_range_or_points_that_cannot_be_used_is_refused(criterion, path, code):
    stage = Stage("s", "S", D(1), (criterion, Criterion("s.d", "y", D(1))))
    problems = check_scheme(Scheme((stage,)))
    assert [(p, c) for p, c, _params in problems] == [(f"stages[0].criteria[0].{path}", code)]


marks_0_to_3 = st.lists(st.integers(0, 3), min_size=1, max_size=7)


@given(marks_0_to_3, st.integers(1, 10_000))
def test_a_judgement_score_stays_within_zero_and_its_points(marks, worth_cents):
    criterion = Criterion("s.c", "x", D(3), step=D(1), worth=D(worth_cents).scaleb(-2))
    score = aggregate(criterion, MarkSummary.of([D(m) for m in marks]))
    assert score is not None and 0 <= score <= Fraction(worth_cents, 100)
    # The same marks on the plain scale, scaled by the points: nothing lost, nothing rounded.
    plain = aggregate(Criterion("s.c", "x", D(3), step=D(1)), MarkSummary.of([D(m) for m in marks]))
    assert plain is not None and score == plain / 3 * Fraction(worth_cents, 100)


@given(st.lists(st.integers(-300, 300), min_size=1, max_size=7))
def test_a_signed_mean_lies_between_the_lowest_and_highest_mark(cents):
    criterion = Criterion("s.c", "x", D(3), low=D(-3))
    marks = [D(c).scaleb(-2) for c in cents]
    for mark in marks:
        check_mark(criterion, mark)
    score = aggregate(criterion, MarkSummary.of(marks))
    assert score is not None and Fraction(min(marks)) <= score <= Fraction(max(marks))


# ---- a rule that rounds each criterion before it counts (保留两位小数; the ISU's components)


def test_the_aggregated_mark_is_rounded_half_up_before_it_counts():
    kept = Criterion("s.c", "x", D(10), places=2)
    assert aggregate(kept, summary("8.25", "8.5", "9")) == Fraction("8.58")  # 25.75 ÷ 3 = 8.58333…
    assert aggregate(kept, summary("8.25", "8.5", "8.5", "8.5")) == Fraction("8.44")  # 8.4375: the half goes up
    assert aggregate(Criterion("s.c", "x", D(10), places=0), summary("7", "8")) == 8  # 7.5 → 8
    assert aggregate(Criterion("s.c", "x", D(10)), summary("8.25", "8.5", "9")) == Fraction(103, 12)  # exact


def test_a_skating_component_is_rounded_then_multiplied_by_its_factor():
    # A component marked 0.25–10, factor 1.67 (worth 16.7): the trimmed mean to 2 places, then × 1.67, exact.
    component = Criterion("pcs.skating", "滑行技术", D(10), aggregation="trimmed", worth=D("16.7"), places=2)
    marks = summary("8.25", "8.5", "8.75", "8.5", "9", "8.25", "8.75", "8.5", "8.75")
    # Drop one 9 and one 8.25: (8.25 + 8.5 × 3 + 8.75 × 3) ÷ 7 = 60 ÷ 7 = 8.5714… → 8.57 → × 1.67 = 14.3119.
    assert aggregate(component, marks) == Fraction("8.57") * Fraction("1.67")


@pytest.mark.parametrize("places", [5, -1, True, "2"])
def test_a_number_of_places_outside_0_to_4_is_refused(places):
    stage = Stage("s", "S", D(1), (Criterion("s.c", "x", D(3), places=places),))
    assert [(p, c) for p, c, _ in check_scheme(Scheme((stage,)))] == [("stages[0].criteria[0].places", "places_range")]


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=7), st.integers(0, 4))
def test_a_rounded_score_is_within_half_a_unit_of_the_exact_one(cents, places):
    marks = MarkSummary.of([D(c).scaleb(-2) for c in cents])
    exact = aggregate(Criterion("s.c", "x", D(10)), marks)
    rounded = aggregate(Criterion("s.c", "x", D(10), places=places), marks)
    assert exact is not None and rounded is not None
    assert abs(rounded - exact) <= Fraction(1, 2 * 10**places)
    assert (rounded * 10**places).denominator == 1


def test_the_rules_may_round_every_criterion_that_sets_no_places_of_its_own():
    from comp.scoring import Entrant, Rules, compute, parse_rules

    scheme = Scheme(
        (
            Stage(
                "practical",
                "实际操作",
                D(1),
                (Criterion("practical.a", "甲", D(10)), Criterion("practical.b", "乙", D(10), places=0)),
            ),
        )
    )
    summaries = {("E1", "practical.a"): summary("7", "8", "8"), ("E1", "practical.b"): summary("7", "8")}
    exact = compute(scheme, Rules(tiebreak=()), [Entrant("E1", "ok")], summaries).entrants[0]
    kept = compute(
        scheme, parse_rules({"criterion_places": 1, "tiebreak": []}, scheme), [Entrant("E1", "ok")], summaries
    )
    # a: 23/3 = 7.666… → 7.7 under the rule; b keeps its own 0 places: 7.5 → 8 either way.
    assert exact.criteria == {"practical.a": D("7.67"), "practical.b": D("8.00")}
    assert kept.entrants[0].criteria == {"practical.a": D("7.70"), "practical.b": D("8.00")}
    assert kept.entrants[0].total == D("78.50") and exact.total == D("78.33")


@pytest.mark.parametrize("value", [5, -1, "2", True, 1.5])
def test_a_rule_rounding_to_places_outside_0_to_4_is_refused(value):
    from comp.scoring import RuleError, parse_rules

    with pytest.raises(RuleError) as refused:
        parse_rules({"criterion_places": value})
    assert [(p, c) for p, c, _ in refused.value.problems] == [("rules.criterion_places", "places_range")]


def test_the_rule_is_written_back_only_when_set():
    from comp.scoring import Rules, parse_rules, rules_to_dict

    assert "criterion_places" not in rules_to_dict(Rules())
    assert rules_to_dict(parse_rules({"criterion_places": 2}))["criterion_places"] == 2
    assert rules_to_dict(parse_rules({"criterion_places": 2}), full=False) == {"criterion_places": 2}
