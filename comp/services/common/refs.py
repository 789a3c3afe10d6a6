"""Refs numbered after a letter, such as the judges' J1 … J10 and the nominated units' U0001 …

A ref's number orders the list (J2 before J10) and gives the next ref its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar


class _HasRef(Protocol):
    @property
    def ref(self) -> str: ...


R = TypeVar("R", bound=_HasRef)


def ref_number(ref: str | None, prefix: str) -> int:
    """Return the number of a ref such as J12 or U0003 (0 for a ref of another form)."""
    match = re.fullmatch(re.escape(prefix) + r"(\d+)", ref or "")
    return int(match.group(1)) if match else 0


def last_number(refs: Iterable[str], prefix: str) -> int:
    """Return the highest number among the refs (0 when there are none)."""
    return max((ref_number(ref, prefix) for ref in refs), default=0)


def in_ref_order(rows: Iterable[R], prefix: str) -> list[R]:
    """Return the rows in the order of their refs' numbers, then of the refs themselves."""
    return sorted(rows, key=lambda row: (ref_number(row.ref, prefix), row.ref))
