"""Exact grading: normalize a response, mark it against the key, total a paper, scale to the criterion."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

from comp.exams.types import LETTERS, MULTIPLE_RULES, Item, PaperItem

__all__ = ["MAX_PLACES", "mark", "normalize", "scaled_cents", "score"]

MAX_PLACES = 12  # decimal places a numeric response may have
MAX_DIGITS = 15  # digits before the point
TRUE = frozenset({"T", "TRUE", "对", "√", "✓", "✔", "正确"})
FALSE = frozenset({"F", "FALSE", "错", "×", "✗", "✘", "错误"})
SEPARATORS = " \t,，、;；/"


def normalize(item: Item, response: str) -> str:
    """Return the canonical stored form of a response: "ca" -> "AC", "对" -> "T", "03.50" -> "3.5".

    "" (after trimming) means unanswered. ValueError for anything that is not an answer to this item.
    """
    text = response.strip()
    if not text:
        return ""
    if item.kind == "single":
        letters = _letters(item, text)
        if len(letters) != 1:
            raise ValueError("response: choose exactly one option")
        return letters[0]
    if item.kind == "multiple":
        return "".join(sorted(set(_letters(item, text))))
    if item.kind == "truefalse":
        upper = text.upper()
        if upper in TRUE:
            return "T"
        if upper in FALSE:
            return "F"
        raise ValueError("response: must be true or false")
    if item.kind == "numeric":
        return _number(text)
    raise ValueError(f"item {item.ref}: unknown kind {item.kind!r}")


def _letters(item: Item, text: str) -> list[str]:
    letters = [c for c in text.upper() if c not in SEPARATORS]
    for letter in letters:
        index = LETTERS.find(letter)
        if index < 0 or index >= len(item.options):
            raise ValueError(f"response: {letter!r} is not one of the options")
    if not letters:
        raise ValueError("response: no option chosen")
    return letters


def _number(text: str) -> str:
    # A Chinese keyboard types full-width figures, point and minus (３．５, －２); a phone may offer "−" (U+2212).
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("response: must be a number") from None
    if not value.is_finite():
        raise ValueError("response: must be a finite number")
    if value.is_zero():
        return "0"
    # Drop trailing zeros by hand: Decimal.normalize() would round to the context's precision.
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    kept = list(digits)
    while exponent < 0 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    if -exponent > MAX_PLACES:
        raise ValueError(f"response: at most {MAX_PLACES} decimal places")
    if len(kept) + exponent > MAX_DIGITS:
        raise ValueError(f"response: at most {MAX_DIGITS} digits before the point")
    return format(Decimal((sign, tuple(kept), exponent)), "f")


def mark(item: Item, points: Fraction, response: str, multiple: str) -> Fraction:
    """Return the points a stored response earns; 0 for unanswered or unreadable, never below 0 or above points.

    single / truefalse: the key's letter; numeric: |value − key| ≤ tolerance (exact; equality when None);
    multiple "all": exactly the key's letters; "partial": points × right chosen / right letters, 0 if any
    wrong letter is chosen.
    """
    if multiple not in MULTIPLE_RULES:
        raise ValueError("multiple: must be one of " + ", ".join(MULTIPLE_RULES))
    if points < 0:
        raise ValueError("points: must not be negative")
    key = _key(item)
    try:
        given = normalize(item, response)
    except ValueError:
        return Fraction(0)  # a stored response that is no answer is simply not right
    if not given:
        return Fraction(0)
    if item.kind == "numeric":
        distance = abs(Fraction(Decimal(given)) - Fraction(Decimal(key)))
        allowed = abs(Fraction(item.tolerance)) if item.tolerance is not None else Fraction(0)
        return points if distance <= allowed else Fraction(0)
    if item.kind != "multiple" or multiple == "all":
        return points if given == key else Fraction(0)
    chosen, right = set(given), set(key)
    if chosen - right:
        return Fraction(0)
    return points * len(chosen & right) / len(right)


def _key(item: Item) -> str:
    """Return the item's key in stored form; ValueError if it is no answer (a broken key must not pass)."""
    # A regrade marks each item thousands of times: its key is normalized once (items are frozen values).
    try:
        return _cached_key(item)
    except TypeError:  # unhashable (a signalling-NaN tolerance): checked without the cache, and refused there
        return _checked_key(item)


@lru_cache(maxsize=4096)
def _cached_key(item: Item) -> str:
    return _checked_key(item)


def _checked_key(item: Item) -> str:
    try:
        key = normalize(item, item.answer)
    except ValueError:
        key = ""
    if not key:
        raise ValueError(f"item {item.ref}: the answer key {item.answer!r} is not an answer")
    if item.tolerance is not None and not item.tolerance.is_finite():
        raise ValueError(f"item {item.ref}: the tolerance must be a finite number")
    return key


def score(
    items: Mapping[int, Item], paper: Sequence[PaperItem], responses: Mapping[int, str], multiple: str
) -> Fraction:
    """Return a paper's exact points; `responses` are stored responses by position (missing = unanswered)."""
    total, whole = Fraction(0), 0
    for position, entry in enumerate(paper):
        item = items.get(entry.ref)
        if item is None:
            raise ValueError(f"paper[{position}]: item {entry.ref} is not known")
        earned = mark(item, entry.points, responses.get(position, ""), multiple)
        # Whole points (the usual case) are summed as ints: a Fraction addition costs far more, the sum is the same.
        if earned.denominator == 1:
            whole += earned.numerator
        else:
            total += earned
    return total + whole


def scaled_cents(points: Fraction, total: Fraction, criterion_max: Decimal) -> int:
    """Return points / total × criterion_max in hundredths, rounded half up (exact)."""
    if total <= 0:
        raise ValueError("total: must be more than 0")
    if not criterion_max.is_finite():
        raise ValueError("criterion_max: must be a finite number")
    value = Fraction(points) / total * Fraction(criterion_max) * 100
    units = abs(value)
    rounded = (units.numerator * 2 + units.denominator) // (units.denominator * 2)
    return rounded if value >= 0 else -rounded
