"""Stage scores, totals and the one place figures get rounded (rules 2 and 3).

The arithmetic runs on exact ratios of integers (numerator, denominator): the same exact
values a Fraction holds, without building a Fraction for every intermediate figure, which
would cost seconds on a 10,000-entrant final.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import lcm

from comp.scoring.marks import aggregate, round_units, score_ratio
from comp.scoring.types import Criterion, MarkSummary, Scheme, Stage

Ratio = tuple[int, int]  # the exact value numerator / denominator, denominator > 0


def round_half_up(x: Fraction, places: int) -> Decimal:
    """Round an exact value to `places` decimals, halves away from zero."""
    numerator, denominator = (x if isinstance(x, Fraction) else Fraction(x)).as_integer_ratio()
    return Decimal(round_units(numerator, denominator, places)).scaleb(-places)


def publish(x: Fraction) -> Decimal:
    """Return the published figure: 2 places, half up, from the exact value."""
    return round_half_up(x, 2)


def publish_ratio(value: Ratio) -> Decimal:
    """Return the published figure of an exact ratio."""
    return Decimal(round_units(value[0], value[1], 2)).scaleb(-2)


def add_ratios(terms: Iterable[Ratio]) -> Ratio:
    """Return the exact sum of ratios over a common denominator."""
    numerator, common = 0, 1
    for n, d in terms:
        if d != common:  # usually every term shares one denominator (100 × marks counted)
            joint = lcm(common, d)
            numerator, common, n = numerator * (joint // common), joint, n * (joint // d)
        numerator += n
    return numerator, common


@dataclass(frozen=True)
class StagePlan:
    """A stage prepared for integer arithmetic: signed criteria, maximum and weight as ratios.

    `maximum` is what the stage's points are divided by before × 100: the stage's maximum when
    the total is out of 100, and 100 when the total is in raw points (the stage is its points).
    """

    key: str
    items: tuple[tuple[str, int], ...]  # (criterion key, +1 score / −1 deduction)
    maximum: Ratio
    weight: Ratio
    best: int | None = None  # attempts: only the best `best` score criteria count


def plan(scheme: Scheme, points: bool = False) -> tuple[tuple[StagePlan, ...], Ratio]:
    """Prepare a scheme once per computation: its stage plans and the sum of the weights."""
    # With `points` (rules.total "points") a stage is its raw points and the total their plain sum:
    # every stage weighs 1 of a sum of weights 1.
    stages = tuple(
        StagePlan(
            s.key,
            tuple((c.key, 1 if c.kind == "score" else -1) for c in s.criteria),
            (100, 1) if points else s.maximum.as_integer_ratio(),
            (1, 1) if points else Decimal(s.weight).as_integer_ratio(),
            s.best,
        )
        for s in scheme.stages
    )
    return stages, (1, 1) if points else add_ratios(s.weight for s in stages)


def stage_ratio(stage: StagePlan, scores: Mapping[str, Ratio], skipped: Set[str] = frozenset()) -> Ratio | None:
    """Return 100 × max(0, Σscore − Σdeduction) / maximum, None while a criterion is unscored."""
    terms: list[Ratio] = []
    attempts: list[Ratio] = []
    for key, sign in stage.items:
        score = scores.get(key)
        if score is None:
            # An attempt not taken (DNS, did not improve) has no score and is not waited for.
            if stage.best and sign > 0 and key in skipped:
                continue
            return None
        (attempts if stage.best and sign > 0 else terms).append((sign * score[0], score[1]))
    if stage.best:
        terms += sorted(attempts, key=lambda r: Fraction(*r), reverse=True)[: stage.best]
    if stage.maximum[0] <= 0:
        raise ValueError(f"stage {stage.key!r} has no score criteria to divide by")
    raw, common = add_ratios(terms)
    # A deduction larger than the earned score leaves the stage at zero, never below.
    return 100 * max(0, raw) * stage.maximum[1], common * stage.maximum[0]


def total_ratio(stages: tuple[StagePlan, ...], weights: Ratio, scores: Mapping[str, Ratio]) -> Ratio | None:
    """Return Σ(weight × exact stage score) / Σweights, or None while a stage is missing."""
    if any(s.key not in scores for s in stages):
        return None
    if weights[0] <= 0:
        raise ValueError("the stage weights add up to zero")
    # Exact stage scores go in, not the published ones: only the total itself is rounded.
    weighted, common = add_ratios((s.weight[0] * scores[s.key][0], s.weight[1] * scores[s.key][1]) for s in stages)
    return weighted * weights[1], common * weights[0]


def criterion_ratios(
    scheme: Scheme,
    ref: str,
    summaries: Mapping[tuple[str, str], MarkSummary],
    criteria: tuple[Criterion, ...] | None = None,
    factors: Mapping[str, Decimal] | None = None,
) -> dict[str, Ratio]:
    """Return the exact scores, as ratios, of the criteria that have acceptable marks for `ref`."""
    # A factored criterion (a dive) counts only with the factor the entrant declared for it
    # (`factors`, by criterion key): its score is the judges' score × that factor, exact.
    scores = {}
    for criterion in criteria or scheme.criteria:
        score = score_ratio(criterion, summaries.get((ref, criterion.key)))
        if score is not None and criterion.factored:
            factor = None if factors is None else factors.get(criterion.key)
            score = None if factor is None else _times(score, factor)
        if score is not None:
            scores[criterion.key] = score
    return scores


def _times(score: Ratio, factor: Decimal) -> Ratio:
    numerator, denominator = factor.as_integer_ratio()
    return score[0] * numerator, score[1] * denominator


def criterion_scores(scheme: Scheme, ref: str, summaries: Mapping[tuple[str, str], MarkSummary]) -> dict[str, Fraction]:
    """Return the exact scores of the criteria that have acceptable marks for `ref`."""
    scores = {}
    for criterion in scheme.criteria:
        score = aggregate(criterion, summaries.get((ref, criterion.key)))
        if score is not None:
            scores[criterion.key] = score
    return scores


def _ratios(scores: Mapping[str, Fraction]) -> dict[str, Ratio]:
    return {k: Fraction(v).as_integer_ratio() for k, v in scores.items()}


def stage_score(stage: Stage, scores: Mapping[str, Fraction]) -> Fraction | None:
    """Return 100 × max(0, Σscore − Σdeduction) / maximum, None while a criterion is unscored."""
    (prepared,), _ = plan(Scheme((stage,)))
    value = stage_ratio(prepared, _ratios(scores))
    return None if value is None else Fraction(*value)


def stage_scores(scheme: Scheme, scores: Mapping[str, Fraction]) -> dict[str, Fraction]:
    """Return the exact score of every stage whose criteria all have scores."""
    stages, _ = plan(scheme)
    ratios = _ratios(scores)
    result = {}
    for stage in stages:
        value = stage_ratio(stage, ratios)
        if value is not None:
            result[stage.key] = Fraction(*value)
    return result


def total(scheme: Scheme, stages: Mapping[str, Fraction]) -> Fraction | None:
    """Return Σ(weight × exact stage score) / Σweights, or None while a stage is missing."""
    prepared, weights = plan(scheme)
    value = total_ratio(prepared, weights, _ratios(stages))
    return None if value is None else Fraction(*value)
