"""A worker's own entries: the team she registers in, and her own result page (issue 15, findings 5 and 8)."""

from __future__ import annotations

import html
import re

import flask_babel
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Entrant
from comp.services import exchange, registration
from tests.certs.conftest import competition_doc, issued, published, worker_login  # noqa: F401 - fixtures
from tests.conftest import valid_id
from tests.registration.conftest import login, post


def text(response) -> str:
    """Return the page with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def entrants(competition) -> list[Entrant]:
    return db.session.scalars(
        sa.select(Entrant).where(Entrant.competition_id == competition.id).order_by(Entrant.ref)
    ).all()


def colleague_in(competition, make_worker, tree, team: str, employer=None, seed: int = 50) -> Entrant:
    """Enter a colleague (by default of 晋江翔鹭) with a team, as a liaison's sheet would."""
    employer = employer or tree.aviation
    worker = make_worker(f"同事{seed}", id_number=valid_id(seed), employer_id=employer.id)
    entrant = Entrant(
        competition_id=competition.id,
        ref=f"R{seed:04d}",
        type="person",
        worker_id=worker.id,
        name=worker.name,
        team=team,
        status="approved",
        employer_id=employer.id,
    )
    db.session.add(entrant)
    db.session.commit()
    return entrant


# ---- finding 5: the team field of self-registration ----


def test_she_registers_in_a_team_trimmed_like_a_sheet_cell(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    response = post(client, f"/competitions/{competition.code}/register", {"team": "  翔鹭一队 "})
    assert response.status_code == 302
    [entrant] = entrants(competition)
    assert entrant.team == "翔鹭一队"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "registration.created"))
    assert event.detail["team"] == "翔鹭一队"
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert "Team: 翔鹭一队" in page


def test_the_team_is_optional_and_empty_means_her_employers_team(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert 'name="team"' in page and "Team (optional)" in page
    assert "Left empty, you count in a team of your employer’s entrants who gave no team." in page
    assert post(client, f"/competitions/{competition.code}/register").status_code == 302
    assert [e.team for e in entrants(competition)] == [""]


def test_her_employers_teams_are_offered_and_no_other_employers(
    client, auth, open_competition, make_worker_account, make_worker, tree
):
    competition = open_competition()
    colleague_in(competition, make_worker, tree, "翔鹭一队", seed=51)
    colleague_in(competition, make_worker, tree, "翔鹭二队", seed=52)
    colleague_in(competition, make_worker, tree, "锦绣队", employer=tree.garment, seed=53)
    gone = colleague_in(competition, make_worker, tree, "退出队", seed=54)
    gone.status = "withdrawn"
    db.session.commit()
    make_worker_account("w1", 1)
    login(auth, "w1")
    page = text(client.get(f"/competitions/{competition.code}/register"))
    options = re.findall(r'<datalist id="teams">(.*?)</datalist>', page, re.S)
    assert options and re.findall(r'<option value="([^"]+)">', options[0]) == ["翔鹭一队", "翔鹭二队"]
    assert 'list="teams"' in page


def test_no_team_suggestions_where_teams_go_by_employer(
    client, auth, open_competition, make_worker_account, make_worker, tree
):
    competition = open_competition()
    competition.team_by = "employer"
    db.session.commit()
    colleague_in(competition, make_worker, tree, "翔鹭一队", seed=51)
    make_worker_account("w1", 1)
    login(auth, "w1")
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert '<datalist id="teams">' not in page
    assert "team standings group entrants by employer" in page


def test_a_bad_team_is_refused_naming_the_field_and_nothing_is_written(
    client, auth, open_competition, make_worker_account
):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    for team, message in (("=1+1", "Must not begin with =, +, - or @."), ("队" * 65, "64")):
        response = post(client, f"/competitions/{competition.code}/register", {"team": team})
        assert response.status_code == 422
        page = text(response)
        field = re.search(r'<label for="team">.*?</label>', page, re.S)
        assert field and 'aria-invalid="true"' in field[0] and message in field[0]
    assert entrants(competition) == []


def test_the_service_checks_the_team_as_the_sheet_does(app):
    with app.test_request_context(), flask_babel.force_locale("en"):
        assert registration.team_problem("=SUM(A1)") == "Team: must not begin with =, +, - or @."
        assert registration.team_problem("队\x07") == "Team: contains control characters."
        assert registration.team_problem("队" * 65) == "Team: at most 64 characters."
        assert registration.team_problem("翔鹭一队") is None


# ---- finding 8: her own result page ----


def _registered(client, auth, open_competition, make_worker_account) -> Entrant:
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    post(client, f"/competitions/{competition.code}/register")
    [entrant] = entrants(competition)
    return entrant


def test_her_pending_entry_says_where_it_stands(client, auth, open_competition, make_worker_account):
    entrant = _registered(client, auth, open_competition, make_worker_account)
    home = text(client.get("/"))
    assert f'href="/my/entries/{entrant.id}"' in home
    assert f"/competitions/{entrant.competition.code}/results" not in home
    page = client.get(f"/my/entries/{entrant.id}")
    assert page.status_code == 200
    body = text(page)
    assert "Registered: waiting for the organizer's approval." in body
    assert 'aria-current="step">Registration received</li>' in body


def test_the_words_follow_the_entry_until_results(client, auth, open_competition, make_worker_account):
    entrant = _registered(client, auth, open_competition, make_worker_account)
    competition = entrant.competition
    expected = [
        ("approved", "open", "Approved: check in at the venue on the day of the competition."),
        ("ok", "running", "Checked in: your marks are being given."),
        ("ok", "locked", "Awaiting results: they are shown here once they are published."),
        ("absent", "locked", "Marked absent: you have no result in this competition."),
    ]
    for status, state, words in expected:
        entrant.status, competition.status = status, state
        db.session.commit()
        body = text(client.get(f"/my/entries/{entrant.id}"))
        assert words in body, (status, state)
        assert 'id="my-rank"' not in body
    home = text(client.get("/"))
    assert "Absent" in home


def test_another_workers_entry_is_missing(client, auth, open_competition, make_worker_account, make_user):
    entrant = _registered(client, auth, open_competition, make_worker_account)
    auth.logout()
    make_worker_account("w2", 2, name="李四")
    login(auth, "w2")
    assert client.get(f"/my/entries/{entrant.id}").status_code == 404
    assert client.get("/my/entries/999999").status_code == 404
    auth.logout()
    make_user("boss", "admin")
    auth.login("boss")
    assert client.get(f"/my/entries/{entrant.id}").status_code == 404  # her page, not an organizer's
    auth.logout()
    assert client.get(f"/my/entries/{entrant.id}").status_code == 302  # to the login page


def test_before_publishing_no_figures_are_shown(client, auth, make_user):
    doc = competition_doc("C-2026-LOCK", 5)
    competition = exchange.import_competition(doc)
    competition.status = "locked"
    db.session.commit()
    entrant = entrants(competition)[0]
    make_user("w-e1", "worker", worker_id=entrant.worker_id)
    auth.login("w-e1")
    body = text(client.get(f"/my/entries/{entrant.id}"))
    # The worker reads Chinese (no locale of her own).
    assert "等待成绩：成绩公布后将在此显示。" in body
    assert 'id="my-total"' not in body and 'id="my-certificate"' not in body
    home = text(client.get("/"))
    assert "等待成绩" in home and "已检录" not in home


def test_after_publishing_her_rank_total_stages_award_and_certificate(client, issued, worker_login):  # noqa: F811
    competition, certificates = issued(5)
    [first, second, *_rest] = entrants(competition)
    worker_login(first)
    number = next(c.number for c in certificates if c.entrant_id == first.id)
    response = client.get(f"/my/entries/{first.id}")
    assert response.status_code == 200
    body = text(response)
    assert re.search(r'id="my-rank">1<', body)
    assert re.search(r'id="my-total">\d+\.\d\d<', body)
    assert re.search(r'id="my-award">[^<]+<', body)
    stages = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+\.\d\d)</td></tr>", body)
    assert [name for name, _score in stages] == ["理论知识", "实际操作"]
    assert f'href="/my/certificates/{number}.pdf"' in body
    # Nothing of anyone else, nor of the judges. Only the page's content is read: the CSRF token in the
    # header is random text and once held "J1".
    content = body[body.index("<main") : body.index("</main>")]
    assert second.name not in content and "J1" not in content and "bias" not in content.lower()
    assert f"/competitions/{competition.code}/results" not in body
    home = text(client.get("/"))
    assert f'href="/my/entries/{first.id}"' in home and f"/competitions/{competition.code}/results" not in home
    assert "第 1 名" in home and f'href="/my/certificates/{number}.pdf"' in home
    assert client.get(f"/my/entries/{second.id}").status_code == 404


def test_a_published_result_without_a_certificate_says_so(client, published, worker_login):  # noqa: F811
    competition = published(5)
    first = entrants(competition)[0]
    worker_login(first)
    body = text(client.get(f"/my/entries/{first.id}"))
    assert 'id="my-rank">1<' in body and 'id="my-certificate"' not in body
    assert "你的证书尚未颁发" in body
