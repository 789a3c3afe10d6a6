"""The scheme editor's verbs: stages and criteria added, changed, removed and moved; the preview.

Each verb first asks the lifecycle whether the scheme may still change, then validates,
writes in its own transaction, bumps the competition's version and audits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp import scoring
from comp.extensions import db
from comp.models import Competition, Criterion, Stage, User
from comp.models.competition import AGGREGATIONS, CRITERION_KINDS
from comp.models.types import plain
from comp.services import transaction
from comp.services.common import audit
from comp.services.setup import KEY, _add, _refuse, lifecycle, parse_decimal

LABELS = {
    "weight": _l("weight"),
    "max_value": _l("maximum"),
    "step": _l("step"),
    "low_value": _l("lowest mark"),
    "worth": _l("points"),
}
LIMIT = Decimal(1_000_000)
MAX_SCALE_STEPS = 20


def _amount(
    value, field: str, problems: dict[str, str], positive: bool, required: bool = True, signed: bool = False
) -> Decimal | None:
    """Return the decimal the field holds, or None after noting what is wrong with it."""
    label = LABELS[field]
    if value is None or str(value).strip() == "":
        if required:
            _add(problems, field, _("Give the %(field)s.", field=label))
        return None
    number = parse_decimal(value)
    if number is None:
        _add(problems, field, _("The %(field)s “%(value)s” is not a number.", field=label, value=value))
    elif positive and number <= 0:
        _add(problems, field, _("The %(field)s must be greater than 0, not %(value)s.", field=label, value=number))
    elif number < 0 and not signed:
        _add(problems, field, _("The %(field)s must not be negative, not %(value)s.", field=label, value=number))
    elif abs(number) >= LIMIT:
        _add(problems, field, _("The %(field)s %(value)s is too large.", field=label, value=number))
    elif number * 100 != (number * 100).to_integral_value():
        _add(problems, field, _("The %(field)s %(value)s has more than 2 decimal places.", field=label, value=number))
    else:
        return number
    return None


def _key_and_name(data: dict, what: str, problems: dict[str, str]) -> tuple[str, str]:
    key, name = (data.get("key") or "").strip(), (data.get("name") or "").strip()
    if not KEY.fullmatch(key):
        _add(problems, "key", _("The key is 1 to 32 letters, digits, “-” or “_”."))
    if not name or len(name) > 64:
        _add(problems, "name", _("Give the %(what)s a name of at most 64 characters.", what=what))
    return key, name


def _named_in_tiebreak(competition: Competition, stage: str, criterion: str | None = None) -> str | None:
    """Return the tie-break entry that names this stage or criterion, if any."""
    for entry in (competition.rules or {}).get("tiebreak") or []:
        parsed = scoring.TieBreak.parse(entry)
        if parsed is not None and parsed.names(stage, criterion):
            return entry
    return None


def _still_named(competition: Competition, problems: dict[str, str], stage: str, criterion: str | None = None):
    entry = _named_in_tiebreak(competition, stage, criterion)
    if entry:
        _add(
            problems,
            "key",
            _("The tie-break chain names “%(entry)s”: change the rules before renaming or removing it.", entry=entry),
        )


def _still_named_attempts(competition: Competition, problems: dict[str, str], stage: str) -> None:
    entry = f"attempts:{stage}"
    if entry in ((competition.rules or {}).get("tiebreak") or []):
        _add(
            problems,
            "best",
            _("The tie-break chain names “%(entry)s”: change the rules before counting every criterion.", entry=entry),
        )


def _stage_values(competition: Competition, data: dict, stage: Stage | None = None) -> dict:
    problems: dict[str, str] = {}
    key, name = _key_and_name(data, str(_l("stage")), problems)
    if "key" not in problems and any(s.key == key and s is not stage for s in competition.stages):
        _add(problems, "key", _("Another stage already has the key “%(key)s”.", key=key))
    weight = _amount(data.get("weight"), "weight", problems, positive=False)
    best = data.get("best")
    attempts = sum(c.kind == "score" for c in stage.criteria) if stage is not None else None
    if best is not None and (isinstance(best, bool) or not isinstance(best, int) or best < 1):
        _add(problems, "best", _("Count the best 1 or more attempts, or leave it empty to count every criterion."))
    elif best is not None and attempts is not None and best > attempts:
        _add(
            problems,
            "best",
            _("The stage has %(n)s score criteria: it cannot count the best %(best)s.", n=attempts, best=best),
        )
    if stage is not None and key != stage.key:
        _still_named(competition, problems, stage.key)
    if stage is not None and stage.best and not best:
        _still_named_attempts(competition, problems, stage.key)
    _refuse(problems)
    return {"key": key, "name": name, "weight": weight, "best": best}


def _range_problems(values: dict, problems: dict[str, str]) -> None:
    """The lowest mark lies below the maximum; only a score criterion's scale may be signed (−3…+3)."""
    low, maximum = values["low_value"], values["max_value"]
    if low is None or maximum is None:
        return
    if low >= maximum:
        _add(
            problems,
            "low_value",
            _("The lowest mark %(low)s must be below the maximum %(max)s.", low=plain(low), max=plain(maximum)),
        )
    elif low < 0 and values["kind"] == "deduction":
        _add(problems, "low_value", _("A deduction cannot go below 0."))
    if values["factored"] and values["kind"] == "deduction":
        _add(problems, "factored", _("Only a score criterion is multiplied by an entrant's factor."))


def _scale_problems(values: dict, problems: dict[str, str]) -> None:
    maximum, step = values["max_value"], values["step"]
    low = values["low_value"] or Decimal(0)
    if (
        maximum is not None
        and step is not None
        and ((maximum - low) / step) != ((maximum - low) / step).to_integral_value()
    ):
        _add(
            problems,
            "step",
            _("The maximum %(max)s is not a whole number of steps of %(step)s.", max=maximum, step=step),
        )
    if values["fixed_scale"] and step is None and "step" not in problems:
        _add(problems, "step", _("A fixed scale needs a step, e.g. 1 for 0–3 in steps of 1."))
    elif values["fixed_scale"] and maximum and step and (maximum - low) / step > MAX_SCALE_STEPS:
        _add(
            problems,
            "fixed_scale",
            _("A fixed scale has at most %(n)s steps; use a larger step or plain marks.", n=MAX_SCALE_STEPS),
        )


def _criterion_values(stage: Stage, data: dict, criterion: Criterion | None = None) -> dict:
    problems: dict[str, str] = {}
    key, name = _key_and_name(data, str(_l("criterion")), problems)
    if "key" not in problems and any(c.key == key and c is not criterion for c in stage.criteria):
        _add(problems, "key", _("Another criterion of this stage already has the key “%(key)s”.", key=key))
    if data.get("kind") not in CRITERION_KINDS:
        _add(problems, "kind", _("Choose score or deduction."))
    if data.get("aggregation") not in AGGREGATIONS:
        _add(problems, "aggregation", _("Choose mean, trimmed mean, median or single mark."))
    trim = data.get("trim") or 1
    if isinstance(trim, bool) or not isinstance(trim, int) or trim < 1:
        _add(problems, "aggregation", _("A trimmed mean drops 1 or more marks from each end."))
    elif trim > 1 and data.get("aggregation") != "trimmed":
        _add(problems, "aggregation", _("Only a trimmed mean drops marks."))
    values = {
        "key": key,
        "name": name,
        "kind": data.get("kind"),
        "aggregation": data.get("aggregation"),
        "trim": trim,
        "max_value": _amount(data.get("max_value"), "max_value", problems, positive=True),
        "step": _amount(data.get("step"), "step", problems, positive=True, required=False),
        "fixed_scale": bool(data.get("fixed_scale")),
        "low_value": _amount(data.get("low_value"), "low_value", problems, positive=False, required=False, signed=True),
        "factored": bool(data.get("factored")),
        "worth": _amount(data.get("worth"), "worth", problems, positive=True, required=False),
    }
    if "low_value" not in problems and values["low_value"] is None:
        values["low_value"] = Decimal(0)  # left empty: marks start at 0
    _range_problems(values, problems)
    _scale_problems(values, problems)
    if criterion is not None and key != criterion.key:
        _still_named(stage.competition, problems, stage.key, criterion.key)
    _refuse(problems)
    return values


def _changed(competition: Competition, actor: User | None, action: str, obj, **detail) -> None:
    """Bump the version and audit a scheme change, inside the caller's transaction."""
    lifecycle.touch(competition)
    audit.record(
        action, actor, competition, obj, **{k: str(v) if isinstance(v, Decimal) else v for k, v in detail.items()}
    )


def _renumber(items: list) -> None:
    for position, item in enumerate(items):
        item.position = position


def _moved(items: list, item, offset: int) -> list:
    """Return the items in their order with `item` moved by `offset` places, within bounds."""
    order = sorted(items, key=lambda x: (x.position, x.id or 0))
    index = order.index(item)
    order.insert(max(0, min(len(order) - 1, index + offset)), order.pop(index))
    return order


# ---------------------------------------------------------------- stages


def add_stage(competition: Competition, data: dict, actor: User | None) -> Stage:
    """Append a stage (key, name, weight) to the competition's scheme."""
    lifecycle.check_scheme_editable(competition)
    values = _stage_values(competition, data)
    with transaction():
        stage = Stage(position=1 + max((s.position for s in competition.stages), default=-1), **values)
        competition.stages.append(stage)
        db.session.flush()
        _changed(competition, actor, "stage.added", stage, **values)
    return stage


def update_stage(stage: Stage, data: dict, actor: User | None) -> None:
    """Change a stage's key, name or weight."""
    competition = stage.competition
    lifecycle.check_scheme_editable(competition)
    values = _stage_values(competition, data, stage)
    with transaction():
        before = {k: getattr(stage, k) for k in values}
        for field, value in values.items():
            setattr(stage, field, value)
        _changed(
            competition,
            actor,
            "stage.changed",
            stage,
            **values,
            previous_key=before["key"],
            previous_weight=str(before["weight"]),
        )


def remove_stage(stage: Stage, actor: User | None) -> None:
    """Remove a stage with its criteria."""
    competition = stage.competition
    lifecycle.check_scheme_editable(competition)
    problems: dict[str, str] = {}
    _still_named(competition, problems, stage.key)
    _refuse(problems)
    with transaction():
        _changed(competition, actor, "stage.removed", stage, key=stage.key)
        competition.stages.remove(stage)
        _renumber(sorted(competition.stages, key=lambda s: s.position))


def move_stage(stage: Stage, offset: int, actor: User | None) -> None:
    """Move a stage up (negative offset) or down the scheme."""
    competition = stage.competition
    lifecycle.check_scheme_editable(competition)
    with transaction():
        _renumber(_moved(competition.stages, stage, offset))
        _changed(competition, actor, "stage.moved", stage, key=stage.key, position=stage.position)


# ---------------------------------------------------------------- criteria


def add_criterion(stage: Stage, data: dict, actor: User | None) -> Criterion:
    """Append a criterion to a stage."""
    competition = stage.competition
    lifecycle.check_scheme_editable(competition)
    values = _criterion_values(stage, data)
    with transaction():
        criterion = Criterion(position=1 + max((c.position for c in stage.criteria), default=-1), **values)
        stage.criteria.append(criterion)
        db.session.flush()
        _changed(competition, actor, "criterion.added", criterion, stage=stage.key, **values)
    return criterion


def update_criterion(criterion: Criterion, data: dict, actor: User | None) -> None:
    """Change a criterion's key, name, kind, range, points, aggregation (with its trim), step or fixed scale."""
    stage = criterion.stage
    lifecycle.check_scheme_editable(stage.competition)
    values = _criterion_values(stage, data, criterion)
    with transaction():
        previous = criterion.path
        for field, value in values.items():
            setattr(criterion, field, value)
        _changed(stage.competition, actor, "criterion.changed", criterion, previous=previous, **values)


def remove_criterion(criterion: Criterion, actor: User | None) -> None:
    """Remove a criterion from its stage."""
    stage = criterion.stage
    lifecycle.check_scheme_editable(stage.competition)
    problems: dict[str, str] = {}
    _still_named(stage.competition, problems, stage.key, criterion.key)
    _refuse(problems)
    with transaction():
        _changed(stage.competition, actor, "criterion.removed", criterion, key=criterion.path)
        stage.criteria.remove(criterion)
        _renumber(sorted(stage.criteria, key=lambda c: c.position))


def move_criterion(criterion: Criterion, offset: int, actor: User | None) -> None:
    """Move a criterion up (negative offset) or down its stage."""
    stage = criterion.stage
    lifecycle.check_scheme_editable(stage.competition)
    with transaction():
        _renumber(_moved(stage.criteria, criterion, offset))
        _changed(
            stage.competition, actor, "criterion.moved", criterion, key=criterion.path, position=criterion.position
        )


# ---------------------------------------------------------------- preview


@dataclass(frozen=True)
class StageShare:
    """A stage's weight and its share of the total weight, in per cent."""

    key: str
    name: str
    weight: Decimal
    percent: Decimal | None
    maximum: Decimal


@dataclass(frozen=True)
class TierPreview:
    """An award tier with, for N entrants, its cumulative cut-off and how many it awards."""

    name: str
    share: Decimal | None
    min: Decimal | None
    cutoff: int | None
    count: int | None
    places: int | None = None  # the fixed number of places the rules give it (一等奖 1 名)


@dataclass(frozen=True)
class Preview:
    """What the scheme and rules amount to: weight shares, awards for N entrants, what blocks opening."""

    stages: tuple[StageShare, ...]
    total_weight: Decimal
    entrants: int
    tiers: tuple[TierPreview, ...]
    rules: scoring.Rules
    rules_valid: bool
    problems: tuple[str, ...]


def _tiers(rules: scoring.Rules, entrants: int) -> tuple[TierPreview, ...]:
    if scoring.award_mode(rules.award_tiers) in (None, "min"):
        return tuple(TierPreview(t.name, None, t.min, None, None) for t in rules.award_tiers)
    cutoffs = scoring.cutoffs_for(entrants, rules.award_tiers)
    # Without ties: the places from the tier above's cut-off to its own, as far as the field reaches.
    return tuple(
        TierPreview(t.name, t.share, None, cut, min(cut, entrants) - min(before, entrants), t.count)
        for t, cut, before in zip(rules.award_tiers, cutoffs, (0,) + cutoffs)
    )


def preview(competition: Competition, entrants: int) -> Preview:
    """Return the weight shares of the stages and the awards N entrants would get."""
    from comp.services.results import scheme_of

    scheme = scheme_of(competition)
    total = sum((s.weight for s in scheme.stages), Decimal(0))
    stages = tuple(
        StageShare(
            s.key,
            s.name,
            s.weight,
            scoring.round_half_up(Fraction(s.weight) * 100 / Fraction(total), 2) if total else None,
            s.maximum,
        )
        for s in scheme.stages
    )
    try:
        rules, valid = scoring.parse_rules(competition.rules or {}, scheme, competition.kind), True
    except scoring.RuleError:
        rules, valid = scoring.Rules.default(competition.kind), False
    return Preview(
        stages,
        total,
        entrants,
        _tiers(rules, entrants),
        rules,
        valid,
        tuple(lifecycle.scheme_problems(competition)),
    )
