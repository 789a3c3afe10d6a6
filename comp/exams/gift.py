"""Moodle's GIFT text format for question banks: read it into plain questions and write them back.

Questions are separated by blank lines; `//` lines are comments, except `// difficulty: 4` and
`// source: …`, which carry what GIFT has no place for. `$CATEGORY: $course$/top/a/b` sets the
knowledge area (its last part) of the questions after it. A question is `::code::stem {answers}`:
`{=right ~wrong}` single choice; several `=`, or `~%50%` positive weights, multiple choice;
`{T}` / `{FALSE}` true or false; `{#3.5:0.1}`, `{#3.5}` or `{#1..2}` a numeric answer. `####text`
closes the answers with the general feedback (the explanation); `#text` after an answer is its
own feedback, which is dropped. `\\~ \\= \\# \\{ \\} \\: \\\\` are the characters themselves and
`\\n` a line break. Problems are codes (`GiftError.problem`) that the caller words for the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from comp.exams.types import LETTERS

__all__ = ["GiftError", "Parsed", "dump", "parse"]

SPECIAL = "~=#{}:"
MAX_OPTIONS = 8
FORMATS = ("[html]", "[moodle]", "[plain]", "[markdown]")
PLACEHOLDERS = ("$course$", "$system$", "$module$", "top")
META = re.compile(r"//\s*(difficulty|source)\s*:\s*(.*)", re.IGNORECASE)
WEIGHT = re.compile(r"%(-?[0-9]+(?:\.[0-9]+)?)%")
TRUE, FALSE = ("T", "TRUE"), ("F", "FALSE")


@dataclass(frozen=True)
class Parsed:
    """One question read from GIFT (or to be written): the fields of a question version, and its code."""

    line: int
    kind: str
    stem: str
    options: tuple[str, ...] = ()
    answer: str = ""
    tolerance: Decimal | None = None
    explanation: str = ""
    area: str = ""
    code: str = ""
    difficulty: int = 3
    source: str = ""


@dataclass(frozen=True)
class GiftError:
    """A question that cannot be read, by the line it starts on: `problem` is a code, `detail` what was found.

    Codes: unclosed, no_answers, essay, matching, short_answer, numeric, numeric_several, no_right,
    options, empty_stem, empty_option, difficulty, together.
    """

    line: int
    problem: str
    detail: str = ""


# ---------------------------------------------------------------- escapes


def _find(text: str, target: str, start: int = 0) -> int:
    """Return the index of the first unescaped `target` at or after `start`, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def _split(text: str, marks: str) -> list[str]:
    """Split text before each unescaped character of `marks`, keeping the mark at the start of its piece."""
    pieces: list[str] = []
    begin = i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in marks and i > begin:
            pieces.append(text[begin:i])
            begin = i
        i += 1
    pieces.append(text[begin:])
    return [p for p in pieces if p]


def _unescape(text: str) -> str:
    """Return the text with GIFT's escapes replaced by what they stand for."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            following = text[i + 1]
            out.append("\n" if following == "n" else following)
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _escape(text: str) -> str:
    """Return the text with GIFT's special characters escaped and line breaks as `\\n`."""
    text = text.replace("\\", "\\\\")
    for char in SPECIAL:
        text = text.replace(char, "\\" + char)
    text = text.replace("->", "\\->")  # else an option would read as a matching pair
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _clean(text: str) -> str:
    """Unescape and trim a piece of text."""
    return _unescape(text.strip()).strip()


# ---------------------------------------------------------------- blocks


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, lines) of each blank-line separated block."""
    start, lines = 0, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not lines:
                start = number
            lines.append(line)
        elif lines:
            yield start, lines
            lines = []
    if lines:
        yield start, lines


def _area(path: str) -> str:
    """Return the knowledge area of a category path: its last part (`//` is a slash within a name)."""
    parts = [p.replace("\0", "/").strip() for p in path.replace("//", "\0").split("/")]
    named = [p for p in parts if p and p not in PLACEHOLDERS]
    return named[-1] if named else ""


def parse(text: str) -> list[Parsed | GiftError]:
    """Read every question of a GIFT text, or the problem of each one that cannot be read, in order."""
    return list(read(text))


def read(text: str) -> Iterator[Parsed | GiftError]:
    """Yield each question of a GIFT text, or its problem, in order: a reader may stop at a cap."""
    area = ""
    for start, lines in _blocks(text.lstrip("\ufeff")):
        meta: dict[str, str] = {}
        body: list[tuple[int, str]] = []
        for offset, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("//"):
                match = META.fullmatch(stripped)
                if match:
                    meta[match[1].lower()] = match[2].strip()
                continue
            if stripped.startswith("$CATEGORY:") and not body:
                area = _area(stripped[len("$CATEGORY:") :])
                continue
            body.append((start + offset, line))
        if body:
            yield _question(body[0][0], "\n".join(line for _n, line in body), area, meta)


# ---------------------------------------------------------------- one question


def _question(line: int, text: str, area: str, meta: dict[str, str]) -> Parsed | GiftError:
    """Read one question's text (comments and category removed)."""
    code = ""
    text = text.strip()
    if text.startswith("::"):
        end = _find(text, "::", 2)
        if end < 0:
            return GiftError(line, "unclosed", "::")
        code, text = _clean(text[2:end]), text[end + 2 :].lstrip()
    for marker in FORMATS:
        if text.lower().startswith(marker):
            text = text[len(marker) :]
    opening = _find(text, "{")
    if opening < 0:
        return GiftError(line, "no_answers")
    closing = _find(text, "}", opening + 1)
    if closing < 0:
        return GiftError(line, "unclosed", "{")
    if _find(text, "{", closing + 1) >= 0:
        return GiftError(line, "together")  # two questions with no blank line between them
    before, after = _clean(text[:opening]), _clean(text[closing + 1 :])
    stem = f"{before} ____ {after}".strip() if after else before
    if not stem:
        return GiftError(line, "empty_stem")
    difficulty = meta.get("difficulty", "3")
    if difficulty not in ("1", "2", "3", "4", "5"):
        return GiftError(line, "difficulty", difficulty)
    block, explanation = _feedback(text[opening + 1 : closing])
    answers = _answers(line, block)
    if isinstance(answers, GiftError):
        return answers
    kind, options, answer, tolerance = answers
    return Parsed(
        line, kind, stem, options, answer, tolerance, explanation, area, code, int(difficulty), meta.get("source", "")
    )


def _feedback(block: str) -> tuple[str, str]:
    """Split the answers from the general feedback after `####`."""
    at = _find(block, "####")
    if at < 0:
        return block.strip(), ""
    return block[:at].strip(), _clean(block[at + 4 :])


Answers = tuple[str, tuple[str, ...], str, Decimal | None]


def _answers(line: int, block: str) -> Answers | GiftError:
    """Read the answers between the braces into (kind, options, answer, tolerance)."""
    if not block:
        return GiftError(line, "essay")
    if block.startswith("#"):
        return _numeric(line, block[1:])
    word = _unescape(block[: _find(block, "#")] if _find(block, "#") >= 0 else block).strip().upper()
    if word in TRUE or word in FALSE:
        return "truefalse", (), "T" if word in TRUE else "F", None
    if block[0] not in "=~":
        return GiftError(line, "no_answers", block[:40])
    return _choices(line, _split(block, "=~"))


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _numeric(line: int, block: str) -> Answers | GiftError:
    """Read `3.5:0.1`, `3.5` or `1..2` (a range: its midpoint, half its width either side)."""
    pieces = _split(block.strip(), "=")
    if len(pieces) > 1:
        return GiftError(line, "numeric_several", block[:40])
    text = pieces[0].lstrip("=") if pieces else ""
    feedback = _find(text, "#")
    text = _unescape(text[:feedback] if feedback >= 0 else text).strip()
    if WEIGHT.match(text):
        return GiftError(line, "numeric_several", block[:40])
    if ".." in text:
        low, _dots, high = text.partition("..")
        low_value, high_value = _decimal(low), _decimal(high)
        if low_value is None or high_value is None or high_value < low_value:
            return GiftError(line, "numeric", text[:40])
        middle = (low_value + high_value) / 2
        return "numeric", (), _plain(middle), abs(high_value - middle)
    value_text, colon, tolerance_text = text.partition(":")
    value = _decimal(value_text)
    tolerance = _decimal(tolerance_text) if colon else None
    if value is None or (colon and (tolerance is None or tolerance < 0)):
        return GiftError(line, "numeric", text[:40])
    return "numeric", (), _plain(value), tolerance


def _plain(value: Decimal) -> str:
    """Write a decimal without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _choices(line: int, pieces: list[str]) -> Answers | GiftError:
    """Read `=right ~wrong ~%50%partly`: single choice with one right, else multiple choice."""
    options: list[str] = []
    right: list[int] = []
    weighted = False
    for index, piece in enumerate(pieces):
        mark, body = piece[0], piece[1:]
        if _find(body, "->") >= 0:
            return GiftError(line, "matching")
        feedback = _find(body, "#")
        body = body[:feedback] if feedback >= 0 else body
        weight = WEIGHT.match(body.strip())
        share = Decimal(weight[1]) if weight else None
        if weight:
            weighted = True
            body = body.strip()[weight.end() :]
        option = _clean(body)
        if not option:
            return GiftError(line, "empty_option", LETTERS[min(index, len(LETTERS) - 1)])
        options.append(option)
        if (mark == "=" and (share is None or share > 0)) or (mark == "~" and share is not None and share > 0):
            right.append(index)
    if all(p[0] == "=" for p in pieces):
        return GiftError(line, "short_answer")
    if not right:
        return GiftError(line, "no_right")
    if not 2 <= len(options) <= MAX_OPTIONS:
        return GiftError(line, "options", str(len(options)))
    letters = "".join(LETTERS[i] for i in right)
    several = len(right) > 1 or weighted
    return ("multiple" if several else "single"), tuple(options), letters, None


# ---------------------------------------------------------------- writing


def _category(area: str) -> str:
    name = " ".join(area.split()).replace("/", "//")  # a category is one line
    return "$CATEGORY: $course$/top" + (f"/{name}" if name else "")


def _block(item: Parsed) -> str:
    """Return one question as GIFT."""
    if item.kind == "truefalse":
        answers = "TRUE" if item.answer == "T" else "FALSE"
    elif item.kind == "numeric":
        answers = "#" + item.answer + (f":{_plain(item.tolerance)}" if item.tolerance is not None else "")
    else:
        answers = _options(item)
    if item.explanation:
        answers += " ####" + _escape(item.explanation)
    head = [f"// difficulty: {item.difficulty}"]
    if item.source:
        head.append(f"// source: {item.source.replace(chr(10), ' ')}")
    title = f"::{_escape(item.code)}:: " if item.code else ""
    return "\n".join([*head, f"{title}{_escape(item.stem)} {{{answers}}}"])


def _options(item: Parsed) -> str:
    """Write choices: `=` before the right one of a single choice; weights summing to 100 for a multiple one."""
    rights = [LETTERS.index(letter) for letter in item.answer]
    parts = []
    for index, option in enumerate(item.options):
        text = _escape(option)
        if item.kind == "single":
            parts.append(("=" if index in rights else "~") + text)
        elif index in rights:
            parts.append(f"~%{_plain(Decimal(100) / len(rights))}%{text}")
        else:
            parts.append(f"~%-100%{text}")
    return " ".join(parts)


def dump(items: Iterable[Parsed]) -> str:
    """Write questions as GIFT, a category line wherever the knowledge area changes."""
    blocks: list[str] = []
    area: str | None = None
    for item in items:
        if item.area != area:
            area = item.area
            blocks.append(_category(area))
        blocks.append(_block(item))
    return "\n\n".join(blocks) + "\n" if blocks else ""
