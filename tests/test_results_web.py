"""The organizer's results page, the results API and the published rules page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import flask_babel
import pytest

from comp.blueprints.results import views as results_views
from comp.services import exchange, results
from comp.services.setup import lifecycle

DATA = Path(__file__).parent / "scoring" / "data"


def import_example(name: str):
    """Import a worked example and return the competition."""
    return exchange.import_competition(exchange.read_file(str(DATA / f"{name}.json")))


def fetch(client, url: str):
    """GET a page in the logged-in user's language.

    The test client's requests share the test's app context, where flask_babel caches the
    locale of the first page (the anonymous login form): clear it so the user's choice counts.
    """
    flask_babel.refresh()
    return client.get(url)


def page_text(response) -> str:
    """Return the page as text with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def row_of(page: str, ref: str) -> str:
    """Return the results table row of the entrant with this ref."""
    match = re.search(rf"<tr>\s*<td[^>]*>[^<]*</td>\s*<td><code>{re.escape(ref)}</code>.*?</tr>", page, re.S)
    assert match, f"no row for {ref}"
    return match.group(0)


def cells(row: str) -> list[str]:
    """Return the text of a row's cells."""
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


@pytest.fixture()
def organizer(auth, make_user):
    """Log in an organizer who reads English."""
    make_user("organizer", "organizer", locale="en")
    assert auth.login("organizer").status_code == 302


@pytest.fixture()
def worker(auth, make_user):
    """Log in a worker."""
    make_user("worker", "worker")
    assert auth.login("worker").status_code == 302


# ------------------------------------------------------------------ the results page


def test_results_page_shows_the_figures_of_the_document(client, organizer):
    competition = import_example("competition")
    doc = results.document(competition)
    response = fetch(client, f"/competitions/{competition.code}/results")
    assert response.status_code == 200
    page = page_text(response)
    assert competition.name in page and competition.code in page
    for entrant in doc["results"]:
        expected = [
            str(entrant["rank"] or "—"),
            entrant["ref"],
            entrant["name"],
            *(entrant["stages"].get(key, "—") for key in ("theory", "practical")),
            entrant["total"] or "—",
            entrant["award"] or "",
        ]
        assert cells(row_of(page, entrant["ref"]))[:7] == expected
    for team in doc["teams"]:
        assert re.search(
            rf"<td>{re.escape(team['team'])}</td>\s*<td class=\"num\"><strong>{team['total']}</strong>", page
        )
    for judge in doc["judges"]:
        assert f">{judge['bias']}</td>" in page
    assert 'id="teams-heading"' in page


def test_results_page_agrees_with_the_cli(client, organizer, runner):
    competition = import_example("competition")
    printed = json.loads(runner.invoke(args=["competition", "results", competition.code, "--json"]).stdout)
    page = page_text(fetch(client, f"/competitions/{competition.code}/results"))
    for entrant in printed["results"]:
        row = row_of(page, entrant["ref"])
        for figure in (entrant["total"] or "—", *entrant["stages"].values()):
            assert f">{figure}<" in row


def test_unranked_entrants_show_a_dash_and_their_status(client, organizer):
    competition = import_example("competition")
    page = page_text(fetch(client, f"/competitions/{competition.code}/results"))
    row = cells(row_of(page, "N12"))
    assert row[0] == "—" and row[5] == "—"
    assert row[-1] == "Absent"


def test_results_page_links_the_rules_and_summarizes_them(client, organizer):
    competition = import_example("competition")
    page = page_text(fetch(client, f"/competitions/{competition.code}/results"))
    assert 'href="/competitions/rules"' in page
    assert "理论知识 20, 实际操作 80" in page
    assert "一等奖 10 %, 二等奖 20 %, 三等奖 30 %" in page
    assert "实际操作 score, higher first; then completion time, shorter first" in page
    assert "best 3 members" in page


def _by_places():
    data = exchange.read_file(str(DATA / "competition.json"))
    data["competition"]["rules"] = {"award_tiers": [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 3}]}
    return exchange.import_competition(data)


def test_the_summary_names_awards_by_place(client, organizer):
    competition = _by_places()
    page = re.sub(r"\s+", " ", page_text(fetch(client, f"/competitions/{competition.code}/results")))
    assert "Awards by place: 一等奖 1 place, 二等奖 3 places" in page
    assert "entrants tied at a cut-off all receive the better award" in page
    assert "Recusal: judges mark no entrant they declared a conflict with, nor any of their own employer" in page


def test_the_summary_names_awards_by_place_in_chinese(client, auth, make_user):
    make_user("organizer.zh", "organizer", locale="zh")
    assert auth.login("organizer.zh").status_code == 302
    competition = _by_places()
    page = re.sub(r"\s+", " ", page_text(fetch(client, f"/competitions/{competition.code}/results")))
    assert "按名额评奖： 一等奖 1 名, 二等奖 3 名 — 在名额线上并列的选手都获较高的奖项" in page


def test_rating_results_page_has_no_teams_section(client, organizer):
    competition = import_example("rating")
    doc = results.document(competition)
    response = fetch(client, f"/competitions/{competition.code}/results")
    assert response.status_code == 200
    page = page_text(response)
    assert 'id="teams-heading"' not in page
    for entrant in doc["results"]:
        assert cells(row_of(page, entrant["ref"]))[3:6] == [
            entrant["stages"]["review"],
            entrant["total"],
            entrant["award"] or "",
        ]
    assert "五星 ≥ 90, 四星 ≥ 80, 三星 ≥ 70" in page


def test_incomplete_results_are_marked_provisional(client, organizer, exchange_doc):
    exchange_doc["marks"].pop(0)
    competition = exchange.import_competition(exchange_doc)
    page = page_text(fetch(client, f"/competitions/{competition.code}/results"))
    assert "provisional" in page
    assert cells(row_of(page, "E1"))[-1] == "Marks incomplete"


def test_flagged_discrepancies_and_bias_are_shown_in_red(client, organizer, exchange_doc):
    # Route marks 30, 31.5, 39 for E2: spread 9 > 20 % of 40; J3 marks far above the others.
    exchange_doc["marks"][7]["value"] = "39"
    exchange_doc["marks"][4]["value"] = "40"
    competition = exchange.import_competition(exchange_doc)
    doc = results.document(competition)
    assert doc["discrepancies"] and any(j["flagged"] for j in doc["judges"])
    page = page_text(fetch(client, f"/competitions/{competition.code}/results"))
    for item in doc["discrepancies"]:
        assert f'<td class="num flagged">{item["spread"]}</td>' in page
    for judge in doc["judges"]:
        css = "num flagged" if judge["flagged"] else "num"
        assert f'<td class="{css}">{judge["bias"]}</td>' in page


def test_results_page_is_closed_to_a_worker_until_published(client, worker):
    competition = import_example("competition")
    assert fetch(client, f"/competitions/{competition.code}/results").status_code == 403
    lifecycle.publish(competition)
    assert fetch(client, f"/competitions/{competition.code}/results").status_code == 200


def test_results_page_sends_the_anonymous_to_login(client, make_competition):
    competition = make_competition()
    response = fetch(client, f"/competitions/{competition.code}/results")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_results_page_of_an_unknown_code_is_404(client, organizer):
    assert client.get("/competitions/NO-SUCH/results").status_code == 404


def test_results_page_has_no_inline_script_or_style(client, organizer):
    competition = import_example("competition")
    page = fetch(client, f"/competitions/{competition.code}/results").get_data(as_text=True)
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


# ------------------------------------------------------------------ the API


@pytest.mark.parametrize("name", ["competition", "rating"])
def test_api_returns_exactly_the_results_document(client, organizer, name):
    competition = import_example(name)
    response = client.get(f"/api/v1/competitions/{competition.code}/results")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == results.document(competition)
    assert response.headers["Cache-Control"] == "no-store"


def test_api_keeps_the_document_order_of_the_spec(client, organizer):
    competition = import_example("competition")
    body = client.get(f"/api/v1/competitions/{competition.code}/results").get_data(as_text=True)
    assert body == json.dumps(results.document(competition), ensure_ascii=False)
    assert list(json.loads(body)) == ["competition", "complete", "results", "teams", "discrepancies", "judges"]


def test_api_hides_an_unpublished_competition_from_a_worker(client, worker):
    competition = import_example("competition")
    url = f"/api/v1/competitions/{competition.code}/results"
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
    lifecycle.publish(competition)
    response = client.get(url)
    assert response.status_code == 200
    assert response.get_json() == results.document(competition)


def test_api_answers_the_public_once_published(client, make_competition):
    competition = make_competition()
    url = f"/api/v1/competitions/{competition.code}/results"
    assert client.get(url).status_code == 404
    lifecycle.publish(competition)
    assert client.get(url).status_code == 200


def test_api_of_an_unknown_code_is_404(client, organizer):
    assert client.get("/api/v1/competitions/NO-SUCH/results").status_code == 404


# ------------------------------------------------------------------ the rules page


def test_rules_page_renders_docs_rules_md(client):
    path = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    if not path.exists():
        pytest.skip("docs/rules.md is not written yet")
    response = client.get("/competitions/rules")
    assert response.status_code == 200
    first_line = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    assert html.escape(first_line.strip(), quote=False) in response.get_data(as_text=True)


def test_rules_page_escapes_the_text(client, monkeypatch, tmp_path):
    rules = tmp_path / "rules.md"
    rules.write_text("# 评分规则\n\n<script>alert(1)</script> & more\n", encoding="utf-8")
    monkeypatch.setattr(results_views, "rules_path", lambda: rules)
    response = client.get("/competitions/rules")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "# 评分规则" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script>alert(1)" not in page


def test_rules_page_is_404_without_the_document(client, monkeypatch, tmp_path):
    monkeypatch.setattr(results_views, "rules_path", lambda: tmp_path / "missing.md")
    assert client.get("/competitions/rules").status_code == 404


def test_a_recused_judge_leaves_the_entrant_complete_with_one_mark_fewer(make_competition, make_user):
    """An entrant from a judge's own employer gets one mark fewer and is still complete."""
    import sqlalchemy as sa

    from comp.extensions import db
    from comp.models import Entrant, JudgeAssignment, Mark, User
    from comp.services import results

    competition = make_competition(status="running")  # final results are not recomputed from accounts
    e1 = db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == "E1"))
    j3 = db.session.scalar(
        sa.select(User)
        .join(JudgeAssignment, JudgeAssignment.user_id == User.id)
        .where(JudgeAssignment.competition_id == competition.id, JudgeAssignment.ref == "J3")
    )
    db.session.execute(sa.delete(Mark).where(Mark.entrant_id == e1.id, Mark.judge_id == j3.id))
    db.session.commit()

    def e1_row():
        return next(r for r in results.document(competition)["results"] if r["ref"] == "E1")

    assert e1_row()["complete"] is False
    # J3 now works for E1's employer: recused, not missing. Changing an account's unit gives the
    # competitions it judges a new stamp, so the shared results are computed again.
    from comp.services.accounts import admin

    admin.update(make_user("root", "admin"), j3, j3.display_name, "judge", e1.employer_id)
    assert e1_row()["complete"] is True and e1_row()["rank"] is not None


def test_results_export_has_the_figures_and_the_team_standings(client, auth, make_user, make_competition):
    """The spreadsheet carries every entrant's published figures and the team standings."""
    import io

    from openpyxl import load_workbook

    competition = make_competition()
    make_user("boss", "organizer")
    auth.login("boss")
    response = client.get(f"/competitions/{competition.code}/results.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    results_sheet, teams_sheet = book.worksheets
    rows = list(results_sheet.iter_rows(values_only=True))
    doc = results.document(competition)
    assert [r[1] for r in rows[1:]] == [row["ref"] for row in doc["results"]]
    assert rows[1][-3] == doc["results"][0]["total"]
    teams = list(teams_sheet.iter_rows(values_only=True))[1:]
    assert [(t[0], t[1], t[2]) for t in teams] == [(t["rank"], t["team"], t["total"]) for t in doc["teams"]]


def test_results_export_is_for_organizers_until_published(client, auth, make_user, make_competition):
    competition = make_competition()
    make_user("someone", "worker")
    auth.login("someone")
    assert client.get(f"/competitions/{competition.code}/results.xlsx").status_code == 403
