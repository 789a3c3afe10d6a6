"""Big exports as jobs: the job worker writes the file, the user watches its progress and downloads it.

An export small enough to write inside a request (EXPORT_INLINE_ROWS rows, 5,000 by default)
still streams at once. A bigger one — the whole city's talent pool holds hundreds of thousands
of workers — would hold a web worker for as long as it takes to write, and gunicorn kills a
sync worker that is silent for its timeout; so it is an ExportJob, queued like a certificate
batch (comp.services.jobs) and recorded the same way: the row says running, done or failed, how
many rows are written, and when it last moved, so the reaper queues a job whose worker died,
and a second run writes the file again from the start (an export changes nothing, and the file
gets its name only when whole). The export is audited once, when it is asked for.

The file lies in the instance folder (EXPORT_FOLDER) for a day, then the reaper deletes it with
its row; only the user who asked may download it. Asking again for an export that is being
written returns that job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from comp.extensions import db
from comp.models import ExportJob, User
from comp.models.types import utcnow
from comp.services import ServiceError, in_transaction, jobs, transaction
from comp.services.common import audit, heartbeat

JOB = "export"  # the job's name in the queue and in /metrics
INLINE_ROWS = 5000  # the default of EXPORT_INLINE_ROWS: bigger exports are jobs
KEPT_FOR = timedelta(days=1)

Progress = Callable[[int], None]
Writer = Callable[[dict, User, Progress], tuple[int, Iterator[bytes]]]


def _talent_pool(params: dict, user: User, progress: Progress) -> tuple[int, Iterator[bytes]]:
    """Write the talent pool the filters select, in the user's scope as it is when the job runs."""
    from comp.services.people import talent

    asked = talent.prepare(MultiDict(params.get("filters") or {}), user, choices=False)
    return talent.export(asked.filters, user, asked.tree, progress=progress, audited=False)


KINDS: dict[str, tuple[Writer, str]] = {"talent_pool": (_talent_pool, "talent-pool.xlsx")}


def inline_limit() -> int:
    """Return how many rows an export may have and still be written inside the request (EXPORT_INLINE_ROWS)."""
    return int(current_app.config.get("EXPORT_INLINE_ROWS") or INLINE_ROWS)


def folder() -> Path:
    """Return the folder export files are written to, created on demand."""
    path = Path(current_app.config.get("EXPORT_FOLDER") or Path(current_app.instance_path) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def download_name(job: ExportJob) -> str:
    """Return the name the file is downloaded under."""
    return KINDS[job.kind][1]


def start(kind: str, user: User, params: dict[str, Any], total: int, action: str, **detail: Any) -> ExportJob:
    """Record and audit an export of `total` rows, queue it, and return its row.

    `action` is the audit action of the export (the same as the inline export's); the user's
    language is kept so that the file reads as the page did.
    """
    if kind not in KINDS:
        raise ServiceError(_("Unknown export."))
    running = _running(user, kind, params)
    if running is not None:
        return running  # asked again while it is being written: the same job, not a second one
    now = utcnow()
    with transaction():
        _purge(user)
        job = ExportJob(
            kind=kind,
            user_id=user.id,
            params={**params, "locale": str(get_locale() or "zh")},
            status="running",
            total=total,
            done=0,
            created_at=now,
            updated_at=now,  # equal to created_at until a worker claims the job
        )
        db.session.add(job)
        db.session.flush()
        audit.record(action, user, None, job, rows=total, background=True, **detail)
    assert not in_transaction(), "exports.start() commits its row before it queues the job"
    jobs.submit(JOB, job.id)
    db.session.refresh(job)  # immediate mode (the tests) has written it already
    return job


def _running(user: User, kind: str, params: dict[str, Any]) -> ExportJob | None:
    """Return the user's export of the same kind and filters that a live worker is writing, if any."""
    for job in db.session.scalars(
        sa.select(ExportJob).where(ExportJob.user_id == user.id, ExportJob.kind == kind, ExportJob.status == "running")
    ):
        if {k: v for k, v in job.params.items() if k != "locale"} == params and not stalled(job):
            return job
    return None


def _purge(user: User | None = None) -> int:
    """Forget finished exports older than a day (the user's, or everyone's) and their files; return how many."""
    query = sa.select(ExportJob).where(ExportJob.status != "running", ExportJob.created_at < utcnow() - KEPT_FOR)
    if user is not None:
        query = query.where(ExportJob.user_id == user.id)
    old = db.session.scalars(query).all()
    for job in old:
        if job.filename:
            (folder() / job.filename).unlink(missing_ok=True)
        db.session.delete(job)
    return len(old)


def purge() -> int:
    """Forget every export finished more than a day ago, with its file (the reaper calls it every minute)."""
    with transaction():
        return _purge()


def get(user: User, job_id: int) -> ExportJob | None:
    """Return the user's own export job (another user's is not found); read fresh, as the worker moves it."""
    return db.session.scalar(
        sa.select(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.user_id == user.id)
        .execution_options(populate_existing=True)
    )


def latest(user: User, kind: str) -> ExportJob | None:
    """Return the user's newest export of this kind, if any."""
    return db.session.scalar(
        sa.select(ExportJob)
        .where(ExportJob.user_id == user.id, ExportJob.kind == kind)
        .order_by(ExportJob.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


def stalled(job: ExportJob) -> bool:
    """Tell whether a running export stopped moving: its worker died, or no worker runs."""
    return job.status == "running" and utcnow() - job.updated_at > jobs.stalled_after()


def file_of(job: ExportJob) -> Path | None:
    """Return a finished export's file, None when it is not there or its day is over."""
    if job.status != "done" or not job.filename or utcnow() - job.created_at > KEPT_FOR:
        return None
    path = folder() / job.filename
    return path if path.is_file() else None


def again(job: ExportJob) -> ExportJob:
    """Queue a failed export again, or a stalled one (to be written from the start); others are left alone."""
    if job.status == "failed":
        now = utcnow()
        with transaction():
            job.status, job.done, job.error, job.finished_at = "running", 0, None, None
            job.created_at = job.updated_at = now
    elif not stalled(job):
        return job
    jobs.submit(JOB, job.id)
    db.session.refresh(job)
    return job


def stalled_ids() -> list[int]:
    """Return the running exports that stopped moving: the reaper queues them again."""
    return heartbeat.stalled_ids(ExportJob)


def counts_by_state() -> dict[str, int]:
    """Return how many exports are in each state, for /metrics."""
    return heartbeat.counts_by_state(ExportJob)


def run(job_id: int) -> None:
    """The job: claim the export, write its file, record a failure on the row rather than lose it."""
    jobs.moved(JOB, "queued", -1)
    token = heartbeat.claim(ExportJob, job_id)
    if token is None:
        return  # done, failed, or held by a live worker: nothing to do
    jobs.moved(JOB, "running", 1)
    outcome = "done"
    try:
        _write(job_id, token)
    except heartbeat.Lost:
        outcome = "lost"
        db.session.rollback()
        current_app.logger.warning("export %s was taken over by another worker", job_id)
    except Exception as error:  # the job has no caller to raise to: record and log
        outcome = "failed"
        current_app.logger.exception("export %s failed", job_id)
        heartbeat.fail(ExportJob, job_id, error)
    finally:
        jobs.moved(JOB, "running", -1)
    jobs.moved(JOB, outcome, 1)


def _write(job_id: int, token: datetime) -> None:
    """Write the file under a temporary name, beating the heartbeat with each chunk of rows, then name it."""
    job = db.session.get(ExportJob, job_id)
    assert job is not None  # claimed just now
    user = db.session.get(User, job.user_id)
    assert user is not None  # the row's foreign key
    writer, _name = KINDS[job.kind]
    path = folder() / f"{job.kind}-{job.id}.xlsx"
    # A name of this claim's own: a worker thought dead and taken over never renames another's half-file.
    partial = path.with_name(f"{path.name}.{os.getpid()}-{token.timestamp():.6f}.tmp")

    def progress(done: int) -> None:
        nonlocal token
        token = heartbeat.beat(ExportJob, job_id, token, done=min(done, total))

    try:
        with force_locale(job.params.get("locale") or "zh"):
            total, chunks = writer(job.params, user, progress)
            token = heartbeat.beat(ExportJob, job_id, token, total=total, done=0)
            with partial.open("wb") as file:
                for chunk in chunks:
                    file.write(chunk)
    except BaseException:
        partial.unlink(missing_ok=True)  # a failed or taken-over run leaves no half-file
        raise
    os.replace(partial, path)  # the file is whole once it has its name
    heartbeat.beat(ExportJob, job_id, token, filename=path.name, status="done", done=total, finished_at=utcnow())
