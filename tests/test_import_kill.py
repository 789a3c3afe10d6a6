"""An app server killed with SIGKILL in the middle of an import leaves nothing half-imported (issue 16, part 3).

The import an organizer runs big is the registration sheet (up to 5,000 people, from every enterprise of a
city-wide preliminary), confirmed in one web request. The test uploads a sheet of IMPORT_KILL_ROWS people
(default 5,000, the most a sheet may hold) through a real gunicorn server on the test database (SQLite file or
TEST_DATABASE_URL), confirms it, and as soon as the confirmation is writing (PostgreSQL: its session in
pg_stat_activity has written and its batched inserts have begun; SQLite: it has held the write lock, taken
when the transaction begins, for 0.6 s) kills the server and its worker with SIGKILL. The database then holds
none of the rows (the kept upload still waits for its confirmation), and a new server imports all of them from
the same upload, once.
"""

from __future__ import annotations

import os
import threading
import time

import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Upload, Worker
from tests.conftest import valid_id
from tests.registration.conftest import TRADE, open_competition, organizer_of, sheet, tree  # noqa: F401  (fixtures)
from tests.servers import Browser, free_port, gunicorn, multipart, wait_until_up

ROWS = int(os.environ.get("IMPORT_KILL_ROWS", "5000"))  # the most a sheet may hold
EMPLOYER = "晋江翔鹭航空科技有限公司"  # the enterprise of the registration tests' tree
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows(count: int) -> list[list]:
    """Return `count` valid people, distinct ID numbers (valid_id repeats after 1,000 seeds: vary the birth year)."""
    return [
        [
            f"工人{n:04d}",
            valid_id(n, birth=f"19{70 + n // 1000}0101"),
            f"139{n:08d}",
            "晋江翔鹭航空科技有限公司",
            TRADE,
            3,
            "",
        ]
        for n in range(1, count + 1)
    ]


def _server(database_url: str, tmp_path, name: str):
    """Start gunicorn (one worker) on the test database with the test suite's keys; return (base, process)."""
    port = free_port()
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "JIANGXIN_ENV": "test",  # the suite's keys: DATA_KEY empty, derived from SECRET_KEY as in test_config
        "JIANGXIN_INSTANCE": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "CERT_KEY": "test-certificate-key-not-for-production",
        "DATA_KEY": "",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    for variable in ("REDIS_URL", "JOBS_URL", "PROMETHEUS_MULTIPROC_DIR", "FLASK_APP"):
        env.pop(variable, None)
    base = f"http://127.0.0.1:{port}"
    process = gunicorn(name, port, env, tmp_path / f"{name}.log")
    try:
        wait_until_up(base, process)
    except BaseException:
        process.stop()
        raise
    return base, process


def _writing(database_url: str):
    """Return a probe telling whether another connection is inside a write transaction on the database, how
    long to wait after it says so to be well inside the inserts, and what closes it."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        import sqlite3

        def sqlite_probe() -> bool:
            connection = sqlite3.connect(url.database, timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")  # fails while another connection holds the write lock
                connection.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError as error:
                assert "locked" in str(error) or "busy" in str(error), error
                return True
            finally:
                connection.close()

        return sqlite_probe, 0.6, lambda: None  # the lock is held from the first check to the commit

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def postgres_probe() -> bool:
        with engine.connect() as connection:
            return bool(
                connection.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND query ILIKE 'INSERT%'"
                    )
                )
            )

    return postgres_probe, 0.0, engine.dispose  # the inserts come in batches at the end: kill at the first


def _counts(competition_id: int) -> tuple[int, int, int]:
    db.session.rollback()  # read afresh what the servers committed
    entrants = db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.competition_id == competition_id))
    workers = db.session.scalar(sa.select(sa.func.count(Worker.id)))
    imported = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "registration.imported")
    )
    return entrants or 0, workers or 0, imported or 0


def test_a_server_killed_while_confirming_an_import_leaves_none_of_it(request, database_url, make_user, tmp_path):
    competition = request.getfixturevalue("open_competition")()  # the registration tests' fixtures, imported
    organizer_of(make_user, request.getfixturevalue("tree").city)
    code, competition_id = competition.code, competition.id
    workers_before = db.session.scalar(sa.select(sa.func.count(Worker.id)))
    db.session.commit()
    db.session.close()

    base, server = _server(database_url, tmp_path, "server")
    writing, settle, close_probe = _writing(database_url)
    try:
        browser = Browser(base)
        assert browser.login("organizer", "correct horse 42").status == 302
        body, content_type = multipart({"csrf_token": browser.csrf()}, "sheet", "reg.xlsx", sheet(_rows(ROWS)), XLSX)
        uploaded = browser.request(
            "POST", f"/competitions/{code}/registrations/upload", body=body, headers={"Content-Type": content_type}
        )
        assert uploaded.status == 302 and "/upload/" in uploaded.headers["Location"], uploaded.text[:1000]
        token = uploaded.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        confirm = f"/competitions/{code}/registrations/upload/{token}/confirm"
        form = {"csrf_token": browser.csrf(), "mode": "all", "approve": "y"}

        answers: list = []

        def post() -> None:
            try:
                answers.append(browser.request("POST", confirm, form=form, timeout=120))
            except OSError as error:  # the server died under the request
                answers.append(error)

        poster = threading.Thread(target=post, daemon=True)
        poster.start()
        deadline = time.monotonic() + 60
        while not writing():
            assert not answers, f"the import ended before it was seen writing: make IMPORT_KILL_ROWS larger ({answers})"
            assert time.monotonic() < deadline, f"the import never began writing:\n{server.output()}"
            time.sleep(0.01)
        time.sleep(settle)  # well inside the writing: thousands of rows take seconds
        assert not answers, "the import finished before the kill: make IMPORT_KILL_ROWS larger"
        server.kill()
        poster.join(30)
        assert answers and isinstance(answers[0], OSError), answers

        # Nothing of the import: no entrant, no new worker record, no audit entry; the upload still waits.
        assert _counts(competition_id) == (0, workers_before, 0)
        assert db.session.scalar(sa.select(sa.func.count(Upload.id)).where(Upload.token == token)) == 1
        db.session.close()

        # A new server confirms the same upload: all of it, once.
        base, server = _server(database_url, tmp_path, "server-again")
        browser.base = base
        again = browser.post(confirm, {"mode": "all", "approve": "y"}, timeout=120)
        assert again.status == 302, again.text[:1000]
        assert _counts(competition_id) == (ROWS, workers_before + ROWS, 1)
        refs = db.session.scalars(sa.select(Entrant.ref).where(Entrant.competition_id == competition_id)).all()
        assert len(set(refs)) == ROWS
    finally:
        server.stop()
        close_probe()
        db.session.close()
