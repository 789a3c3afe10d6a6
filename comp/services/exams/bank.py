"""Question banks (题库): create, list in scope, add, edit as a new version, retire, restore.

A question's content is checked by `bank_checks.check` before it comes here. An edit adds a version
(number + 1) unless nothing changed; versions are never rewritten, so a paper drawn before keeps
what it asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from comp import permissions
from comp.exams.types import KINDS
from comp.extensions import db
from comp.models import User
from comp.models.exam import Question, QuestionBank, QuestionVersion
from comp.services import transaction
from comp.services.common import audit
from comp.services.exams.bank_checks import Content, QuestionProblems, code_problem

NAME_LENGTH, TRADE_LENGTH = 120, 64


def kind_label(kind: str) -> str:
    """Return a kind's name in the user's language."""
    return {
        "single": _("single choice"),
        "multiple": _("multiple choice"),
        "truefalse": _("true or false"),
        "numeric": _("numeric"),
    }.get(kind, kind)


# ---------------------------------------------------------------- who may, what there is


def may_manage(user: User, bank: QuestionBank) -> bool:
    """Tell whether the user may manage the bank: admins; organizers whose scope holds its owner unit.

    A bank of no union is the city's: only those who see every union (admins, the city federation's
    organizers) manage it, as only they may use it in an exam (`setup.banks_for`).
    """
    if not user.is_authenticated or not user.active or user.role not in ("admin", "organizer"):
        return False
    units = permissions.scope(user)
    return units is None or (bank.owner_unit_id is not None and bank.owner_unit_id in units)


def banks_for(user: User) -> list[QuestionBank]:
    """Return the banks the user may manage, by trade then name."""
    query = sa.select(QuestionBank).order_by(QuestionBank.trade, QuestionBank.name, QuestionBank.id)
    units = permissions.scope(user)
    if units is not None:
        query = query.where(QuestionBank.owner_unit_id.in_(units))
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
