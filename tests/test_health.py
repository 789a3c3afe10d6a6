"""/healthz: the database always, Redis when configured, and whatever a component registers (the job queue)."""

from __future__ import annotations

import pytest

from comp import health

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture()
def redis_up():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture()
def registered():
    """Register checks for one test, then put back whatever those names held before (the job queue's)."""
    saved = {}

    def add(name, check):
        saved.setdefault(name, health._CHECKS.get(name))
        health.register(name, check)

    yield add
    for name, check in saved.items():
        if check is None:
            health.unregister(name)
        else:
            health.register(name, check)


def checks_of(response) -> dict:
    """Return the answer's checks other than those a test does not control (the job queue's)."""
    return {name: result for name, result in response.get_json()["checks"].items() if name != "jobs"}


def test_the_plain_answer_keeps_its_shape(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_verbose_lists_each_check_and_leaves_out_redis_when_not_configured(client):
    response = client.get("/healthz?verbose")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert checks_of(response) == {"database": "ok"}


def test_redis_is_checked_when_configured(client, app, redis_up, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_up)
    response = client.get("/healthz?verbose=1")
    assert response.status_code == 200
    assert checks_of(response) == {"database": "ok", "redis": "ok"}
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_redis_down_is_a_503_naming_it(client, app, registered, monkeypatch):
    registered("jobs", lambda: None)  # the queue would be on the same dead Redis: only Redis is tested here
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "failed": ["redis"],
        "checks": {"database": "ok", "redis": "failed"},
    }


def test_a_failing_registered_check_is_a_503_naming_it(client, registered):
    registered("probe", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["probe"]
    assert checks_of(response) == {"database": "ok", "probe": "failed"}


def test_a_check_that_raises_fails_without_showing_the_error(client, registered):
    def broken():
        raise RuntimeError("secret connection string")

    registered("probe", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["probe"]
    assert "secret" not in response.get_data(as_text=True)


def test_a_check_may_give_figures_and_one_not_configured_is_left_out(client, registered):
    registered("probe", lambda: {"backend": "sqlite", "queued": 3, "stalled": 0})
    registered("mail", lambda: None)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/healthz?verbose")
    assert checks_of(response) == {"database": "ok", "probe": "ok"}
    assert response.get_json()["details"]["probe"] == {"backend": "sqlite", "queued": 3, "stalled": 0}


def test_figures_saying_not_ok_fail(client, registered):
    registered("probe", lambda: {"ok": False, "stalled": 4})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["details"]["probe"] == {"ok": False, "stalled": 4}


def test_registering_a_name_again_replaces_it(client, registered):
    registered("probe", lambda: False)
    registered("probe", lambda: True)
    assert client.get("/healthz").status_code == 200


def test_the_job_queue_reports_under_jobs(client, registered):
    registered("jobs", lambda: {"backend": "sqlite", "queued": 0})
    response = client.get("/healthz?verbose")
    assert response.get_json()["checks"]["jobs"] == "ok"
    assert response.get_json()["details"]["jobs"] == {"backend": "sqlite", "queued": 0}
