"""A question's content checked field by field (`check`) from the texts a form or an import row gives.

Every problem is worded in the user's language and keyed by its field, so a form shows it beside
its input and an import names the column. Nothing here reads or writes the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

from flask_babel import gettext as _

from comp.exams.types import LETTERS
from comp.models.exam import QuestionVersion
from comp.models.types import plain
from comp.services import ServiceError
from comp.services.setup import parse_decimal

MAX_OPTIONS, MIN_OPTIONS = 8, 2
LENGTHS = {"code": 40, "area": 64, "source": 120, "stem": 4000, "option": 1000, "explanation": 4000}
TOLERANCE_LIMIT = Decimal(10) ** 9  # Scaled(6) keeps it as a 64-bit count of millionths
KIND_WORDS = {
    "single": ("single", "单选", "单选题", "单项选择", "单项选择题", "单选择题"),
    "multiple": ("multiple", "多选", "多选题", "多项选择", "多项选择题"),
    "truefalse": ("truefalse", "true/false", "判断", "判断题", "是非题"),
    "numeric": ("numeric", "数值", "数值题", "填空(数值)", "填空（数值）", "计算", "计算题"),
}
KIND_OF = {word.lower(): kind for kind, words in KIND_WORDS.items() for word in words}
DIFFICULTY_WORDS = {"易": 1, "容易": 1, "较易": 2, "中": 3, "中等": 3, "一般": 3, "较难": 4, "难": 5, "困难": 5}
TRUE_WORDS = ("t", "true", "对", "√", "✓", "✔", "正确", "是", "y", "yes")
FALSE_WORDS = ("f", "false", "错", "×", "✗", "✘", "x", "错误", "否", "n", "no")
LETTER_SEPARATORS = re.compile(r"[\s,，、;；/|]+")


@dataclass(frozen=True)
class Content:
    """What a question version asks: everything but its number, author and time."""

    kind: str
    stem: str
    options: tuple[str, ...]
    answer: str
    tolerance: Decimal | None
    explanation: str = ""
    area: str = ""
    difficulty: int = 3
    source: str = ""
    image_id: int | None = None

    @classmethod
    def of(cls, version: QuestionVersion) -> Content:
        """Return a stored version's content."""
        return cls(
            version.kind,
            version.stem,
            tuple(version.options or ()),
            version.answer,
            version.tolerance,
            version.explanation,
            version.area,
            version.difficulty,
            version.source,
            version.image_id,
        )

    def fields(self) -> dict:
        """Return the content as QuestionVersion's columns."""
        return {**asdict(self), "options": list(self.options)}


class QuestionProblems(ServiceError):
    """A refused question: `problems` maps each field (kind, stem, options, answer, …) to what is wrong."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def kind_of(text: str) -> str | None:
    """Return the kind a form or sheet names (单选题, 判断, numeric …), or None."""
    return KIND_OF.get(re.sub(r"\s+", "", text or "").lower())


def difficulty_of(value: str) -> int | None:
    """Return a difficulty from 1–5 or 易/较易/中/较难/难; "" is 3 (medium); None when unreadable."""
    text = (value or "").strip()
    if not text:
        return 3
    if text in DIFFICULTY_WORDS:
        return DIFFICULTY_WORDS[text]
    number = parse_decimal(text)
    if number is None or number != number.to_integral_value() or not 1 <= number <= 5:
        return None
    return int(number)


def _letters(text: str, count: int) -> tuple[str, str | None]:
    """Return (the sorted distinct letters of an answer such as "A,C", "a、c", "CA"; a problem or None)."""
    letters = LETTER_SEPARATORS.sub("", text).upper()
    if not letters:
        return "", _("Give the answer: the letters of the right options.")
    wrong = [c for c in letters if c not in LETTERS[:count]]
    if wrong:
        return "", _(
            "The answer “%(answer)s” names %(wrong)s, but the options run from A to %(last)s.",
            answer=text,
            wrong="".join(wrong),
            last=LETTERS[max(count, 1) - 1],
        )
    return "".join(sorted(set(letters))), None


def _truth(text: str, options: Sequence[str]) -> str | None:
    """Return "T" or "F" for 对/错, √/×, 正确/错误, T/F; a letter names the option saying so."""
    word = text.strip().lower()
    if len(word) == 1 and word.upper() in LETTERS[: len(options)] and word not in TRUE_WORDS + FALSE_WORDS:
        word = options[LETTERS.index(word.upper())].strip().lower()
    if word in TRUE_WORDS:
        return "T"
    if word in FALSE_WORDS:
        return "F"
    return None


def _options(texts: Sequence[str], problems: dict[str, str]) -> tuple[str, ...]:
    """Return the options up to the last one given; a gap or an overlong option is a problem."""
    cleaned = [(t or "").strip() for t in texts]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    gaps = [LETTERS[i] for i, t in enumerate(cleaned) if not t]
    if gaps:
        problems["options"] = _("Option %(letters)s is empty but a later one is given.", letters="、".join(gaps))
    elif len(cleaned) > MAX_OPTIONS:
        problems["options"] = _("At most %(n)s options (A–H).", n=MAX_OPTIONS)
    elif any(len(t) > LENGTHS["option"] for t in cleaned):
        problems["options"] = _("An option is longer than %(n)s characters.", n=LENGTHS["option"])
    return tuple(cleaned)


def _answer(kind: str, fields: Mapping, options: tuple[str, ...], problems: dict[str, str]):
    """Check the answer for the kind; return (answer, tolerance, options kept)."""
    text = str(fields.get("answer") or "").strip()
    if kind in ("single", "multiple"):
        if "options" not in problems and not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            problems["options"] = _("A choice question needs 2 to 8 options; this one has %(n)s.", n=len(options))
        letters, problem = _letters(text, len(options))
        if problem is None and kind == "single" and len(letters) != 1:
            problem = _(
                "A single-choice question has one right option; the answer “%(answer)s” names more.", answer=text
            )
        if problem:
            problems.setdefault("answer", problem)
        return letters, None, options
    if kind == "truefalse":
        truth = _truth(text, options)
        if truth is None:
            problems["answer"] = _(
                "The answer of a true-or-false question is 对 or 错 (T or F), not “%(answer)s”.", answer=text
            )
        return truth or "", None, ()
    value = parse_decimal(text)
    if value is None or len(plain(value)) > 40:
        problems["answer"] = _("The answer of a numeric question is a number, not “%(answer)s”.", answer=text)
    tolerance_text = str(fields.get("tolerance") or "").strip()
    tolerance = parse_decimal(tolerance_text) if tolerance_text else None
    if tolerance_text and (tolerance is None or tolerance < 0 or tolerance >= TOLERANCE_LIMIT):
        problems["tolerance"] = _("The tolerance is a number of 0 or more, not “%(value)s”.", value=tolerance_text)
    elif tolerance is not None and tolerance != round(tolerance, 6):
        problems["tolerance"] = _("The tolerance has more than 6 decimal places.")
    return (plain(value) if value is not None else ""), tolerance, ()


def check(fields: Mapping, image_id: int | None = None) -> Content:
    """Return the content the texts give (kind, stem, options, answer, tolerance, …), or refuse with every problem."""
    problems: dict[str, str] = {}
    kind = kind_of(str(fields.get("kind") or ""))
    if kind is None:
        problems["kind"] = _(
            "The kind “%(kind)s” is unknown: write 单选, 多选, 判断 or 数值.", kind=str(fields.get("kind") or "")
        )
    texts = {key: str(fields.get(key) or "").strip() for key in ("stem", "explanation", "area", "source")}
    if not texts["stem"]:
        problems["stem"] = _("The question (题干) is empty.")
    for key, text in texts.items():
        if len(text) > LENGTHS[key]:
            problems[key] = _("At most %(n)s characters; this has %(count)s.", n=LENGTHS[key], count=len(text))
    difficulty = difficulty_of(str(fields.get("difficulty") or ""))
    if difficulty is None:
        problems["difficulty"] = _(
            "The difficulty is 1 to 5 or 易, 较易, 中, 较难, 难; not “%(value)s”.", value=fields.get("difficulty")
        )
    options = _options(fields.get("options") or (), problems)
    answer, tolerance, options = _answer(kind, fields, options, problems) if kind else ("", None, options)
    if problems:
        raise QuestionProblems(problems)
    return Content(
        kind or "",
        texts["stem"],
        options,
        answer,
        tolerance,
        texts["explanation"],
        texts["area"],
        difficulty or 3,
        texts["source"],
        image_id,
    )


def code_problem(code: str) -> str | None:
    """Return what is wrong with a question code (题号), or None."""
    if len(code) > LENGTHS["code"]:
        return _("A code has at most %(n)s characters.", n=LENGTHS["code"])
    return None
