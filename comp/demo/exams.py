"""The demo's online theory exam: Anxi's tea-taster preliminary, with its bank, paper and sittings.

The bank holds the 200 questions of `teabank`; the paper draws 60 of them per candidate (30 single choice,
10 multiple choice, 15 true/false, 5 numeric: 100 points). Sixty candidates sat it over the last three
days; three have still to sit it, so the exam is open and a newcomer can sit it as one of them. Each
answer follows a candidate's ability and the item's difficulty, so the item analysis has something to
show; one question was keyed wrongly in the bank (茶多酚的主体成分), so the strong candidates "miss" it
and the analysis flags it for review: the organizer can correct the key and watch every sitting regrade.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from comp.demo import data, teabank
from comp.exams.types import LETTERS, Item
from comp.extensions import db
from comp.models import (
    Answer,
    Competition,
    Criterion,
    Exam,
    JudgeAssignment,
    JudgeCriterion,
    OrgUnit,
    Question,
    QuestionBank,
    QuestionVersion,
    SittingEvent,
    Stage,
    User,
)
from comp.models.types import utcnow
from comp.services import transaction
from comp.services.exams import grading
from comp.services.exams import sitting as sittings

CODE = "AXTEA026"  # the exam code a candidate types with her ID number
SEED = "anxi-2026-preliminary"
BLUEPRINT = {
    "sections": [
        {"kind": "single", "count": 30, "points": "1.5", "area": "", "difficulty": None},
        {"kind": "multiple", "count": 10, "points": "2.5", "area": "", "difficulty": None},
        {"kind": "truefalse", "count": 15, "points": "1", "area": "", "difficulty": None},
        {"kind": "numeric", "count": 5, "points": "3", "area": "", "difficulty": None},
    ],
    "multiple": "all",
    "shuffle_items": True,
    "shuffle_options": True,
}
SAT = 60  # of the 63 candidates; the last three have not sat it yet
MISKEYED = "茶多酚的主体成分是什么？"  # keyed in the bank as one of its wrong options


def load(competition: Competition) -> Exam:
    """Create the bank, the exam and the sixty sittings of the preliminary (the caller imported it)."""
    rng = random.Random(f"{data.SEED}{CODE}")
    with transaction():
        criterion = db.session.scalar(
            sa.select(Criterion).join(Stage).where(Stage.competition_id == competition.id, Criterion.key == "exam")
        )
        marker = db.session.scalar(
            sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id, JudgeAssignment.is_chief)
        )
        assert criterion is not None and marker is not None  # as the demo's document makes them
        marker.criteria.append(JudgeCriterion(criterion_id=criterion.id))
        organizer = db.session.scalar(sa.select(User).where(User.username == "jinjiang")) or db.session.scalar(
            sa.select(User).where(User.username == "organizer")
        )
        bank = _bank(organizer, rng)
        now = utcnow().replace(second=0, microsecond=0)
        opened = (now - timedelta(days=3)).replace(hour=1, minute=0)  # 09:00 Beijing time, three days ago
        exam = Exam(
            competition_id=competition.id,
            criterion_id=criterion.id,
            marker_id=marker.user_id,
            bank_id=bank.id,
            code=CODE,
            title="2026年安溪县评茶员初赛理论机考",
            status="ready",
            blueprint=BLUEPRINT,
            seed=SEED,
            opens_at=opened,
            closes_at=opened + timedelta(days=17, hours=9),  # a fortnight on, 18:00 Beijing time
            duration_minutes=60,
            show_answers=True,
            created_by_id=getattr(organizer, "id", None),
        )
        db.session.add(exam)
        db.session.flush()
    candidates = sorted(competition.entrants, key=lambda e: e.ref)[:SAT]
    for i, entrant in enumerate(candidates):
        _sit(exam, entrant, opened + timedelta(hours=2 + (i % 3) * 24 + rng.randint(0, 7 * 60) / 60), rng)
    return exam


def _bank(organizer: User | None, rng: random.Random) -> QuestionBank:
    """Write the 200 questions; two of them were edited once, so their history shows a second version."""
    anxi = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "安溪县总工会"))
    bank = QuestionBank(
        name="评茶员理论题库（2026版）",
        trade="评茶员",
        owner_unit_id=getattr(anxi, "id", None),
        created_by_id=getattr(organizer, "id", None),
    )
    db.session.add(bank)
    db.session.flush()
    by = getattr(organizer, "id", None)
    for row in teabank.items():
        answer = row["answer"]
        if row["stem"] == MISKEYED:  # the slip in the bank the item analysis finds
            answer = next(LETTERS[i] for i, text in enumerate(row["options"]) if text == "黄酮")
        question = Question(bank_id=bank.id, code=row["code"])
        question.versions.append(_version(row, answer, 1, by))
        db.session.add(question)
        if row["code"] in ("PC001", "PC150"):  # edited once: a clearer explanation
            question.versions.append(_version(row | {"explanation": row["explanation"] + "（已修订）"}, answer, 2, by))
    db.session.flush()
    return bank


def _version(row: dict, answer: str, number: int, by: int | None) -> QuestionVersion:
    return QuestionVersion(
        number=number,
        kind=row["kind"],
        stem=row["stem"],
        options=list(row["options"]),
        answer=answer,
        tolerance=row["tolerance"],
        explanation=row["explanation"],
        area=row["area"],
        difficulty=row["difficulty"],
        source=row["source"],
        created_by_id=by,
    )


def _sit(exam: Exam, entrant, started: datetime, rng: random.Random) -> None:
    """Start the candidate's sitting at `started`, answer as her ability allows, and submit (or run out of time)."""
    ability = rng.gauss(0.9, 0.7)
    sitting = sittings.start(exam, entrant, f"demo{entrant.ref}", now=started)
    items = {item.ref: item for item in sittings.pool_for(exam)}
    stems = dict(
        db.session.execute(
            sa.select(QuestionVersion.id, QuestionVersion.stem).where(QuestionVersion.id.in_(list(items)))
        ).all()
    )
    clock = started
    with transaction():
        for position, entry in enumerate(sitting.paper):
            item = items[entry["v"]]
            clock += timedelta(seconds=rng.randint(15, 60))
            response = _response(item, ability, stems[item.ref] == MISKEYED, rng)
            if response is None:
                continue  # left unanswered
            db.session.add(
                Answer(sitting_id=sitting.id, position=position, response=response, version=1, saved_at=clock)
            )
        losses = rng.choice((0, 0, 0, 0, 1, 2, 5))
        for k in range(losses):
            db.session.add(SittingEvent(sitting_id=sitting.id, kind="focus", at=started + timedelta(minutes=5 + 7 * k)))
        sitting.focus_losses, sitting.last_seen_at = losses, clock
    ran_out = clock >= sitting.deadline
    grading.finish(sitting, "time" if ran_out else "candidate")
    with transaction():
        sitting.finished_at = min(clock, sitting.deadline)
        sitting.graded_at = sitting.finished_at


def _response(item: Item, ability: float, miskeyed: bool, rng: random.Random) -> str | None:
    """Return what a candidate of this ability answers: right with a logistic chance, else a plausible slip."""
    if rng.random() < 0.03:
        return None
    # Knowing it, or guessing right: a quarter of the time among four options, half the time on true/false.
    guess = {"single": 0.25, "truefalse": 0.5}.get(item.kind, 0.0)
    chance = guess + (1 - guess) / (1 + math.exp(-1.7 * (ability - (item.difficulty - 3) * 0.6)))
    knows = rng.random() < chance
    if item.kind == "truefalse":
        return item.answer if knows else ("F" if item.answer == "T" else "T")
    if item.kind == "numeric":
        return item.answer if knows else str(int(float(item.answer)) + rng.choice((-2, -1, 1, 2, 10)))
    letters = LETTERS[: len(item.options)]
    if item.kind == "single":
        right = item.answer
        if miskeyed:  # the true answer, 儿茶素, whatever the bank's key says
            right = next(LETTERS[i] for i, text in enumerate(item.options) if text == "儿茶素")
        if not knows and miskeyed and rng.random() < 0.6:
            return item.answer  # 黄酮, a polyphenol too: the slip weak candidates make, and the bank's key
        return right if knows else rng.choice([c for c in letters if c != right])
    if knows:
        return item.answer
    chosen = set(item.answer)
    chosen ^= {rng.choice(letters)}  # one option too many or too few
    return "".join(sorted(chosen)) or item.answer[0]


__all__ = ["CODE", "SAT", "load"]
