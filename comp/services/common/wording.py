"""The engine's problems worded in the user's language.

`comp.scoring` reports what it refuses as (path, code, params) (see comp.scoring.problems);
this module is the one place that turns a code into a sentence and a path into words an
organizer reads (“阶段“理论” › 评分项“操作” › 满分” rather than ``stages[1].criteria[0].max``).
The exchange format and the command line keep the path itself: it names the item in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp import scoring
from comp.models.types import plain

MESSAGES = {
    # Numbers and choices, wherever they are read.
    "decimal_as_text": _l("write the figure as text, e.g. “0.10”: %(value)s has already lost digits"),
    "not_decimal": _l("“%(value)s” is not a decimal number"),
    "not_number": _l("“%(value)s” is not a number"),
    "not_whole": _l("“%(value)s” is not a whole number"),
    "not_integer": _l("must be a whole number"),
    "not_positive": _l("must be greater than 0, not %(value)s"),
    "negative": _l("must not be negative, not %(value)s"),
    "too_many_places": _l("%(value)s has more than 2 decimal places"),
    "below_minimum": _l("%(value)s is below the minimum %(min)s"),
    "above_maximum": _l("%(value)s is above the maximum %(max)s"),
    "above_deduction": _l("%(value)s is more than the largest deduction, %(max)s"),
    "off_step": _l("%(value)s is not a multiple of the step %(step)s"),
    "outside": _l("%(value)s must be between %(low)s and %(high)s"),
    "outside_open_low": _l("%(value)s must be greater than %(low)s and at most %(high)s"),
    "out_of_range": _l("must be between %(low)s and %(high)s"),
    "not_one_of": _l("“%(value)s” is not one of %(choices)s"),
    "twice": _l("“%(value)s” appears more than once"),
    # Stages and criteria.
    "no_stages": _l("the competition has no stages yet"),
    "zero_weights": _l("the stage weights add up to zero"),
    "stage_key": _l("the key “%(value)s” must not be empty nor contain “.” or “:”"),
    "criterion_key": _l("the key “%(value)s” must read %(stage)s.<key>"),
    "not_count": _l("“%(value)s” is not a count of 1 or more"),
    "single_one_mark": _l("a criterion with a single mark takes exactly one mark"),
    "trim_not_trimmed": _l("only a trimmed mean drops marks: a trim of %(trim)s needs the aggregation “trimmed”"),
    "trim_leaves_nothing": _l(
        "dropping %(trim)s marks from each end of %(expected)s leaves no mark: expect at least 2 × trim + 1 judges"
    ),
    "no_score_criterion": _l("a stage needs at least one score criterion"),
    "low_not_below_max": _l("the lowest mark %(low)s must be below the top mark %(max)s"),
    "deduction_signed": _l("a deduction cannot go below 0 (the lowest mark is %(low)s)"),
    "deduction_factored": _l("a deduction is not multiplied by an entrant's factor: only score criteria are"),
    "best_range": _l("the best %(value)s cannot count: the stage has %(attempts)s attempts (score criteria)"),
    "places_range": _l("“%(value)s” is not a number of decimal places from 0 to 4"),
    # Rules.
    "rules_object": _l("the rules must be an object"),
    "unknown_rule": _l("“%(name)s” is not a known rule"),
    "tiers_list": _l("must be a list of award tiers"),
    "tier_object": _l("an award tier must be an object with a name and a share, a number of places or a minimum"),
    "tier_field": _l("“%(field)s” is not a field of an award tier (name, share, count, min)"),
    "tier_name": _l("an award tier needs a name"),
    "tier_share_or_min": _l("an award tier has exactly one of a share, a number of places or a minimum total"),
    "tier_name_twice": _l("the award tier name “%(name)s” appears more than once"),
    "tiers_mixed": _l("the award tiers mix shares, numbers of places and minimum totals: use one of them"),
    "shares_past_one": _l("the shares add up to %(total)s, more than 1"),
    "min_order": _l("the minimum %(min)s must be below the tier above it (%(above)s)"),
    "tiebreak_list": _l("the tie-break must be a list of stages, criteria or the completion time"),
    "tiebreak_syntax": _l(
        "“%(value)s” is not a tie-break: the completion time, a stage, a criterion or a stage's attempts"
    ),
    "tiebreak_no_stage": _l("there is no stage “%(name)s”"),
    "tiebreak_no_criterion": _l("there is no criterion “%(name)s”"),
    "tiebreak_no_attempts": _l("there is no stage of attempts “%(name)s” (a stage where only the best count)"),
    # What results earn (comp.scoring.outcomes).
    "empty_award": _l("name the award"),
    "places_pair": _l("give the first and the last place"),
    "places_order": _l("the last place (%(last)s) comes before the first (%(first)s)"),
    "honours_list": _l("must be a list of honour titles"),
    "honour_title": _l("each honour needs a title of at most %(max)s characters"),
    "rule_object": _l("each rule must be an object"),
    "rules_list": _l("must be a list of rules"),
    "no_effect": _l("the rule earns nothing: name an honour, a promotion or a grade"),
}

FIELDS = {
    "max": _l("maximum"),
    "step": _l("step"),
    "weight": _l("weight"),
    "key": _l("key"),
    "name": _l("name"),
    "kind": _l("kind"),
    "aggregation": _l("aggregation"),
    "expected": _l("judges expected"),
    "trim": _l("marks dropped from each end"),
    "low": _l("lowest mark"),
    "worth": _l("points"),
    "places": _l("decimal places kept"),
    "factored": _l("multiplied by each entrant's factor"),
    "best": _l("best attempts counted"),
    "criteria": _l("criteria"),
    "share": _l("share"),
    "count": _l("number of places"),
    "min": _l("minimum total"),
    "award_tiers": _l("award tiers"),
    "award_min_total": _l("minimum total for an award"),
    "tiebreak": _l("tie-break"),
    "team_counted": _l("members counted per team"),
    "discrepancy_share": _l("discrepancy threshold"),
    "bias_threshold": _l("judge bias threshold"),
    "notice_days": _l("notice period (days)"),
    "criterion_places": _l("decimal places each criterion score keeps"),
    "total": _l("how the total is counted"),
}
_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return plain(value) if value.is_finite() else str(value)
    return str(value)


def message(code: str, params: Mapping[str, object] | None = None) -> str:
    """Return the sentence for one engine code, its figures filled in."""
    template = MESSAGES.get(code)
    if template is None:  # a code added to the engine and not yet worded: say it rather than hide it
        return code
    return str(template) % {key: _shown(value) for key, value in (params or {}).items()}


def place(path: str, scheme: scoring.Scheme | None = None) -> str:
    """Word a path such as ``stages[1].criteria[0].max`` with the scheme's own names."""
    words: list[str] = []
    stage: scoring.Stage | None = None
    for step in path.split("."):
        found = _STEP.match(step)
        if found is None or found[1] in ("rules", "competition", "outcomes"):
            continue
        name, index = found[1], None if found[2] is None else int(found[2])
        if name == "stages" and index is not None:
            stage = scheme.stages[index] if scheme and index < len(scheme.stages) else None
            words.append(_("stage “%(name)s”", name=stage.name) if stage else _("stage %(n)d", n=index + 1))
        elif name == "criteria" and index is not None:
            criteria = stage.criteria if stage else ()
            named = criteria[index].name if index < len(criteria) else None
            words.append(_("criterion “%(name)s”", name=named) if named else _("criterion %(n)d", n=index + 1))
        elif name == "award_tiers" and index is not None:
            words.append(_("award tier %(n)d", n=index + 1))
        elif name == "tiebreak" and index is not None:
            words.append(_("tie-break %(n)d", n=index + 1))
        elif name == "rules" and index is not None:
            words.append(_("rule %(n)d", n=index + 1))
        else:
            words.append(str(FIELDS.get(name, name)))
    return " › ".join(words)


def sentence(problem: scoring.Problem, scheme: scoring.Scheme | None = None) -> str:
    """Return “where: what” for one problem, both in the user's language."""
    path, code, params = problem
    where = place(path, scheme)
    return _("%(where)s: %(problem)s", where=where, problem=message(code, params)) if where else message(code, params)


def sentences(problems: Iterable[scoring.Problem], scheme: scoring.Scheme | None = None) -> list[str]:
    """Word every problem with `sentence`."""
    return [sentence(problem, scheme) for problem in problems]
