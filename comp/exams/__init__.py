"""The theory exam's core: blueprints, seeded papers, grading and item statistics, exact and plain Python."""

from comp.exams.analysis import ItemStats, PaperStats, analyse, group_size
from comp.exams.grading import MAX_PLACES, mark, normalize, scaled_cents, score
from comp.exams.papers import (
    blueprint_data,
    draw,
    fraction_text,
    paper_data,
    paper_from,
    parse_blueprint,
    shortfalls,
    shown_to_stored,
    stored_to_shown,
    total_points,
)
from comp.exams.types import KINDS, LETTERS, MULTIPLE_RULES, Blueprint, Item, PaperItem, Section

__all__ = [
    "KINDS",
    "LETTERS",
    "MAX_PLACES",
    "MULTIPLE_RULES",
    "Blueprint",
    "Item",
    "ItemStats",
    "PaperItem",
    "PaperStats",
    "Section",
    "analyse",
    "blueprint_data",
    "draw",
    "fraction_text",
    "group_size",
    "mark",
    "normalize",
    "paper_data",
    "paper_from",
    "parse_blueprint",
    "scaled_cents",
    "score",
    "shortfalls",
    "shown_to_stored",
    "stored_to_shown",
    "total_points",
]
