"""/metrics: closed unless a token or an address list allows; requests by rule, mark saves, shared builds, jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from comp import config as settings
from comp import create_app, metrics
from comp.extensions import db
from comp.services.common import computed
from tests.judging.conftest import criterion_of, entrant_of, running, tablet  # noqa: F401 - fixtures used below

TOKEN = "scrape-token-for-tests"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def make_app(database_url):
    """Return a factory of apps (on the test database) with the given /metrics settings."""

    made = []

    def make(**overrides):
        app = create_app(settings.test_config(database_url) | overrides)
        made.append(app)  # kept, so its pooled connections are closed below, not left to the garbage collector
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def value(name: str, **labels: str) -> float:
    """Return a sample's value in this process (0 when it was never counted)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, **kwargs) -> dict[str, list]:
    """GET /metrics, check it parses as Prometheus text, and return its samples by name."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def test_closed_without_settings(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_a_token_opens_it_and_nothing_else_does(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404  # no scheme
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 404
    samples = scrape(client)
    assert "jiangxin_http_requests_total" in samples
    assert "jiangxin_http_request_duration_seconds_bucket" in samples


def test_an_address_list_opens_it_to_those_addresses(make_app):
    client = make_app(METRICS_ALLOW="10.0.0.0/8, 192.168.1.7").test_client()
    assert client.get("/metrics").status_code == 404  # from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.8"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:10.0.0.1"}).status_code == 200  # dual stack
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "fd00::1"}).status_code == 404


def test_both_set_both_are_needed(make_app):
    client = make_app(METRICS_TOKEN=TOKEN, METRICS_ALLOW="10.0.0.0/8").test_client()
    inside = {"REMOTE_ADDR": "10.0.0.9"}
    assert client.get("/metrics", environ_base=inside).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    scrape(client, environ_base=inside)


def test_behind_the_proxy_the_forwarded_client_address_counts(make_app):
    client = make_app(METRICS_ALLOW="203.0.113.0/24", PROXY_FIX=True).test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 404
    # The proxy's own address being in the list lets no outside client through it.
    proxy = {"REMOTE_ADDR": "203.0.113.1"}
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"}, environ_base=proxy).status_code == 404


def test_requests_are_counted_by_rule_never_by_path(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    rule = {"route": "/judge/<code>", "method": "GET", "status": "302"}  # anonymous: sent to the login page
    before = value("jiangxin_http_requests_total", **rule)
    unmatched = value("jiangxin_http_requests_total", route="none", method="GET", status="404")
    for code in ("AAAA1111", "BBBB2222", "CCCC3333"):
        assert client.get(f"/judge/{code}").status_code == 302
    assert client.get("/no/such/page/123").status_code == 404
    samples = scrape(client)
    routes = {sample.labels["route"] for sample in samples["jiangxin_http_requests_total"]}
    assert "/judge/<code>" in routes
    assert not any("AAAA1111" in route or "123" in route for route in routes)
    assert value("jiangxin_http_requests_total", **rule) == before + 3
    assert value("jiangxin_http_requests_total", route="none", method="GET", status="404") == unmatched + 1
    assert value("jiangxin_http_request_duration_seconds_count", **rule) == before + 3
    assert value("jiangxin_http_request_duration_seconds_sum", **rule) > 0


def test_mark_saves_are_counted_by_outcome(tablet, running):  # noqa: F811 - the fixtures imported above
    t = tablet(running)
    e1, route = entrant_of(running, "E1"), criterion_of(running, "practical.route")
    before = {outcome: value("jiangxin_mark_saves_total", outcome=outcome) for outcome in ("saved", "stale", "refused")}
    assert t.mark(e1, route, "37", 1).status_code == 200
    assert value("jiangxin_mark_saves_total", outcome="saved") == before["saved"] + 1
    t.mark(e1, route, "<b>99</b>", 2)
    assert value("jiangxin_mark_saves_total", outcome="refused") == before["refused"] + 1
    t.mark(e1, route, "38", 1)
    assert value("jiangxin_mark_saves_total", outcome="stale") == before["stale"] + 1
    assert value("jiangxin_mark_saves_total", outcome="saved") == before["saved"] + 1


def test_shared_builds_count_rebuilds_and_answers_from_the_store(make_competition):
    competition = make_competition(status="running")

    def counted(outcome):
        return value("jiangxin_shared_builds_total", kind="board", outcome=outcome)

    rebuilt, served = counted("rebuilt"), counted("served")
    computed.shared("board", competition.id, "1.0.0", lambda: {"n": 1}, repr, eval)  # noqa: S307 - test payloads
    computed.shared("board", competition.id, "1.0.0", lambda: {"n": 2}, repr, eval)  # noqa: S307
    assert (counted("rebuilt"), counted("served")) == (rebuilt + 1, served + 1)


def test_jobs_by_state_from_the_queue_hooks(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    metrics.job_state("test-kind", "queued", 2)
    metrics.job_state("test-kind", "queued", -1)
    metrics.job_state("test-kind", "running", 1)
    previous = metrics.job_counts(lambda: {("certificates", "running"): 4, ("certificates", "failed"): 1})
    try:
        samples = scrape(client)
        metrics.job_counts(None)
        assert "jiangxin_jobs_stored" not in scrape(client)
    finally:
        metrics.job_counts(previous)
    jobs = {(s.labels["kind"], s.labels["state"]): s.value for s in samples["jiangxin_jobs"]}
    assert jobs[("test-kind", "queued")] == 1
    assert jobs[("test-kind", "running")] == 1
    stored = {(s.labels["kind"], s.labels["state"]): s.value for s in samples["jiangxin_jobs_stored"]}
    assert stored == {("certificates", "running"): 4, ("certificates", "failed"): 1}


def test_a_job_store_that_cannot_be_read_does_not_break_the_scrape(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    previous = metrics.job_counts(lambda: 1 / 0)
    try:
        samples = scrape(client)
    finally:
        metrics.job_counts(previous)
    assert "jiangxin_jobs_stored" not in samples


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JIANGXIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("JIANGXIN_ENV", "development")
    monkeypatch.setenv("METRICS_TOKEN", " abc ")
    monkeypatch.setenv("METRICS_ALLOW", "10.0.0.0/8 fd00::/8,127.0.0.1")
    config = settings.from_environment()
    assert config["METRICS_TOKEN"] == "abc"
    assert [str(n) for n in config["METRICS_ALLOW"]] == ["10.0.0.0/8", "fd00::/8", "127.0.0.1/32"]
    monkeypatch.setenv("METRICS_ALLOW", "10.0.0.0/8, not-an-address")
    with pytest.raises(RuntimeError, match="METRICS_ALLOW.*not-an-address"):
        settings.from_environment()
    monkeypatch.delenv("METRICS_ALLOW")
    monkeypatch.delenv("METRICS_TOKEN")
    config = settings.from_environment()
    assert config["METRICS_TOKEN"] is None and config["METRICS_ALLOW"] == ()
    assert settings.networks("") == ()


MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from comp import create_app, metrics
    from comp.config import test_config

    assert metrics.MULTIPROCESS
    app = create_app(test_config(sys.argv[1]) | {"METRICS_TOKEN": "t"})
    children = []
    for n in (2, 3):  # two workers forked from the preloaded app, as gunicorn does
        pid = os.fork()
        if pid == 0:
            client = app.test_client()
            for _ in range(n):
                client.get("/judge/ABCD1234")
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
        metrics.child_exit(None, type("Worker", (), {"pid": pid}))
    print(app.test_client().get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
    metrics.on_starting(None)  # the next gunicorn start begins from nothing
    assert not [name for name in os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]) if name.endswith(".db")]
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_several_worker_processes_are_added_up(tmp_path, database_url):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "JIANGXIN_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRIPT, database_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    counts = {
        sample.labels["route"]: sample.value
        for family in text_string_to_metric_families(done.stdout)
        for sample in family.samples
        if sample.name == "jiangxin_http_requests_total"
    }
    assert counts["/judge/<code>"] == 5  # 2 + 3, from two processes that are gone
    assert "/metrics" not in counts  # the scrape is counted once answered, not in its own figures
