"""Item analysis as the reference quiz engines report it: facility, discrimination, reliability (exact)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

__all__ = ["ItemStats", "PaperStats", "analyse", "group_size"]

Row = Mapping[int, tuple[str, Fraction]]  # one sitting: ref -> (stored response, points earned)


@dataclass(frozen=True)
class ItemStats:
    """One item's statistics over the sittings that had it on their paper."""

    ref: int
    count: int  # sittings whose paper had the item
    facility: Fraction  # mean share of the item's points earned, 0..1
    discrimination: Fraction  # facility in the upper 27 % minus the lower 27 % (ranked by total score)
    point_biserial: float | None  # correlation of the item's points with the rest of the paper
    options: dict[str, int]  # how often each stored letter / response was chosen; "" = unanswered
    flagged: bool  # negative discrimination or point-biserial: the item needs review


@dataclass(frozen=True)
class PaperStats:
    """The paper's statistics: mean and sample standard deviation of the totals, reliability, the items."""

    count: int
    mean: Fraction
    sd: Decimal  # sample standard deviation (n − 1), as Moodle reports it; 0 below 2 sittings
    kr20: Decimal | None  # Kuder-Richardson 20, when every item is all-or-nothing
    alpha: Decimal | None  # Cronbach's alpha
    items: tuple[ItemStats, ...]


def group_size(n: int) -> int:
    """Return the size of the upper and of the lower group: 27 % of n, rounded half up, at least 1."""
    return max(1, (27 * n + 50) // 100)


def analyse(rows: Sequence[Row], maxima: Mapping[int, Fraction]) -> PaperStats:
    """Return the statistics of finished sittings; `rows` one per sitting, `maxima` the points of each item.

    Papers may differ between candidates (random draws): an item's statistics use the sittings that had
    it, and the upper/lower groups are 27 % of those, ranked by total score (ties: the earlier row
    ranks higher). Reliability uses population variances (their ratio is the same with sample ones):
    α = k/(k−1) × (1 − S/var(total)), where S is the mean over sittings of the sum of the variances of
    that sitting's k items — Σ var(item) exactly when everyone sat the same items. KR-20 is α on the
    items scored 1 right / 0 wrong. Both are None with fewer than 2 sittings or 2 items, papers of
    different lengths, or no variance in the totals.
    """
    scale, tops, scores = _integers(rows, maxima)
    totals = [sum(row.values()) for row in scores]
    rank = sorted(range(len(rows)), key=lambda i: (-totals[i], i))
    items = tuple(_item(ref, tops[ref], rows, scores, totals, rank) for ref in sorted(maxima))
    dichotomous = all(points in (0, tops[ref]) for row in scores for ref, points in row.items())
    right = [{ref: int(points == tops[ref]) for ref, points in row.items()} for row in scores]
    return PaperStats(
        count=len(rows),
        mean=_mean(totals) / scale,
        sd=_sqrt(_variance(totals) * len(rows) / (len(rows) - 1) / scale**2) if len(rows) > 1 else Decimal(0),
        kr20=_reliability(right) if dichotomous else None,
        alpha=_reliability(scores),
        items=items,
    )


def _integers(rows: Sequence[Row], maxima: Mapping[int, Fraction]) -> tuple[int, dict[int, int], list[dict[int, int]]]:
    """Check the points and scale every figure by their common denominator: integers are exact and fast."""
    for ref, top in maxima.items():
        if top <= 0:
            raise ValueError(f"item {ref}: the maximum must be more than 0")
    exact = [{ref: Fraction(points) for ref, (_, points) in row.items()} for row in rows]
    scale = math.lcm(1, *(Fraction(v).denominator for v in maxima.values()))
    scale = math.lcm(scale, *{p.denominator for row in exact for p in row.values()})
    tops = {ref: _scaled(Fraction(top), scale) for ref, top in maxima.items()}
    scores = [{ref: _scaled(points, scale) for ref, points in row.items()} for row in exact]
    for row in scores:
        for ref, points in row.items():
            if ref not in tops:
                raise ValueError(f"item {ref}: no maximum given")
            if not 0 <= points <= tops[ref]:
                raise ValueError(f"item {ref}: {Fraction(points, scale)} points is outside 0..{maxima[ref]}")
    return scale, tops, scores


def _item(
    ref: int, top: int, rows: Sequence[Row], scores: list[dict[int, int]], totals: list[int], rank: list[int]
) -> ItemStats:
    had = [i for i in rank if ref in scores[i]]  # the sittings with the item, best total first
    options: dict[str, int] = {}
    for i in sorted(had):
        response = rows[i][ref][0]
        for choice in response if response.isascii() and response.isalpha() else [response]:
            options[choice] = options.get(choice, 0) + 1
    size = group_size(len(had))
    upper = sum(scores[i][ref] for i in had[:size])
    lower = sum(scores[i][ref] for i in had[-size:])
    discrimination = Fraction(upper - lower, size * top) if had else Fraction(0)
    points = [scores[i][ref] for i in had]
    biserial = _correlation(points, [totals[i] - scores[i][ref] for i in had])
    return ItemStats(
        ref=ref,
        count=len(had),
        facility=Fraction(sum(points), len(had) * top) if had else Fraction(0),
        discrimination=discrimination,
        point_biserial=biserial,
        options=options,
        flagged=discrimination < 0 or (biserial is not None and biserial < 0),
    )


def _scaled(value: Fraction, scale: int) -> int:
    return value.numerator * (scale // value.denominator)


def _mean(values: Sequence[int]) -> Fraction:
    return Fraction(sum(values), len(values)) if values else Fraction(0)


def _variance(values: Sequence[int]) -> Fraction:
    """Return the population variance (divided by n)."""
    return _covariance(values, values)


def _covariance(xs: Sequence[int], ys: Sequence[int]) -> Fraction:
    """Return the population covariance (divided by n)."""
    n = len(xs)
    if not n:
        return Fraction(0)
    return Fraction(n * sum(x * y for x, y in zip(xs, ys)) - sum(xs) * sum(ys), n * n)


def _decimal(value: Fraction) -> Decimal:
    with localcontext() as context:
        context.prec = 28
        return Decimal(value.numerator) / Decimal(value.denominator)


def _sqrt(value: Fraction) -> Decimal:
    with localcontext() as context:
        context.prec = 28
        return (Decimal(value.numerator) / Decimal(value.denominator)).sqrt()


def _correlation(xs: Sequence[int], ys: Sequence[int]) -> float | None:
    if len(xs) < 2:
        return None
    spread = _variance(xs) * _variance(ys)
    if spread == 0:
        return None
    with localcontext() as context:
        context.prec = 28
        return float(_decimal(_covariance(xs, ys)) / _sqrt(spread))


def _reliability(rows: Sequence[Mapping[int, int]]) -> Decimal | None:
    lengths = {len(row) for row in rows}
    if len(rows) < 2 or len(lengths) != 1 or (k := lengths.pop()) < 2:
        return None
    total_variance = _variance([sum(row.values()) for row in rows])
    if total_variance == 0:
        return None
    columns: dict[int, list[int]] = {}
    for row in rows:
        for ref, points in row.items():
            columns.setdefault(ref, []).append(points)
    item_variance = {ref: _variance(column) for ref, column in columns.items()}
    expected = sum((item_variance[ref] for row in rows for ref in row), Fraction(0)) / len(rows)
    return _decimal(Fraction(k, k - 1) * (1 - expected / total_variance))
