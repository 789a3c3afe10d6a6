"""Paper blueprints and seeded papers: parse, check the pool, draw a candidate's paper, map option letters."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeVar

from comp.exams import flow
from comp.exams.types import CHOICE_KINDS, KINDS, LETTERS, MULTIPLE_RULES, Blueprint, Item, PaperItem, Section

__all__ = [
    "blueprint_data",
    "draw",
    "fraction_text",
    "paper_data",
    "paper_from",
    "parse_blueprint",
    "shortfalls",
    "shown_to_stored",
    "stored_to_shown",
    "total_points",
]

T = TypeVar("T")


# ---------------------------------------------------------------- blueprint JSON


def parse_blueprint(data: Mapping[str, object]) -> Blueprint:
    """Return the blueprint of its JSON form; ValueError naming the field (e.g. "sections[1].count") if bad."""
    if not isinstance(data, Mapping):
        raise ValueError("blueprint: must be an object")
    sections = data.get("sections")
    if not isinstance(sections, list | tuple) or not sections:
        raise ValueError("sections: at least one section is needed")
    multiple = data.get("multiple", "all")
    if multiple not in MULTIPLE_RULES:
        raise ValueError("multiple: must be one of " + ", ".join(MULTIPLE_RULES))
    return Blueprint(
        sections=tuple(_section(f"sections[{i}]", raw) for i, raw in enumerate(sections)),
        multiple=str(multiple),
        shuffle_items=_flag(data, "shuffle_items"),
        shuffle_options=_flag(data, "shuffle_options"),
    )


def _section(where: str, raw: object) -> Section:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be an object")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind: must be one of " + ", ".join(KINDS))
    area = raw.get("area", "")
    if area is None:
        area = ""
    if not isinstance(area, str):
        raise ValueError(f"{where}.area: must be text")
    return Section(
        kind=str(kind),
        count=_count(f"{where}.count", raw.get("count")),
        points=_points(f"{where}.points", raw.get("points")),
        area=area.strip(),
        difficulty=_difficulty(f"{where}.difficulty", raw.get("difficulty")),
    )


def _count(where: str, raw: object) -> int:
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ValueError(f"{where}: must be a whole number of at least 1")
    return raw


def _points(where: str, raw: object) -> Fraction:
    # Points are decimal text ("1", "0.5"); a float is refused because it is not exact.
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise ValueError(f'{where}: must be a decimal number as text, e.g. "1.5"')
    try:
        value = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(raw)
    except InvalidOperation:
        raise ValueError(f'{where}: must be a decimal number as text, e.g. "1.5"') from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{where}: must be more than 0")
    return Fraction(value)


def _difficulty(where: str, raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 5:
        raise ValueError(f"{where}: must be empty (any) or 1 to 5")
    return raw


def _flag(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key, True)
    if not isinstance(value, bool):
        raise ValueError(f"{key}: must be true or false")
    return value


def blueprint_data(bp: Blueprint) -> dict[str, object]:
    """Return the blueprint's JSON form (points as decimal text)."""
    return {
        "sections": [
            {
                "kind": s.kind,
                "count": s.count,
                "points": fraction_text(s.points),
                "area": s.area,
                "difficulty": s.difficulty,
            }
            for s in bp.sections
        ],
        "multiple": bp.multiple,
        "shuffle_items": bp.shuffle_items,
        "shuffle_options": bp.shuffle_options,
    }


def fraction_text(value: Fraction) -> str:
    """Return an exact text of `value`: decimal when it terminates ("2", "0.25"), else "n/d"."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.{places}f}" if places else str(value.numerator)


def _parse_fraction(where: str, raw: object) -> Fraction:
    if not isinstance(raw, str):
        raise ValueError(f"{where}: must be text")
    try:
        value = Fraction(raw.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{where}: not an exact number") from None
    if value < 0:
        raise ValueError(f"{where}: must not be negative")
    return value


def total_points(bp: Blueprint) -> Fraction:
    """Return the points a full paper of the blueprint is worth."""
    return sum((s.count * s.points for s in bp.sections), Fraction(0))


# ---------------------------------------------------------------- the pool against the blueprint


def _sorted_pool(pool: Sequence[Item]) -> list[Item]:
    items = sorted(pool, key=lambda item: item.ref)
    for before, after in zip(items, items[1:]):
        if before.ref == after.ref:
            raise ValueError(f"pool: item {after.ref} appears twice")
    return items


def shortfalls(bp: Blueprint, pool: Sequence[Item]) -> list[tuple[int, int, int]]:
    """Return (section index, needed, available) for each section the pool cannot fill.

    Sections are filled in order: a section gets what the earlier sections, filled as fully as they can
    be, leave it (a maximum flow); `draw` succeeds exactly when this list is empty.
    """
    sections = bp.sections
    got = flow.allocation(sections, [s.count for s in sections], flow.supply(_sorted_pool(pool)))
    return [(i, s.count, have) for i, (s, have) in enumerate(zip(sections, got)) if have < s.count]


# ---------------------------------------------------------------- the draw


def _rng(seed: str, candidate: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{candidate}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _shuffled(rng: random.Random, values: list[T]) -> None:
    # Fisher-Yates written out, so the papers do not depend on how a Python version implements shuffle().
    for i in range(len(values) - 1, 0, -1):
        j = rng.randrange(i + 1)
        values[i], values[j] = values[j], values[i]


def draw(bp: Blueprint, pool: Sequence[Item], seed: str, candidate: str) -> tuple[PaperItem, ...]:
    """Draw a candidate's paper: deterministic from (seed, candidate) and the pool's content, never its order.

    Each section takes its count of matching items at random, never an item twice in the paper; a pick that
    would leave a later section short is not made. ValueError if a section lacks items.
    """
    items = _sorted_pool(pool)
    short = shortfalls(bp, items)
    if short:
        index, needed, available = short[0]
        raise ValueError(f"sections[{index}]: {needed} items needed, {available} available")
    rng = _rng(seed, candidate)
    supply = flow.supply(items)
    demands = [s.count for s in bp.sections]
    used: set[int] = set()
    parts: list[list[Item]] = []
    for i, section in enumerate(bp.sections):
        choices = [item for item in items if item.ref not in used and flow.fits(section, flow.class_of(item))]
        picked: list[Item] = []
        while demands[i]:
            index = rng.randrange(len(choices))
            key = flow.class_of(choices[index])
            if not flow.safe(bp.sections, demands, supply, i, key):
                choices = [item for item in choices if flow.class_of(item) != key]
                continue
            item = choices.pop(index)
            picked.append(item)
            used.add(item.ref)
            supply[key] -= 1
            demands[i] -= 1
        parts.append(picked)
    # The options are shuffled in the order the items were picked, whatever the item order shown: so
    # `shuffle_items` decides only the order of the paper, never which items or options it holds.
    orders = {item.ref: _order(bp, item, rng) for picked in parts for item in picked}
    paper: list[PaperItem] = []
    for section, picked in zip(bp.sections, parts):
        shown = picked if bp.shuffle_items else sorted(picked, key=lambda item: item.ref)
        paper.extend(PaperItem(item.ref, section.points, orders[item.ref]) for item in shown)
    if bp.shuffle_items:
        _shuffled(rng, paper)
    return tuple(paper)


def _order(bp: Blueprint, item: Item, rng: random.Random) -> tuple[int, ...]:
    order = list(range(len(item.options)))
    if bp.shuffle_options and item.kind in CHOICE_KINDS:
        _shuffled(rng, order)
    return tuple(order)


# ---------------------------------------------------------------- paper JSON and option letters


def paper_data(paper: Sequence[PaperItem]) -> list[dict[str, object]]:
    """Return the paper's JSON form: [{"v": ref, "p": points text, "o": [stored index shown at i]}]."""
    return [{"v": p.ref, "p": fraction_text(p.points), "o": list(p.order)} for p in paper]


def paper_from(data: Sequence[Mapping[str, object]]) -> tuple[PaperItem, ...]:
    """Return the paper of its JSON form; ValueError naming the entry (e.g. "paper[3].o") if bad."""
    if not isinstance(data, list | tuple):
        raise ValueError("paper: must be a list")
    paper = []
    # A paper repeats a few point texts ("1", "2") a hundred times: each distinct text is parsed once.
    points: dict[str, Fraction] = {}
    for i, raw in enumerate(data):
        if type(raw) is not dict and not isinstance(raw, Mapping):  # the exact type first: an ABC check is slow
            raise ValueError(f"paper[{i}]: must be an object")
        ref, order, text = raw.get("v"), raw.get("o", []), raw.get("p")
        if not isinstance(ref, int) or isinstance(ref, bool):
            raise ValueError(f"paper[{i}].v: must be a whole number")
        if not isinstance(order, list | tuple) or sorted(order) != list(range(len(order))):
            raise ValueError(f"paper[{i}].o: must be an order of the option indexes")
        if bool in map(type, order):  # True == 1 passes the sort; bool has no subclasses
            raise ValueError(f"paper[{i}].o: must be an order of the option indexes")
        value = points.get(text) if isinstance(text, str) else None
        if value is None:
            value = _parse_fraction(f"paper[{i}].p", text)
            points[str(text)] = value  # text: _parse_fraction refuses anything else
        paper.append(PaperItem(ref, value, tuple(order)))
    return tuple(paper)


def _indexes(response: str, size: int) -> list[int]:
    indexes = []
    for letter in response.upper():
        index = LETTERS.find(letter)
        if index < 0 or index >= size:
            raise ValueError(f"response: {letter!r} is not an option letter")
        indexes.append(index)
    return indexes


def shown_to_stored(response: str, order: Sequence[int]) -> str:
    """Map letters as shown to the candidate to stored letters (sorted); non-choice answers pass unchanged.

    Takes letters only: run `grading.normalize` on what the candidate sent first (it reads "a, c").
    """
    if not order:
        return response
    return "".join(sorted({LETTERS[order[i]] for i in _indexes(response, len(order))}))


def stored_to_shown(response: str, order: Sequence[int]) -> str:
    """Map stored letters to the letters the candidate was shown (sorted); non-choice answers pass unchanged."""
    if not order:
        return response
    position = {stored: shown for shown, stored in enumerate(order)}
    return "".join(sorted({LETTERS[position[i]] for i in _indexes(response, len(order))}))
