"""Frozen value types of the exam core: items, blueprint sections, drawn paper items."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

__all__ = ["KINDS", "LETTERS", "MULTIPLE_RULES", "Blueprint", "Item", "PaperItem", "Section"]

KINDS = ("single", "multiple", "truefalse", "numeric")
MULTIPLE_RULES = ("all", "partial")  # all-or-nothing (default) or partial credit with no wrong option chosen
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # option letters: the letter of stored/shown index i is LETTERS[i]
CHOICE_KINDS = ("single", "multiple")  # the kinds whose options are lettered and may be shuffled


@dataclass(frozen=True)
class Item:
    """One question version as the core sees it; `ref` is the question-version id."""

    ref: int
    kind: str
    options: tuple[str, ...]  # stored order; () for truefalse and numeric
    answer: str  # "B" | "ACD" | "T" | "F" | "3.25" (stored letters, sorted)
    tolerance: Decimal | None = None  # numeric only; None = exact
    area: str = ""  # 知识点
    difficulty: int = 3  # 1 易 … 5 难


@dataclass(frozen=True)
class Section:
    """A blueprint line: `count` items of `kind` worth `points` each, filtered by area ("" any) and difficulty."""

    kind: str
    count: int
    points: Fraction
    area: str = ""
    difficulty: int | None = None


@dataclass(frozen=True)
class Blueprint:
    """How a paper is drawn: the sections in order, the multiple-choice rule and the shuffles."""

    sections: tuple[Section, ...]
    multiple: str = "all"
    shuffle_items: bool = True
    shuffle_options: bool = True


@dataclass(frozen=True)
class PaperItem:
    """One drawn item of a paper; `order[i]` is the stored option index shown at display position i."""

    ref: int
    points: Fraction
    order: tuple[int, ...] = ()
