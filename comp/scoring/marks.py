"""Checking single marks and aggregating an entrant's marks into a criterion score (rule 1)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from comp.scoring.types import Criterion, MarkSummary


class MarkError(ValueError):
    """A mark the rules refuse: `code` says why and `params` holds the figures (see comp.scoring.problems)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}")
        self.code = code
        self.params = params


def check_mark(criterion: Criterion, value: Decimal) -> None:
    """Refuse a mark outside [low, max], finer than 2 places or off the criterion's step."""
    # bool is an int; a judge's "True" is never a mark.
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise MarkError("not_decimal", value=value)
    value = Decimal(value)
    if not value.is_finite():
        raise MarkError("not_decimal", value=value)
    if value < criterion.low:
        raise MarkError("below_minimum", value=value, min=criterion.low)
    if value > criterion.max:
        if criterion.kind == "deduction":  # its maximum is the most it takes away, not a full mark
            raise MarkError("above_deduction", value=value, max=criterion.max)
        raise MarkError("above_maximum", value=value, max=criterion.max)
    # Integer hundredths: exact, and cheaper than a Fraction for the 200,000 marks of an import.
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise MarkError("too_many_places", value=value)
    # A step has at most two places too (check_scheme), so both sides are whole hundredths; the steps
    # count from the lowest mark (−3, −2, … on a signed scale).
    if criterion.step is not None and int(scaled - criterion.low.scaleb(2)) % int(Decimal(criterion.step).scaleb(2)):
        raise MarkError("off_step", value=value, step=criterion.step)


def round_units(numerator: int, denominator: int, places: int) -> int:
    """Return numerator/denominator in units of 10**-places, rounded half up (away from zero)."""
    scaled = abs(numerator) * 10**places
    # floor(v + 1/2) on the magnitude, in integers: round() on a Fraction is banker's rounding.
    units: int = (2 * scaled + denominator) // (2 * denominator)
    return -units if numerator < 0 else units


def parse_mark(criterion: Criterion, text: str) -> Decimal:
    """Parse a mark typed by a judge or read from a file, and check it."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MarkError("not_number", value=text) from None
    check_mark(criterion, value)
    return value


def _ratio(hundredths: int, divisor: int = 1) -> tuple[int, int]:
    # A score in hundredths divided by `divisor`, as an exact ratio of the score itself.
    return hundredths, 100 * divisor


def _mean(summary: MarkSummary) -> tuple[int, int]:
    return _ratio(summary.total, summary.count)


def _trimmed(summary: MarkSummary, trim: int = 1) -> tuple[int, int]:
    # Dropping the `trim` highest and lowest only makes sense with at least one mark left between them.
    if summary.count < 2 * trim + 1:
        return _mean(summary)
    if trim == 1:  # the bounds are enough: no need of every value
        return _ratio(summary.total - summary.low - summary.high, summary.count - 2)
    values = summary.values
    if values is None or len(values) != summary.count:
        raise ValueError("a trim of more than one mark needs every mark value in MarkSummary.values")
    kept = sorted(values)[trim:-trim]
    return _ratio(sum(kept), len(kept))


def _median(summary: MarkSummary) -> tuple[int, int]:
    values = summary.values
    if values is None or len(values) != summary.count:
        raise ValueError("the median needs every mark value in MarkSummary.values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return _ratio(ordered[middle])
    return _ratio(ordered[middle - 1] + ordered[middle], 2)


_AGGREGATORS: dict[str, Callable[[MarkSummary], tuple[int, int]]] = {
    "mean": _mean,
    "trimmed": _trimmed,
    "median": _median,
}


def score_ratio(criterion: Criterion, summary: MarkSummary | None) -> tuple[int, int] | None:
    """Return the exact criterion score as (numerator, denominator), None while marks are missing or too many."""
    mark = mark_ratio(criterion, summary)
    if mark is not None and criterion.places is not None:
        # A rule that rounds each criterion before it counts (保留两位小数; the ISU's components), half up.
        mark = round_units(mark[0], mark[1], criterion.places), 10**criterion.places
    if mark is None or criterion.worth is None:
        return mark
    # On a scale that is not points (a 0–3 judgement): the aggregated mark / top mark × the points it is worth.
    worth, top = criterion.worth.as_integer_ratio(), criterion.max.as_integer_ratio()
    return mark[0] * worth[0] * top[1], mark[1] * worth[1] * top[0]


def mark_ratio(criterion: Criterion, summary: MarkSummary | None) -> tuple[int, int] | None:
    """Return the judges' marks aggregated on their own scale, as (numerator, denominator), or None."""
    if summary is None or summary.count < 1:
        return None
    if criterion.aggregation == "single":
        # A measurement or an imported exam score: two values are a conflict, not a mean.
        return _ratio(summary.total) if summary.count == 1 else None
    expected = summary.expected if summary.expected is not None else criterion.expected
    if expected is not None and summary.count != expected:
        return None
    if criterion.aggregation == "trimmed":
        return _trimmed(summary, criterion.trim)
    aggregator = _AGGREGATORS.get(criterion.aggregation)
    if aggregator is None:
        raise ValueError(f"unknown aggregation {criterion.aggregation!r}")
    return aggregator(summary)


def aggregate(criterion: Criterion, summary: MarkSummary | None) -> Fraction | None:
    """Return the exact criterion score, or None while the marks are missing or too many."""
    ratio = score_ratio(criterion, summary)
    return None if ratio is None else Fraction(*ratio)
