"""Two app servers behind one address agree on everything (issue 16, part 2).

Two real gunicorn servers (one worker each) on two ports, sharing one PostgreSQL database, one Redis
(rate limits, boards, the job queue) and one instance folder (the batch files, as an NFS mount would
share them), plus one job worker process, all started from the production entry points
(`gunicorn wsgi:app`, `flask --app wsgi jobs worker`) with the production settings from the environment.
One browser's cookie goes to either server, as a load balancer would send it:

- a login through A works on B, and after a logout through B the same cookie is refused on both;
- failed logins split between A and B count against one limit (LOGIN_LIMIT, 5 a minute);
- a certificate batch started through A shows its progress and is downloaded through B.

Needs PostgreSQL (TEST_DATABASE_URL; the test makes and drops a scratch database on that server) and
Redis (TWO_SERVERS_REDIS_URL, default redis://127.0.0.1:6379/14: the test empties that Redis database
before and after it). Without either it is skipped with the reason; JIANGXIN_REQUIRE_REDIS=1 turns a
missing Redis into a failure.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
import uuid

import pytest
import redis
import sqlalchemy as sa

from tests.servers import Browser, Process, flask, free_port, gunicorn, wait_until_up

DEMO_PASSWORD = "jiangxin2026"
COMPETITION = "QZ-2026-UAV"
REDIS_URL = os.environ.get("TWO_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/14")


def _postgres_url() -> sa.URL:
    raw = os.environ.get("TEST_DATABASE_URL", "")
    url = sa.make_url(raw) if raw else None
    if url is None or url.get_backend_name() != "postgresql":
        pytest.skip("two app servers share a PostgreSQL database: set TEST_DATABASE_URL to a PostgreSQL server")
    return url


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"two app servers share a Redis: none answers at {REDIS_URL} ({error}); set TWO_SERVERS_REDIS_URL"
        if os.environ.get("JIANGXIN_REQUIRE_REDIS") == "1":
            pytest.fail(reason + " and JIANGXIN_REQUIRE_REDIS=1")
        pytest.skip(reason)
    return client


@pytest.fixture()
def cluster(tmp_path):
    """Start servers A and B and a job worker on a scratch database loaded with the demo; yield their addresses."""
    url = _postgres_url()
    shared_redis = _redis()
    name = f"two_servers_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    processes: list[Process] = []
    try:
        shared_redis.flushdb()
        instance = tmp_path / "instance"  # shared by every process, as an NFS mount would be
        instance.mkdir()
        ports = free_port(), free_port()
        env = {
            **os.environ,
            "JIANGXIN_ENV": "production",
            "JIANGXIN_INSTANCE": str(instance),
            "DATABASE_URL": url.set(database=name).render_as_string(hide_password=False),
            "REDIS_URL": REDIS_URL,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CERT_KEY": secrets.token_urlsafe(32),
            "DATA_KEY": secrets.token_urlsafe(32),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}",
            "SESSION_COOKIE_SECURE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        for variable in ("TEST_DATABASE_URL", "JOBS_URL", "PROMETHEUS_MULTIPROC_DIR", "FLASK_APP"):
            env.pop(variable, None)
        flask(env, "db", "upgrade")
        flask(env, "demo")
        processes.append(
            Process(
                "worker",
                [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
                env,
                tmp_path / "worker.log",
            )
        )
        for label, port in zip("AB", ports, strict=True):
            processes.append(gunicorn(f"server {label}", port, env, tmp_path / f"server-{label}.log"))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(bases, processes[1:], strict=True):
            wait_until_up(base, process)
        yield bases[0], bases[1], processes
    finally:
        for process in processes:
            process.stop()
        shared_redis.flushdb()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _logged_in(browser: Browser, base: str) -> bool:
    answer = browser.get("/account", base)
    assert answer.status in (200, 302), answer.text[:500]
    return answer.status == 200


def test_two_servers_share_sessions_limits_and_batches(cluster):
    a, b, processes = cluster

    # (a) A session opened on A is a session on B; a logout on B ends it on both, even for a replayed cookie.
    judge = Browser(a)
    assert judge.login("judge4", DEMO_PASSWORD, a).status == 302
    assert _logged_in(judge, a) and _logged_in(judge, b)
    cookie = dict(judge.cookies)
    assert judge.post("/logout", base=b).status == 302
    assert not _logged_in(judge, a) and not _logged_in(judge, b)
    judge.cookies = cookie  # the old cookie, kept by a copy of the browser or an attacker
    assert not _logged_in(judge, a) and not _logged_in(judge, b)

    # (b) Five failed logins, split between A and B, reach the one limit: the sixth is refused on either
    # server, the right password too, while a server keeping its own count would have let it through.
    guesser = Browser(a)
    for base in (a, b, a, b, a):
        answer = guesser.login("judge3", "not the password", base)
        assert answer.status == 401, answer.text[:500]
    for base in (b, a):
        assert guesser.login("judge3", DEMO_PASSWORD, base).status == 429
    assert Browser(b).login("judge2", DEMO_PASSWORD).status == 302  # another account is not held up

    # (c) A batch started through A: its progress and its file through B.
    organizer = Browser(a)
    assert organizer.login("organizer", DEMO_PASSWORD).status == 302
    htmx = {"HX-Request": "true"}
    started = organizer.post(f"/competitions/{COMPETITION}/certificates/batches", {"kind": "pdf"}, a, headers=htmx)
    assert started.status == 200, started.text[:1000]
    match = re.search(rf"/competitions/{COMPETITION}/certificates/batches/(\d+)", started.text)
    assert match, started.text[:1000]
    batch = match.group(1)
    deadline = time.monotonic() + 30
    while True:
        progress = organizer.get(f"/competitions/{COMPETITION}/certificates/batches/{batch}", b, headers=htmx)
        assert progress.status == 200, progress.text[:1000]
        if "/download" in progress.text:
            break
        assert "<progress" in progress.text, progress.text[:1000]  # running: B shows the worker's progress
        assert time.monotonic() < deadline, f"the batch did not finish:\n{processes[0].output()}"
        time.sleep(0.3)
    assert f"/certificates/batches/{batch}/download" in progress.text, progress.text[:1000]
    download = organizer.get(f"/competitions/{COMPETITION}/certificates/batches/{batch}/download", b)
    assert download.status == 200, download.text[:500]
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.body.startswith(b"%PDF-")
