"""Two requests at the end of a sitting: an answer is either graded or refused, and a sitting is graded once.

The sitting's row is the meeting point: ending it is a conditional UPDATE (`grading.claim`), and an answer
save holds the same row lock while it writes (`sitting._hold`). These tests put the other request in the
gap each guard closes, on either database.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Mark
from comp.models.exam import Answer, Sitting
from comp.models.types import utcnow
from comp.services.exams import grading
from comp.services.exams import sitting as service
from tests.exams.sitting_helpers import ID_E1, Phone, admit, make_exam, position_of, sitting_of


@pytest.fixture()
def exam(make_competition):
    return make_exam(make_competition(status="running"))


def _finished_events() -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "exam.finished").order_by(AuditEvent.id))
    )


def test_an_answer_arriving_after_another_request_ended_the_sitting_is_refused_not_saved(client, exam, monkeypatch):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    single = position_of(exam, "E1")
    stored = service._stored

    def submitted_meanwhile(*args):
        # The save has read its context (the sitting open); the candidate's other tab submits now.
        grading.finish(db.session.get_one(Sitting, sitting_of(exam, "E1").id), "candidate")
        return stored(*args)

    monkeypatch.setattr(service, "_stored", submitted_meanwhile)
    response = phone.answer(single, "A", 0)
    assert response.status_code == 409 and response.get_json()["state"] == "finished"
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0
    sitting = sitting_of(exam, "E1")
    assert sitting.finished_by == "candidate" and sitting.points == "0"


def test_an_answer_arriving_after_a_take_over_is_refused_as_taken(client, exam, monkeypatch):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    single = position_of(exam, "E1")
    stored = service._stored

    def taken_meanwhile(*args):
        service.take_over(db.session.get_one(Sitting, sitting_of(exam, "E1").id), "device-two-0002")
        return stored(*args)

    monkeypatch.setattr(service, "_stored", taken_meanwhile)
    response = phone.answer(single, "A", 0)
    assert response.status_code == 409 and response.get_json()["state"] == "taken"
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_a_second_finish_of_a_sitting_another_request_ended_grades_nothing_again(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    assert phone.answer(position_of(exam, "E1"), "A", 0).status_code == 200
    sitting = sitting_of(exam, "E1")
    grading.finish(sitting, "candidate")
    # The sweep had loaded the sitting before the candidate's submit committed: its copy is still open.
    stale = sitting_of(exam, "E1")
    sa.orm.attributes.set_committed_value(stale, "finished_at", None)
    sa.orm.attributes.set_committed_value(stale, "graded_at", None)
    grading.finish(stale, "time")
    db.session.commit()
    assert len(_finished_events()) == 1
    assert sitting_of(exam, "E1").finished_by == "candidate"
    exam_marks = sa.select(sa.func.count(Mark.id)).where(
        Mark.criterion_id == exam.criterion_id, Mark.judge_id == exam.marker_id, Mark.entrant_id == sitting.entrant_id
    )
    assert db.session.scalar(exam_marks) == 1


def test_the_sweep_leaves_a_sitting_the_candidate_submitted_meanwhile(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    sitting = sitting_of(exam, "E1")
    sitting.deadline = utcnow()
    db.session.commit()
    late = grading.overdue(exam)  # the sweep has read the overdue sittings
    assert [s.id for s in late] == [sitting.id]
    db.session.execute(
        sa.update(Sitting).where(Sitting.id == sitting.id).values(finished_at=utcnow(), finished_by="candidate")
    )  # the candidate's submit commits before the sweep writes
    assert grading.finish_many(exam, late, "time") == 0
    db.session.commit()
    assert _finished_events() == []
    assert sitting_of(exam, "E1").finished_by == "candidate"
