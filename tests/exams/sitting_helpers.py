"""Helpers of the sitting tests: an exam on the imported test competition, its bank, candidates, requests."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant, Worker
from comp.models.exam import Exam, Question, QuestionBank, QuestionVersion, Sitting
from comp.models.types import utcnow
from tests.chief.helpers import criterion, entrant, judge
from tests.conftest import SMALL, csrf_token

ID_E1 = SMALL["entrants"][0]["id_number"]
ID_E2 = SMALL["entrants"][1]["id_number"]
BLUEPRINT = {
    "sections": [
        {"kind": "single", "count": 3, "points": "2", "area": "", "difficulty": None},
        {"kind": "multiple", "count": 2, "points": "3", "area": "", "difficulty": None},
        {"kind": "truefalse", "count": 2, "points": "1", "area": "", "difficulty": None},
        {"kind": "numeric", "count": 1, "points": "4", "area": "", "difficulty": None},
    ],
    "multiple": "all",
    "shuffle_items": True,
    "shuffle_options": True,
}
TOTAL = 3 * 2 + 2 * 3 + 2 * 1 + 4  # 18 points


def make_bank(name: str = "茶叶审评题库") -> QuestionBank:
    """Create a bank of 5 single, 3 multiple, 3 true/false and 2 numeric questions (one retired, one edited)."""
    bank = QuestionBank(name=name, trade="评茶员")
    db.session.add(bank)
    specs = (
        [("single", ["甲", "乙", "丙", "丁"], "B")] * 5
        + [("multiple", ["一", "二", "三", "四", "五"], "AC")] * 3
        + [("truefalse", [], "T")] * 3
        + [("numeric", [], "3.5")] * 2
    )
    for number, (kind, options, answer) in enumerate(specs, start=1):
        question = Question(bank=bank, code=f"Q{number:03d}")
        question.versions.append(
            QuestionVersion(
                kind=kind, stem=f"第{number}题", options=options, answer=answer, explanation=f"解析{number}"
            )
        )
        db.session.add(question)
    db.session.flush()
    retired = bank.questions[4]
    retired.retired = True
    edited = bank.questions[0]
    edited.versions.append(
        QuestionVersion(number=2, kind="single", stem="第1题（改）", options=["甲", "乙", "丙"], answer="C")
    )
    db.session.commit()
    return bank


def make_exam(competition, bank=None, opens=-10, closes=120, duration=30, **fields) -> Exam:
    """Create a ready exam on the competition's theory criterion, marked as judge J1; times in minutes from now."""
    now = utcnow()
    exam = Exam(
        competition_id=competition.id,
        criterion_id=criterion(competition, "theory.exam").id,
        marker_id=judge(competition, "J1").id,
        bank_id=(bank or make_bank()).id,
        code=fields.pop("code", "EXAMCODE"),
        title="2026年理论考试",
        status=fields.pop("status", "ready"),
        blueprint=BLUEPRINT,
        seed="seed-2026",
        opens_at=now + timedelta(minutes=opens),
        closes_at=now + timedelta(minutes=closes),
        duration_minutes=duration,
        **fields,
    )
    db.session.add(exam)
    db.session.commit()
    return exam


def worker_of(competition, ref: str) -> Worker:
    """Return the worker of the entrant with this ref."""
    found = entrant(competition, ref).worker
    assert found is not None
    return found


def sitting_of(exam: Exam, ref: str) -> Sitting | None:
    """Return the sitting of the entrant with this ref, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Sitting).join(Entrant).where(Sitting.exam_id == exam.id, Entrant.ref == ref))


def admit(client, code: str, number: str):
    """Post the admission form (exam code + ID number)."""
    token = csrf_token(client, "/exam")
    return client.post("/exam", data={"code": code, "id_number": number, "csrf_token": token})


class Phone:
    """A candidate's browser tab: its device token and the CSRF token its page carries."""

    def __init__(self, client, code: str, device: str = "device-one-0001"):
        self.client, self.code, self.device = client, code, device
        self.token = csrf_token(client, "/exam")

    def post(self, path: str, data: dict | None = None, json: bool = True):
        """Post as exam.js does: the CSRF token in the header, JSON wanted."""
        headers = {"X-CSRFToken": self.token, "X-Exam-Device": self.device}
        if json:
            headers["Accept"] = "application/json"
        return self.client.post(
            f"/exam/{self.code}{path}", data={"device": self.device, **(data or {})}, headers=headers
        )

    def start(self):
        """Press start."""
        return self.post("/start", json=False)

    def claim(self):
        """Open the paper on this device (the page's first request)."""
        return self.post("/device")

    def answer(self, position: int, response: str, version: int):
        """Save an answer at a position, as shown letters, over a version."""
        return self.post(f"/answers/{position}", {"response": response, "version": str(version)})

    def page(self) -> str:
        """Return the exam page's HTML."""
        return self.client.get(f"/exam/{self.code}").get_data(as_text=True)


def shown_options(html: str, position: int) -> list[str]:
    """Return the option texts of a question in the order the page shows them."""
    block = html.split(f'id="q-{position}"', 1)[1].split("</form>", 1)[0]
    return re.findall(r"<b>[A-Z]</b> <span>([^<]*)</span>", block)


def position_of(exam: Exam, ref: str, kind: str = "single") -> int:
    """Return the position of the first question of a kind on the entrant's paper."""
    sitting = sitting_of(exam, ref)
    assert sitting is not None
    for position, entry in enumerate(sitting.paper):
        if db.session.get(QuestionVersion, entry["v"]).kind == kind:
            return position
    raise AssertionError(f"no {kind} question on the paper")
