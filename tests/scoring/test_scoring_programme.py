"""Per-entrant factors (a dive's degree of difficulty) and totals in raw points (issue 17, items 3 and 5).

The worked examples are docs/rules.md §1.3 and §3.1.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from comp.scoring import (
    Criterion,
    Entrant,
    FrozenMap,
    MarkSummary,
    Rules,
    Scheme,
    Stage,
    check_scheme,
    compute,
    discrepancies,
    parse_rules,
    rules_to_dict,
)

D = Decimal
# A dive: seven judges in half points, the highest and the lowest dropped, the mean of five × 3 (their sum × 0.6).
DIVE = Criterion("final.d1", "第1跳", D(10), step=D("0.5"), aggregation="trimmed", worth=D(30), factored=True)
POINTS = Rules(total="points", award_min_total=D(0), tiebreak=())
MARKS = ("8.0", "8.5", "7.5", "7.5", "8.0", "7.5", "8.0")


def one_dive(*dives: Criterion) -> Scheme:
    return Scheme((Stage("final", "决赛", D(1), dives),))


def summary(marks=MARKS) -> MarkSummary:
    return MarkSummary.of([D(m) for m in marks])


def entrant(ref: str = "D1", **factors: str) -> Entrant:
    return Entrant(ref, "ok", factors=FrozenMap((f"final.{k}", D(v)) for k, v in factors.items()))


def test_a_dive_is_its_judges_score_times_its_difficulty():
    # Kept 8, 8, 8, 7.5, 7.5 = 39; × 0.6 = 23.4; × DD 1.6 = 37.44 (XIONG Ni's first semifinal dive, Sydney 2000).
    outcome = compute(one_dive(DIVE), POINTS, [entrant(d1="1.6")], {("D1", DIVE.key): summary()})
    result = outcome.entrant("D1")
    assert result.criteria[DIVE.key] == D("37.44") and result.total == D("37.44")


def test_without_a_declared_factor_the_dive_has_no_score():
    outcome = compute(one_dive(DIVE), POINTS, [entrant()], {("D1", DIVE.key): summary()})
    assert outcome.entrant("D1").complete is False and outcome.entrant("D1").rank is None
    assert outcome.complete is False


def test_the_factor_never_touches_discrepancies():
    # The spread is on the judges' own 0–10 marks, whatever the difficulty.
    wide = ("2", "8", "8", "8", "8", "8", "8")
    plain = discrepancies(one_dive(DIVE), {("D1", DIVE.key): summary(wide)}, D("0.2"), ["D1"])
    assert [d.spread for d in plain] == [D(6)]


def test_points_totals_add_the_stages_raw_points():
    second = Criterion("semi.d1", "第1跳", D(10), aggregation="mean")
    scheme = Scheme((Stage("semi", "半决赛", D(30), (second,)), Stage("final", "决赛", D(70), (DIVE,))))
    summaries = {("D1", DIVE.key): summary(), ("D1", second.key): summary(("9",) * 3)}
    outcome = compute(scheme, POINTS, [entrant(d1="2")], summaries)
    result = outcome.entrant("D1")
    # The weights are not used: 9 + 46.80, not a weighted mean out of 100.
    assert result.stages == {"semi": D("9.00"), "final": D("46.80")} and result.total == D("55.80")
    percent = compute(scheme, Rules(tiebreak=()), [entrant(d1="2")], summaries).entrant("D1")
    assert percent.total != result.total


def test_the_rules_say_points_and_keep_saying_it():
    rules = parse_rules({"total": "points", "award_min_total": "500", "tiebreak": []})
    assert rules.total == "points" and rules.award_min_total == 500  # above 100 only for raw points
    assert rules_to_dict(rules, full=False) == {"total": "points", "award_min_total": "500", "tiebreak": []}
    assert "total" not in rules_to_dict(Rules())  # SPEC's rules are written as they were


def test_a_deduction_cannot_be_factored():
    penalty = Criterion("final.penalty", "扣分", D(2), kind="deduction", factored=True)
    assert [code for _path, code, _p in check_scheme(one_dive(DIVE, penalty))] == ["deduction_factored"]


@given(
    marks=st.lists(st.integers(0, 20), min_size=7, max_size=7),
    factor=st.decimals(min_value=D("0.001"), max_value=D("9.999"), places=3),
)
def test_a_factored_score_is_exactly_the_plain_score_times_the_factor(marks, factor):
    values = [D(m) / 2 for m in marks]
    plain = Criterion("final.d1", "第1跳", D(10), step=D("0.5"), aggregation="trimmed", worth=D(30))
    summaries = {("D1", DIVE.key): MarkSummary.of(values)}
    factored = compute(one_dive(DIVE), POINTS, [entrant(d1=str(factor))], summaries).entrant("D1")
    unfactored = compute(one_dive(plain), POINTS, [entrant()], summaries).entrant("D1")
    assert factored.exact_total == unfactored.exact_total * Fraction(factor)


@given(st.lists(st.integers(0, 100), min_size=1, max_size=5))
def test_a_points_total_is_the_sum_of_its_stages(scores):
    stages = tuple(
        Stage(f"s{i}", f"第{i}轮", D(i + 1), (Criterion(f"s{i}.c", "分", D(100), aggregation="single"),))
        for i in range(len(scores))
    )
    summaries = {("E", f"s{i}.c"): MarkSummary.of([D(v)]) for i, v in enumerate(scores)}
    result = compute(Scheme(stages), POINTS, [Entrant("E", "ok")], summaries).entrant("E")
    assert result.exact_total == sum(scores)
