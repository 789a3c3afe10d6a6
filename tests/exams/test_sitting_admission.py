"""Who may sit: a worker by her account, anyone by exam code + ID number; one message for every wrong guess."""

from __future__ import annotations

import pytest

from comp.extensions import db
from tests.chief.helpers import entrant
from tests.conftest import valid_id
from tests.exams.sitting_helpers import ID_E1, ID_E2, admit, make_exam, worker_of

GENERIC = "No exam for this exam code and ID-card number"


@pytest.fixture()
def exam(make_competition):
    return make_exam(make_competition(status="running"))


def _en(client):
    client.post("/lang", data={"lang": "en", "next": "/exam"})


def test_an_id_number_and_the_exam_code_admit_the_candidate_to_her_own_exam(client, exam):
    response = admit(client, "examcode", ID_E1)
    assert response.status_code == 302 and response.headers["Location"].endswith("/exam/EXAMCODE")
    with client.session_transaction() as session:
        assert session["exam_entrants"] == [entrant(exam.competition, "E1").id]
    page = client.get("/exam/EXAMCODE")
    assert page.status_code == 200 and "张三" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"  # a shared computer's cache keeps nothing of her paper


@pytest.mark.parametrize(
    ("code", "number"),
    [
        ("WRONGCOD", ID_E1),  # wrong code
        ("EXAMCODE", valid_id(555)),  # a valid number of no entrant
        ("EXAMCODE", "12345"),  # not an ID number at all
        ("EXAMCODE", ID_E1[:-1] + ("0" if ID_E1[-1] != "0" else "1")),  # a typo: the check digit fails
        ("EXAMCODE", ""),  # nothing typed
    ],
)
def test_a_wrong_code_or_number_gets_one_message_that_does_not_say_which(client, exam, code, number):
    response = admit(client, code, number)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "exam_entrants" not in (client.session_transaction().__enter__())
    if number:
        assert "没有找到与此考试码和身份证号对应的考试" in html or GENERIC in html
    else:  # nothing typed: the field says so, next to it
        assert 'aria-invalid="true" aria-describedby="id-number-error"' in html and 'id="id-number-error"' in html
    assert "check digit" not in html and "校验" not in html


@pytest.mark.parametrize("status", ["pending", "withdrawn", "rejected", "absent", "disqualified"])
def test_an_entrant_not_approved_is_not_admitted(client, exam, status):
    entrant(exam.competition, "E1").status = status
    db.session.commit()
    assert admit(client, "EXAMCODE", ID_E1).status_code == 422


def test_approved_entrants_are_admitted(client, exam):
    entrant(exam.competition, "E1").status = "approved"
    db.session.commit()
    assert admit(client, "EXAMCODE", ID_E1).status_code == 302


def test_a_draft_exam_admits_no_one(client, make_competition):
    make_exam(make_competition(status="running"), status="draft")
    assert admit(client, "EXAMCODE", ID_E1).status_code == 422
    assert client.get("/exam/EXAMCODE").status_code == 404


def test_an_entrant_of_another_competition_is_not_admitted_to_this_exam(client, make_competition):
    this = make_competition(status="running")
    make_exam(this)
    other = make_competition(status="running")  # the same workers entered
    make_exam(other, code="OTHEREXM")
    entrant(this, "E1").status = "withdrawn"
    db.session.commit()
    assert admit(client, "EXAMCODE", ID_E1).status_code == 422
    assert admit(client, "OTHEREXM", ID_E1).status_code == 302
    assert client.get("/exam/OTHEREXM").status_code == 200
    assert client.get("/exam/EXAMCODE").status_code == 404  # admitted to the other exam only


def test_without_admission_or_account_the_exam_is_not_found(client, exam):
    assert client.get("/exam/EXAMCODE").status_code == 404
    assert client.get("/exam/EXAMCODE/clock").status_code == 404
    assert client.get("/exam").status_code == 200


def test_a_worker_logged_in_sees_her_exams_and_opens_hers_without_the_id_number(client, auth, make_user, exam):
    make_user("zhangsan", worker_id=worker_of(exam.competition, "E1").id)
    auth.login("zhangsan")
    page = client.get("/exam").get_data(as_text=True)
    assert "2026年理论考试" in page and "/exam/EXAMCODE" in page
    assert client.get("/exam/EXAMCODE").status_code == 200


def test_a_worker_not_entered_sees_no_exam(client, auth, make_user, make_worker, exam):
    make_user("wangwu", worker_id=make_worker("王五").id)
    auth.login("wangwu")
    assert "/exam/EXAMCODE" not in client.get("/exam").get_data(as_text=True)
    assert client.get("/exam/EXAMCODE").status_code == 404


def test_the_next_candidate_at_a_shared_computer_replaces_the_last_and_never_sees_her_paper(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    assert "张三" in client.get("/exam/EXAMCODE").get_data(as_text=True)
    admit(client, "EXAMCODE", ID_E2)
    with client.session_transaction() as session:
        assert session["exam_entrants"] == [entrant(exam.competition, "E2").id]
    page = client.get("/exam/EXAMCODE").get_data(as_text=True)
    assert "张三" not in page and entrant(exam.competition, "E2").name in page


def test_admissions_to_exams_of_other_competitions_are_kept(client, exam, make_competition):
    other = make_exam(make_competition(code="T-2026-OTHER", status="running"), code="OTHERCOD")
    admit(client, "OTHERCOD", ID_E1)
    admit(client, "EXAMCODE", ID_E2)
    with client.session_transaction() as session:
        kept = session["exam_entrants"]
    assert kept == [entrant(exam.competition, "E2").id, entrant(other.competition, "E1").id]
    assert client.get("/exam/OTHERCOD").status_code == 200


def test_admission_failures_are_rate_limited(app, client, exam, monkeypatch):
    monkeypatch.setitem(app.config, "EXAM_ADMIT_LIMIT", "3 per minute")
    for _ in range(3):
        assert admit(client, "EXAMCODE", valid_id(777)).status_code == 422
    assert admit(client, "EXAMCODE", ID_E1).status_code == 429


def test_successful_admissions_are_not_counted_against_the_limit(app, client, exam, monkeypatch):
    monkeypatch.setitem(app.config, "EXAM_ADMIT_LIMIT", "3 per minute")
    for _ in range(5):
        assert admit(client, "EXAMCODE", ID_E1).status_code == 302


def test_admission_without_a_csrf_token_is_refused(client, exam):
    response = client.post("/exam", data={"code": "EXAMCODE", "id_number": ID_E1})
    assert response.status_code in (400, 422)
    with client.session_transaction() as session:
        assert "exam_entrants" not in session
