"""Factories of the organizer's exam tests: a bank, an exam on the small competition, sittings with answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import flask_babel
import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant, Worker
from comp.models.exam import Answer, Exam, Question, QuestionBank, QuestionVersion, Sitting
from comp.models.types import utcnow
from comp.services.exams import grading
from tests.chief.helpers import criterion, entrant, judge
from tests.conftest import csrf_token, valid_id

# (kind, options, answer, tolerance, area, difficulty)
QUESTIONS = [
    ("single", ["绿茶", "红茶", "乌龙茶", "白茶"], "C", None, "茶类", 2),
    ("single", ["80℃", "90℃", "100℃"], "B", None, "冲泡", 3),
    ("single", ["3克", "5克", "8克"], "B", None, "冲泡", 3),
    ("multiple", ["香气", "滋味", "汤色", "叶底"], "ABCD", None, "审评", 4),
    ("multiple", ["铁观音", "大红袍", "龙井"], "AB", None, "茶类", 3),
    ("truefalse", [], "T", None, "审评", 1),
    ("truefalse", [], "F", None, "茶类", 1),
    ("numeric", [], "150", Decimal("5"), "冲泡", 5),
]


@pytest.fixture(autouse=True)
def _english(app, monkeypatch):
    """Read every message in English."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
    flask_babel.refresh()


def make_bank(owner_unit_id=None, trade: str = "无人机驾驶员", questions=QUESTIONS, name: str = "题库") -> QuestionBank:
    """Create a bank whose questions each have one version, in the order given (codes Q1, Q2 …)."""
    bank = QuestionBank(name=name, trade=trade, owner_unit_id=owner_unit_id)
    db.session.add(bank)
    db.session.flush()
    for n, (kind, options, answer, tolerance, area, difficulty) in enumerate(questions, 1):
        question = Question(bank_id=bank.id, code=f"Q{n}")
        question.versions = [
            QuestionVersion(
                number=1,
                kind=kind,
                stem=f"第{n}题",
                options=list(options),
                answer=answer,
                tolerance=tolerance,
                area=area,
                difficulty=difficulty,
            )
        ]
        db.session.add(question)
    db.session.commit()
    return bank


def versions(bank: QuestionBank) -> list[QuestionVersion]:
    """Return the bank's question versions in question order."""
    return list(
        db.session.scalars(
            sa.select(QuestionVersion).join(Question).where(Question.bank_id == bank.id).order_by(Question.id)
        )
    )


def whole_bank() -> dict:
    """Return a blueprint drawing every question of the default bank, one point each, unshuffled."""
    kinds = [("single", 3), ("multiple", 2), ("truefalse", 2), ("numeric", 1)]
    return {
        "sections": [{"kind": k, "count": n, "points": "1", "area": "", "difficulty": None} for k, n in kinds],
        "multiple": "all",
        "shuffle_items": False,
        "shuffle_options": False,
    }


def make_exam(competition, bank, status: str = "ready", blueprint: dict | None = None, path="theory.exam") -> Exam:
    """Create an exam of the competition on the criterion, written as judge J1, open now for two hours."""
    now = utcnow()
    exam = Exam(
        competition_id=competition.id,
        criterion_id=criterion(competition, path).id,
        marker_id=judge(competition, "J1").id,
        bank_id=bank.id,
        code=f"EX{competition.id:06d}"[-8:],
        title="理论考试",
        status=status,
        blueprint=blueprint or whole_bank(),
        seed="种子-2026",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=1),
        duration_minutes=60,
        corrections={},
    )
    db.session.add(exam)
    db.session.commit()
    return exam


def seat(exam: Exam, ref: str, responses: list[str], finished_by: str | None = None, minutes_left: int = 30) -> Sitting:
    """Seat the entrant with the whole bank as her paper in stored order, with these stored responses by position."""
    bank_versions = versions(exam.bank)
    now = utcnow()
    sitting = Sitting(
        exam_id=exam.id,
        entrant_id=entrant(exam.competition, ref).id,
        paper=[{"v": v.id, "p": "1", "o": list(range(len(v.options)))} for v in bank_versions],
        started_at=now - timedelta(minutes=10),
        deadline=now + timedelta(minutes=minutes_left),
        device="dev-" + ref,
        last_seen_at=now,
    )
    db.session.add(sitting)
    db.session.flush()
    for position, response in enumerate(responses):
        if response is not None:
            db.session.add(Answer(sitting_id=sitting.id, position=position, response=response, version=1))
    db.session.commit()
    if finished_by:
        grading.finish(sitting, finished_by)
        db.session.commit()
    return sitting


def add_entrants(competition, count: int, start: int = 3) -> list[str]:
    """Add checked-in person entrants E<start>… with workers; return their refs."""
    refs = []
    for n in range(start, start + count):
        worker = Worker(name=f"考生{n}")
        from comp.services import people

        people.set_id_number(worker, valid_id(500 + n))
        db.session.add(worker)
        db.session.flush()
        ref = f"E{n}"
        db.session.add(
            Entrant(competition_id=competition.id, ref=ref, name=worker.name, worker_id=worker.id, status="ok")
        )
        refs.append(ref)
    db.session.commit()
    return refs


RIGHT = ["C", "B", "B", "ABCD", "AB", "T", "F", "150"]  # every answer of QUESTIONS right


@dataclass
class Logged:
    """A logged-in test client that posts with the CSRF token."""

    client: object
    token: str = ""

    def get(self, url: str, htmx: bool = False, **kwargs):
        """GET a page, or its htmx fragment."""
        return self.client.get(url, headers={"HX-Request": "true"} if htmx else {}, **kwargs)

    def post(self, url: str, data: dict | None = None, htmx: bool = False, **kwargs):
        """POST a form with the CSRF token."""
        if not self.token:
            self.token = csrf_token(self.client, "/")
        headers = {"X-CSRFToken": self.token} | ({"HX-Request": "true"} if htmx else {})
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)
