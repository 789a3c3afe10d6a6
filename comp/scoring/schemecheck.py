"""Sanity checks on a scheme of stages and criteria before any score is computed."""

from __future__ import annotations

from decimal import Decimal

from comp.scoring.types import AGGREGATIONS, KINDS, Criterion, Scheme, Stage

Problems = list[tuple[str, str]]


def _places_ok(value: Decimal) -> bool:
    # Maxima and steps are figures judges type; more than 2 places is a slip.
    return (value * 100) == (value * 100).to_integral_value()


def _positive(value: object, path: str, what: str, problems: Problems) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        problems.append((path, f"the {what} must be a decimal number"))
    elif value <= 0:
        problems.append((path, f"the {what} must be above 0, not {value}"))
    elif not _places_ok(value):
        problems.append((path, f"the {what} {value} has more than 2 decimal places"))


def _check_criterion(stage: Stage, criterion: Criterion, path: str, problems: Problems) -> None:
    prefix, dot, rest = criterion.key.partition(".")
    if prefix != stage.key or not dot or not rest or "." in rest:
        problems.append((f"{path}.key", f"{criterion.key!r} must read {stage.key}.<key>"))
    _positive(criterion.max, f"{path}.max", "maximum", problems)
    if criterion.kind not in KINDS:
        problems.append((f"{path}.kind", f"{criterion.kind!r} is not one of {', '.join(KINDS)}"))
    if criterion.aggregation not in AGGREGATIONS:
        problems.append(
            (
                f"{path}.aggregation",
                f"{criterion.aggregation!r} is not one of {', '.join(AGGREGATIONS)}",
            )
        )
    if criterion.step is not None:
        _positive(criterion.step, f"{path}.step", "step", problems)
    expected = criterion.expected
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 1):
        problems.append((f"{path}.expected", f"{expected!r} is not a count of 1 or more"))
    elif criterion.aggregation == "single" and expected not in (None, 1):
        problems.append((f"{path}.expected", "a single criterion takes exactly one mark"))


def _check_stage(stage: Stage, path: str, seen: set[str], problems: Problems) -> None:
    if not stage.key or "." in stage.key or ":" in stage.key:
        problems.append((f"{path}.key", f"{stage.key!r} must be non-empty, without '.' or ':'"))
    weight = stage.weight
    if not isinstance(weight, Decimal) or not weight.is_finite():
        problems.append((f"{path}.weight", "the weight must be a decimal number"))
    elif weight < 0:
        problems.append((f"{path}.weight", f"the weight must not be negative, not {weight}"))
    for j, criterion in enumerate(stage.criteria):
        where = f"{path}.criteria[{j}]"
        if criterion.key in seen:
            problems.append((f"{where}.key", f"{criterion.key!r} appears more than once"))
        seen.add(criterion.key)
        _check_criterion(stage, criterion, where, problems)
    if not any(c.kind == "score" for c in stage.criteria):
        problems.append((f"{path}.criteria", "a stage needs at least one score criterion"))


def check_scheme(scheme: Scheme) -> Problems:
    """Return every problem with the scheme as (path, message) pairs; empty when sound."""
    problems: Problems = []
    if not scheme.stages:
        return [("stages", "a competition needs at least one stage")]
    stage_keys: set[str] = set()
    criterion_keys: set[str] = set()
    for i, stage in enumerate(scheme.stages):
        if stage.key in stage_keys:
            problems.append((f"stages[{i}].key", f"{stage.key!r} appears more than once"))
        stage_keys.add(stage.key)
        _check_stage(stage, f"stages[{i}]", criterion_keys, problems)
    weights = [s.weight for s in scheme.stages if isinstance(s.weight, Decimal)]
    if len(weights) == len(scheme.stages) and all(w.is_finite() for w in weights):
        if sum(weights, Decimal(0)) == 0:
            problems.append(("stages", "the stage weights add up to zero"))
    return problems
