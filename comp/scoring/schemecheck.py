"""Sanity checks on a scheme of stages and criteria before any score is computed."""

from __future__ import annotations

from decimal import Decimal

from comp.scoring.problems import Problems
from comp.scoring.types import AGGREGATIONS, KINDS, Criterion, Scheme, Stage


def _places_ok(value: Decimal) -> bool:
    # Maxima and steps are figures judges type; more than 2 places is a slip.
    return (value * 100) == (value * 100).to_integral_value()


def _positive(value: object, path: str, problems: Problems) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        problems.append((path, "not_decimal", {"value": value}))
    elif value <= 0:
        problems.append((path, "not_positive", {"value": value}))
    elif not _places_ok(value):
        problems.append((path, "too_many_places", {"value": value}))


def _check_criterion(stage: Stage, criterion: Criterion, path: str, problems: Problems) -> None:
    prefix, dot, rest = criterion.key.partition(".")
    if prefix != stage.key or not dot or not rest or "." in rest:
        problems.append((f"{path}.key", "criterion_key", {"value": criterion.key, "stage": stage.key}))
    _positive(criterion.max, f"{path}.max", problems)
    if criterion.kind not in KINDS:
        problems.append((f"{path}.kind", "not_one_of", {"value": criterion.kind, "choices": ", ".join(KINDS)}))
    if criterion.aggregation not in AGGREGATIONS:
        choices = ", ".join(AGGREGATIONS)
        problems.append((f"{path}.aggregation", "not_one_of", {"value": criterion.aggregation, "choices": choices}))
    if criterion.step is not None:
        _positive(criterion.step, f"{path}.step", problems)
    _check_scale(criterion, path, problems)
    expected = criterion.expected
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 1):
        problems.append((f"{path}.expected", "not_count", {"value": expected}))
    elif criterion.aggregation == "single" and expected not in (None, 1):
        problems.append((f"{path}.expected", "single_one_mark", {}))
    trim = criterion.trim
    if isinstance(trim, bool) or not isinstance(trim, int) or trim < 1:
        problems.append((f"{path}.trim", "not_count", {"value": trim}))
    elif trim > 1 and criterion.aggregation != "trimmed":
        problems.append((f"{path}.trim", "trim_not_trimmed", {"trim": trim}))
    elif trim > 1 and expected is not None and expected < 2 * trim + 1:
        # Dropping `trim` from each end of `expected` marks would leave no mark to average.
        problems.append((f"{path}.trim", "trim_leaves_nothing", {"trim": trim, "expected": expected}))


def _check_scale(criterion: Criterion, path: str, problems: Problems) -> None:
    # The judges' range [low, max] and the points it is worth: separate fields (a 0–3 judgement worth 5 points).
    low = criterion.low
    if not isinstance(low, Decimal) or not low.is_finite():
        problems.append((f"{path}.low", "not_decimal", {"value": low}))
    elif not _places_ok(low):
        problems.append((f"{path}.low", "too_many_places", {"value": low}))
    elif isinstance(criterion.max, Decimal) and criterion.max.is_finite() and 0 < criterion.max <= low:
        problems.append((f"{path}.low", "low_not_below_max", {"low": low, "max": criterion.max}))
    elif low < 0 and criterion.kind == "deduction":
        problems.append((f"{path}.low", "deduction_signed", {"low": low}))
    if criterion.factored and criterion.kind == "deduction":
        problems.append((f"{path}.factored", "deduction_factored", {}))
    if criterion.worth is not None:
        _positive(criterion.worth, f"{path}.worth", problems)
    places = criterion.places
    if places is not None and (isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 4):
        problems.append((f"{path}.places", "places_range", {"value": places}))


def _check_stage(stage: Stage, path: str, seen: set[str], problems: Problems) -> None:
    if not stage.key or "." in stage.key or ":" in stage.key:
        problems.append((f"{path}.key", "stage_key", {"value": stage.key}))
    weight = stage.weight
    if not isinstance(weight, Decimal) or not weight.is_finite():
        problems.append((f"{path}.weight", "not_decimal", {"value": weight}))
    elif weight < 0:
        problems.append((f"{path}.weight", "negative", {"value": weight}))
    for j, criterion in enumerate(stage.criteria):
        where = f"{path}.criteria[{j}]"
        if criterion.key in seen:
            problems.append((f"{where}.key", "twice", {"value": criterion.key}))
        seen.add(criterion.key)
        _check_criterion(stage, criterion, where, problems)
    if not any(c.kind == "score" for c in stage.criteria):
        problems.append((f"{path}.criteria", "no_score_criterion", {}))
    best, attempts = stage.best, sum(c.kind == "score" for c in stage.criteria)
    if best is not None and (isinstance(best, bool) or not isinstance(best, int) or not 1 <= best <= attempts):
        problems.append((f"{path}.best", "best_range", {"value": best, "attempts": attempts}))


def check_scheme(scheme: Scheme) -> Problems:
    """Return every problem with the scheme as (path, code, params); empty when sound."""
    problems: Problems = []
    if not scheme.stages:
        return [("stages", "no_stages", {})]
    stage_keys: set[str] = set()
    criterion_keys: set[str] = set()
    for i, stage in enumerate(scheme.stages):
        if stage.key in stage_keys:
            problems.append((f"stages[{i}].key", "twice", {"value": stage.key}))
        stage_keys.add(stage.key)
        _check_stage(stage, f"stages[{i}]", criterion_keys, problems)
    weights = [s.weight for s in scheme.stages if isinstance(s.weight, Decimal)]
    if len(weights) == len(scheme.stages) and all(w.is_finite() for w in weights):
        if sum(weights, Decimal(0)) == 0:
            problems.append(("stages", "zero_weights", {}))
    return problems
