"""The sitting: the start draws the candidate's own paper; answers are versioned, one device answers, time ends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.exams import papers
from comp.extensions import db
from comp.models import Mark, MarkChange
from comp.models.exam import Answer, SittingEvent
from comp.models.types import utcnow
from comp.services.exams import sitting as service
from tests.chief.helpers import entrant
from tests.conftest import csrf_token
from tests.exams.sitting_helpers import ID_E1, ID_E2, TOTAL, Phone, admit, make_exam, shown_options, sitting_of


@pytest.fixture()
def exam(make_competition):
    return make_exam(make_competition(status="running"))


@pytest.fixture()
def phone(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    assert phone.start().status_code == 302
    return phone


def test_the_start_draws_the_paper_that_draw_rebuilds_from_the_seed(phone, exam):
    sitting = sitting_of(exam, "E1")
    pool = service.pool_for(exam)
    rebuilt = papers.draw(papers.parse_blueprint(exam.blueprint), pool, exam.seed, "E1")
    assert sitting.paper == papers.paper_data(rebuilt)
    assert len(sitting.paper) == 8
    assert sitting.device == phone.device
    assert sitting.deadline == sitting.started_at + timedelta(minutes=30)
    kinds = [e.kind for e in db.session.scalars(sa.select(SittingEvent).where(SittingEvent.sitting_id == sitting.id))]
    assert kinds == ["start"]


def test_the_pool_is_the_current_version_of_each_question_not_retired(exam):
    pool = service.pool_for(exam)
    assert len(pool) == 12  # 13 questions, one retired
    edited = [i for i in pool if i.options == ("甲", "乙", "丙")]
    assert len(edited) == 1 and edited[0].answer == "C"


def test_the_deadline_never_passes_the_window_close(client, make_competition):
    exam = make_exam(make_competition(status="running"), closes=10, duration=30)
    admit(client, "EXAMCODE", ID_E1)
    Phone(client, "EXAMCODE").start()
    assert sitting_of(exam, "E1").deadline == exam.closes_at


@pytest.mark.parametrize(("opens", "closes"), [(5, 60), (-60, -1)])
def test_no_start_outside_the_window(client, make_competition, opens, closes):
    exam = make_exam(make_competition(status="running"), opens=opens, closes=closes)
    admit(client, "EXAMCODE", ID_E1)
    Phone(client, "EXAMCODE").start()
    assert sitting_of(exam, "E1") is None
    html = client.get("/exam/EXAMCODE").get_data(as_text=True)
    assert ('id="exam-before"' if opens > 0 else 'id="exam-closed"') in html


def test_the_page_shows_the_options_in_the_candidates_order(phone, exam):
    sitting = sitting_of(exam, "E1")
    html = phone.page()
    for position, entry in enumerate(sitting.paper):
        if entry["o"]:
            version = db.session.get(service.QuestionVersion, entry["v"])
            assert shown_options(html, position) == [version.options[i] for i in entry["o"]]


def _choice(sitting, kind="multiple"):
    """Return the position of the first item of a kind and that item's entry."""
    for position, entry in enumerate(sitting.paper):
        if db.session.get(service.QuestionVersion, entry["v"]).kind == kind:
            return position, entry
    raise AssertionError(kind)


def test_an_answer_is_saved_in_stored_letters_and_answered_as_shown(phone, exam):
    position, entry = _choice(sitting_of(exam, "E1"))
    response = phone.answer(position, "CA", 0)
    body = response.get_json()
    assert response.status_code == 200 and body["state"] == "saved" and body["version"] == 1
    assert body["response"] == "AC"
    assert 0 < int(response.headers["X-Exam-Remaining"]) <= 30 * 60
    saved = db.session.scalar(sa.select(Answer))
    assert saved.response == papers.shown_to_stored("AC", entry["o"]) and saved.version == 1
    assert phone.answer(position, "B", 1).get_json()["version"] == 2


def test_a_stale_save_from_another_device_gets_the_servers_answer(client, phone, exam):
    position, entry = _choice(sitting_of(exam, "E1"), "single")
    phone.answer(position, "A", 0)
    second = Phone(client, "EXAMCODE", device="device-two-0002")
    assert second.claim().get_json()["event"] == "takeover"
    assert second.answer(position, "B", 1).status_code == 200
    phone.claim()  # the first device takes over back with the old page
    response = phone.answer(position, "C", 1)
    assert response.status_code == 409
    assert response.get_json() == {"position": position, "state": "stale", "response": "B", "version": 2}


def test_a_retry_of_a_save_that_landed_stands(phone, exam):
    position, _ = _choice(sitting_of(exam, "E1"), "single")
    phone.answer(position, "A", 0)
    again = phone.answer(position, "A", 0)  # the answer to the first was lost
    assert again.status_code == 200 and again.get_json()["version"] == 1


def test_the_same_device_choosing_again_after_a_lost_answer_is_not_stale(phone, exam):
    position, _ = _choice(sitting_of(exam, "E1"), "single")
    phone.answer(position, "A", 0)
    response = phone.answer(position, "B", 0)  # chosen again before the first save's answer arrived
    assert response.status_code == 200 and response.get_json()["version"] == 2


def test_a_device_taken_over_is_refused(client, phone, exam):
    position, _ = _choice(sitting_of(exam, "E1"), "single")
    Phone(client, "EXAMCODE", device="device-two-0002").claim()
    response = phone.answer(position, "A", 0)
    assert response.status_code == 409 and response.get_json()["state"] == "taken"
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0
    events = db.session.scalars(sa.select(SittingEvent.kind).order_by(SittingEvent.id)).all()
    assert events == ["start", "takeover"]


def test_a_reload_on_the_same_device_resumes_with_the_answers(phone, exam):
    position, _ = _choice(sitting_of(exam, "E1"), "single")
    phone.answer(position, "C", 0)
    assert phone.claim().get_json()["event"] == "resume"
    html = phone.page()
    block = html.split(f'id="q-{position}"', 1)[1].split("</form>", 1)[0]
    assert 'value="C" checked' in block and 'name="version" value="1"' in block


@pytest.mark.parametrize(
    ("kind", "response"),
    [("single", "AB"), ("single", "Z"), ("truefalse", "maybe"), ("numeric", "abc"), ("numeric", "1" * 40)],
)
def test_a_response_the_question_does_not_take_is_refused(phone, exam, kind, response):
    position, _ = _choice(sitting_of(exam, "E1"), kind)
    result = phone.answer(position, response, 0)
    assert result.status_code == 422 and result.get_json()["state"] == "refused"
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


@pytest.mark.parametrize("version", ["", "x", "-1", "99999999999"])
def test_a_bad_version_is_refused(phone, exam, version):
    response = phone.post("/answers/0", {"response": "A", "version": version})
    assert response.status_code == 422


def test_a_position_off_the_paper_is_not_found(phone):
    assert phone.answer(8, "A", 0).status_code == 404
    assert phone.answer(99, "A", 0).status_code == 404


def test_a_bad_device_token_is_refused(phone):
    response = phone.client.post(
        "/exam/EXAMCODE/answers/0",
        data={"response": "A", "version": "0", "device": "x"},
        headers={"X-CSRFToken": phone.token, "Accept": "application/json"},
    )
    assert response.status_code == 400


def test_an_answer_after_the_deadline_is_refused_and_ends_the_sitting_by_time(phone, exam):
    sitting = sitting_of(exam, "E1")
    sitting.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = phone.answer(0, "A", 0)
    assert response.status_code == 409 and response.get_json()["state"] == "finished"
    sitting = sitting_of(exam, "E1")
    assert sitting.finished_by == "time" and sitting.points == "0" and sitting.score_cents == 0
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_the_clock_follows_the_server_and_ends_an_overdue_sitting(phone, exam):
    body = phone.client.get("/exam/EXAMCODE/clock").get_json()
    assert body["state"] == "running" and 29 * 60 < body["remaining"] <= 30 * 60
    sitting = sitting_of(exam, "E1")
    sitting.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert phone.client.get("/exam/EXAMCODE/clock").get_json() == {"remaining": 0, "state": "finished", "device": False}
    assert sitting_of(exam, "E1").finished_by == "time"


def test_a_focus_loss_is_counted_for_the_proctor(phone, exam):
    assert phone.post("/focus").status_code == 204
    assert phone.post("/focus").status_code == 204
    assert sitting_of(exam, "E1").focus_losses == 2


def _answer_right(phone, sitting):
    """Answer every question right (as shown); return the points."""
    for position, entry in enumerate(sitting.paper):
        version = db.session.get(service.QuestionVersion, entry["v"])
        shown = papers.stored_to_shown(version.answer, entry["o"]) if entry["o"] else version.answer
        assert phone.answer(position, shown, 0).status_code == 200


def test_submit_grades_and_writes_the_theory_mark(phone, exam):
    sitting = sitting_of(exam, "E1")
    _answer_right(phone, sitting)
    response = phone.post("/submit", json=False)
    assert response.status_code == 302
    sitting = sitting_of(exam, "E1")
    assert sitting.finished_by == "candidate" and sitting.points == str(TOTAL) and sitting.score_cents == 10000
    mark = db.session.scalar(
        sa.select(Mark).where(Mark.entrant_id == sitting.entrant_id, Mark.criterion_id == exam.criterion_id)
    )
    assert mark.value_cents == 10000 and mark.judge_id == exam.marker_id
    change = db.session.scalar(sa.select(MarkChange).order_by(MarkChange.id.desc()))
    assert change.source == f"exam:{exam.id}"
    assert "submit" in db.session.scalars(sa.select(SittingEvent.kind)).all()
    # After the submission nothing changes; the score waits for the window to close.
    assert phone.answer(0, "A", 1).get_json()["state"] == "finished"
    html = phone.page()
    assert 'id="exam-finished"' in html and 'id="exam-score"' not in html


def test_after_the_close_the_score_and_with_show_answers_the_key(phone, exam):
    sitting = sitting_of(exam, "E1")
    _answer_right(phone, sitting)
    phone.post("/submit", json=False)
    exam.closes_at = utcnow() - timedelta(seconds=1)
    exam.show_answers = True
    db.session.commit()
    html = phone.page()
    assert 'id="exam-score"' in html and "100" in html
    assert 'id="exam-review"' in html and "解析" in html
    exam.show_answers = False
    db.session.commit()
    assert 'id="exam-review"' not in phone.page()


def test_the_key_waits_while_a_candidate_given_extra_time_is_still_answering(app, phone, exam):
    """Past the window's close, a neighbour with an extension may still be answering: no score, no key yet."""
    sitting = sitting_of(exam, "E1")
    _answer_right(phone, sitting)
    phone.post("/submit", json=False)
    other = app.test_client()
    admit(other, "EXAMCODE", ID_E2)
    Phone(other, "EXAMCODE", device="device-e2-00003").start()
    late = sitting_of(exam, "E2")
    exam.closes_at = utcnow() - timedelta(seconds=1)
    exam.show_answers = True
    late.deadline = utcnow() + timedelta(minutes=10)  # the proctor's extension, past the close
    db.session.commit()
    html = phone.page()
    assert 'id="exam-finished"' in html and 'id="exam-score"' not in html and 'id="exam-review"' not in html
    late.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert 'id="exam-review"' in phone.page()  # her time is up, unwatched: ended by the sweep or not, no one answers


def test_another_candidates_sitting_is_out_of_reach(client, app, phone, exam):
    other = app.test_client()
    admit(other, "EXAMCODE", ID_E2)
    theirs = Phone(other, "EXAMCODE", device="device-e2-00003")
    # E2 has not started: nothing of E1's sitting answers her.
    assert theirs.answer(0, "A", 0).status_code == 404
    assert other.get("/exam/EXAMCODE/clock").status_code == 404
    assert theirs.post("/submit", json=False).status_code == 404
    assert sitting_of(exam, "E1").finished_at is None
    # Forging the cookie's list is impossible (signed); a session naming another entrant id is refused by the
    # exam's code: E2's own id in a different exam does not reach this one.
    with other.session_transaction() as session:
        session["exam_entrants"] = [entrant(exam.competition, "E2").id]
    assert theirs.answer(0, "A", 0).status_code == 404


def test_every_post_needs_the_csrf_token(phone):
    for path in ("/answers/0", "/focus", "/submit", "/device", "/start"):
        response = phone.client.post(
            f"/exam/EXAMCODE{path}", data={"device": phone.device, "response": "A", "version": "0"}
        )
        assert response.status_code == 400, path
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_pressing_start_again_resumes_the_same_paper(phone, exam):
    paper = sitting_of(exam, "E1").paper
    assert phone.start().status_code == 302
    assert sitting_of(exam, "E1").paper == paper
    kinds = db.session.scalars(sa.select(SittingEvent.kind).order_by(SittingEvent.id)).all()
    assert kinds == ["start", "resume"]


def test_a_second_submit_changes_nothing_and_focus_after_the_end_is_not_counted(phone, exam):
    phone.post("/submit", json=False)
    finished = sitting_of(exam, "E1").finished_at
    phone.post("/submit", json=False)
    phone.post("/focus")
    sitting = sitting_of(exam, "E1")
    assert sitting.finished_at == finished and sitting.focus_losses == 0


def test_nothing_answers_before_the_start(client, exam):
    admit(client, "EXAMCODE", ID_E1)
    phone = Phone(client, "EXAMCODE")
    assert phone.answer(0, "A", 0).status_code == 404
    for path in ("/focus", "/submit", "/device"):
        assert phone.post(path).status_code == 404, path
    assert client.get("/exam/EXAMCODE/clock").status_code == 404
    assert 'id="start-form"' in phone.page()


def test_a_stem_image_is_served_only_for_a_question_on_her_paper(phone, exam):
    from comp.models.exam import QuestionImage

    sitting = sitting_of(exam, "E1")
    shown = QuestionImage(sha256="a" * 64, mime="image/png", data=b"\x89PNG shown")
    other = QuestionImage(sha256="b" * 64, mime="image/png", data=b"\x89PNG other")
    db.session.add_all([shown, other])
    db.session.flush()
    db.session.get(service.QuestionVersion, sitting.paper[0]["v"]).image_id = shown.id
    db.session.commit()
    response = phone.client.get(f"/exam/EXAMCODE/images/{shown.id}")
    assert response.status_code == 200 and response.data == b"\x89PNG shown"
    assert f"/exam/EXAMCODE/images/{shown.id}" in phone.page()
    assert phone.client.get(f"/exam/EXAMCODE/images/{other.id}").status_code == 404


def test_without_javascript_an_answer_post_redirects_back_to_the_question(phone):
    response = phone.post("/answers/0", {"response": "", "version": "0"}, json=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("/exam/EXAMCODE#q-0")


def test_an_empty_post_from_someone_not_sitting_is_not_found(app, exam):
    stranger = app.test_client()
    token = csrf_token(stranger, "/exam")
    for path in ("/answers/0", "/focus", "/submit", "/device", "/start"):
        assert stranger.post(f"/exam/EXAMCODE{path}", headers={"X-CSRFToken": token}).status_code == 404, path
