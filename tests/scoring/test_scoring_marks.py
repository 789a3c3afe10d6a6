"""Rule 1: a mark is checked, never clamped; marks aggregate into a criterion score."""

import dataclasses
from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from comp.scoring import Criterion, MarkError, MarkSummary, aggregate, check_mark, parse_mark

ROUTE = Criterion("practical.route", "航线飞行", D("40"))
HALVES = Criterion("practical.safety", "安全操作", D("10"), step=D("0.5"))
PENALTY = Criterion("practical.penalty", "违规扣分", D("5"), kind="deduction")


@pytest.mark.parametrize(
    "criterion, value",
    [
        (ROUTE, D("0")),
        (ROUTE, D("40")),
        (ROUTE, D("35.5")),
        (ROUTE, D("12.25")),
        (ROUTE, D("12.250")),  # trailing zeros are not extra places
        (ROUTE, 7),
        (HALVES, D("9.5")),
        (HALVES, D("10")),
    ],
)
def test_check_mark_accepts(criterion, value):
    assert check_mark(criterion, value) is None


@pytest.mark.parametrize(
    "criterion, value, code, params",
    [
        (ROUTE, D("41"), "above_maximum", {"value": D("41"), "max": D("40")}),
        (ROUTE, D("40.01"), "above_maximum", {"value": D("40.01"), "max": D("40")}),
        (PENALTY, D("6"), "above_deduction", {"value": D("6"), "max": D("5")}),  # not "above the full mark"
        (ROUTE, D("-1"), "below_minimum", {"value": D("-1"), "min": D("0")}),
        (ROUTE, D("12.345"), "too_many_places", {"value": D("12.345")}),
        (ROUTE, D("Infinity"), "not_decimal", {"value": D("Infinity")}),
        (ROUTE, 12.5, "not_decimal", {"value": 12.5}),
        (ROUTE, "12", "not_decimal", {"value": "12"}),
        (ROUTE, True, "not_decimal", {"value": True}),
        (HALVES, D("7.3"), "off_step", {"value": D("7.3"), "step": D("0.5")}),
        (HALVES, D("7.25"), "off_step", {"value": D("7.25"), "step": D("0.5")}),
    ],
)
def test_check_mark_refuses_with_the_figures(criterion, value, code, params):
    """The engine says why by a code and the figures; the application words them."""
    with pytest.raises(MarkError) as caught:
        check_mark(criterion, value)
    assert (caught.value.code, caught.value.params) == (code, params)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [D("NaN"), D("sNaN"), D("-Infinity")])
def test_a_mark_that_is_not_finite_is_refused(value):
    with pytest.raises(MarkError) as caught:
        check_mark(ROUTE, value)
    assert caught.value.code == "not_decimal"


@pytest.mark.parametrize("text, expected", [(" 35.5 ", D("35.5")), ("40", D("40"))])
def test_parse_mark_reads_text(text, expected):
    assert parse_mark(ROUTE, text) == expected


@pytest.mark.parametrize(
    "text, code",
    [("abc", "not_number"), ("", "not_number"), ("40.5", "above_maximum")],
)
def test_parse_mark_refuses(text, code):
    with pytest.raises(MarkError) as caught:
        parse_mark(ROUTE, text)
    assert caught.value.code == code


def _crit(aggregation, expected=None):
    return Criterion("s.c", "c", D("100"), aggregation=aggregation, expected=expected)


@pytest.mark.parametrize(
    "aggregation, marks, score",
    [
        ("mean", ["80"], F(80)),
        ("mean", ["80", "81"], F(161, 2)),
        ("mean", ["1", "1", "2"], F(4, 3)),  # exact thirds, no 1.3333
        ("trimmed", ["80", "90"], F(85)),  # 2 marks: plain mean
        ("trimmed", ["70", "80", "99"], F(80)),  # 3 marks: the middle one
        ("trimmed", ["10", "80", "81", "82", "100"], F(81)),  # 5 marks: mean of the middle 3
        ("trimmed", ["80", "80", "80"], F(80)),  # equal extremes drop one each
        ("median", ["3", "1", "2"], F(2)),
        ("median", ["4", "1", "3", "2"], F(5, 2)),  # even count: mean of the middle two
        ("median", ["80", "81.5"], F(323, 4)),
        ("single", ["88"], F(88)),
        ("single", ["88", "90"], None),  # two values for a measurement are a conflict
        ("mean", [], None),
    ],
)
def test_aggregate(aggregation, marks, score):
    summary = MarkSummary.of(D(m) for m in marks)
    assert aggregate(_crit(aggregation), summary) == score


def test_aggregate_without_a_summary_is_none():
    assert aggregate(_crit("mean"), None) is None


@pytest.mark.parametrize(
    "expected, count, scored",
    [
        (3, 2, False),
        (3, 3, True),
        (3, 4, False),
        (None, 1, True),
        (None, 5, True),
    ],
)
def test_expected_count_must_be_met_exactly(expected, count, scored):
    summary = MarkSummary.of([D("50")] * count)
    assert (aggregate(_crit("trimmed", expected), summary) is not None) is scored


@pytest.mark.parametrize(
    "criterion_expects, entrant_expects, count, scored",
    [
        (3, 2, 2, True),  # one judge recused from this entrant: two marks complete it
        (3, 2, 3, False),  # ... and a third mark is one too many
        (3, None, 2, False),
    ],
)
def test_an_entrants_own_expected_count_overrides_the_criterion(criterion_expects, entrant_expects, count, scored):
    summary = dataclasses.replace(MarkSummary.of([D("50")] * count), expected=entrant_expects)
    assert (aggregate(_crit("trimmed", criterion_expects), summary) is not None) is scored


def test_median_needs_the_values():
    summary = MarkSummary(count=2, total=300, low=100, high=200)
    with pytest.raises(ValueError, match="median"):
        aggregate(_crit("median"), summary)


def test_summary_of_sorts_and_sums_in_hundredths():
    assert MarkSummary.of([D("3"), D("1.5"), D("2")]) == MarkSummary(3, 650, 150, 300, (150, 200, 300))


def test_summary_refuses_marks_finer_than_hundredths():
    with pytest.raises(ValueError, match="2 decimal places"):
        MarkSummary.of([D("1.005")])


def test_aggregate_from_a_database_style_summary():
    # The DB hands over COUNT/SUM/MIN/MAX without values: enough for every method but median.
    summary = MarkSummary(count=4, total=30000, low=6000, high=9000)
    assert aggregate(_crit("trimmed"), summary) == F(75)
    assert aggregate(_crit("mean"), summary) == F(75)


# ---------------------------------------------------------------- a wider trim


def _trim(k: int, expected=None) -> Criterion:
    return Criterion("s.c", "c", D("10"), aggregation="trimmed", expected=expected, trim=k)


@pytest.mark.parametrize(
    "k, marks, score",
    [
        # Diving: seven judges, the two highest and the two lowest dropped, the middle three kept.
        (2, ["7.5", "8", "8", "8.5", "8.5", "9", "9.5"], F(25, 3)),  # (8 + 8.5 + 8.5) / 3 = 8.333…
        (2, ["6", "6", "6", "6", "6"], F(6)),  # five marks: the middle one
        (3, ["1", "2", "3", "4", "5", "6", "7"], F(4)),  # seven marks, three off each end
        (2, ["8", "9", "10", "7"], F(34, 4)),  # too few for the trim: the mean of all, as for one each end
        (1, ["10", "80", "81", "82", "100"], F(81)),  # k = 1 as before
    ],
)
def test_a_trim_of_k_from_each_end(k, marks, score):
    summary = MarkSummary.of(D(m) for m in marks)
    assert aggregate(_trim(k), summary) == score


def test_a_wider_trim_needs_every_mark():
    with pytest.raises(ValueError):
        aggregate(_trim(2), MarkSummary(7, 5700, 0, 1000))  # bounds only: not enough to drop two from each end
