"""How a request's transaction ends: COMMIT when it only read (psycopg keeps its prepared statements), never
committing what a request wrote and did not commit itself."""

from __future__ import annotations

import os
import time

import psycopg
import pytest
import sqlalchemy as sa
from flask import has_request_context

from comp import create_app
from comp.config import test_config as settings
from comp.extensions import db
from comp.models import OrgUnit


@pytest.fixture()
def probe(database_url):
    """An app of its own with routes that read, write without committing, change an object, or fail."""
    app = create_app(settings(database_url))
    ends: list[str] = []

    @app.get("/_probe/read")
    def read():
        return str(db.session.scalar(sa.select(sa.func.count(OrgUnit.id))))

    @app.get("/_probe/write")
    def write():
        db.session.execute(sa.update(OrgUnit).values(name="WRITTEN"))
        return "written, not committed"

    @app.get("/_probe/change")
    def change():
        unit = db.session.scalar(sa.select(OrgUnit))
        unit.name = "CHANGED"
        return "changed, not flushed"

    @app.get("/_probe/write-then-fail")
    def write_then_fail():
        db.session.execute(sa.update(OrgUnit).values(name="FAILED"))
        raise RuntimeError("the view failed")

    @app.get("/_probe/commit-then-read")
    def commit_then_read():
        db.session.execute(sa.update(OrgUnit).values(code="QZ-C"))
        db.session.commit()
        return str(db.session.scalar(sa.select(OrgUnit.code)))

    def commit(session):
        if has_request_context():  # the listener is on every session; this app's requests alone count
            ends.append("commit")

    sa.event.listen(db.session, "after_commit", commit)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield app, ends
    sa.event.remove(db.session, "after_commit", commit)
    with app.app_context():
        db.engine.dispose()  # its own engine: its connections closed here, not by the garbage collector


@pytest.fixture()
def unit():
    unit = OrgUnit(name="泉州市总工会", code="QZ", kind="city")
    db.session.add(unit)
    db.session.commit()
    return unit


def _name(app) -> str:
    with app.app_context():
        name = db.session.scalar(sa.select(OrgUnit.name))
        db.session.remove()
        return name


def test_a_request_that_only_read_ends_with_commit(probe, unit):
    app, ends = probe
    assert app.test_client().get("/_probe/read").get_data(as_text=True) == "1"
    assert ends == ["commit"]


def test_what_a_request_wrote_without_committing_is_rolled_back(probe, unit):
    app, ends = probe
    assert app.test_client().get("/_probe/write").status_code == 200
    assert "commit" not in ends
    assert _name(app) == "泉州市总工会"


def test_an_object_changed_but_never_flushed_is_not_saved(probe, unit):
    app, ends = probe
    assert app.test_client().get("/_probe/change").status_code == 200
    assert "commit" not in ends
    assert _name(app) == "泉州市总工会"


def test_a_failed_request_is_rolled_back(probe, unit):
    app, ends = probe
    assert app.test_client().get("/_probe/write-then-fail").status_code == 500
    assert "commit" not in ends
    assert _name(app) == "泉州市总工会"


def test_reads_after_a_commit_end_with_commit_too(probe, unit):
    app, ends = probe
    assert app.test_client().get("/_probe/commit-then-read").get_data(as_text=True) == "QZ-C"
    assert ends == ["commit", "commit"]  # the view's own, then the read-only rest of the request


# ---------------------------------------------------------------- dead pooled connections (PostgreSQL)

postgres_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL connections"
)


def _backend_pid(app) -> int:
    """Return the server process of the connection the app's pool hands out (it keeps one: one request at a time)."""
    with app.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()
        return pid


@postgres_only
def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(probe, unit):
    app, _ends = probe
    client = app.test_client()
    assert client.get("/_probe/read").status_code == 200
    before = _backend_pid(app)
    # The server ends the pooled connection, as a restart or an idle timeout would.
    with psycopg.connect(os.environ["TEST_DATABASE_URL"].replace("+psycopg", ""), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (before,)).fetchone()[0] is True
        for _ in range(100):  # until the server has closed it
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (before,)).fetchone():
                break
            time.sleep(0.02)
    answer = client.get("/_probe/read")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "1"
    assert _backend_pid(app) != before


@postgres_only
def test_a_live_pooled_connection_is_handed_out_without_a_round_trip(probe, unit):
    app, _ends = probe
    client = app.test_client()
    assert client.get("/_probe/read").status_code == 200
    sent: list[str] = []
    with app.app_context():
        engine = db.engine
    listen = lambda conn, cursor, statement, *rest: sent.append(statement)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listen)
    pings: list[object] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(connection) or original(connection)  # type: ignore[method-assign]
    try:
        assert client.get("/_probe/read").status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
        del engine.dialect.do_ping
    assert pings == [] and len(sent) == 1 and "count" in sent[0].lower()
