"""What published results earn (以赛促升): honour recommendations and skill-grade promotions.

A competition's `outcomes` say, for a range of places or an award, which honours its
entrants are recommended for and how their skill grade moves, e.g.::

    {"rules": [{"places": [1, 1], "honours": ["技术能手", "五一劳动奖章"]},
               {"places": [1, 5], "promote": 1},
               {"places": [6, 15], "grade": 3}]}

Skill grades are numbered as the national scheme does: 5 = 五级/初级工 … 1 = 一级/高级技师,
so a promotion lowers the number. Ranks are shared by tied entrants, so a tie on the last
place of a range brings every tied entrant in. Problems are reported as (path, code,
params) so the application can word them in the user's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from comp.scoring.problems import Problem, ProblemsError

GRADES = (1, 2, 3, 4, 5)
LOWEST_GRADE = 5
MAX_TITLE = 64


@dataclass(frozen=True)
class OutcomeRule:
    """One rule: who it applies to (places or an award) and what it earns."""

    first: int | None = None
    last: int | None = None
    award: str | None = None
    honours: tuple[str, ...] = ()
    promote: int = 0
    grade: int | None = None

    def applies(self, rank: int | None, award: str | None) -> bool:
        """Tell whether an entrant with this rank and award falls under the rule."""
        if rank is None:
            return False
        if self.award is not None:
            return award == self.award
        if self.first is None or self.last is None:  # parse_outcomes gives every rule places or an award
            raise TypeError("an outcome rule needs places or an award")
        return self.first <= rank <= self.last


@dataclass(frozen=True)
class Placed:
    """A ranked entrant as the pipeline sees it: a key of the caller's, rank, award and grade."""

    key: object
    rank: int | None
    award: str | None
    grade: int | None


@dataclass(frozen=True)
class Earned:
    """What one entrant earned: honours recommended and the skill grade to move to (or None)."""

    key: object
    rank: int
    honours: tuple[str, ...]
    grade_to: int | None
    grade_unknown: bool = False


class OutcomeError(ProblemsError):
    """The outcomes are not valid; `problems` lists (path, code, params) for each fault."""


def _int(value: object, path: str, problems: list[Problem], low: int, high: int | None = None) -> int | None:
    """Return value as an int within [low, high], or record why it is not."""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((path, "not_integer", {}))
        return None
    if value < low or (high is not None and value > high):
        problems.append((path, "out_of_range", {"low": low, "high": high}))
        return None
    return value


def _places(
    item: Mapping[str, object], path: str, problems: list[Problem]
) -> tuple[int | None, int | None, str | None]:
    """Read who a rule applies to: `places` [first, last] or an `award` name."""
    if "award" in item and "places" not in item:
        award = item["award"]
        if not isinstance(award, str) or not award.strip():
            problems.append((f"{path}.award", "empty_award", {}))
            return None, None, None
        return None, None, award.strip()
    places = item.get("places")
    if not isinstance(places, (list, tuple)) or len(places) != 2:
        problems.append((f"{path}.places", "places_pair", {}))
        return None, None, None
    first = _int(places[0], f"{path}.places[0]", problems, 1)
    last = _int(places[1], f"{path}.places[1]", problems, 1)
    if first is not None and last is not None and last < first:
        problems.append((f"{path}.places", "places_order", {"first": first, "last": last}))
    return first, last, None


def _honours(value: object, path: str, problems: list[Problem]) -> tuple[str, ...]:
    """Read the honour titles a rule recommends, refusing empty or over-long ones."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        problems.append((path, "honours_list", {}))
        return ()
    titles = []
    for i, title in enumerate(value):
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > MAX_TITLE:
            problems.append((f"{path}[{i}]", "honour_title", {"max": MAX_TITLE}))
        elif title.strip() not in titles:
            titles.append(title.strip())
    return tuple(titles)


def _rule(item: object, path: str, problems: list[Problem]) -> OutcomeRule | None:
    """Read one rule, recording every problem under its path."""
    if not isinstance(item, Mapping):
        problems.append((path, "rule_object", {}))
        return None
    before = len(problems)
    first, last, award = _places(item, path, problems)
    honours = _honours(item.get("honours"), f"{path}.honours", problems)
    promote = _int(item.get("promote", 0), f"{path}.promote", problems, 0, LOWEST_GRADE - 1) or 0
    grade = item.get("grade")
    grade = None if grade is None else _int(grade, f"{path}.grade", problems, 1, LOWEST_GRADE)
    if len(problems) == before and not (honours or promote or grade):
        problems.append((path, "no_effect", {}))
    if len(problems) > before:
        return None
    return OutcomeRule(first, last, award, honours, promote, grade)


def parse_outcomes(data: Mapping[str, object] | None) -> tuple[OutcomeRule, ...]:
    """Validate a competition's outcomes and return its rules (OutcomeError lists every fault)."""
    if not data:
        return ()
    items = data.get("rules", []) if isinstance(data, Mapping) else None
    if not isinstance(items, (list, tuple)):
        raise OutcomeError([("outcomes.rules", "rules_list", {})])
    problems: list[Problem] = []
    rules = [_rule(item, f"outcomes.rules[{i}]", problems) for i, item in enumerate(items)]
    if problems:
        raise OutcomeError(problems)
    return tuple(rule for rule in rules if rule is not None)  # without problems, every rule was read


def rule_to_dict(rule: OutcomeRule) -> dict[str, object]:
    """Return the rule as stored in the competition's outcomes."""
    data: dict[str, object] = {"award": rule.award} if rule.award is not None else {"places": [rule.first, rule.last]}
    if rule.honours:
        data["honours"] = list(rule.honours)
    if rule.promote:
        data["promote"] = rule.promote
    if rule.grade is not None:
        data["grade"] = rule.grade
    return data


def grade_target(rules: Iterable[OutcomeRule], grade: int | None) -> tuple[int | None, bool]:
    """Return the best grade the rules move a worker to (None: no change) and whether it was unknown."""
    targets, unknown = [], False
    for rule in rules:
        if rule.grade is not None:
            targets.append(rule.grade)
        if rule.promote:
            if grade is None:
                unknown = True
            else:
                targets.append(max(1, grade - rule.promote))
    best = min(targets) if targets else None
    if best is None or (grade is not None and best >= grade):
        return None, unknown
    return best, unknown


def earned(rules: Iterable[OutcomeRule], placed: Iterable[Placed]) -> list[Earned]:
    """Return what each ranked entrant earns under the rules, best rank first (ties by input order)."""
    rules = tuple(rules)
    result = []
    for entrant in placed:
        matching = [rule for rule in rules if rule.applies(entrant.rank, entrant.award)]
        if not matching or entrant.rank is None:  # a rule applies only to a ranked entrant
            continue
        honours = tuple(dict.fromkeys(title for rule in matching for title in rule.honours))
        grade_to, unknown = grade_target(matching, entrant.grade)
        if honours or grade_to is not None or unknown:
            result.append(Earned(entrant.key, entrant.rank, honours, grade_to, unknown))
    result.sort(key=lambda e: e.rank)
    return result
