"""The hall screen's live standings: public while running, 204 while nothing changed, codes until publication."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import MarkChange
from comp.services import results
from comp.services.common import computed
from comp.services.setup import lifecycle
from tests.chief.helpers import entrant, mark, set_mark

NAMES = ("张三", "李四")


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
    assert f'hx-get="/c/{competition.code}/live?v={results.stamp_of(competition)}"' in page
    assert 'hx-trigger="every 2s"' in page and 'hx-target="this"' in page and 'hx-swap="outerHTML"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_board_ranks_with_totals_and_progress(client, competition):
    doc = results.document(competition)
    page = text(client.get(f"/c/{competition.code}/live"))
    first = next(r for r in doc["results"] if r["rank"] == 1)
    row = re.search(r'<td class="num rank">1</td>.*?</tr>', page, re.S).group(0)
    assert entrant(competition, first["ref"]).secret_code in row
    assert first["total"] in row and "5/5" in row


def test_a_poll_at_the_current_stamp_is_204_after_one_query(client, competition):
    stamp = results.stamp_of(competition)
    with counted_queries() as statements:
        response = poll(client, competition, stamp)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert len(statements) == 1 and "version" in statements[0] and "mark_change" in statements[0]


def test_a_poll_after_a_mark_changes_gets_the_new_board(client, competition):
    old = results.stamp_of(competition)
    assert poll(client, competition, old).status_code == 204
    set_mark(competition, "E1", "J1", "theory.exam", None)
    new = results.stamp_of(competition)
    assert new != old
    response = poll(client, competition, old)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and fragment.lstrip().startswith("{#") is False
    assert f"live?v={new}" in fragment
    assert "4/5" in fragment  # E1 lost a mark
    assert poll(client, competition, new).status_code == 204


def test_many_screens_cost_one_computation_per_stamp(client, competition, monkeypatch):
    calls = []
    real = results.compute
    monkeypatch.setattr(results, "compute", lambda c: calls.append(c.version) or real(c))
    for _ in range(3):
        assert client.get(f"/c/{competition.code}/live").status_code == 200
    assert len(calls) == 1
    set_mark(competition, "E2", "J2", "practical.safety", "7")  # a new generation: rebuilt at once
    for _ in range(3):
        client.get(f"/c/{competition.code}/live", headers={"HX-Request": "true"})
    assert len(calls) == 2


def judge_saves(competition, entrant_ref="E1", judge_ref="J1", path="practical.route", value="30"):
    """Change a mark as a judge's save does: the mark and its MarkChange, the competition row untouched."""
    found = mark(competition, entrant_ref, judge_ref, path)
    old = found.value_cents
    found.value_cents, found.version = int(Decimal(value) * 100), found.version + 1
    db.session.add(
        MarkChange(
            competition_id=competition.id,
            entrant_id=found.entrant_id,
            judge_id=found.judge_id,
            criterion_id=found.criterion_id,
            old_cents=old,
            new_cents=found.value_cents,
            actor_id=found.judge_id,
        )
    )
    db.session.commit()


def test_judges_saves_rebuild_the_board_at_most_once_a_second(client, competition, monkeypatch):
    calls, clock = [], [1_000_000.0]
    real = results.compute
    monkeypatch.setattr(results, "compute", lambda c: calls.append(c.version) or real(c))
    monkeypatch.setattr(computed.time, "time", lambda: clock[0])
    first = results.stamp_of(competition)
    assert client.get(f"/c/{competition.code}/live").status_code == 200 and len(calls) == 1
    judge_saves(competition, value="30")
    second = results.stamp_of(competition)
    assert second != first and second.split(".")[0] == first.split(".")[0]  # same generation
    clock[0] += 0.5
    for _ in range(5):  # within the second: the screens keep the board they show
        assert poll(client, competition, first).status_code == 204
    assert len(calls) == 1
    clock[0] += 0.6
    response = poll(client, competition, first)
    assert response.status_code == 200 and f"live?v={second}" in text(response)
    for _ in range(5):
        assert poll(client, competition, second).status_code == 204
    assert len(calls) == 2


def test_a_screen_far_behind_gets_the_stored_board_while_it_waits(client, competition, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(computed.time, "time", lambda: clock[0])
    first = results.stamp_of(competition)
    client.get(f"/c/{competition.code}/live")
    judge_saves(competition, value="31")
    # A screen that has just been switched on shows the stored board at once, stamped as it was built.
    response = poll(client, competition, "0.0.0")
    assert response.status_code == 200 and f"live?v={first}" in text(response)


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
