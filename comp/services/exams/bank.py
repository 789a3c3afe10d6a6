"""Question banks (题库): create, list in scope, add, edit as a new version, retire, restore.

A question's content is checked field by field (`check`) from the texts a form or an import row
gives; every problem is worded in the user's language and keyed by its field, so a form shows it
beside its input and an import names the column. An edit adds a version (number + 1) unless
nothing changed; versions are never rewritten, so a paper drawn before keeps what it asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from comp import permissions
from comp.exams.types import KINDS, LETTERS
from comp.extensions import db
from comp.models import User
from comp.models.exam import Question, QuestionBank, QuestionVersion
from comp.models.types import plain
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import parse_decimal

MAX_OPTIONS, MIN_OPTIONS = 8, 2
LENGTHS = {"code": 40, "area": 64, "source": 120, "stem": 4000, "option": 1000, "explanation": 4000}
NAME_LENGTH, TRADE_LENGTH = 120, 64
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


def kind_label(kind: str) -> str:
    """Return a kind's name in the user's language."""
    return {
        "single": _("single choice"),
        "multiple": _("multiple choice"),
        "truefalse": _("true or false"),
        "numeric": _("numeric"),
    }.get(kind, kind)


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


# ---------------------------------------------------------------- who may, what there is


def may_manage(user: User, bank: QuestionBank) -> bool:
    """Tell whether the user may manage the bank: admins; organizers whose scope holds its owner unit."""
    if not user.is_authenticated or not user.active or user.role not in ("admin", "organizer"):
        return False
    units = permissions.scope(user)
    return units is None or bank.owner_unit_id is None or bank.owner_unit_id in units


def banks_for(user: User) -> list[QuestionBank]:
    """Return the banks the user may manage, by trade then name."""
    query = sa.select(QuestionBank).order_by(QuestionBank.trade, QuestionBank.name, QuestionBank.id)
    units = permissions.scope(user)
    if units is not None:
        query = query.where(sa.or_(QuestionBank.owner_unit_id.is_(None), QuestionBank.owner_unit_id.in_(units)))
    return list(db.session.scalars(query))


def counts(bank_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Return, per bank, how many questions in use each kind has (by their current version), and "retired"."""
    latest = (
        sa.select(QuestionVersion.question_id, sa.func.max(QuestionVersion.number).label("number"))
        .group_by(QuestionVersion.question_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Question.bank_id, Question.retired, QuestionVersion.kind, sa.func.count())
        .join(latest, latest.c.question_id == Question.id)
        .join(
            QuestionVersion,
            sa.and_(QuestionVersion.question_id == Question.id, QuestionVersion.number == latest.c.number),
        )
        .where(Question.bank_id.in_(list(bank_ids) or [0]))
        .group_by(Question.bank_id, Question.retired, QuestionVersion.kind)
    )
    found: dict[int, dict[str, int]] = {bank_id: {} for bank_id in bank_ids}
    for bank_id, retired, kind, count in rows:
        key = "retired" if retired else kind
        found[bank_id][key] = found[bank_id].get(key, 0) + count
    return found


def create_bank(user: User, name: str, trade: str) -> QuestionBank:
    """Create a bank for a trade, owned by the user's union (none for an admin without one)."""
    name, trade = (name or "").strip(), (trade or "").strip()
    problems = {}
    if not name or len(name) > NAME_LENGTH:
        problems["name"] = _("Give the bank a name of at most %(n)s characters.", n=NAME_LENGTH)
    if not trade or len(trade) > TRADE_LENGTH:
        problems["trade"] = _("Give the trade, at most %(n)s characters.", n=TRADE_LENGTH)
    if problems:
        raise QuestionProblems(problems)
    with transaction():
        bank = QuestionBank(name=name, trade=trade, owner_unit_id=user.org_unit_id, created_by_id=user.id)
        db.session.add(bank)
        db.session.flush()
        audit.record("bank.created", user, None, bank, name=name, trade=trade)
    return bank


def questions(bank: QuestionBank, kind: str = "", area: str = "") -> list[Question]:
    """Return the bank's questions by code, filtered by the current version's kind and area."""
    found = list(
        db.session.scalars(
            sa.select(Question).where(Question.bank_id == bank.id).options(so.selectinload(Question.versions))
        )
    )
    found = [q for q in found if (not kind or q.current.kind == kind) and (not area or q.current.area == area)]
    return sorted(found, key=lambda q: (len(q.code), q.code))


def areas(bank: QuestionBank) -> list[str]:
    """Return every knowledge area a version of the bank names."""
    return sorted(
        db.session.scalars(
            sa.select(QuestionVersion.area)
            .join(Question)
            .where(Question.bank_id == bank.id, QuestionVersion.area != "")
            .distinct()
        )
    )


# ---------------------------------------------------------------- checking content


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


# ---------------------------------------------------------------- writing


def next_code(taken: set[str]) -> str:
    """Return the next free code of the form 0001, and note it as taken."""
    number = len(taken) + 1
    while f"{number:04d}" in taken:
        number += 1
    taken.add(f"{number:04d}")
    return f"{number:04d}"


def codes(bank: QuestionBank) -> set[str]:
    """Return every code the bank uses."""
    return set(db.session.scalars(sa.select(Question.code).where(Question.bank_id == bank.id)))


def new_question(bank: QuestionBank, user: User | None, content: Content, code: str) -> Question:
    """Add a question and its first version to the session, in the caller's transaction; nothing is checked."""
    question = Question(bank_id=bank.id, code=code)
    question.versions.append(QuestionVersion(number=1, created_by_id=getattr(user, "id", None), **content.fields()))
    db.session.add(question)
    return question


def next_version(question: Question, user: User | None, content: Content) -> QuestionVersion | None:
    """Add the next version to the session unless the content is the current one's; nothing is written else."""
    if Content.of(question.current) == content:
        return None
    version = QuestionVersion(
        number=question.current.number + 1, created_by_id=getattr(user, "id", None), **content.fields()
    )
    question.versions.append(version)
    return version


def add_question(bank: QuestionBank, user: User | None, content: Content, code: str = "") -> Question:
    """Add a question with its first version; a code already in the bank is refused, none given is made."""
    taken = codes(bank)
    code = code.strip()
    if code in taken:
        raise QuestionProblems({"code": _("The bank already has a question %(code)s.", code=code)})
    if code_problem(code):
        raise QuestionProblems({"code": code_problem(code) or ""})
    with transaction():
        question = new_question(bank, user, content, code or next_code(taken))
        db.session.flush()
        audit.record("question.added", user, None, question, bank=bank.id, code=question.code, kind=content.kind)
    return question


def edit_question(question: Question, user: User | None, content: Content) -> QuestionVersion | None:
    """Add a version with the new content (number + 1); return None, writing nothing, when nothing changed."""
    old = question.current.answer
    with transaction():
        version = next_version(question, user, content)
        if version is None:
            return None
        db.session.flush()
        audit.record(
            "question.versioned",
            user,
            None,
            question,
            bank=question.bank_id,
            code=question.code,
            number=version.number,
            answer={"old": old, "new": version.answer},
        )
    return version


def set_retired(question: Question, user: User | None, retired: bool) -> bool:
    """Retire a question (never drawn again) or restore it; tell whether anything changed."""
    if question.retired == retired:
        return False
    with transaction():
        question.retired = retired
        action = "question.retired" if retired else "question.restored"
        audit.record(action, user, None, question, bank=question.bank_id, code=question.code)
    return True


def question_in(bank: QuestionBank, question_id: int) -> Question | None:
    """Return the bank's question with this id, or None."""
    question = db.session.get(Question, question_id)
    return question if question is not None and question.bank_id == bank.id else None


def known(kind: str) -> bool:
    """Tell whether the kind is one the exams know."""
    return kind in KINDS
