"""Prometheus metrics, served at /metrics to a scraper that shows the token or comes from an allowed address.

What is counted:

- `jiangxin_http_requests_total{route,method,status}` and `jiangxin_http_request_duration_seconds`
  (a histogram with the same labels): every request, labelled by its URL rule (`/judge/<code>/sheet/<secret>`),
  never the path, so ids cannot multiply the series; a path that matches no rule is `route="none"`.
- `jiangxin_mark_saves_total{outcome}`: judges' saves, `saved` (the value stands, written or already
  there), `stale` (a newer mark was saved since) or `refused` (closed, not allowed, not a valid value).
- `jiangxin_shared_builds_total{kind,outcome}`: the shared computations of
  comp.services.common.computed (`board`, `results`): `served` from the store, `rebuilt` and stored,
  or `built` without storing while another process held the rebuild.
- `jiangxin_jobs{kind,state}`: jobs by state, moved by the job queue with `job_state(kind, state, delta)`:
  +1 on the state a job enters, -1 on the one it leaves, e.g. `job_state("certificates", "queued", 1)` on
  enqueue, then `job_state(k, "queued", -1); job_state(k, "running", 1)` when a worker takes it. The
  values of every process are summed, dead ones included, so only the sum over all hosts is the truth:
  `sum by (kind, state) (jiangxin_jobs)`.
- `jiangxin_jobs_stored{kind,state}`: when the queue registers `job_counts(source)`, the counts its store
  holds, read at each scrape (exact whatever process died; every host reports the same figures, so take
  `max by (kind, state)`).

Several processes: gunicorn's workers each count their own requests. With PROMETHEUS_MULTIPROC_DIR set
(in the environment gunicorn starts with: an empty directory of its own, since every *.db file in it is
read as prometheus_client's, wiped before each start) prometheus_client
keeps each process's values in a file there and /metrics adds up every file, so whichever worker answers
the scrape reports the whole host; `child_exit` below, named in gunicorn's config, drops the files of a
worker that exited, and `on_starting` empties the directory of the last run's files:

    # gunicorn.conf.py
    from comp.metrics import child_exit, on_starting  # noqa: F401 - gunicorn calls them by name

Without it (`make run`, the tests) one process counts in memory. Each host is scraped on its own, as
Prometheus expects. A process outside gunicorn (the job worker) counts in its own memory, which nobody
scrapes, unless it shares the directory (and then not wiped by gunicorn while it runs): jobs by state
are best read from the job store, `job_counts`.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from comp import config as settings

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
JobCounts = Callable[[], Mapping[tuple[str, str], float]]

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS and not os.path.isdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]):
    raise RuntimeError(
        f"PROMETHEUS_MULTIPROC_DIR names {os.environ['PROMETHEUS_MULTIPROC_DIR']!r}, which is not a directory: "
        "create it (empty) before starting gunicorn, or unset it to count in one process"
    )
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "none"
VALUE_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")

# One registry of our own: only what this module defines is served in one process.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "jiangxin_http_requests", "Requests answered, by URL rule, method and status.", ["route", "method", "status"],
    registry=REGISTRY,
)  # fmt: skip
LATENCY = Histogram(
    "jiangxin_http_request_duration_seconds",
    "Time from the first before_request hook to the last after_request hook, by URL rule, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
MARK_SAVES = Counter("jiangxin_mark_saves", "Judges' mark saves by outcome.", ["outcome"], registry=REGISTRY)
MARK_SAVED = MARK_SAVES.labels("saved")
MARK_STALE = MARK_SAVES.labels("stale")
MARK_REFUSED = MARK_SAVES.labels("refused")
SHARED_BUILDS = Counter(
    "jiangxin_shared_builds",
    "Shared computations (live boards, results) served from the store, rebuilt, or built unstored.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOBS = Gauge(
    "jiangxin_jobs",
    "Jobs by kind and state as moved by this host's processes (sum over hosts).",
    ["kind", "state"],
    multiprocess_mode="sum",
    registry=REGISTRY,
)

# Label children looked up once: labels() takes a lock and checks its arguments on every call.
_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_builds: dict[tuple[str, str], Any] = {}
# When this thread's request started: a context variable costs less than `g`, a proxy.
_started: ContextVar[float | None] = ContextVar("jiangxin_metrics_started", default=None)
_job_source: JobCounts | None = None


def mark_saves(
    stale: type[BaseException], refused: tuple[type[BaseException], ...]
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate the save of a mark: count each call saved, stale (raised `stale`) or refused (raised one of
    `refused`); anything else raised (the database down) is not a judge's save and is not counted."""

    def decorate(save: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(save)
        def counted(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                saved = save(*args, **kwargs)
            except stale:
                MARK_STALE.inc()
                raise
            except refused:
                MARK_REFUSED.inc()
                raise
            MARK_SAVED.inc()
            return saved

        return counted

    return decorate


def shared_build(kind: str, outcome: str) -> None:
    """Count one answer of computed.shared(): outcome is served, rebuilt or built."""
    child = _builds.get((kind, outcome))
    if child is None:
        child = _builds.setdefault((kind, outcome), SHARED_BUILDS.labels(kind, outcome))
    child.inc()


def job_state(kind: str, state: str, delta: float = 1) -> None:
    """Move the gauge of jobs of `kind` in `state` by `delta` (+1 entering the state, -1 leaving it)."""
    JOBS.labels(kind, state).inc(delta)


def job_counts(source: JobCounts | None) -> JobCounts | None:
    """Register the function that returns {(kind, state): count} from the job store, read at each scrape;
    return the one it replaces."""
    global _job_source
    previous, _job_source = _job_source, source
    return previous


class _StoredJobs(Collector):
    """`jiangxin_jobs_stored`, read from the job queue's store by the process answering the scrape."""

    def collect(self):
        source = _job_source
        if source is None:
            return
        family = GaugeMetricFamily("jiangxin_jobs_stored", "Jobs the queue's store holds, by kind and state.",
                                   labels=["kind", "state"])  # fmt: skip
        try:
            counts = source()
        except Exception:
            log.exception("the job queue's counts could not be read")
            return
        for (kind, state), count in sorted(counts.items()):
            family.add_metric([kind, state], count)
        yield family


STORED_JOBS = _StoredJobs()
REGISTRY.register(STORED_JOBS)


def on_starting(server: Any) -> None:
    """gunicorn's on_starting hook: empty PROMETHEUS_MULTIPROC_DIR of the last run's files before any worker starts."""
    if MULTIPROCESS:
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        for name in os.listdir(folder):
            if VALUE_FILE.fullmatch(name):  # prometheus_client's files only, should the folder hold others
                os.remove(os.path.join(folder, name))


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook: forget the live values of a worker that exited (`from comp.metrics import
    child_exit` in the gunicorn config)."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _start() -> None:
    _started.set(time.perf_counter())


def _finish(response: Response) -> Response:
    """Count the request by its rule (never its path), method and status, and time it."""
    start = _started.get()
    _started.set(None)
    req = request._get_current_object()  # type: ignore[attr-defined]  # the proxy once, not thrice
    rule, method = req.url_rule, req.method
    route = rule.rule if rule is not None else UNMATCHED
    key = (route, method if method in METHODS else "OTHER", str(response.status_code))
    children = _children.get(key)
    if children is None:
        children = _children.setdefault(key, (REQUESTS.labels(*key), LATENCY.labels(*key)))
    children[0].inc()
    if start is not None:
        children[1].observe(time.perf_counter() - start)
    return response


def _allowed(token: str | None, allow: tuple[settings.IPNetwork, ...]) -> bool:
    """Tell whether the scraper passes every configured condition: the bearer token, the address list."""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return False
    if allow:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:  # a dual-stack socket's IPv4 client
            address = address.ipv4_mapped
        if not any(address in network for network in allow):
            return False
    return True


def _registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(STORED_JOBS)
    return registry


def init_app(app: Flask) -> None:
    """Time and count every request; serve /metrics when METRICS_TOKEN or METRICS_ALLOW is set.

    Call it before anything else adds request hooks: its before_request then runs first and its
    after_request last, so the time covers every other hook and the status is the final one.
    """
    app.before_request(_start)
    app.after_request(_finish)
    token = app.config.get("METRICS_TOKEN") or None
    allow = settings.networks(app.config.get("METRICS_ALLOW"))
    if not token and not allow:
        return  # closed: no such page

    def metrics() -> Response:
        """Serve every metric in Prometheus' text format to an allowed scraper; 404 to anyone else."""
        if not _allowed(token, allow):
            abort(404)
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
