"""The mass preliminary both exam benchmarks sit: a competition, a question bank and a ready 100-item exam.

Written with the app's models inside an app context; the competition comes in through the exchange
import (so its candidates arrive with workers and protected ID numbers), the bank and the exam are
plain ORM inserts, as an organizer's pages would leave them.
"""

from __future__ import annotations

from datetime import timedelta

from comp.idcard import check_digit

# The paper: 70 single, 10 multiple, 20 true/false, one point each; the bank holds more of each to draw from.
PAPER = (("single", 70), ("multiple", 10), ("truefalse", 20))
BANK = {"single": 180, "multiple": 30, "truefalse": 50}
SEED = "examload-2026"
THEORY = "theory.exam"  # the synthetic competition's `single` criterion, marked by J1 alone


def id_number(index: int) -> str:
    """Return a valid ID number, distinct for each index below 50,000 (a birth year per thousand)."""
    year, serial = divmod(index, 1000)
    born = f"{1960 + year:04d}0101"
    first17 = f"350502{born}{serial:03d}"
    return first17 + check_digit(first17)


def document(code: str, candidates: int, with_ids: bool = True) -> dict:
    """Return the exchange-format competition: the synthetic scheme, every entrant checked in, no marks."""
    from bench import synthetic

    data = synthetic.competition(candidates, code=code)
    for n, entrant in enumerate(data["entrants"]):
        entrant["status"] = "ok"
        if with_ids:
            entrant["id_number"] = id_number(n)
    data["marks"] = []
    return data


def blueprint() -> dict:
    """Return the paper's blueprint in its JSON form, items and options shuffled."""
    return {
        "sections": [
            {"kind": kind, "count": count, "points": "1", "area": "", "difficulty": None} for kind, count in PAPER
        ],
        "multiple": "all",
        "shuffle_items": True,
        "shuffle_options": True,
    }


def make_bank(trade: str):
    """Insert a bank of BANK items (one version each) and return it."""
    from comp.extensions import db
    from comp.models.exam import Question, QuestionBank, QuestionVersion

    bank = QuestionBank(name="负载测试题库", trade=trade)
    db.session.add(bank)
    db.session.flush()
    n = 0
    for kind, count in BANK.items():
        for i in range(count):
            n += 1
            options = [f"选项{j + 1}" for j in range(4 if kind == "single" else 5)] if kind != "truefalse" else []
            answer = {"single": "ABCD"[i % 4], "multiple": ("AB", "ACE", "BCD", "ABDE")[i % 4]}.get(kind, "TF"[i % 2])
            question = Question(bank_id=bank.id, code=f"Q{n:04d}")
            question.versions = [
                QuestionVersion(
                    number=1, kind=kind, stem=f"第{n}题", options=options, answer=answer, area="", difficulty=3
                )
            ]
            db.session.add(question)
    db.session.flush()
    return bank


def make_exam(competition, bank, code: str):
    """Insert the competition's ready exam on its theory criterion, written as J1, open now for three hours."""
    import sqlalchemy as sa

    from comp.extensions import db
    from comp.models import Criterion, JudgeAssignment, Stage
    from comp.models.exam import Exam
    from comp.models.types import utcnow
    from comp.services.hall import judges as panel

    stage, key = THEORY.split(".")
    criterion = db.session.scalar(
        sa.select(Criterion)
        .join(Stage)
        .where(Stage.competition_id == competition.id, Stage.key == stage)
        .where(Criterion.key == key)
    )
    marker = db.session.scalar(
        sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id, JudgeAssignment.ref == "J1")
    )
    panel.assign_criteria(marker, [criterion.id])
    now = utcnow()
    exam = Exam(
        competition_id=competition.id,
        criterion_id=criterion.id,
        marker_id=marker.user_id,
        bank_id=bank.id,
        code=code,
        title="负载测试理论机考",
        status="ready",
        blueprint=blueprint(),
        seed=SEED,
        opens_at=now - timedelta(minutes=30),
        closes_at=now + timedelta(hours=3),
        duration_minutes=150,
        corrections={},
    )
    db.session.add(exam)
    db.session.flush()
    return exam
