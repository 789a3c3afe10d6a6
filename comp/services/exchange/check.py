"""Validate a whole exchange-format document, collecting every problem with its JSON path."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp import idcard, scoring
from comp.models.competition import AGGREGATIONS, CRITERION_KINDS, KINDS, LEVELS, NOT_TAKEN_REASONS
from comp.models.judging import RECHECK_STATES
from comp.services.common import wording

FORMAT = "jiangxin.competition/1"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
STATUSES = ("pending", "approved", "ok", "absent", "disqualified", "withdrawn")
UNIT_TYPES = ("studio", "team")


class Problems(list):
    """The problems found so far, as (path, message) pairs: the path as the file names the item, the message worded."""

    def add(self, path: str, message: str) -> None:
        """Record one problem."""
        self.append((path, message))


def as_json(value: Any) -> str:
    """Show a value from the document the way the file writes it: "2026" is text, 2026 a number, null nothing."""
    if isinstance(value, Decimal):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # a container that holds itself, only from a caller's own dict
        return repr(value)


def as_text(value: Any) -> str:
    """Show a value for an engine message, which puts it between quotes itself."""
    return value if isinstance(value, str) else as_json(value)


def not_one_of(value: Any, choices: tuple[str, ...]) -> str:
    """Word a value that is not one of the allowed choices."""
    return wording.message("not_one_of", {"value": as_text(value), "choices": ", ".join(choices)})


def twice(value: str) -> str:
    """Word a ref or key that appears more than once."""
    return wording.message("twice", {"value": value})


def decimal_of(value: Any) -> Decimal | None:
    """Read a decimal given as a string or an exact JSON number; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _exponent(number: Decimal) -> int:
    """Return the exponent of a finite decimal, as decimal_of gives them."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a letter ('n', 'N', 'F') only for NaN and infinity
    return exponent


def _text(obj: dict, key: str, path: str, problems: Problems, required=True, limit=200) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.add(f"{path}.{key}", _("is required and must be text") if required else _("must be text"))
        return ""
    if len(value) > limit:
        problems.add(f"{path}.{key}", _("is longer than %(limit)s characters", limit=limit))
    return value.strip()


def _object(value: Any, path: str, problems: Problems) -> dict:
    if not isinstance(value, dict):
        problems.add(path, _("must be an object"))
        return {}
    return value


def _list(value: Any, path: str, problems: Problems, required=True) -> list:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        problems.add(path, _("must be a list"))
        return []
    return value


def check_competition(data: dict, problems: Problems) -> dict:
    """Check the competition header."""
    comp = _object(data.get("competition"), "competition", problems)
    code = _text(comp, "code", "competition", problems, limit=40)
    if code and not CODE_RE.match(code):
        problems.add("competition.code", _("may use only letters, digits, “-” and “_”"))
    _text(comp, "name", "competition", problems)
    _text(comp, "organizer", "competition", problems, required=False, limit=120)
    _text(comp, "trade", "competition", problems, required=False, limit=64)
    if comp.get("kind", "competition") not in KINDS:
        problems.add("competition.kind", not_one_of(comp.get("kind"), KINDS))
    if comp.get("level", "city") not in LEVELS:
        problems.add("competition.level", not_one_of(comp.get("level"), LEVELS))
    year = comp.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        problems.add(
            "competition.year",
            _("must be a year from %(low)s to %(high)s, not %(value)s", low=1990, high=2100, value=as_json(year)),
        )
    if not isinstance(comp.get("rules", {}), dict):
        problems.add("competition.rules", wording.message("rules_object"))
    return comp


def _criterion(c: Any, path: str, stage_key: str, problems: Problems) -> scoring.Criterion | None:
    c = _object(c, path, problems)
    key = _text(c, "key", path, problems, limit=32)
    name = _text(c, "name", path, problems, limit=64)
    maximum = decimal_of(c.get("max"))
    if maximum is None or maximum <= 0 or _exponent(maximum) < -2:
        problems.add(f"{path}.max", _not_positive(c.get("max")))
    kind, aggregation = c.get("kind", "score"), c.get("aggregation", "mean")
    if kind not in CRITERION_KINDS:
        problems.add(f"{path}.kind", not_one_of(kind, CRITERION_KINDS))
    if aggregation not in AGGREGATIONS:
        problems.add(f"{path}.aggregation", not_one_of(aggregation, AGGREGATIONS))
    step = decimal_of(c.get("step")) if c.get("step") is not None else None
    if c.get("step") is not None and (step is None or step <= 0 or _exponent(step) < -2):
        problems.add(f"{path}.step", _not_positive(c.get("step")))
    trim = c.get("trim", 1)  # checked with the scheme (check_scheme): a count, and only for a trimmed mean
    # The judges' lowest mark (below 0 on a signed scale) and the points the top mark is worth (a 0–3 judgement).
    low = decimal_of(c.get("low", 0))
    if low is None or _exponent(low) < -2:
        problems.add(
            f"{path}.low",
            _("must be a number with at most 2 decimal places, not %(value)s", value=as_json(c.get("low"))),
        )
    worth = decimal_of(c.get("worth")) if c.get("worth") is not None else None
    if c.get("worth") is not None and (worth is None or worth <= 0 or _exponent(worth) < -2):
        problems.add(f"{path}.worth", _not_positive(c.get("worth")))
    if not key or maximum is None or maximum <= 0:
        return None
    places = c.get("places")  # checked with the scheme: a count of decimals from 0 to 4
    factored = c.get("factored", False)
    if not isinstance(factored, bool):
        problems.add(f"{path}.factored", _("must be true or false"))
        factored = False
    return scoring.Criterion(
        f"{stage_key}.{key}",
        name,
        maximum,
        kind,
        aggregation,
        step,
        trim=trim,
        low=low or Decimal(0),
        worth=worth,
        places=places,
        factored=factored,
    )


def _not_positive(value: Any) -> str:
    return _("must be a positive number with at most 2 decimal places, not %(value)s", value=as_json(value))


def check_stages(data: dict, problems: Problems) -> scoring.Scheme:
    """Check the stages and criteria and return the scheme they define."""
    stages, seen, before = [], set(), len(problems)
    raw = _list(data.get("stages"), "stages", problems)
    if isinstance(data.get("stages"), list) and not raw:
        problems.add("stages", _("must name at least one stage"))
    for i, s in enumerate(raw):
        path = f"stages[{i}]"
        s = _object(s, path, problems)
        key = _text(s, "key", path, problems, limit=32)
        if key in seen:
            problems.add(f"{path}.key", twice(key))
        seen.add(key)
        name = _text(s, "name", path, problems, limit=64)
        weight = decimal_of(s.get("weight"))
        if weight is None or weight < 0 or _exponent(weight) < -4:
            problems.add(
                f"{path}.weight",
                _("must be a number ≥ 0 with at most 4 decimal places, not %(value)s", value=as_json(s.get("weight"))),
            )
        criteria, keys = [], set()
        for j, c in enumerate(_list(s.get("criteria"), f"{path}.criteria", problems)):
            crit = _criterion(c, f"{path}.criteria[{j}]", key, problems)
            if crit and crit.key in keys:
                problems.add(f"{path}.criteria[{j}].key", twice(crit.key))
            elif crit:
                keys.add(crit.key)
                criteria.append(crit)
        best = s.get("best")  # checked with the scheme: a count of at most the stage's score criteria
        stages.append(scoring.Stage(key, name, weight if weight is not None else Decimal(0), tuple(criteria), best))
    scheme = scoring.Scheme(tuple(stages))
    # The whole-scheme checks (zero weights, a stage without score criteria) only make
    # sense on well-formed stages; problems elsewhere in the file do not stop them.
    if len(problems) == before:
        for path, code, params in scoring.check_scheme(scheme):
            problems.add(path, wording.message(code, params))
    return scheme


def check_entrants(data: dict, kind: str, problems: Problems) -> dict[str, dict]:
    """Check the entrants; return them by ref."""
    entrants: dict[str, dict] = {}
    ids: dict[str, str] = {}
    for i, e in enumerate(_list(data.get("entrants"), "entrants", problems)):
        path = f"entrants[{i}]"
        e = _object(e, path, problems)
        ref = _text(e, "ref", path, problems, limit=40)
        if ref in entrants:
            problems.add(f"{path}.ref", twice(ref))
        _text(e, "name", path, problems, limit=120)
        _text(e, "employer", path, problems, required=False, limit=120)
        _text(e, "team", path, problems, required=False, limit=64)
        _check_entrant_fields(e, path, kind, ids, problems)
        if ref:
            entrants.setdefault(ref, e)
    return entrants


def _check_entrant_fields(e: dict, path: str, kind: str, ids: dict, problems: Problems) -> None:
    status = e.get("status", "ok")
    if status not in STATUSES:
        problems.add(f"{path}.status", not_one_of(status, STATUSES))
    seconds = e.get("time_seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0):
        problems.add(
            f"{path}.time_seconds", _("must be a whole number of seconds ≥ 0, not %(value)s", value=as_json(seconds))
        )
    kind_type = e.get("type", "person" if kind == "competition" else None)
    if kind == "rating" and kind_type not in UNIT_TYPES:
        problems.add(
            f"{path}.type", _("must be “studio” or “team” in a rating, not %(value)s", value=as_json(kind_type))
        )
    if kind == "competition" and kind_type != "person":
        problems.add(f"{path}.type", _("must be “person” in a competition, not %(value)s", value=as_json(kind_type)))
    number = e.get("id_number")
    if number is not None and kind == "competition":
        try:
            value = idcard.normalize(number if isinstance(number, str) else "")
        except idcard.IdNumberError as error:
            problems.add(f"{path}.id_number", _("is not a valid ID number: %(reason)s", reason=error))
        else:
            if value in ids:
                problems.add(f"{path}.id_number", _("is the same person as %(other)s", other=ids[value]))
            ids.setdefault(value, path)


def check_programmes(data: dict, scheme: scoring.Scheme, problems: Problems) -> dict[str, dict[str, tuple]]:
    """Check each entrant's declared programme; return (factor, label) by criterion key, by entrant ref.

    `"programme": {"final.d1": {"factor": "3.4", "label": "5154B"}}` names factored criteria only;
    a factor is a positive number with at most 3 decimals (a degree of difficulty, a base value).
    """
    programmes: dict[str, dict[str, tuple]] = {}
    for i, e in enumerate(_list_or_empty(data.get("entrants"))):
        if not isinstance(e, dict) or e.get("programme") is None:
            continue
        path = f"entrants[{i}].programme"
        items = _object(e["programme"], path, problems)
        found = {}
        for key, item in items.items():
            where = f"{path}.{key}"
            criterion = scheme.criterion(key) if scheme.has_criterion(key) else None
            if criterion is None or not criterion.factored:
                problems.add(where, _("names no criterion marked “factored”: %(value)s", value=as_json(key)))
                continue
            item = _object(item, where, problems)
            factor = decimal_of(item.get("factor"))
            if factor is None or factor <= 0 or _exponent(factor) < -3 or factor >= 10**6:
                problems.add(
                    f"{where}.factor",
                    _(
                        "must be a positive number with at most 3 decimal places, not %(value)s",
                        value=as_json(item.get("factor")),
                    ),
                )
                continue
            label = _text(item, "label", where, problems, required=False, limit=16)
            found[key] = (factor, label)
        if isinstance(e.get("ref"), str):
            programmes[e["ref"]] = found
    return programmes


def check_not_taken(data: dict, scheme: scoring.Scheme, problems: Problems) -> dict[str, dict[str, str]]:
    """Check each entrant's attempts not taken; return "stage.criterion" → DNS or DNI, by entrant ref.

    `"not_taken": {"final.run3": "DNI"}` names score criteria of a stage of attempts (one with `best`).
    """
    attempts = {c.key for s in scheme.stages if s.best for c in s.criteria if c.kind == "score"}
    found: dict[str, dict[str, str]] = {}
    for i, e in enumerate(_list_or_empty(data.get("entrants"))):
        if not isinstance(e, dict) or e.get("not_taken") is None:
            continue
        path = f"entrants[{i}].not_taken"
        items = {}
        for key, reason in _object(e["not_taken"], path, problems).items():
            if key not in attempts:
                problems.add(
                    f"{path}.{key}",
                    _("names no attempt of a stage where only the best count: %(value)s", value=as_json(key)),
                )
            elif reason not in NOT_TAKEN_REASONS:
                problems.add(f"{path}.{key}", not_one_of(reason, NOT_TAKEN_REASONS))
            else:
                items[key] = reason
        if isinstance(e.get("ref"), str):
            found[e["ref"]] = items
    return found


def check_recheck(data: dict, scheme: scoring.Scheme, entrants: dict, judges: dict, problems: Problems) -> dict | None:
    """Check a re-check sample (复核) carried over from an export; return it, or None when the file has none."""
    if data.get("recheck") is None:
        return None
    path = "recheck"
    recheck = _object(data["recheck"], path, problems)
    _text(recheck, "seed", path, problems, limit=32)
    for key, low in (("share", Decimal(0)), ("tolerance", None)):
        value = decimal_of(recheck.get(key))
        if value is None or value > 1 or (value < 0 if low is not None else value <= 0):
            problems.add(
                f"{path}.{key}", _("must be a share from 0 to 1, not %(value)s", value=as_json(recheck.get(key)))
            )
    if recheck.get("marker") not in judges:
        problems.add(f"{path}.marker", _("names no judge: %(value)s", value=as_json(recheck.get("marker"))))
    for key in ("zone", "pool"):
        refs = _list(recheck.get(key), f"{path}.{key}", problems)
        if any(not isinstance(ref, str) for ref in refs):
            problems.add(f"{path}.{key}", _("must be a list of entrant refs"))
    seen: set[tuple] = set()
    for i, item in enumerate(_list(recheck.get("items"), f"{path}.items", problems)):
        _check_recheck_item(
            _object(item, f"{path}.items[{i}]", problems),
            f"{path}.items[{i}]",
            scheme,
            entrants,
            judges,
            seen,
            problems,
        )
    return recheck


def _check_recheck_item(
    item: dict, path: str, scheme, entrants: dict, judges: dict, seen: set, problems: Problems
) -> None:
    key, ref = item.get("criterion"), item.get("entrant")
    criterion = scheme.criterion(key) if isinstance(key, str) and scheme.has_criterion(key) else None
    if ref not in entrants:
        problems.add(f"{path}.entrant", _("names no entrant: %(value)s", value=as_json(ref)))
    if criterion is None or criterion.kind != "score":
        problems.add(f"{path}.criterion", _("names no score criterion: %(value)s", value=as_json(key)))
    if (ref, key) in seen:
        problems.add(path, twice(f"{ref} {key}"))
    seen.add((ref, key))
    state = item.get("state")
    if state not in RECHECK_STATES:
        problems.add(f"{path}.state", not_one_of(state, RECHECK_STATES))
    for field in ("second", "third"):
        if item.get(field) is not None:
            _mark_value(item[field], criterion, f"{path}.{field}", problems)
    if state != "waiting" and item.get("second") is None:
        problems.add(f"{path}.second", _("is required once the second marker has marked"))
    if (state == "third" or item.get("third") is not None) and item.get("third_marker") not in judges:
        problems.add(f"{path}.third_marker", _("names no judge: %(value)s", value=as_json(item.get("third_marker"))))
    if item.get("note") is not None:
        _text(item, "note", path, problems, required=False, limit=200)


def check_judges(data: dict, problems: Problems) -> dict[str, dict]:
    """Check the judges; return them by ref."""
    judges: dict[str, dict] = {}
    chiefs: list[str] = []
    for i, j in enumerate(_list(data.get("judges"), "judges", problems)):
        path = f"judges[{i}]"
        j = _object(j, path, problems)
        ref = _text(j, "ref", path, problems, limit=40)
        if ref in judges:
            problems.add(f"{path}.ref", twice(ref))
        _text(j, "name", path, problems, limit=64)
        _text(j, "employer", path, problems, required=False, limit=120)
        if not isinstance(j.get("chief", False), bool):
            problems.add(f"{path}.chief", _("must be true or false"))
        elif j.get("chief"):
            chiefs.append(path)
        if ref:
            judges.setdefault(ref, j)
    for path in chiefs[1:]:
        problems.add(
            f"{path}.chief", _("a competition has one chief judge; %(first)s is already chief", first=chiefs[0])
        )
    return judges


def check_marks(data, scheme, entrants, judges, problems: Problems) -> list[tuple[str, str, str, Decimal]]:
    """Check every mark against its entrant, judge and criterion; return the valid ones."""
    marks: list[tuple[str, str, str, Decimal]] = []
    seen: dict[tuple[str, str, str], str] = {}
    singles: dict[tuple[str, str], str] = {}
    declared = _declared_criteria(data)
    by_employer = _recusal_by_employer(data)
    for i, m in enumerate(_list(data.get("marks", []), "marks", problems)):
        path = f"marks[{i}]"
        m = _object(m, path, problems)
        entrant, judge, key = m.get("entrant"), m.get("judge"), m.get("criterion")
        ok = _known(entrant, entrants, f"{path}.entrant", _l("names no entrant: %(value)s"), problems)
        ok &= _known(judge, judges, f"{path}.judge", _l("names no judge: %(value)s"), problems)
        criterion = scheme.criterion(key) if isinstance(key, str) and scheme.has_criterion(key) else None
        # A criterion that is declared but invalid is reported once, at its declaration.
        if criterion is None and key not in declared:
            problems.add(
                f"{path}.criterion", _("names no criterion: %(value)s (use stage.criterion)", value=as_json(key))
            )
        value = _mark_value(m.get("value"), criterion, f"{path}.value", problems)
        if not (ok and criterion and value is not None):
            continue
        # _known takes only a text ref, and a criterion is found only by a text key.
        assert isinstance(entrant, str) and isinstance(judge, str) and isinstance(key, str)
        if (entrant, judge, key) in seen:
            problems.add(
                path,
                _(
                    "duplicate mark: %(judge)s already marked %(entrant)s on %(criterion)s in %(first)s",
                    judge=judge,
                    entrant=entrant,
                    criterion=key,
                    first=seen[(entrant, judge, key)],
                ),
            )
            continue
        seen[(entrant, judge, key)] = path
        employer = _shared_employer(entrants[entrant], judges[judge]) if by_employer else ""
        if employer:
            # Taken, the mark would count against the recusal rule, and the results would leave the entrant
            # incomplete without a word: refused here, naming both.
            problems.add(
                path,
                _(
                    "judge %(judge)s (%(judge_name)s) is recused from %(entrant)s (%(entrant_name)s): both are of "
                    "%(employer)s. Remove the mark, or set the rule recusal to “declared” if this panel may mark "
                    "its own",
                    judge=judge,
                    judge_name=judges[judge].get("name", ""),
                    entrant=entrant,
                    entrant_name=entrants[entrant].get("name", ""),
                    employer=employer,
                ),
            )
            continue
        if criterion.aggregation == "single" and (entrant, key) in singles:
            problems.add(
                path,
                _(
                    "%(criterion)s takes a single mark; %(entrant)s already has one in %(first)s",
                    criterion=key,
                    entrant=entrant,
                    first=singles[(entrant, key)],
                ),
            )
            continue
        singles.setdefault((entrant, key), path)
        marks.append((entrant, judge, key, value))
    return marks


def _recusal_by_employer(data: dict) -> bool:
    """Tell whether the file's rules recuse judges from their own employer's entrants (the default)."""
    competition = data.get("competition")
    rules = competition.get("rules") if isinstance(competition, dict) else None
    return not isinstance(rules, dict) or rules.get("recusal", "employer") != "declared"


def _shared_employer(entrant: dict, judge: dict) -> str:
    """Return the employer an entrant and a judge share (as the import matches employers: by name), or ""."""
    mine, theirs = entrant.get("employer"), judge.get("employer")
    return mine if isinstance(mine, str) and mine and mine == theirs else ""


def _declared_criteria(data: dict) -> set[str]:
    """Return every "stage.criterion" key the stages declare, valid or not."""
    return {
        f"{s.get('key')}.{c.get('key')}"
        for s in _list_or_empty(data.get("stages"))
        if isinstance(s, dict)
        for c in _list_or_empty(s.get("criteria"))
        if isinstance(c, dict)
    }


def _list_or_empty(value: Any) -> list:
    """Return the value if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def _known(ref, known: dict, path: str, unknown: LazyString, problems: Problems) -> bool:
    """Say whether the ref names a known entrant or judge; if not, add the `unknown` problem (lazy: marks are many)."""
    if not isinstance(ref, str) or ref not in known:
        problems.add(path, str(unknown) % {"value": as_json(ref)})
        return False
    return True


def _mark_value(raw, criterion, path: str, problems: Problems) -> Decimal | None:
    if isinstance(raw, str) and raw.strip().lower() in ("nan", "-nan", "+nan", "inf", "-inf", "infinity"):
        problems.add(path, wording.message("not_number", {"value": as_text(raw)}))
        return None
    if isinstance(raw, float):
        # A binary float has already lost the figure the judge wrote.
        problems.add(path, wording.message("decimal_as_text", {"value": as_json(raw)}))
        return None
    value = decimal_of(raw)
    if value is None:
        problems.add(path, wording.message("not_number", {"value": as_text(raw)}))
        return None
    if criterion is None:
        return None
    try:
        scoring.check_mark(criterion, value)
    except scoring.MarkError as error:
        problems.add(
            path,
            _(
                "%(problem)s (criterion %(criterion)s)",
                problem=wording.message(error.code, error.params),
                criterion=criterion.key,
            ),
        )
        return None
    return value
