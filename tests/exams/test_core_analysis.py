"""Item analysis (comp.exams.analysis) checked against values computed independently here."""

import statistics
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comp.exams.analysis import ItemStats, PaperStats, analyse, group_size

# Published worked example: K. L. Wuensch, "The Kuder-Richardson 20", https://core.ecu.edu/wuenschk/StatHelp/KR20.txt
# — ten students, a ten-item quiz scored 1/0; the page gives p per item, Σpq = 2.18 and the total variance 5.84.
WUENSCH = {
    "A": "1111110110",
    "B": "1011011101",
    "C": "1111011001",
    "D": "0010001000",
    "E": "0000010010",
    "F": "1110111111",
    "G": "1101110111",
    "H": "1111111101",
    "I": "0101111101",
    "J": "1101101110",
}
WUENSCH_P = [Fraction(p, 10) for p in (7, 7, 6, 7, 6, 8, 7, 7, 5, 6)]


def rows_of(matrix, points=None, responses=None):
    """Turn a 0/1 (or points) matrix into analyse() rows: item refs 1..k."""
    rows = []
    for r, scores in enumerate(matrix):
        row = {}
        for i, s in enumerate(scores):
            earned = Fraction(s) * (points[i] if points else 1)
            row[i + 1] = (responses[r][i] if responses else ("A" if s else "B"), earned)
        rows.append(row)
    return rows


def decimal(value):
    with localcontext() as context:
        context.prec = 28
        return Decimal(value.numerator) / Decimal(value.denominator)


def kr20_by_hand(matrix):
    """KR-20 = k/(k−1) × (1 − Σ p q / σ²), σ² the population variance of the totals."""
    k, n = len(matrix[0]), len(matrix)
    p = [Fraction(sum(row[i] for row in matrix), n) for i in range(k)]
    variance = statistics.pvariance([Fraction(sum(row)) for row in matrix])
    return Fraction(k, k - 1) * (1 - sum(x * (1 - x) for x in p) / variance)


def alpha_by_hand(columns):
    """Cronbach's α = k/(k−1) × (1 − Σ var(item) / var(total)), sample variances (they cancel)."""
    k = len(columns)
    totals = [sum(values) for values in zip(*columns)]
    return Fraction(k, k - 1) * (1 - sum(statistics.variance(c) for c in columns) / statistics.variance(totals))


def test_the_published_kr20_example():
    matrix = [[int(c) for c in WUENSCH[s]] for s in sorted(WUENSCH)]
    totals = [sum(row) for row in matrix]
    assert totals == [8, 7, 7, 2, 2, 9, 8, 9, 7, 7]  # the page's "tot" column
    stats = analyse(rows_of(matrix), {i: Fraction(1) for i in range(1, 11)})
    assert [it.facility for it in stats.items] == WUENSCH_P
    assert sum(p * (1 - p) for p in WUENSCH_P) == Fraction(218, 100)  # the page's Σpq
    assert statistics.pvariance([Fraction(t) for t in totals]) == Fraction(584, 100)  # the page's variance
    published = Fraction(10, 9) * (1 - Fraction(218, 100) / Fraction(584, 100))  # = 305/438 ≈ 0.696
    assert stats.kr20 == decimal(published) == decimal(kr20_by_hand(matrix))
    assert stats.alpha == stats.kr20  # KR-20 is α on 0/1 items
    assert round(stats.kr20, 4) == Decimal("0.6963")
    assert stats.count == 10
    assert stats.mean == statistics.mean(Fraction(t) for t in totals) == Fraction(33, 5)
    assert float(stats.sd) == pytest.approx(statistics.stdev(totals), abs=1e-15)  # sample sd, as Moodle


def test_discrimination_uses_the_upper_and_lower_27_percent():
    matrix = [[int(c) for c in WUENSCH[s]] for s in sorted(WUENSCH)]
    stats = analyse(rows_of(matrix), {i: Fraction(1) for i in range(1, 11)})
    totals = [sum(row) for row in matrix]
    ranked = sorted(range(10), key=lambda r: (-totals[r], r))  # ties: the earlier row first
    assert group_size(10) == 3
    upper, lower = ranked[:3], ranked[-3:]
    assert [sorted(WUENSCH)[r] for r in upper] == ["F", "H", "A"]
    assert [sorted(WUENSCH)[r] for r in lower] == ["J", "D", "E"]
    for i, it in enumerate(stats.items):
        expected = Fraction(sum(matrix[r][i] for r in upper), 3) - Fraction(sum(matrix[r][i] for r in lower), 3)
        assert it.discrimination == expected
    assert stats.items[0].discrimination == Fraction(2, 3)


def test_point_biserial_is_the_correlation_with_the_rest_of_the_paper():
    matrix = [[int(c) for c in WUENSCH[s]] for s in sorted(WUENSCH)]
    stats = analyse(rows_of(matrix), {i: Fraction(1) for i in range(1, 11)})
    for i, it in enumerate(stats.items):
        item = [row[i] for row in matrix]
        rest = [sum(row) - row[i] for row in matrix]
        assert it.point_biserial == pytest.approx(statistics.correlation(item, rest), abs=1e-12)
        assert it.flagged == (it.discrimination < 0 or it.point_biserial < 0)
    assert any(it.flagged for it in stats.items) and not all(it.flagged for it in stats.items)


@pytest.mark.parametrize(("n", "size"), [(0, 1), (1, 1), (2, 1), (3, 1), (5, 1), (6, 2), (10, 3), (50, 14), (100, 27)])
def test_group_size_is_27_percent_half_up(n, size):
    assert group_size(n) == size


def test_weighted_and_partial_items():
    # 2-point and 1-point all-or-nothing items: KR-20 on right/wrong, α on the points.
    matrix = [[1, 1, 0, 1], [1, 0, 0, 0], [0, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 1], [1, 0, 1, 0]]
    points = [Fraction(2), Fraction(1), Fraction(2), Fraction(1)]
    stats = analyse(rows_of(matrix, points), dict(enumerate(points, start=1)))
    assert stats.kr20 == decimal(kr20_by_hand(matrix))
    columns = [[Fraction(row[i]) * points[i] for row in matrix] for i in range(4)]
    assert stats.alpha == decimal(alpha_by_hand(columns))
    assert stats.alpha != stats.kr20
    # one half-credit answer: no longer all-or-nothing, so no KR-20; α still defined
    rows = rows_of(matrix, points)
    rows[0][1] = ("A", Fraction(1))
    stats = analyse(rows, dict(enumerate(points, start=1)))
    assert stats.kr20 is None
    columns[0][0] = Fraction(1)
    assert stats.alpha == decimal(alpha_by_hand(columns))
    assert stats.items[0].facility == statistics.mean(c / 2 for c in columns[0])


def test_option_counts():
    responses = [["AC", "T", "3.5"], ["A", "F", ""], ["", "T", "3.5"], ["C", "T", "4"]]
    matrix = [[1, 1, 1], [0, 0, 0], [0, 1, 1], [0, 1, 0]]
    stats = analyse(rows_of(matrix, responses=responses), {1: Fraction(1), 2: Fraction(1), 3: Fraction(1)})
    assert stats.items[0].options == {"A": 2, "C": 2, "": 1}
    assert stats.items[1].options == {"T": 3, "F": 1}
    assert stats.items[2].options == {"3.5": 2, "": 1, "4": 1}


def test_an_item_the_weak_get_right_is_flagged():
    # item 2 is answered right only by the candidates who do worst on the rest
    matrix = [[1, 0, 1, 1], [1, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [0, 1, 0, 0], [0, 1, 0, 0]]
    stats = analyse(rows_of(matrix), {i: Fraction(1) for i in range(1, 5)})
    second = stats.items[1]
    assert second.discrimination < 0 and second.point_biserial < 0 and second.flagged
    assert not stats.items[0].flagged


def test_random_papers_use_the_sittings_that_had_the_item():
    maxima = {ref: Fraction(1) for ref in range(1, 6)}
    rows = [
        {1: ("A", Fraction(1)), 2: ("B", Fraction(0)), 3: ("A", Fraction(1))},
        {1: ("B", Fraction(0)), 4: ("A", Fraction(1)), 5: ("A", Fraction(1))},
        {2: ("A", Fraction(1)), 3: ("A", Fraction(1)), 4: ("A", Fraction(1))},
        {1: ("A", Fraction(1)), 3: ("B", Fraction(0)), 5: ("B", Fraction(0))},
    ]
    stats = analyse(rows, maxima)
    first = stats.items[0]
    assert (first.ref, first.count, first.facility) == (1, 3, Fraction(2, 3))
    # among the three who had item 1 (totals 2, 2, 1), the best (row 0) got it, the worst (row 3) too
    assert first.discrimination == 0
    # α generalised: S = mean over sittings of the sum of their items' (population) variances
    variance = {ref: statistics.pvariance([row[ref][1] for row in rows if ref in row]) for ref in maxima}
    s = statistics.mean(sum(variance[ref] for ref in row) for row in rows)
    totals = [sum(p for _, p in row.values()) for row in rows]
    assert stats.alpha == decimal(Fraction(3, 2) * (1 - s / statistics.pvariance(totals)))
    assert stats.kr20 == stats.alpha
    rows[3] = {1: ("A", Fraction(1)), 3: ("B", Fraction(0))}  # papers of different lengths: no reliability
    assert analyse(rows, maxima).alpha is None


@given(
    st.lists(st.lists(st.integers(0, 1), min_size=4, max_size=4), min_size=2, max_size=25),
)
def test_kr20_matches_the_hand_formula(matrix):
    stats = analyse(rows_of(matrix), {i: Fraction(1) for i in range(1, 5)})
    totals = [sum(row) for row in matrix]
    if statistics.pvariance(totals) == 0:
        assert stats.kr20 is None and stats.alpha is None
    else:
        assert stats.kr20 == stats.alpha == decimal(kr20_by_hand(matrix))
    assert stats.mean == statistics.mean(Fraction(t) for t in totals)
    assert float(stats.sd) == pytest.approx(statistics.stdev(totals), rel=1e-12, abs=1e-12)
    for i, it in enumerate(stats.items):
        column = [row[i] for row in matrix]
        assert it.facility == statistics.mean(Fraction(c) for c in column)
        assert -1 <= it.discrimination <= 1
        rest = [t - c for t, c in zip(totals, column)]
        if len(set(column)) > 1 and len(set(rest)) > 1:
            assert it.point_biserial == pytest.approx(statistics.correlation(column, rest), abs=1e-9)
        else:
            assert it.point_biserial is None


def test_too_few_sittings():
    empty = analyse([], {1: Fraction(1)})
    assert empty == PaperStats(0, Fraction(0), Decimal(0), None, None, (ItemStats(1, 0, 0, 0, None, {}, False),))
    one = analyse([{1: ("A", Fraction(1)), 2: ("B", Fraction(0))}], {1: Fraction(1), 2: Fraction(1)})
    assert (one.count, one.mean, one.sd, one.kr20, one.alpha) == (1, 1, 0, None, None)
    assert one.items[0].discrimination == 0  # the one sitting is both the upper and the lower group
    same = analyse([{1: ("A", Fraction(1)), 2: ("A", Fraction(1))}] * 3, {1: Fraction(1), 2: Fraction(1)})
    assert (same.sd, same.kr20, same.alpha) == (0, None, None)
    single_item = analyse([{1: ("A", Fraction(1))}, {1: ("B", Fraction(0))}], {1: Fraction(1)})
    assert single_item.alpha is None and single_item.kr20 is None


@pytest.mark.parametrize(
    ("rows", "maxima", "message"),
    [
        ([{2: ("A", Fraction(1))}], {1: Fraction(1)}, "item 2: no maximum"),
        ([{1: ("A", Fraction(2))}], {1: Fraction(1)}, "item 1: 2 points"),
        ([{1: ("A", Fraction(-1))}], {1: Fraction(1)}, "item 1: -1 points"),
        ([], {1: Fraction(0)}, "item 1: the maximum"),
    ],
)
def test_bad_input_is_refused(rows, maxima, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        analyse(rows, maxima)
