"""Grading into the theory stage: the mark, its change record and audit, key corrections and regrade, the sweep."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, MarkChange
from comp.models.exam import Exam
from comp.models.types import utcnow
from comp.services import ServiceError, results, transaction
from comp.services.exams import grading, keys
from tests.chief.helpers import entrant, judge, mark, set_mark
from tests.exams.exam_helpers import (  # noqa: F401
    RIGHT,
    _english,
    add_entrants,
    make_bank,
    make_exam,
    seat,
    versions,
)

# Transaction control is not work the database does for the grading; everything else counts.
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


@pytest.fixture()
def exam(make_competition):
    """The small competition, running, with no theory mark yet, and a ready exam over the whole bank."""
    competition = make_competition(status="running")
    for ref in ("E1", "E2"):
        set_mark(competition, ref, "J1", "theory.exam", None)
    return make_exam(competition, make_bank())


def rows(competition) -> dict[str, dict]:
    """Return the results document's rows by entrant ref."""
    return {r["ref"]: r for r in results.document(competition)["results"]}


def changes(exam) -> list[MarkChange]:
    return list(
        db.session.scalars(sa.select(MarkChange).where(MarkChange.source == f"exam:{exam.id}").order_by(MarkChange.id))
    )


def test_finish_writes_the_scaled_mark_its_change_and_an_audit_event(exam):
    wrong = ["A", "B", "B", "ABC", "AB", "T", "T", "150.5"]  # 4 of 8 right: B, B, AB, T; 150.5 within 5 is right
    sitting = seat(exam, "E1", wrong)
    grading.finish(sitting, "candidate")
    db.session.commit()
    assert sitting.finished_by == "candidate" and sitting.finished_at is not None
    assert sitting.points == "5" and sitting.score_cents == 6250  # 5/8 of 100
    given = mark(exam.competition, "E1", "J1", "theory.exam")
    assert given.value_cents == 6250 and given.version == 1
    (change,) = changes(exam)
    assert (change.old_cents, change.new_cents, change.reason) == (None, 6250, "理论机考")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exam.finished"))
    assert event.detail["entrant"] == "E1" and event.detail["score"] == "62.5" and event.detail["points"] == "5"


def test_finish_updates_a_typed_mark_and_a_second_finish_changes_nothing(exam):
    set_mark(exam.competition, "E2", "J1", "theory.exam", "12")
    sitting = seat(exam, "E2", RIGHT)
    grading.finish(sitting, "time")
    db.session.commit()
    given = mark(exam.competition, "E2", "J1", "theory.exam")
    assert given.value_cents == 10000 and given.version == 2
    assert [(c.old_cents, c.new_cents) for c in changes(exam)] == [(1200, 10000)]
    grading.finish(sitting, "candidate")
    db.session.commit()
    assert sitting.finished_by == "time" and len(changes(exam)) == 1


def test_the_results_show_the_exam_score_in_the_theory_stage(exam):
    seat(exam, "E1", RIGHT, finished_by="candidate")
    seat(exam, "E2", ["C", "B", "B", "ABCD", "", "", "", ""], finished_by="candidate")  # 4 of 8
    found = rows(exam.competition)
    assert (found["E1"]["stages"]["theory"], found["E2"]["stages"]["theory"]) == ("100.00", "50.00")
    # The practical marks stand; the theory stage weighs 30 of 100.
    practical = {ref: D(found[ref]["stages"]["practical"]) for ref in found}
    for ref, theory in (("E1", 100), ("E2", 50)):
        assert D(found[ref]["total"]) == (D(theory) * 30 + practical[ref] * 70) / 100


def test_finish_inside_a_failing_transaction_leaves_nothing(exam):
    sitting = seat(exam, "E1", RIGHT)
    with pytest.raises(RuntimeError), transaction():
        grading.finish(sitting, "candidate")
        raise RuntimeError
    db.session.expire_all()
    assert mark(exam.competition, "E1", "J1", "theory.exam") is None and not changes(exam)
    assert db.session.get(type(sitting), sitting.id).finished_at is None


def test_a_locked_competition_refuses_grading(exam):
    sitting = seat(exam, "E1", RIGHT)
    exam.competition.status = "locked"
    db.session.commit()
    with pytest.raises(ServiceError, match="locked"):
        grading.finish(sitting, "candidate")
    db.session.rollback()
    assert mark(exam.competition, "E1", "J1", "theory.exam") is None


def test_a_key_correction_regrades_the_right_sittings_audited_and_the_totals_follow(exam, make_user):
    organizer = make_user("organizer", "organizer")
    e1 = seat(exam, "E1", RIGHT, finished_by="candidate")  # right with the old key on Q1 (C)
    e2 = seat(exam, "E2", ["A", *RIGHT[1:]], finished_by="candidate")  # A on Q1
    before = {ref: D(r["total"]) for ref, r in rows(exam.competition).items()}
    q1 = versions(exam.bank)[0]
    changed = keys.correct_key(exam, q1.id, "a", "", "原答案有误", organizer)
    db.session.commit()
    assert changed == 2
    assert (e1.points, e1.score_cents, e2.points, e2.score_cents) == ("7", 8750, "8", 10000)
    assert mark(exam.competition, "E1", "J1", "theory.exam").value_cents == 8750
    assert mark(exam.competition, "E1", "J1", "theory.exam").version == 2
    after = {ref: D(r["total"]) for ref, r in rows(exam.competition).items()}
    assert after["E1"] == before["E1"] - D("3.75") and after["E2"] == before["E2"] + D("3.75")  # 12.5 × 30 %
    assert rows(exam.competition)["E1"]["stages"]["theory"] == "87.50"
    fixed = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exam.key_corrected"))
    assert fixed.detail["old"] == {"answer": "C", "tolerance": None} and fixed.detail["new"]["answer"] == "A"
    assert fixed.actor_id == organizer.id and fixed.detail["reason"] == "原答案有误"
    regraded = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exam.regraded"))
    assert {c["entrant"] for c in regraded.detail["changed"]} == {"E1", "E2"}
    last = changes(exam)[-1]
    assert last.actor_id == organizer.id and "原答案有误" in last.reason
    assert exam.corrections[str(q1.id)]["answer"] == "A"


def test_a_correction_keeps_one_another_organizer_made_a_moment_ago(exam, make_user):
    """The corrections are read again under the exam's lock: a stale copy in this request loses nothing."""
    organizer = make_user("organizer", "organizer")
    seat(exam, "E1", RIGHT, finished_by="candidate")
    q1, q2 = versions(exam.bank)[:2]
    theirs = {
        str(q2.id): {"answer": "A", "tolerance": None, "reason": "他人更正", "by": None, "at": "2026-12-06T08:00:00"}
    }
    db.session.execute(sa.update(Exam).where(Exam.id == exam.id).values(corrections=theirs))  # behind this copy
    sa.orm.attributes.set_committed_value(exam, "corrections", {})
    keys.correct_key(exam, q1.id, "a", "", "原答案有误", organizer)
    db.session.commit()
    db.session.expire_all()
    assert set(exam.corrections) == {str(q1.id), str(q2.id)}


def test_a_tolerance_correction_changes_only_the_sittings_it_moves(exam, make_user):
    organizer = make_user("organizer", "organizer")
    e1 = seat(exam, "E1", [*RIGHT[:7], "153"], finished_by="candidate")  # within 5
    e2 = seat(exam, "E2", [*RIGHT[:7], "150"], finished_by="candidate")
    numeric = versions(exam.bank)[7]
    assert keys.correct_key(exam, numeric.id, "150", "2", "误差应为2", organizer) == 1
    db.session.commit()
    assert (e1.points, e2.points) == ("7", "8")


@pytest.mark.parametrize(
    ("index", "answer", "tolerance", "reason", "message"),
    [
        (0, "Z", "", "why", "not an answer"),
        (0, "AB", "", "why", "not an answer"),
        (0, "", "", "why", "Enter the right answer"),
        (0, "A", "1", "why", "Only a numeric question"),
        (0, "A", "", "  ", "Write why"),
        (0, "C", "", "why", "nothing to correct"),
        (7, "150", "-1", "why", "tolerance"),
        (7, "abc", "", "why", "not an answer"),
        (5, "X", "", "why", "not an answer"),
    ],
)
def test_a_bad_key_correction_is_refused_and_changes_nothing(exam, index, answer, tolerance, reason, message):
    seat(exam, "E1", RIGHT, finished_by="candidate")
    version = versions(exam.bank)[index]
    with pytest.raises(ServiceError, match=message):
        keys.correct_key(exam, version.id, answer, tolerance, reason, None)
    db.session.rollback()
    assert exam.corrections == {} and len(changes(exam)) == 1


def test_a_question_of_another_bank_cannot_be_corrected(exam):
    other = make_bank(name="另一个")
    with pytest.raises(ServiceError, match="No such question"):
        keys.correct_key(exam, versions(other)[0].id, "A", "", "why", None)


def test_the_sweep_finishes_by_time_only_the_sittings_past_their_deadline(exam):
    late = seat(exam, "E1", RIGHT, minutes_left=-1)
    running = seat(exam, "E2", RIGHT, minutes_left=5)
    assert grading.sweep(exam) == 1
    db.session.commit()
    assert late.finished_by == "time" and late.score_cents == 10000 and running.finished_at is None
    assert grading.sweep(exam) == 0
    running.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert grading.sweep(exam) == 1 and running.finished_by == "time"
    assert judge(exam.competition, "J1").id == mark(exam.competition, "E2", "J1", "theory.exam").judge_id
    assert entrant(exam.competition, "E2").id == running.entrant_id


def test_the_cli_sweep_finishes_the_overdue_sittings(exam, runner):
    late = seat(exam, "E1", RIGHT, minutes_left=-1)
    answer = runner.invoke(args=["exams", "sweep", exam.code])
    assert answer.exit_code == 0 and f"{exam.code}: 1 sitting(s) finished by time" in answer.output
    db.session.expire_all()
    assert late.finished_by == "time" and mark(exam.competition, "E1", "J1", "theory.exam").value_cents == 10000
    assert runner.invoke(args=["exams", "sweep", "NOSUCH00"]).exit_code != 0


@contextmanager
def statements():
    """Collect the SQL statements sent while the block runs, transaction control left out."""
    sent: list[str] = []

    def collect(conn, cursor, statement, *args):
        if not CONTROL.match(statement):
            sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", collect)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", collect)


def handed_in(exam, refs: list[str]) -> None:
    """Seat the entrants with every answer right, handed in but not graded yet (as a bulk hand-in leaves them)."""
    for ref in refs:
        sitting = seat(exam, ref, RIGHT)
        sitting.finished_at, sitting.finished_by = utcnow(), "candidate"
    db.session.commit()


def regraded(exam, reason: str) -> tuple[int, list[str]]:
    """Regrade the exam from a fresh session; return how many changed and the statements sent."""
    db.session.expire_all()
    with statements() as sent:
        changed = grading.regrade(exam, None, reason)
        db.session.commit()
    return changed, sent


def test_a_regrade_sends_the_same_few_batched_statements_however_many_sittings_change(exam):
    handed_in(exam, ["E1", "E2"])
    assert regraded(exam, "first")[0] == 2
    few = regraded(exam, "again")[1]  # nothing to write: the reads and the audit event
    handed_in(exam, add_entrants(exam.competition, 5))
    changed, first = regraded(exam, "five more")  # 5 marks inserted, the 2 graded ones unchanged
    # The writes are 4 statements for any number of sittings: the sittings, the marks, the changes, the version.
    assert changed == 5 and len(few) <= 10 and len(first) == len(few) + 4
    q1 = versions(exam.bank)[0]
    exam.corrections = {str(q1.id): {"answer": "A", "tolerance": None, "reason": "why", "by": None, "at": ""}}
    db.session.commit()
    changed, corrected = regraded(exam, "key")  # 7 marks updated, 7 changes
    assert changed == 7 and len(corrected) == len(first)
    assert sum(s.lstrip().startswith("SELECT mark.") for s in corrected) == 1  # the marks are read once
    for ref in ["E1", "E2", "E3", "E7"]:
        given = mark(exam.competition, ref, "J1", "theory.exam")
        assert (given.value_cents, given.version) == (8750, 2)
    assert [(c.old_cents, c.new_cents) for c in changes(exam)] == [(None, 10000)] * 7 + [(10000, 8750)] * 7
    assert {c.reason for c in changes(exam)[-7:]} == {"理论机考: key"}
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "exam.regraded").order_by(AuditEvent.id)
    ).all()[-1]
    assert event.detail["graded"] == 7 and len(event.detail["changed"]) == 7
    assert {c["old"] for c in event.detail["changed"]} == {"8"} and {c["new"] for c in event.detail["changed"]} == {"7"}


def test_the_sweep_of_many_sends_the_same_few_statements_as_of_one(exam):
    seat(exam, "E1", RIGHT, minutes_left=-1)
    with statements() as one:
        assert grading.sweep(exam) == 1
        db.session.commit()
    for ref in add_entrants(exam.competition, 5):
        seat(exam, ref, ["A", *RIGHT[1:]], minutes_left=-1)
    db.session.expire_all()
    with statements() as many:
        assert grading.sweep(exam) == 5
        db.session.commit()
    assert len(many) == len(one)
    assert [(c.old_cents, c.new_cents) for c in changes(exam)] == [(None, 10000)] + [(None, 8750)] * 5
    finished = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "exam.finished").order_by(AuditEvent.id)
    ).all()
    assert len(finished) == 6 and finished[-1].detail["entrant"] == "E7" and finished[-1].detail["score"] == "87.5"
    assert finished[-1].object_type == "sitting" and finished[-1].detail["previous"] is None
    assert finished[-1].detail["by"] == "time" and finished[-1].detail["points"] == "7"
