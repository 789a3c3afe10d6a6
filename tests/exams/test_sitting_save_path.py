"""The exam day's hot path: an answer save costs three statements (the context, the hold, the write)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.exams import papers
from comp.extensions import db
from comp.models.exam import Answer
from comp.services.exams import sitting as service
from tests.exams.sitting_helpers import ID_E1, Phone, admit, make_exam, position_of, sitting_of, worker_of

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)


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


@pytest.fixture()
def exam(make_competition):
    return make_exam(make_competition(status="running"))


def test_an_answer_by_id_admission_costs_three_statements(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    single = position_of(exam, "E1")
    phone.answer(single, "A", 0)  # the question's kind is now in the process's cache
    with statements() as sent:
        response = phone.answer(single, "B", 1)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(sent) <= 3, "\n".join(sent)  # the context, the hold on the sitting, the UPDATE
    numeric = position_of(exam, "E1", "numeric")  # found before counting: the test's own queries
    with statements() as sent:
        response = phone.answer(numeric, "", 0)  # a first answer (cleared) at another position
    assert response.status_code == 200
    assert len(sent) <= 4, "\n".join(sent)  # the context, the kind (a cache miss), the hold, the INSERT


def test_an_answer_by_a_logged_in_worker_costs_at_most_four(client, auth, make_user, exam):
    make_user("zhangsan", worker_id=worker_of(exam.competition, "E1").id)
    auth.login("zhangsan")
    phone = Phone(client, "EXAMCODE")
    phone.start()
    single = position_of(exam, "E1")
    phone.answer(single, "A", 0)
    with statements() as sent:
        response = phone.answer(single, "B", 1)
    assert response.status_code == 200
    assert len(sent) <= 4, "\n".join(sent)  # + the login's session


def test_last_seen_is_written_at_most_every_15_seconds(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    sitting = sitting_of(exam, "E1")
    sitting.last_seen_at -= timedelta(seconds=20)
    db.session.commit()
    before = sitting.last_seen_at
    single = position_of(exam, "E1")
    assert phone.answer(single, "A", 0).status_code == 200
    after = sitting_of(exam, "E1").last_seen_at
    assert after > before
    with statements() as sent:
        phone.answer(single, "B", 1)
    assert not any("exam_sitting" in s.split("WHERE")[0] and s.lstrip().upper().startswith("UPDATE") for s in sent)


def test_a_refused_save_writes_nothing(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    with statements() as sent:
        phone.answer(position_of(exam, "E1"), "ZZ", 0)
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) for s in sent)
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_a_save_over_a_version_another_device_replaced_is_stale(client, exam):
    """The version is checked in the UPDATE's WHERE: a save over version 1 after version 2 is refused."""
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    phone.start()
    paper = sitting_of(exam, "E1").paper
    position = next(p for p, e in enumerate(paper) if db.session.get(service.QuestionVersion, e["v"]).kind == "single")
    phone.answer(position, "A", 0)
    # A second device saved B over version 1 in the meantime (written behind the first's back).
    answer = db.session.scalar(sa.select(Answer))
    answer.version, answer.response = 2, papers.shown_to_stored("B", paper[position]["o"])
    answer.saved_at = answer.saved_at - timedelta(days=1)  # before this device's start: another device wrote it
    db.session.commit()
    response = phone.answer(position, "C", 1)
    assert response.status_code == 409 and response.get_json()["version"] == 2
    assert response.get_json()["response"] == "B"
