"""Stage scores, totals and the one place figures get rounded (rules 2 and 3)."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from comp.scoring.marks import aggregate
from comp.scoring.types import MarkSummary, Scheme, Stage


def round_half_up(x: Fraction, places: int) -> Decimal:
    """Round an exact value to `places` decimals, halves away from zero."""
    exact = x if isinstance(x, Fraction) else Fraction(x)
    numerator, denominator = abs(exact.numerator) * 10**places, exact.denominator
    # floor(v + 1/2) on the magnitude, in integers: Decimal's quantize would round an
    # inexact quotient first, and round() on a Fraction is banker's rounding.
    units = (2 * numerator + denominator) // (2 * denominator)
    return Decimal(-units if exact < 0 else units).scaleb(-places)


def publish(x: Fraction) -> Decimal:
    """Return the published figure: 2 places, half up, from the exact value."""
    return round_half_up(x, 2)


def criterion_scores(
    scheme: Scheme, ref: str, summaries: Mapping[tuple[str, str], MarkSummary]
) -> dict[str, Fraction]:
    """Return the exact scores of the criteria that have acceptable marks for `ref`."""
    scores = {}
    for criterion in scheme.criteria:
        score = aggregate(criterion, summaries.get((ref, criterion.key)))
        if score is not None:
            scores[criterion.key] = score
    return scores


def stage_score(stage: Stage, scores: Mapping[str, Fraction]) -> Fraction | None:
    """Return 100 × max(0, Σscore − Σdeduction) / maximum, None while a criterion is unscored."""
    if any(c.key not in scores for c in stage.criteria):
        return None
    maximum = Fraction(stage.maximum)
    if maximum <= 0:
        raise ValueError(f"stage {stage.key!r} has no score criteria to divide by")
    raw = sum(
        (scores[c.key] if c.kind == "score" else -scores[c.key] for c in stage.criteria),
        Fraction(0),
    )
    # A deduction larger than the earned score leaves the stage at zero, never below.
    return 100 * max(Fraction(0), raw) / maximum


def stage_scores(scheme: Scheme, scores: Mapping[str, Fraction]) -> dict[str, Fraction]:
    """Return the exact score of every stage whose criteria all have scores."""
    result = {}
    for stage in scheme.stages:
        score = stage_score(stage, scores)
        if score is not None:
            result[stage.key] = score
    return result


def total(scheme: Scheme, stages: Mapping[str, Fraction]) -> Fraction | None:
    """Return Σ(weight × exact stage score) / Σweights, or None while a stage is missing."""
    if any(s.key not in stages for s in scheme.stages):
        return None
    weights = sum((Fraction(s.weight) for s in scheme.stages), Fraction(0))
    if weights <= 0:
        raise ValueError("the stage weights add up to zero")
    # Exact stage scores go in, not the published ones: only the total itself is rounded.
    weighted = sum((Fraction(s.weight) * stages[s.key] for s in scheme.stages), Fraction(0))
    return weighted / weights
