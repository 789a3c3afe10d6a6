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


# ---------------------------------------------------------------- best of N attempts (item 2)

RUNS = tuple(Criterion(f"final.run{n}", f"第{n}轮", D(100), aggregation="single") for n in (1, 2, 3))


def runs(best: int = 1) -> Scheme:
    return Scheme((Stage("final", "决赛", D(1), RUNS, best=best),))


def run_marks(ref: str, *values: str | None) -> dict:
    return {(ref, f"final.run{n}"): MarkSummary.of([D(v)]) for n, v in enumerate(values, 1) if v is not None}


def test_the_best_run_counts_and_a_run_not_taken_waits_for_nobody():
    riders = [Entrant("A", "ok", skipped=frozenset({"final.run3"})), Entrant("B", "ok")]
    summaries = run_marks("A", "91", "95", None) | run_marks("B", "93.5", "20", "30")
    outcome = compute(runs(), POINTS, riders, summaries)
    assert outcome.complete and [(r.ref, r.total, r.rank) for r in outcome.entrants] == [
        ("A", D("95.00"), 1),
        ("B", D("93.50"), 2),
    ]


def test_an_unmarked_run_not_recorded_as_not_taken_is_missing():
    outcome = compute(runs(), POINTS, [Entrant("A", "ok")], run_marks("A", "91", "95", None))
    assert not outcome.complete and outcome.entrant("A").rank is None


def test_the_next_best_run_breaks_a_tie_on_the_best():
    rules = Rules(total="points", award_min_total=D(0), tiebreak=("attempts:final",))
    skipped = frozenset({"final.run3"})
    riders = [Entrant("A", "ok", skipped=skipped), Entrant("B", "ok"), Entrant("C", "ok", skipped=skipped)]
    summaries = run_marks("A", "92", "80", None) | run_marks("B", "92", "80", "10") | run_marks("C", "92", "91", None)
    ranks = {r.ref: r.rank for r in compute(runs(), rules, riders, summaries).entrants}
    # C's next best (91) beats 80; A and B tie on 92, 80 and then B's third run beats A's run not taken.
    assert ranks == {"C": 1, "B": 2, "A": 3}


def test_a_best_of_more_than_the_attempts_is_refused():
    assert [code for _path, code, _p in check_scheme(runs(best=4))] == ["best_range"]


@given(st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=3, max_size=3), st.integers(1, 3))
def test_best_of_is_never_below_any_attempt_and_never_above_k_of_the_best(values, best):
    skipped = frozenset(f"final.run{n}" for n, v in enumerate(values, 1) if v is None)
    summaries = run_marks("A", *(None if v is None else str(v) for v in values))
    result = compute(runs(best), POINTS, [Entrant("A", "ok", skipped=skipped)], summaries).entrant("A")
    taken = sorted((v for v in values if v is not None), reverse=True)
    assert result.exact_total == sum(taken[:best])
    assert all(result.exact_total >= v for v in taken)
    # Out of 100, the stage divides by the best k attempts' points.
    percent = compute(runs(best), Rules(tiebreak=()), [Entrant("A", "ok", skipped=skipped)], summaries).entrant("A")
    assert percent.exact_total == Fraction(sum(taken[:best]), best)
