"""The job queue: long work (certificate batches, big exports) runs in a worker process, not in a web request.

Huey carries the jobs: on one machine a SQLite file in the instance folder (`make run` needs
no other server), with several app servers Redis (REDIS_URL, or JOBS_URL). Huey takes a job
off its queue when a worker starts it, so a worker killed mid-job loses the job; the
database is therefore what is true: a job's row (a CertificateBatch) says whether it is
running, how far it got and when it last moved, a job skips what is already done, and a
reaper, run when a worker starts and every minute after, queues again every running job
that stopped moving. A job is queued only after its row is committed.

    flask --app wsgi jobs worker      # the worker (comp/jobs.py); `make run` starts one beside the web server
    flask --app wsgi jobs reap        # queue again what stalled (the worker does it every minute)

This module is the queue and its tasks, in the services layer so that services can queue work;
comp/jobs.py wires it into the app (the command group, /healthz, /metrics).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey

from comp.extensions import db

EXTENSION = "jiangxin.jobs"
STALLED_AFTER = 600  # seconds without progress after which a running job counts as stopped
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

# Told of every job entering (+1) or leaving (-1) a state: kind, state, delta. comp/jobs.py adds /metrics.
observers: list[Callable[[str, str, float], None]] = []


def moved(kind: str, state: str, delta: float = 1) -> None:
    """Tell the observers that a job of `kind` entered (+1) or left (-1) `state`."""
    for observer in observers:
        observer(kind, state, delta)


def storage_url(app: Flask) -> str:
    """Return where the queue lives: JOBS_URL, else REDIS_URL, else a SQLite file in the instance folder."""
    return (
        app.config.get("JOBS_URL")
        or app.config.get("REDIS_URL")
        or f"sqlite:///{Path(app.config.get('JOBS_FOLDER') or app.instance_path) / 'jobs.db'}"
    )


def make_huey(app: Flask) -> Huey:
    """Return the Huey of this app's settings; JOBS_IMMEDIATE (the tests) runs each job as it is queued."""
    url, immediate = storage_url(app), bool(app.config.get("JOBS_IMMEDIATE"))
    if url.startswith(REDIS_SCHEMES):
        # Timeouts: a Redis that stops answering fails a health check instead of hanging it (the
        # consumer's blocking read waits 1 s at a time, well inside them).
        pool = redis.ConnectionPool.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        return RedisHuey("jiangxin", connection_pool=pool, results=False, immediate=immediate)
    if not url.startswith("sqlite:///"):
        raise RuntimeError(f"JOBS_URL must be redis://… or sqlite:///FILE, not {url!r}")
    path = Path(url.removeprefix("sqlite:///"))
    if not immediate:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("jiangxin", filename=str(path), results=False, immediate=immediate)


def stalled_after() -> timedelta:
    """Return how long a running job may go without progress before it counts as stopped (JOBS_STALLED_AFTER)."""
    return timedelta(seconds=float(current_app.config.get("JOBS_STALLED_AFTER") or STALLED_AFTER))


class Jobs:
    """The app's queue and its tasks; every task runs in a fresh app context of the app."""

    def __init__(self, app: Flask):
        self.app = app
        self.huey = make_huey(app)
        self.tasks: dict[str, Any] = {}
        self._task("certificate_batch", _certificate_batch, retries=0)
        self._task("export", _export, retries=0)
        self.huey.periodic_task(crontab(minute="*"), name="reap")(self._in_app(reap))

    def _task(self, name: str, function: Callable[..., None], **options) -> None:
        self.tasks[name] = self.huey.task(name=name, **options)(self._in_app(function))

    def _in_app(self, function: Callable[..., Any]) -> Callable[..., Any]:
        app = self.app

        def run(*args):
            # A context of its own (and so a session of its own), also when immediate mode runs it in a request.
            with app.app_context():
                try:
                    return function(*args)
                finally:
                    db.session.remove()

        run.__name__ = run.__qualname__ = function.__name__
        return run

    def submit(self, name: str, *args) -> None:
        """Queue a job; call it only once the row the job reads is committed."""
        moved(name, "queued", 1)
        self.tasks[name](*args)


def _certificate_batch(batch_id: int) -> None:
    from comp.services.certs import batches

    batches.run(batch_id)


def _export(job_id: int) -> None:
    from comp.services import exports

    exports.run(job_id)


def of(app: Flask | None = None) -> Jobs:
    """Return the app's jobs (the current app's by default)."""
    return (app or current_app).extensions[EXTENSION]


def submit(name: str, *args) -> None:
    """Queue a job of the current app; a queue that cannot be reached leaves it to the reaper."""
    try:
        of().submit(name, *args)
    except Exception:  # Redis down, SQLite file locked: the row stays running, and the reaper queues it again
        current_app.logger.exception("could not queue job %s%r; the reaper will queue it again", name, args)


def reap() -> list[int]:
    """Queue again every running job that stopped moving (its worker died); return the rows' ids."""
    from comp.services import exports
    from comp.services.certs import batches

    queued = []
    for name, what, ids in (
        ("certificate_batch", "certificate batches", batches.stalled_ids()),
        ("export", "exports", exports.stalled_ids()),
    ):
        for row_id in ids:
            of().submit(name, row_id)
        if ids:
            current_app.logger.warning("queued stalled %s again: %s", what, ids)
        queued += ids
    exports.purge()  # export files are kept a day
    return queued


def state() -> dict[str, Any]:
    """Return what /healthz reports: where the queue is, how many jobs wait in it, how many run or stalled.

    It fails only when the queue's store cannot be read: stalled jobs (no worker running) are shown,
    not failed on, or a load balancer would take every web server out for want of a worker.
    """
    jobs = of()
    stored = counts()
    return {
        "backend": "redis" if storage_url(jobs.app).startswith(REDIS_SCHEMES) else "sqlite",
        "queued": jobs.huey.pending_count(),
        "running": sum(count for (_kind, status), count in stored.items() if status == "running"),
        "stalled": sum(count for (_kind, status), count in stored.items() if status == "stalled"),
    }


def counts() -> dict[tuple[str, str], float]:
    """Return {(kind, state): count} of the jobs the database holds, for /metrics (jiangxin_jobs_stored)."""
    from comp.services import exports
    from comp.services.certs import batches

    return {
        **{("certificate_batch", status): count for status, count in batches.counts_by_state().items()},
        **{("export", status): count for status, count in exports.counts_by_state().items()},
    }


def run_worker(app: Flask, workers: int = 2) -> None:
    """Run the consumer until it is stopped: first queue again whatever stalled, then take jobs."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    jobs = of(app)
    if jobs.huey.immediate:
        raise RuntimeError("JOBS_IMMEDIATE is set: jobs run as they are queued, there is nothing to consume")
    with app.app_context():
        try:
            reap()
        finally:
            db.session.remove()
    consumer = jobs.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    consumer.run()
