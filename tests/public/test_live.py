"""The hall screen's live standings: public while running, 204 while nothing changed, codes until publication."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.services import results
from comp.services.judging import live
from comp.services.setup import lifecycle
from tests.chief.helpers import entrant, set_mark

NAMES = ("张三", "李四")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty standings cache: ids and versions repeat between tests."""
    live.clear_cache()


@pytest.fixture()
def competition(make_competition):
    return make_competition(status="running")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def poll(client, competition, version):
    return client.get(f"/c/{competition.code}/live?v={version}", headers={"HX-Request": "true"})


@contextmanager
def counted_queries():
    """Count the SQL statements sent while the block runs."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


@pytest.mark.parametrize("status", ["draft", "open", "closed"])
def test_no_board_before_the_competition_runs(client, make_competition, status):
    competition = make_competition(status=status)
    assert client.get(f"/c/{competition.code}/live").status_code == 404
    assert poll(client, competition, competition.version).status_code == 404


def test_unknown_competition_is_404(client):
    assert client.get("/c/NO-SUCH/live").status_code == 404


def test_anyone_sees_the_board_by_secret_code(client, competition):
    response = client.get(f"/c/{competition.code}/live")
    assert response.status_code == 200
    page = text(response)
    for ref in ("E1", "E2"):
        assert entrant(competition, ref).secret_code in page
    assert not any(name in page for name in NAMES)
    assert f'hx-get="/c/{competition.code}/live?v={competition.version}"' in page
    assert 'hx-trigger="every 2s"' in page and 'hx-target="this"' in page and 'hx-swap="outerHTML"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_board_ranks_with_totals_and_progress(client, competition):
    doc = results.document(competition)
    page = text(client.get(f"/c/{competition.code}/live"))
    first = next(r for r in doc["results"] if r["rank"] == 1)
    row = re.search(r'<td class="num rank">1</td>.*?</tr>', page, re.S).group(0)
    assert entrant(competition, first["ref"]).secret_code in row
    assert first["total"] in row and "5/5" in row


def test_a_poll_at_the_current_version_is_204_after_one_query(client, competition):
    version = competition.version
    with counted_queries() as statements:
        response = poll(client, competition, version)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert len(statements) == 1 and "version" in statements[0]


def test_a_poll_after_a_mark_changes_gets_the_new_board(client, competition):
    old = competition.version
    assert poll(client, competition, old).status_code == 204
    set_mark(competition, "E1", "J1", "theory.exam", None)
    db.session.refresh(competition)
    assert competition.version > old
    response = poll(client, competition, old)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and fragment.lstrip().startswith("{#") is False
    assert f"live?v={competition.version}" in fragment
    assert "4/5" in fragment  # E1 lost a mark
    assert poll(client, competition, competition.version).status_code == 204


def test_many_screens_cost_one_computation_per_version(client, competition, monkeypatch):
    calls = []
    real = results.compute
    monkeypatch.setattr(results, "compute", lambda c: calls.append(c.version) or real(c))
    for _ in range(3):
        assert client.get(f"/c/{competition.code}/live").status_code == 200
    assert len(calls) == 1
    set_mark(competition, "E2", "J2", "practical.safety", "7")
    for _ in range(3):
        client.get(f"/c/{competition.code}/live", headers={"HX-Request": "true"})
    assert len(calls) == 2


def test_names_show_only_once_published(client, competition):
    lifecycle.transition(competition, "locked")
    page = text(client.get(f"/c/{competition.code}/live"))
    assert not any(name in page for name in NAMES)
    lifecycle.publish(competition)
    page = text(client.get(f"/c/{competition.code}/live"))
    assert all(name in page for name in NAMES)
    assert entrant(competition, "E1").secret_code not in page


def test_archived_competitions_have_no_board(client, competition):
    competition.status = "archived"
    db.session.commit()
    assert client.get(f"/c/{competition.code}/live").status_code == 404


def test_hall_screen_variant_has_no_site_header(client, competition):
    page = text(client.get(f"/c/{competition.code}/live?screen=1"))
    assert 'class="hall-screen"' in page and 'class="site' not in page
    assert 'id="live-board"' in page


def test_absent_entrants_are_not_on_the_board(client, competition):
    gone = entrant(competition, "E2")
    gone.status = "absent"
    lifecycle.touch(competition)
    db.session.commit()
    page = text(client.get(f"/c/{competition.code}/live"))
    assert gone.secret_code not in page


def test_board_has_no_inline_script_or_style(client, competition):
    for url in (f"/c/{competition.code}/live", f"/c/{competition.code}/live?screen=1"):
        page = client.get(url).get_data(as_text=True)
        assert "<style" not in page and " style=" not in page and "hx-on" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
