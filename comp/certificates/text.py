"""The certificate's body: a template with placeholders, set in lines that fit its box.

Chinese breaks between any two characters, except that closing punctuation never starts a
line; a run of Latin letters and digits (a code, an English name) is kept whole when it fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from string import Formatter

from reportlab.pdfbase.pdfmetrics import stringWidth

PLACEHOLDERS = ("name", "competition", "award", "rank", "year", "employer", "honour")
# Which values stand out: the name in bold, the award (or a unit's honour) in bold red.
EMPHASIS = {"name": "name", "award": "award", "honour": "award"}
NO_LINE_START = set("，。、；：？！”’）》」』〕】…·,.;:?!)%")
NO_LINE_END = set("“‘（《「『〔【(")
SIZES = (26, 24, 22, 20, 18, 16, 15, 14, 13, 12)
LEADING = 1.75
MAX_TEMPLATE = 600


@dataclass(frozen=True)
class Line:
    """One set line: its indent and runs of (text, emphasis, width)."""

    indent: float
    runs: tuple[tuple[str, str | None, float], ...]


def template_problems(template: str) -> list[str]:
    """Return what is wrong with a body template: unknown placeholders, stray braces."""
    problems = []
    try:
        fields = [
            (name, spec, conversion)
            for _literal, name, spec, conversion in Formatter().parse(template)
            if name is not None
        ]
    except ValueError:
        return ["braces"]
    for name, spec, conversion in fields:
        if name not in PLACEHOLDERS or spec or conversion:
            problems.append("{" + name + "}")
    if len(template) > MAX_TEMPLATE:
        problems.append("length")
    return problems


@lru_cache(maxsize=64)
def _parsed(template: str) -> tuple[tuple[tuple[str, str | None], ...], ...]:
    """Split a template into paragraphs of (literal, placeholder name) pairs, once per template."""
    return tuple(
        tuple((literal, name) for literal, name, _spec, _conversion in Formatter().parse(paragraph))
        for paragraph in template.splitlines()
    )


def paragraphs(template: str, values: dict) -> list[list[tuple[str, str | None]]]:
    """Fill the template: one list of (text, emphasis) pieces per paragraph."""
    result = []
    for paragraph in _parsed(template):
        pieces: list[tuple[str, str | None]] = []
        for literal, name in paragraph:
            if literal:
                pieces.append((literal, None))
            if name is not None:
                pieces.append((str(values.get(name, "") or ""), EMPHASIS.get(name)))
        result.append([p for p in pieces if p[0]])
    return [p for p in result if p]


@lru_cache(maxsize=8192)
def _width(char: str, font: str) -> float:
    return stringWidth(char, font, 1000) / 1000


def _units(pieces: list[tuple[str, str | None]]) -> list[list[tuple[str, str | None]]]:
    """Split pieces into unbreakable units: one CJK character, or a run of Latin letters and digits."""
    units: list[list[tuple[str, str | None]]] = []
    latin = False
    for text, emphasis in pieces:
        for char in text:
            is_latin = char.isascii() and char.isalnum()
            if is_latin and latin:
                units[-1].append((char, emphasis))
            else:
                units.append([(char, emphasis)])
            latin = is_latin
    return units


def wrap(pieces: list[tuple[str, str | None]], font: str, size: float, width: float, indent: float) -> list[Line]:
    """Set one paragraph in lines no wider than `width`, the first indented."""
    lines: list[list[tuple[str, str | None]]] = [[]]
    used, limit = 0.0, width - indent
    for unit in _units(pieces):
        unit_width = sum(_width(c, font) for c, _e in unit) * size
        fits = used + unit_width <= limit or not lines[-1] or unit[0][0] in NO_LINE_START
        if not fits:
            carried = _opening_tail(lines[-1])
            lines.append(carried)
            used, limit = sum(_width(c, font) for c, _e in carried) * size, width
        lines[-1].extend(unit)
        used += unit_width
    return [Line(indent if n == 0 else 0.0, _runs(chars, font, size)) for n, chars in enumerate(lines)]


def _opening_tail(line: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Take opening punctuation off the end of a full line: it belongs with what follows."""
    tail: list[tuple[str, str | None]] = []
    while len(line) > 1 and line[-1][0] in NO_LINE_END:
        tail.insert(0, line.pop())
    return tail


def _runs(chars: list[tuple[str, str | None]], font: str, size: float) -> tuple:
    """Join neighbouring characters of one emphasis into runs, with their widths."""
    runs: list[tuple[str, str | None, float]] = []
    for char, emphasis in chars:
        w = _width(char, font) * size
        if runs and runs[-1][1] == emphasis:
            text, _e, total = runs[-1]
            runs[-1] = (text + char, emphasis, total + w)
        else:
            runs.append((char, emphasis, w))
    return tuple(runs)


def fit_paragraphs(
    template: str, values: dict, font: str, width: float, height: float
) -> tuple[list[Line], float, float]:
    """Set the filled template at the largest size that fits the box: (lines, size, leading).

    The first paragraph (the salutation, 张三 同志：) starts at the margin; the others are
    indented by two characters, as Chinese prose is.
    """
    filled = paragraphs(template, values)
    for size in SIZES:
        lines = [
            line
            for n, pieces in enumerate(filled)
            for line in wrap(pieces, font, size, width, 0 if n == 0 else 2 * size)
        ]
        if (len(lines) - 1) * size * LEADING <= height:
            break
    return lines, size, size * LEADING
