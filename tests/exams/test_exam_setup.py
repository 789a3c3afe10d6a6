"""The organizer sets up the exam: bank, criterion, marker, blueprint, window, seed, status; each field checked."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, JudgeAssignment, JudgeCriterion
from comp.models.exam import Exam
from comp.services import ServiceError
from comp.services.exams import setup
from comp.services.setup import SetupError
from tests.chief.helpers import criterion, judge
from tests.exams.exam_helpers import RIGHT, Logged, _english, make_bank, make_exam, seat  # noqa: F401

WHEN = datetime(2026, 5, 10, 9, 0)


@pytest.fixture()
def county(make_competition, tree):
    """The small competition organized by the 晋江 union, closed for registration, and its organizer."""
    competition = make_competition(status="closed")
    competition.organizer_unit_id = tree.jinjiang.id
    db.session.commit()
    return competition


@pytest.fixture()
def organizer(make_user, tree):
    return make_user("organizer", "organizer", org_unit_id=tree.jinjiang.id, locale="en")


@pytest.fixture()
def bank(tree):
    return make_bank(owner_unit_id=tree.jinjiang.id)


def values(competition, bank, **changes) -> dict:
    """Return a valid set-up of the small competition's exam."""
    data = {
        "title": "理论考试",
        "bank_id": bank.id,
        "criterion_id": criterion(competition, "theory.exam").id,
        "marker_id": judge(competition, "J1").id,
        "multiple": "all",
        "shuffle_items": True,
        "shuffle_options": True,
        "opens_at": WHEN,
        "closes_at": WHEN + timedelta(hours=2),
        "duration_minutes": 60,
        "show_answers": False,
        "seed": "",
    }
    return data | changes


ROWS = [
    {"kind": "single", "count": "3", "points": "2", "area": "", "difficulty": ""},
    {"kind": "multiple", "count": "2", "points": "5", "area": "", "difficulty": ""},
]


def test_an_exam_is_created_with_a_code_and_a_random_seed_audited(county, organizer, bank):
    exam = setup.save(county, organizer, values(county, bank), ROWS)
    assert exam.status == "draft" and len(exam.code) == 8 and len(exam.seed) == 16
    assert exam.blueprint["sections"][1] == {
        "kind": "multiple",
        "count": 2,
        "points": "5",
        "area": "",
        "difficulty": None,
    }
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exam.saved"))
    assert event.detail["code"] == exam.code and event.detail["changed"]["seed"] == exam.seed
    with pytest.raises(ServiceError, match="has an exam already"):
        setup.save(county, organizer, values(county, bank), ROWS)


@pytest.mark.parametrize(
    ("changes", "rows", "field"),
    [
        ({"title": " "}, ROWS, "title"),
        ({"closes_at": WHEN}, ROWS, "closes_at"),
        ({"closes_at": WHEN - timedelta(minutes=1)}, ROWS, "closes_at"),
        ({"opens_at": None}, ROWS, "opens_at"),
        ({"duration_minutes": 0}, ROWS, "duration_minutes"),
        ({"duration_minutes": None}, ROWS, "duration_minutes"),
        ({"multiple": "some"}, ROWS, "multiple"),
        ({"seed": "x" * 65}, ROWS, "seed"),
        ({"bank_id": None}, ROWS, "bank_id"),
        ({}, [], "sections"),
        ({}, [{"kind": "essay", "count": "1", "points": "1", "area": "", "difficulty": ""}], "s-0-kind"),
        ({}, [{"kind": "single", "count": "0", "points": "1", "area": "", "difficulty": ""}], "s-0-count"),
        ({}, [{"kind": "single", "count": "x", "points": "1", "area": "", "difficulty": ""}], "s-0-count"),
        ({}, [{"kind": "single", "count": "1", "points": "0", "area": "", "difficulty": ""}], "s-0-points"),
        ({}, [{"kind": "single", "count": "1", "points": "1e3", "area": "", "difficulty": ""}], "s-0-points"),
        ({}, [{"kind": "single", "count": "1", "points": "1", "area": "", "difficulty": "6"}], "s-0-difficulty"),
        ({}, [{"kind": "single", "count": "1", "points": "1", "area": "甲" * 65, "difficulty": ""}], "s-0-area"),
    ],
)
def test_a_bad_set_up_is_refused_by_field(county, organizer, bank, changes, rows, field):
    with pytest.raises(SetupError) as refused:
        setup.save(county, organizer, values(county, bank, **changes), rows)
    assert field in refused.value.problems
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Exam.id))) == 0


def test_only_a_single_mark_criterion_and_a_judge_marking_it_are_taken(county, organizer, bank):
    route = criterion(county, "practical.route")  # a trimmed mean
    with pytest.raises(SetupError) as refused:
        setup.save(county, organizer, values(county, bank, criterion_id=route.id), ROWS)
    assert "criterion_id" in refused.value.problems
    with pytest.raises(SetupError) as refused:  # J2 sits on the panel but does not mark theory.exam
        setup.save(county, organizer, values(county, bank, marker_id=judge(county, "J2").id), ROWS)
    assert "marker_id" in refused.value.problems


def test_a_bank_of_another_union_is_not_offered_nor_taken(county, organizer, tree):
    other = make_bank(owner_unit_id=tree.shishi.id, name="石狮题库")
    assert other not in setup.banks_for(organizer)
    with pytest.raises(SetupError) as refused:
        setup.save(county, organizer, values(county, other), ROWS)
    assert "bank_id" in refused.value.problems


def test_ready_is_refused_while_the_bank_falls_short_or_the_marker_left(county, organizer, bank):
    exam = setup.save(county, organizer, values(county, bank), [{**ROWS[0], "count": "4"}])
    with pytest.raises(ServiceError, match="needs 4 questions; the bank has 3"):
        setup.set_status(exam, "ready", organizer)
    exam = setup.save(county, organizer, values(county, bank), ROWS, exam)
    assignment = db.session.scalar(sa.select(JudgeAssignment).where(JudgeAssignment.user_id == exam.marker_id))
    db.session.execute(sa.delete(JudgeCriterion).where(JudgeCriterion.assignment_id == assignment.id))
    db.session.commit()
    with pytest.raises(ServiceError, match="assign a judge"):
        setup.set_status(exam, "ready", organizer)
    db.session.add(JudgeCriterion(assignment_id=assignment.id, criterion_id=exam.criterion_id))
    db.session.commit()
    setup.set_status(exam, "ready", organizer)
    assert exam.status == "ready"
    with pytest.raises(ServiceError, match="cannot move"):
        setup.set_status(exam, "ready", organizer)


def test_after_a_sitting_the_blueprint_seed_bank_and_marker_are_fixed_and_back_to_draft_refused(make_competition):
    competition = make_competition(status="running")
    exam = make_exam(competition, make_bank())
    seat(exam, "E1", RIGHT)
    admin = judge(competition, "J1")
    admin.role = "admin"
    db.session.commit()
    typed = {
        "title": "改名",
        "bank_id": exam.bank_id,
        "criterion_id": exam.criterion_id,
        "marker_id": exam.marker_id,
        "multiple": "partial",
        "shuffle_items": False,
        "shuffle_options": False,
        "opens_at": exam.opens_at,
        "closes_at": exam.closes_at,
        "duration_minutes": 90,
        "show_answers": True,
        "seed": "another",
    }
    rows = [
        {"kind": s["kind"], "count": str(s["count"]), "points": "1", "area": "", "difficulty": ""}
        for s in exam.blueprint["sections"]
    ]
    with pytest.raises(SetupError) as refused:
        setup.save(competition, admin, typed, rows, exam)
    assert set(refused.value.problems) == {"sections", "seed"}
    setup.save(competition, admin, typed | {"multiple": "all", "seed": "种子-2026"}, rows, exam)
    assert (exam.title, exam.duration_minutes, exam.show_answers) == ("改名", 90, True)
    with pytest.raises(ServiceError, match="no longer go back to draft"):
        setup.set_status(exam, "draft", admin)


def test_closing_ends_every_open_sitting_and_grades_it(make_competition):
    competition = make_competition(status="running")
    exam = make_exam(competition, make_bank())
    late = seat(exam, "E1", RIGHT, minutes_left=-1)
    running = seat(exam, "E2", RIGHT[:4])
    assert setup.set_status(exam, "closed", None) == 2
    db.session.commit()
    assert (late.finished_by, running.finished_by, running.score_cents) == ("time", "proctor", 5000)
    assert exam.status == "closed"


# ---------------------------------------------------------------- the page


def form_data(competition, bank, **changes) -> dict:
    data = {
        "title": "理论考试",
        "bank_id": str(bank.id),
        "criterion_id": str(criterion(competition, "theory.exam").id),
        "marker_id": str(judge(competition, "J1").id),
        "multiple": "all",
        "shuffle_items": "y",
        "opens_at": "2026-05-10T09:00",
        "closes_at": "2026-05-10T11:00",
        "duration_minutes": "60",
        "seed": "印刷-1",
        "s-0-kind": "single",
        "s-0-count": "3",
        "s-0-points": "2",
        "s-0-area": "",
        "s-0-difficulty": "",
    }
    return data | changes


@pytest.fixture()
def browser(client, auth, organizer):
    assert auth.login("organizer").status_code == 302
    return Logged(client)


def test_the_page_creates_the_exam_in_local_time_and_shows_its_code(county, bank, browser):
    page = browser.get(f"/competitions/{county.code}/exam")
    assert page.status_code == 200 and "Assign a judge" not in page.text
    assert f'<option selected value="{bank.id}">' in page.text
    answer = browser.post(f"/competitions/{county.code}/exam", form_data(county, bank))
    assert answer.status_code == 302
    exam = db.session.scalar(sa.select(Exam))
    assert exam.opens_at == datetime(2026, 5, 10, 1, 0) and exam.seed == "印刷-1"  # Asia/Shanghai is UTC+8
    assert not exam.blueprint["shuffle_options"] and exam.blueprint["shuffle_items"]
    page = browser.get(f"/competitions/{county.code}/exam")
    assert exam.code in page.text and "The paper total is not the criterion" in page.text
    assert 'value="2026-05-10 09:00' in page.text  # the local time, as the details form shows it


def test_the_page_shows_each_refused_field_and_adds_and_removes_rows(county, bank, browser):
    bad = form_data(county, bank, closes_at="2026-05-10T08:00", **{"s-0-count": "9"})
    answer = browser.post(f"/competitions/{county.code}/exam", bad)
    assert answer.status_code == 422 and "The exam must close after it opens." in answer.text
    assert db.session.scalar(sa.select(sa.func.count(Exam.id))) == 0
    added = browser.post(f"/competitions/{county.code}/exam", form_data(county, bank, action="add"))
    assert added.status_code == 200 and 'name="s-1-kind"' in added.text
    removed = browser.post(f"/competitions/{county.code}/exam", form_data(county, bank, action="remove-0"))
    assert 'name="s-0-kind"' not in removed.text
    short = browser.post(f"/competitions/{county.code}/exam", form_data(county, bank, **{"s-0-count": "x"}))
    assert short.status_code == 422 and "whole number from 1 to 500" in short.text


def test_adding_a_row_counts_nothing_in_another_unions_bank(county, bank, browser, tree):
    """The row counts are the bank's composition: an id posted from outside the choices counts nothing."""
    own = browser.post(f"/competitions/{county.code}/exam", form_data(county, bank, action="add"))
    assert re.search(r'<td class="num">[1-9]\d*', own.text)  # the 晋江 bank's items are counted
    bank.owner_unit_id = tree.shishi.id
    db.session.commit()
    foreign = browser.post(f"/competitions/{county.code}/exam", form_data(county, bank, action="add"))
    assert foreign.status_code == 200 and not re.search(r'<td class="num">[1-9]\d*', foreign.text)


def test_no_judge_on_a_single_criterion_says_assign_one_first(county, bank, browser):
    db.session.execute(sa.delete(JudgeCriterion))
    db.session.commit()
    page = browser.get(f"/competitions/{county.code}/exam")
    assert "Assign a judge to the criterion first" in page.text and f"/competitions/{county.code}/judges" in page.text


def test_the_status_buttons_make_ready_and_close(county, bank, browser):
    browser.post(f"/competitions/{county.code}/exam", form_data(county, bank))
    answer = browser.post(f"/competitions/{county.code}/exam/status", {"target": "ready"})
    assert answer.status_code == 302 and db.session.scalar(sa.select(Exam.status)) == "ready"
    browser.post(f"/competitions/{county.code}/exam/status", {"target": "closed"})
    assert db.session.scalar(sa.select(Exam.status)) == "closed"
    page = browser.get(f"/competitions/{county.code}/exam", follow_redirects=True)
    assert "cannot move" not in page.text


def test_a_refused_status_move_is_shown_on_the_page(county, bank, browser):
    browser.post(f"/competitions/{county.code}/exam", form_data(county, bank, **{"s-0-count": "7"}))
    answer = browser.post(f"/competitions/{county.code}/exam/status", {"target": "ready"})
    assert answer.status_code == 422 and "Section 1 needs 7 questions; the bank has 3." in answer.text
    assert db.session.scalar(sa.select(Exam.status)) == "draft"
    assert browser.post(f"/competitions/{county.code}/exam/status", {"target": "closed"}).status_code == 422


def test_a_post_without_the_csrf_token_is_refused(county, bank, browser):
    answer = browser.client.post(f"/competitions/{county.code}/exam", data=form_data(county, bank))
    assert answer.status_code in (400, 422)
    assert db.session.scalar(sa.select(sa.func.count(Exam.id))) == 0


def test_once_candidates_started_the_page_saves_what_is_still_open(make_competition, make_user, client, auth):
    competition = make_competition(status="running")
    exam = make_exam(competition, make_bank())
    seat(exam, "E1", RIGHT)
    make_user("boss", "admin", locale="en")
    auth.login("boss")
    browser = Logged(client)
    page = browser.get(f"/competitions/{competition.code}/exam")
    assert "the bank, criterion, marker, blueprint and seed are fixed" in page.text
    # Disabled inputs are not posted: the page keeps the fixed values.
    typed = {
        "title": "新标题",
        "opens_at": "2026-05-10T09:00",
        "closes_at": "2026-05-10T23:00",
        "duration_minutes": "45",
    }
    answer = browser.post(f"/competitions/{competition.code}/exam", typed)
    assert answer.status_code == 302, answer.text
    db.session.expire_all()
    assert (exam.title, exam.duration_minutes, exam.seed) == ("新标题", 45, "种子-2026")
    setup.set_status(exam, "closed", None)
    db.session.commit()
    answer = browser.post(f"/competitions/{competition.code}/exam", {"title": "已结束", "show_answers": "y"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert exam.show_answers and exam.title == "已结束" and exam.duration_minutes == 45
