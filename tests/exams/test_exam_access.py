"""Who may open the organizer's exam pages: the competition's organizers and admins; no one else."""

from __future__ import annotations

import pytest

from comp.extensions import db
from tests.chief.helpers import login_judge
from tests.exams.exam_helpers import RIGHT, Logged, _english, make_bank, make_exam, seat  # noqa: F401

GETS = ["exam", "exam/papers", "exam/proctor", "exam/key", "exam/analysis", "exam/analysis.xlsx"]
POSTS = ["exam", "exam/status", "exam/key", "exam/sittings/{id}/extend", "exam/sittings/{id}/end"]


@pytest.fixture()
def exam(make_competition, tree):
    competition = make_competition(status="running")
    competition.organizer_unit_id = tree.jinjiang.id
    db.session.commit()
    exam = make_exam(competition, make_bank())
    exam.sitting = seat(exam, "E1", RIGHT, finished_by="candidate")
    return exam


def urls(exam, paths):
    return [f"/competitions/{exam.competition.code}/{p.format(id=exam.sitting.id)}" for p in paths]


def test_anonymous_is_sent_to_the_login(client, exam):
    for url in urls(exam, GETS):
        answer = client.get(url)
        assert answer.status_code == 302 and "/login" in answer.location, url


@pytest.mark.parametrize("role", ["worker", "liaison"])
def test_workers_and_liaisons_are_refused(client, auth, make_user, exam, role):
    make_user("someone", role)
    auth.login("someone")
    logged = Logged(client)
    for url in urls(exam, GETS):
        assert logged.get(url).status_code == 403, url
    for url in urls(exam, POSTS):
        assert logged.post(url, {"reason": "x", "minutes": "5"}).status_code == 403, url


def test_a_judge_of_the_competition_is_refused(client, auth, exam):
    login_judge(auth, exam.competition, "J1")
    logged = Logged(client)
    for url in urls(exam, GETS):
        assert logged.get(url).status_code == 403, url
    for url in urls(exam, POSTS):
        assert logged.post(url, {"reason": "x", "minutes": "5"}).status_code == 403, url


def test_an_organizer_of_another_union_is_refused(client, auth, make_user, tree, exam):
    make_user("shishi", "organizer", org_unit_id=tree.shishi.id)
    auth.login("shishi")
    logged = Logged(client)
    for url in urls(exam, GETS):
        assert logged.get(url).status_code == 403, url
    for url in urls(exam, POSTS):
        assert logged.post(url, {"reason": "x", "minutes": "5"}).status_code == 403, url
    assert exam.sitting.extra_minutes == 0


@pytest.mark.parametrize(("role", "unit"), [("organizer", "jinjiang"), ("organizer", "city"), ("admin", None)])
def test_the_competition_s_organizers_and_admins_open_every_page(client, auth, make_user, tree, exam, role, unit):
    make_user("boss", role, org_unit_id=getattr(tree, unit).id if unit else None)
    auth.login("boss")
    for url in urls(exam, GETS):
        assert client.get(url).status_code == 200, url


def test_without_an_exam_the_other_pages_are_404(client, auth, make_user, make_competition, tree):
    competition = make_competition(status="running")
    make_user("boss", "admin")
    auth.login("boss")
    assert client.get(f"/competitions/{competition.code}/exam").status_code == 200
    for path in GETS[1:]:
        assert client.get(f"/competitions/{competition.code}/{path}").status_code == 404, path
    assert client.get("/competitions/NOPE/exam").status_code == 404
