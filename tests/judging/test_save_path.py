"""The hot path of a judging day: a save costs at most five statements and answers a stale retry honestly."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, JudgeConflict, MarkChange, UserSession
from comp.models.types import plain, utcnow
from comp.services.accounts import sessions
from comp.services.judging import tally
from tests.conftest import csrf_token
from tests.judging.conftest import criterion_of, drop_marks, entrant_of, judge_of, mark_of

# Transaction control is not work the database does for the save; everything else counts.
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


def _sheet(running, tablet):
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    url = t.url(e1, f"/mark/{route.id}")  # built before counting: the test's own objects may reload
    return t, e1, route, url


def _most() -> int:
    """The statements a save may cost: the login with the context, the write, its MarkChange, the tally.

    On PostgreSQL the write, its MarkChange and the tally are one statement (data-modifying WITHs).
    """
    return 2 if db.engine.dialect.name == "postgresql" else 4


def test_an_update_costs_at_most_five_statements_and_leaves_the_competition_row_alone(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    version = db.session.scalar(sa.select(Competition.version).where(Competition.id == running.id))
    with statements() as sent:
        response = t.post(url, {"value": "30", "version": "1"})
    assert response.status_code == 200 and 'data-state="saved"' in response.get_data(as_text=True)
    assert len(sent) <= _most(), "\n".join(sent)
    assert not any(s.lstrip().upper().startswith("UPDATE COMPETITION") for s in sent)
    assert db.session.scalar(sa.select(Competition.version).where(Competition.id == running.id)) == version
    assert mark_of(t.judge, e1, route).value_cents == 3000


def test_a_first_mark_costs_at_most_five_statements(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    drop_marks(t.judge, e1)
    with statements() as sent:
        response = t.post(url, {"value": "30", "version": "0"})
    assert 'data-state="saved"' in response.get_data(as_text=True)
    assert len(sent) <= _most(), "\n".join(sent)
    mark = mark_of(t.judge, e1, route)
    assert mark.version == 1
    change = db.session.scalars(sa.select(MarkChange).order_by(MarkChange.id.desc())).first()
    assert (change.entrant_id, change.criterion_id, change.old_cents, change.new_cents, change.source) == (
        e1.id,
        route.id,
        None,
        3000,
        "tablet-a",
    )


def test_a_refusal_writes_nothing(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    changes = db.session.scalar(sa.select(sa.func.count(MarkChange.id)))
    with statements() as sent:
        response = t.post(url, {"value": "41", "version": "1"})
    assert 'data-state="refused"' in response.get_data(as_text=True)
    assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")) for s in sent)
    assert db.session.scalar(sa.select(sa.func.count(MarkChange.id))) == changes


def _state(response) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    state = re.search(r'data-state="(\w+)"', html)[1]
    saved = re.search(r'data-saved="([^"]*)"', html)[1]
    return state, saved


def test_a_retry_after_another_tablet_changed_the_mark_is_stale_with_the_servers_value(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    assert _state(t.post(url, {"value": "30", "version": "1"}, session="tablet-a")) == ("saved", "30")  # v2
    assert _state(t.post(url, {"value": "35", "version": "2"}, session="tablet-b")) == ("saved", "35")  # v3
    # Tablet A's outbox re-sends its save with the version it had: the answer says 35 stands.
    response = t.post(url, {"value": "30", "version": "1"}, session="tablet-a")
    assert _state(response) == ("stale", "35") and "HX-Trigger" in response.headers
    assert "35" in response.get_data(as_text=True)
    # The same figure from the other tablet, on an old version, is not "saved" either: it did not save it.
    assert _state(t.post(url, {"value": "35", "version": "1"}, session="tablet-a"))[0] == "stale"
    mark = mark_of(t.judge, e1, route)
    assert (mark.value_cents, mark.version) == (3500, 3)


def test_a_retry_of_the_tablets_own_save_is_saved_and_changes_nothing(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    assert _state(t.post(url, {"value": "31", "version": "1"}, session="tablet-a")) == ("saved", "31")
    changes = db.session.scalar(sa.select(sa.func.count(MarkChange.id)))
    # The answer was lost on the way back: the outbox sends the same save again.
    assert _state(t.post(url, {"value": "31", "version": "1"}, session="tablet-a")) == ("saved", "31")
    assert db.session.scalar(sa.select(sa.func.count(MarkChange.id))) == changes
    assert mark_of(t.judge, e1, route).version == 2


def test_a_save_on_another_competitions_criterion_or_an_unknown_sheet_is_404(running, tablet, make_competition):
    t, e1, route, url = _sheet(running, tablet)
    assert t.post(url.replace(f"/mark/{route.id}", "/mark/999999"), {"value": "3", "version": "0"}).status_code == 404
    assert t.post(url.replace(e1.secret_code, "ZZZZZZ"), {"value": "3", "version": "0"}).status_code == 404
    assert t.post(url.replace(running.code, "NO-SUCH"), {"value": "3", "version": "0"}).status_code == 404


@pytest.mark.parametrize("who", ["other judge", "organizer", "worker"])
def test_only_the_panel_saves_a_mark(running, client, auth, make_user, who):
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    before = mark_of(judge_of(running, "J2"), e1, route)
    make_user("someone", who.split()[-1])
    auth.login("someone")
    token = csrf_token(client, "/")
    response = client.post(
        f"/judge/{running.code}/sheet/{e1.secret_code}/mark/{route.id}",
        data={"value": "3", "version": str(before.version)},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(MarkChange.id)).where(MarkChange.new_cents == 300)) == 0


@pytest.mark.parametrize("token", ["missing", "forged"])
def test_a_save_without_the_pages_csrf_token_is_refused_and_writes_nothing(running, tablet, token):
    # The mark form leaves the token to CSRFProtect, which checks every POST before the view runs.
    t, e1, route, url = _sheet(running, tablet)
    before = mark_of(t.judge, e1, route)
    changes = db.session.scalar(sa.select(sa.func.count(MarkChange.id)))
    headers = {"HX-Request": "true", "X-Tablet-Session": "tablet-a"}
    if token == "forged":
        headers["X-CSRFToken"] = t.token[:-4] + "AAAA"
    response = t.client.post(url, data={"value": "3", "version": str(before.version)}, headers=headers)
    assert response.status_code == 400
    db.session.expire_all()
    assert mark_of(t.judge, e1, route).value_cents == before.value_cents
    assert db.session.scalar(sa.select(sa.func.count(MarkChange.id))) == changes


def test_a_recused_judge_cannot_save_even_with_a_crafted_request(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    db.session.add(JudgeConflict(judge_id=t.judge.id, entrant_id=e1.id, reason="亲属"))
    db.session.commit()
    assert t.post(url, {"value": "3", "version": "1"}).status_code == 403
    assert mark_of(t.judge, e1, route).value_cents != 300


def test_a_judge_from_the_entrants_employer_cannot_save(running, tablet):
    t, e1, route, url = _sheet(running, tablet)
    t.judge.org_unit_id = e1.employer_id
    db.session.commit()
    assert t.post(url, {"value": "3", "version": "1"}).status_code == 403
    e2 = entrant_of(running, "E2")
    other = t.url(e2, f"/mark/{route.id}")
    assert t.post(other, {"value": "3", "version": str(mark_of(t.judge, e2, route).version)}).status_code == 200


def test_the_sheet_page_costs_at_most_four_statements(running, tablet):
    # The page a tablet opens for every entrant: the login with the sheet's context (competition, seat,
    # entrant, recusal, signature), the criteria with their marks, the re-mark requests, the next entrant.
    t, e1, _route, _url = _sheet(running, tablet)
    sheet_url = t.url(e1)
    with statements() as sent:
        response = t.client.get(sheet_url)
    assert response.status_code == 200 and 'class="mark-row' in response.get_data(as_text=True)
    assert len(sent) <= 4, "\n".join(sent)


def test_the_sheet_page_refuses_as_every_page_does(running, tablet, make_competition, client, auth, make_user):
    t, e1, _route, _url = _sheet(running, tablet)
    assert t.client.get(t.url(e1).replace(e1.secret_code, "NOSUCHCODE")).status_code == 404
    assert t.client.get(t.url(e1).replace(running.code, "NO-SUCH-CODE")).status_code == 404
    other = make_competition(status="running")
    assert t.client.get(t.url(e1).replace(running.code, other.code)).status_code == 403  # not on that panel
    draft = make_competition(status="draft")
    assert t.client.get(t.url(e1).replace(running.code, draft.code)).status_code == 404  # judges see no draft


# --- The save reads the login itself (with its context), not through Flask-Login's loader ---


def _judges_session(judge) -> UserSession:
    return db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == judge.id).order_by(UserSession.id.desc())
    ).first()


@pytest.mark.parametrize("how", ["logged out elsewhere", "expired", "account disabled"])
def test_a_save_on_a_session_that_ended_is_answered_as_a_visitor_and_writes_nothing(running, tablet, how):
    t, e1, route, url = _sheet(running, tablet)
    before = mark_of(t.judge, e1, route)
    changes = db.session.scalar(sa.select(sa.func.count(MarkChange.id)))
    if how == "logged out elsewhere":
        sessions.end_all(t.judge, "logout_all")
    elif how == "expired":
        _judges_session(t.judge).expires_at = utcnow() - timedelta(seconds=1)
    else:
        t.judge.active = False
    db.session.commit()
    response = t.post(url, {"value": "3", "version": str(before.version)})
    # As login_required answers htmx: the whole page goes to the login form.
    assert response.status_code in (200, 401) and "/login" in response.headers["HX-Redirect"]
    assert t.post(url, {"value": "3", "version": str(before.version)}, htmx=False).status_code == 302
    db.session.expire_all()
    assert mark_of(t.judge, e1, route).value_cents == before.value_cents
    assert db.session.scalar(sa.select(sa.func.count(MarkChange.id))) == changes


def test_a_save_without_a_login_goes_to_the_login_page(running, client):
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    token = csrf_token(client, "/login")
    response = client.post(
        f"/judge/{running.code}/sheet/{e1.secret_code}/mark/{route.id}",
        data={"value": "3", "version": "1"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("locale, saved", [("en", "Saved"), ("zh", "已于")])
def test_the_answer_speaks_the_judges_language_and_keeps_the_session_seen(running, tablet, locale, saved):
    t, e1, route, url = _sheet(running, tablet)
    t.judge.locale = locale
    live = _judges_session(t.judge)
    live.last_seen_at = utcnow() - sessions.TOUCH_EVERY - timedelta(minutes=1)
    db.session.commit()
    response = t.post(url, {"value": "31", "version": str(mark_of(t.judge, e1, route).version)})
    text = response.get_data(as_text=True)
    assert 'data-state="saved"' in text and saved in text
    db.session.expire_all()
    assert utcnow() - _judges_session(t.judge).last_seen_at < timedelta(minutes=1)


@pytest.mark.parametrize("first", [True, False])
def test_the_answers_tally_counts_the_mark_just_written(running, tablet, first):
    # On PostgreSQL the tally is read by the statement that writes the mark, which does not see its own
    # write: the answer must still count it, as a fresh read does.
    t, e1, route, url = _sheet(running, tablet)
    if first:
        drop_marks(t.judge, e1)
    version = 0 if first else mark_of(t.judge, e1, route).version
    text = t.post(url, {"value": "33.5", "version": str(version)}).get_data(as_text=True)
    assert 'data-state="saved"' in text
    shown = re.search(r'id="tally-total">([^<]+)<', text)[1]
    db.session.expire_all()
    fresh = tally.read(running.id, t.judge.id, e1.id)
    assert shown == plain(fresh.points)
    assert mark_of(t.judge, e1, route).value_cents == 3350


@pytest.mark.parametrize("how", ["logged out elsewhere", "account disabled"])
def test_the_sheet_page_of_a_session_that_ended_goes_to_the_login_page(running, tablet, how):
    t, e1, _route, _url = _sheet(running, tablet)
    assert t.client.get(t.url(e1)).status_code == 200
    if how == "logged out elsewhere":
        sessions.end_all(t.judge, "logout_all")
    else:
        t.judge.active = False
    db.session.commit()
    response = t.client.get(t.url(e1))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_no_judging_view_carries_a_rate_limit(app):
    # The judging blueprint is filtered out of the rate limiter (comp/blueprints/judging/__init__.py): a
    # limit on one of its views would never apply, so none may carry one.
    from comp.extensions import limiter

    limited = {name for name in limiter.limit_manager._decorated_limits if name.startswith("comp.blueprints.judging")}
    assert limited == set()
    assert any(name.startswith("comp.blueprints.auth") for name in limiter.limit_manager._decorated_limits)
