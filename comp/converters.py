"""Values from outside made safe: whole numbers bounded to what the id columns hold, text without control codes.

Every id and count column is an `Integer`: 32 bits in PostgreSQL (SQLAlchemy casts each bound value to
INTEGER, so even a comparison with 2**31 overflows), 64 bits in SQLite (which refuses a larger Python int
outright). A number from outside is checked here, once, so that it becomes a missing page or an ignored
value instead of a 500.
"""

from __future__ import annotations

import re
import unicodedata

from werkzeug.routing import IntegerConverter

BIGGEST = 2**31 - 1  # PostgreSQL's INTEGER; within SQLite's 64 bits too
MAX_PAGE = 100_000  # beyond any real list; keeps an SQL offset of page × size within every database's integers
_DIGITS = re.compile(r"0*([0-9]{1,10})")  # ASCII only: int() would also read "١٢", and isdigit() passes "²"


def has_control_characters(text: str | None, allowed: str = "") -> bool:
    """Tell whether the text holds a control character (Unicode Cc: NUL, ESC, DEL, …) other than `allowed`."""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text or "")


def whole_number(value: str | None, low: int = 0, high: int = BIGGEST) -> int | None:
    """Return the text as a whole number within low…high, or None for anything else."""
    match = _DIGITS.fullmatch((value or "").strip())
    number = int(match[1]) if match else None
    return number if number is not None and low <= number <= high else None


def whole_numbers(values: list[str], low: int = 1, high: int = BIGGEST) -> list[int]:
    """Return the values that are whole numbers within low…high (ids posted by checkboxes), dropping the rest."""
    return [n for n in (whole_number(v, low, high) for v in values) if n is not None]


def page_number(value: str | None) -> int:
    """Return the page asked for, capped at MAX_PAGE; 1 for anything that is not a page number."""
    number = whole_number(value, low=1)
    return 1 if number is None else min(number, MAX_PAGE)


def _at_most(limit: int) -> str:
    """Return a regex of the decimal numbers from 0 to `limit` (leading zeros allowed), digit by digit."""
    digits = str(limit)
    shorter = f"[0-9]{{1,{len(digits) - 1}}}"
    # Same length: equal to the limit up to some digit, smaller there, anything after it.
    same_length = [
        f"{digits[:i]}[0-{int(d) - 1}][0-9]{{{len(digits) - i - 1}}}" for i, d in enumerate(digits) if d != "0"
    ]
    return "0*(?:" + "|".join([shorter, *same_length, digits]) + ")"


class BoundedIntegerConverter(IntegerConverter):
    """The `int` URL converter, matching the ASCII numbers from 0 to BIGGEST: a larger one is a missing page.

    The bound is in the regex, not only in `to_python`: a path that fails conversion while the same path
    has a rule for another method would answer 405 instead of 404.
    """

    regex = _at_most(BIGGEST)

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False
    ) -> None:
        super().__init__(
            map,
            fixed_digits,
            min=(-BIGGEST - 1 if signed else 0) if min is None else min,
            max=BIGGEST if max is None else max,
            signed=signed,
        )
