"""Proctoring: the board of candidates, its cheap refresh, extending a candidate's time, ending a sitting; papers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent
from comp.models.exam import SittingEvent
from comp.models.types import utcnow
from comp.services import ServiceError
from comp.services.exams import proctor
from comp.services.exams import sitting as sittings
from tests.chief.helpers import entrant, set_mark
from tests.exams.exam_helpers import RIGHT, Logged, _english, add_entrants, make_bank, make_exam, seat  # noqa: F401


@pytest.fixture()
def exam(make_competition):
    competition = make_competition(status="running")
    for ref in ("E1", "E2"):
        set_mark(competition, ref, "J1", "theory.exam", None)
    add_entrants(competition, 3)
    return make_exam(competition, make_bank())


@pytest.fixture()
def browser(client, auth, make_user):
    make_user("organizer", "organizer", locale="en")
    assert auth.login("organizer").status_code == 302
    return Logged(client)


def test_the_board_tells_each_candidate_state(exam):
    answering = seat(exam, "E1", ["C", "B", ""])
    silent = seat(exam, "E2", ["C"])
    silent.last_seen_at = utcnow() - timedelta(seconds=61)
    seat(exam, "E3", RIGHT, finished_by="candidate")
    late = seat(exam, "E4", [], minutes_left=-1)
    db.session.add(SittingEvent(sitting_id=answering.id, kind="takeover"))
    db.session.commit()
    board = {row.entrant.ref: row for row in proctor.board(exam)}
    assert {ref: row.state for ref, row in board.items()} == {
        "E1": "answering",
        "E2": "silent",
        "E3": "submitted",
        "E4": "timeup",
        "E5": "waiting",
    }
    assert (board["E1"].answered, board["E1"].questions, board["E1"].takeovers) == (2, 8, 1)
    assert 29 * 60 < board["E1"].remaining <= 30 * 60 and board["E4"].remaining == 0
    assert late.finished_at is None


def test_extending_moves_the_deadline_logs_the_event_and_audits(exam, make_user):
    organizer = make_user("organizer", "organizer")
    sitting = seat(exam, "E1", [])
    before = sitting.deadline
    proctor.extend(sitting, 10, "设备故障", organizer)
    db.session.commit()
    assert sitting.deadline == before + timedelta(minutes=10) and sitting.extra_minutes == 10
    event = db.session.scalar(sa.select(SittingEvent).where(SittingEvent.kind == "extend"))
    assert event.actor_id == organizer.id and event.detail == {"minutes": 10, "reason": "设备故障"}
    audited = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exam.extended"))
    assert audited.detail["entrant"] == "E1" and audited.detail["reason"] == "设备故障"


@pytest.mark.parametrize(
    ("minutes", "reason", "message"), [(5, "", "reason"), (0, "x", "1 to 600"), (None, "x", "1 to 600")]
)
def test_an_extension_needs_minutes_and_a_reason(exam, minutes, reason, message):
    sitting = seat(exam, "E1", [])
    with pytest.raises(ServiceError, match=message):
        proctor.extend(sitting, minutes, reason, None)
    assert sitting.extra_minutes == 0


def test_an_ended_sitting_is_not_extended_and_ending_grades(exam):
    sitting = seat(exam, "E1", RIGHT[:2])
    with pytest.raises(ServiceError, match="reason"):
        proctor.end(sitting, " ", None)
    proctor.end(sitting, "作弊", None)
    db.session.commit()
    assert sitting.finished_by == "proctor" and sitting.score_cents == 2500
    assert db.session.scalar(sa.select(SittingEvent.detail).where(SittingEvent.kind == "submit"))["reason"] == "作弊"
    with pytest.raises(ServiceError, match="ended"):
        proctor.extend(sitting, 5, "x", None)


def test_the_page_refreshes_with_204_while_nothing_changed(exam, browser):
    seat(exam, "E1", ["C"])
    page = browser.get(f"/competitions/{exam.competition.code}/exam/proctor")
    assert page.status_code == 200 and 'hx-trigger="every 5s"' in page.text and "answering" in page.text
    stamp = proctor.stamp(exam)
    url = f"/competitions/{exam.competition.code}/exam/proctor?stamp={stamp}"
    same = browser.get(url, htmx=True)
    if proctor.stamp(exam) == stamp:  # not across a 15-second tick
        assert same.status_code == 204
    seat(exam, "E2", ["C"])
    moved = browser.get(url, htmx=True)
    assert moved.status_code == 200 and "<html" not in moved.text and 'id="proctor-board"' in moved.text


def test_the_page_sweeps_the_overdue_sittings(exam, browser):
    late = seat(exam, "E1", RIGHT, minutes_left=-1)
    browser.get(f"/competitions/{exam.competition.code}/exam/proctor")
    db.session.expire_all()
    assert late.finished_by == "time" and late.score_cents == 10000


def test_extend_and_end_through_the_page(exam, browser):
    sitting = seat(exam, "E1", [])
    url = f"/competitions/{exam.competition.code}/exam/sittings/{sitting.id}"
    refused = browser.post(url + "/extend", {"minutes": "5", "reason": ""})
    assert refused.status_code == 422 and "Write the reason" in refused.text
    assert browser.post(url + "/extend", {"minutes": "5", "reason": "停电"}).status_code == 302
    db.session.expire_all()
    assert sitting.extra_minutes == 5
    assert browser.post(url + "/end", {"reason": "结束"}).status_code == 302
    db.session.expire_all()
    assert sitting.finished_by == "proctor"


def test_a_sitting_of_another_competition_is_404(exam, make_competition, browser):
    other = make_exam(make_competition(status="running"), exam.bank)
    theirs = seat(other, "E1", [])
    url = f"/competitions/{exam.competition.code}/exam/sittings/{theirs.id}"
    assert browser.post(url + "/extend", {"minutes": "5", "reason": "x"}).status_code == 404
    assert browser.post(url + "/end", {"reason": "x"}).status_code == 404
    assert (
        browser.post(f"/competitions/{exam.competition.code}/exam/sittings/999999/end", {"reason": "x"}).status_code
        == 404
    )
    assert theirs.extra_minutes == 0 and theirs.finished_at is None


def test_a_paper_drawn_again_from_the_seed_is_the_same_and_an_altered_one_differs(exam, browser):
    started = sittings.start(exam, entrant(exam.competition, "E1"), "device-1")
    db.session.commit()
    stored, differences = proctor.compare(exam, started)
    assert len(stored) == 8 and differences == []
    page = browser.get(f"/competitions/{exam.competition.code}/exam/papers?entrant={started.entrant_id}")
    assert "Same paper" in page.text
    started.paper = list(reversed(started.paper))
    db.session.commit()
    _stored, differences = proctor.compare(exam, started)
    assert differences and {d.position for d in differences} <= set(range(8))
    page = browser.get(f"/competitions/{exam.competition.code}/exam/papers?entrant={started.entrant_id}")
    assert "Same paper" not in page.text and 'id="paper-differences"' in page.text
