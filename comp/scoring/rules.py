"""Reading, checking and writing a competition's rules in the exchange format."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from comp.scoring.problems import Problems, ProblemsError
from comp.scoring.ranking import TieBreak
from comp.scoring.schemecheck import check_scheme
from comp.scoring.types import RECUSALS, RULE_KINDS, TOTALS, AwardTier, Rules, Scheme

__all__ = ["Problems", "RuleError", "check_scheme", "parse_rules", "rules_to_dict"]

FIELDS = (
    "award_tiers",
    "award_min_total",
    "tiebreak",
    "team_counted",
    "discrepancy_share",
    "bias_threshold",
    "notice_days",
    "recusal",
    "criterion_places",
    "total",
)
_TIER_FIELDS = ("name", "share", "count", "min")
_MEASURES = ("share", "count", "min")


class RuleError(ProblemsError):
    """Rules that cannot be used; `problems` lists every (path, code, params) found."""


def _decimal(value: object, path: str, problems: Problems) -> Decimal | None:
    # A JSON float has already lost the figure the organizer wrote, so it is refused.
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        problems.append((path, "decimal_as_text", {"value": value}))
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problems.append((path, "not_decimal", {"value": value}))
        return None
    return number


def _within(
    value: object, path: str, low: Decimal, high: Decimal, open_low: bool, problems: Problems
) -> Decimal | None:
    number = _decimal(value, path, problems)
    if number is None:
        return None
    too_low = number <= low if open_low else number < low
    if too_low or number > high:
        code = "outside_open_low" if open_low else "outside"
        problems.append((path, code, {"value": number, "low": low, "high": high}))
        return None
    return number


def _integer(value: object, path: str, low: int, problems: Problems) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((path, "not_whole", {"value": value}))
        return None
    if value < low:
        problems.append((path, "below_minimum", {"value": value, "min": low}))
        return None
    return value


def _tier(item: object, path: str, problems: Problems, top: Decimal) -> AwardTier | None:
    if not isinstance(item, Mapping):
        problems.append((path, "tier_object", {}))
        return None
    for key in item:
        if key not in _TIER_FIELDS:
            problems.append((f"{path}.{key}", "tier_field", {"field": key}))
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append((f"{path}.name", "tier_name", {}))
        name = ""  # the problem refuses the rules; the tier is still read for its other faults
    if sum(measure in item for measure in _MEASURES) != 1:
        problems.append((path, "tier_share_or_min", {}))
        return None
    if "share" in item:
        share = _within(item["share"], f"{path}.share", Decimal(0), Decimal(1), True, problems)
        return AwardTier(name, share=share) if share is not None else None
    if "count" in item:
        count = _integer(item["count"], f"{path}.count", 1, problems)
        return AwardTier(name, count=count) if count is not None else None
    low = _within(item["min"], f"{path}.min", Decimal(0), top, False, problems)
    return AwardTier(name, min=low) if low is not None else None


def _check_tier_set(items: list[object], tiers: list[AwardTier | None], problems: Problems) -> None:
    path = "rules.award_tiers"
    names = [t.get("name") for t in items if isinstance(t, Mapping)]
    for name in sorted({n for n in names if isinstance(n, str) and names.count(n) > 1}):
        problems.append((path, "tier_name_twice", {"name": name}))
    # A tier carrying two measures is reported on its own; here only clean tiers count.
    clean = [t for t in items if isinstance(t, Mapping) and sum(m in t for m in _MEASURES) == 1]
    if len({next(m for m in _MEASURES if m in t) for t in clean}) > 1:
        problems.append((path, "tiers_mixed", {}))
    cumulative = sum((t.share for t in tiers if t and t.share is not None), Decimal(0))
    if cumulative > 1:
        problems.append((path, "shares_past_one", {"total": cumulative}))
    previous = None
    for i, tier in enumerate(tiers):
        if tier is not None and tier.min is not None:
            # Tiers are tried in order, so a lower minimum first would hide the higher tiers.
            if previous is not None and tier.min >= previous:
                problems.append((f"{path}[{i}].min", "min_order", {"min": tier.min, "above": previous}))
            previous = tier.min


def _tiers(value: object, problems: Problems, top: Decimal) -> tuple[AwardTier, ...] | None:
    if not isinstance(value, list):
        problems.append(("rules.award_tiers", "tiers_list", {}))
        return None
    tiers = [_tier(item, f"rules.award_tiers[{i}]", problems, top) for i, item in enumerate(value)]
    _check_tier_set(value, tiers, problems)
    kept = [tier for tier in tiers if tier is not None]
    return tuple(kept) if len(kept) == len(tiers) else None


def _tiebreak_entry(entry: object, path: str, scheme: Scheme | None, problems: Problems) -> None:
    parsed = TieBreak.parse(entry)
    if parsed is None:
        problems.append((path, "tiebreak_syntax", {"value": entry}))
    elif scheme is not None and not parsed.exists_in(scheme):
        problems.append((path, f"tiebreak_no_{parsed.kind}", {"name": parsed.name}))


def _tiebreak(value: object, scheme: Scheme | None, problems: Problems) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        problems.append(("rules.tiebreak", "tiebreak_list", {}))
        return None
    before = len(problems)
    for i, entry in enumerate(value):
        if entry in value[:i]:
            problems.append((f"rules.tiebreak[{i}]", "twice", {"value": entry}))
        _tiebreak_entry(entry, f"rules.tiebreak[{i}]", scheme, problems)
    return tuple(value) if len(problems) == before else None


def _parse_field(key: str, value: object, scheme: Scheme | None, problems: Problems, top: Decimal) -> Any:
    # Any: the type depends on `key` (tiers, tie-break, Decimal or int), and Rules(**values) takes each by name.
    # `top` is the highest total there is: 100, or no bound worth the name when totals are raw points.
    path, one = f"rules.{key}", Decimal(1)
    if key == "award_tiers":
        return _tiers(value, problems, top)
    if key == "tiebreak":
        return _tiebreak(value, scheme, problems)
    if key == "award_min_total":
        return _within(value, path, Decimal(0), top, False, problems)
    if key in ("discrepancy_share", "bias_threshold"):
        return _within(value, path, Decimal(0), one, True, problems)
    if key in ("recusal", "total"):
        choices = RECUSALS if key == "recusal" else TOTALS
        if value not in choices:
            problems.append((path, "not_one_of", {"value": value, "choices": ", ".join(choices)}))
            return None
        return value
    if key == "criterion_places":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            problems.append((path, "places_range", {"value": value}))
            return None
        return value
    return _integer(value, path, 1 if key == "team_counted" else 0, problems)


def parse_rules(data: Mapping[str, object] | None, scheme: Scheme | None = None, kind: str = "competition") -> Rules:
    """Build Rules from an exchange-format `rules` object; RuleError lists every problem."""
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise RuleError([("rules", "rules_object", {})])
    problems: Problems = []
    if kind not in RULE_KINDS:
        problems.append(("competition.kind", "not_one_of", {"value": kind, "choices": ", ".join(RULE_KINDS)}))
    for key in data:
        if key not in FIELDS:
            problems.append((f"rules.{key}", "unknown_rule", {"name": key}))
    top = Decimal(10) ** 9 if data.get("total") == "points" else Decimal(100)
    values = {key: _parse_field(key, data[key], scheme, problems, top) for key in FIELDS if key in data}
    if problems:
        raise RuleError(problems)
    return Rules(kind=kind, **values)


def _tier_dict(tier: AwardTier) -> dict[str, object]:
    if tier.share is not None:
        return {"name": tier.name, "share": str(tier.share)}
    if tier.count is not None:
        return {"name": tier.name, "count": tier.count}
    return {"name": tier.name, "min": str(tier.min)}


def rules_to_dict(rules: Rules, full: bool = True) -> dict[str, object]:
    """Write the rules as an exchange-format object; `full=False` leaves out defaults."""
    data = {
        "award_tiers": [_tier_dict(t) for t in rules.award_tiers],
        "award_min_total": str(rules.award_min_total),
        "tiebreak": list(rules.tiebreak),
        "team_counted": rules.team_counted,
        "discrepancy_share": str(rules.discrepancy_share),
        "bias_threshold": str(rules.bias_threshold),
        "notice_days": rules.notice_days,
        "recusal": rules.recusal,
    }
    if rules.criterion_places is not None:  # beyond SPEC: written only when set
        data["criterion_places"] = rules.criterion_places
    if rules.total != "percent":
        data["total"] = rules.total
    if full:
        return data
    # Values compare as decimals, so "60" and "60.00" both count as the default.
    default = Rules.default(rules.kind)
    return {key: value for key, value in data.items() if getattr(rules, key) != getattr(default, key)}
