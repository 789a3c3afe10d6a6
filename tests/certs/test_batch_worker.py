"""A certificate batch survives its job worker being killed (issue 16, part 3).

A real consumer (comp.jobs.run_worker, as `flask --app wsgi jobs worker` runs it) is started as a
subprocess on the test database and a queue of its own (a SQLite file, or Redis when
JOBS_TEST_REDIS_URL is set); it is killed with SIGKILL in the middle of a batch and started
again: the batch completes, holds each certificate exactly once, and the numbers run without a
gap or duplicate. BATCH_WORKER_CERTIFICATES sets the batch's size (default 300; the issue's
3,000 takes about a minute a kind on one core).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from comp.certificates import codes
from comp.extensions import db
from comp.models import Certificate, CertificateBatch
from comp.services import certs as certificates
from comp.services import exchange, jobs
from comp.services.certs import batches as certificate_print
from comp.services.setup import lifecycle
from tests.certs.conftest import competition_doc
from tests.conftest import valid_id

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATES = int(os.environ.get("BATCH_WORKER_CERTIFICATES", "300"))
ENTRANTS = -(-CERTIFICATES * 5 // 3)  # the test competition awards 3 in 5
STALLED_AFTER = 3  # seconds
SEGMENT = 100


@pytest.fixture()
def real_queue(app, tmp_path):
    """Swap the app's immediate queue for a real one a worker subprocess consumes; return the worker's settings."""
    redis_url = os.environ.get("JOBS_TEST_REDIS_URL")
    overrides = {
        "JOBS_IMMEDIATE": False,
        "JOBS_URL": redis_url or f"sqlite:///{tmp_path / 'jobs.db'}",
        "JOBS_STALLED_AFTER": STALLED_AFTER,
        "CERTIFICATE_BATCH_FOLDER": str(tmp_path / "batches"),
        "CERTIFICATE_BATCH_SEGMENT": SEGMENT,
    }
    saved = {name: app.config.get(name) for name in overrides}
    immediate = app.extensions[jobs.EXTENSION]
    app.config.update(overrides)
    app.extensions[jobs.EXTENSION] = real = jobs.Jobs(app)
    if redis_url:
        real.huey.flush()
    yield {**overrides, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    if redis_url:
        real.huey.flush()
    app.extensions[jobs.EXTENSION] = immediate
    app.config.update(saved)


class Worker:
    """The job worker as a subprocess."""

    def __init__(self, settings: dict, log: Path):
        self.settings, self.log, self.process = settings, log, None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.certs.batch_worker", json.dumps(self.settings)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _batch(batch_id: int) -> CertificateBatch:
    db.session.rollback()  # a fresh read of what the worker wrote
    batch = db.session.get(CertificateBatch, batch_id, populate_existing=True)
    assert batch is not None
    return batch


def _wait_for(batch_id: int, condition, worker: Worker, timeout: float) -> CertificateBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = _batch(batch_id)
        if condition(batch):
            return batch
        assert worker.process is not None
        assert worker.process.poll() is None, worker.log.read_text()[-3000:]
        time.sleep(0.05)
    stuck = f"batch {batch_id} stuck at {batch.status} {batch.done}/{batch.total}: "
    raise AssertionError(stuck + worker.log.read_text()[-3000:])


def _issued(entrants: int):
    """Return a published competition of this many entrants past its notice period, its certificates issued."""
    doc = competition_doc("C-2026-KILL", entrants)
    for n, entrant in enumerate(doc["entrants"], start=1):  # valid_id() repeats after 1,000 seeds
        entrant["id_number"] = valid_id(n, birth=f"19{70 + n // 1000}0101")
    for mark in doc["marks"]:
        if mark["criterion"] == "theory.exam":  # 100 - n would go below 0
            mark["value"] = str(100 - int(mark["entrant"][1:]) % 100)
    competition = exchange.import_competition(doc)
    lifecycle.publish(competition)
    competition.published_at -= timedelta(days=6)
    db.session.commit()
    return competition, certificates.issue(competition)


@pytest.mark.parametrize("kind", ["pdf", "zip"])
def test_a_batch_survives_its_worker_being_killed(kind, real_queue, tmp_path):
    competition, new = _issued(ENTRANTS)
    assert len(new) >= CERTIFICATES * 0.9
    worker = Worker(real_queue, tmp_path / "worker.log")
    try:
        worker.start()
        batch_id = certificate_print.start_batch(competition, kind).id  # committed, then queued
        started = time.monotonic()
        batch = _wait_for(batch_id, lambda b: b.done >= SEGMENT + 1, worker, 60)
        assert batch.status == "running" and batch.done < batch.total, "the batch finished before the kill"
        worker.kill()
        killed_at = _batch(batch_id).done
        parts = sorted(p.name for p in (tmp_path / "batches").glob("*.parts/*") if not p.name.endswith(".tmp"))
        assert parts, "the killed worker left no finished part"
        time.sleep(STALLED_AFTER + 0.5)  # the heartbeat goes stale: the restarted worker's reaper queues it again
        worker.start()
        batch = _wait_for(batch_id, lambda b: b.status != "running", worker, 120)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
    assert (batch.status, batch.done, batch.total) == ("done", len(new), len(new)), batch.error
    log = worker.log.read_text()
    assert "queued stalled certificate batches again" in log
    resumed = int(log.split(f"certificate batch {batch_id} resumes at ")[1].split()[0])
    assert resumed >= SEGMENT and resumed % SEGMENT == 0  # the finished parts are not drawn again

    path = tmp_path / "batches" / batch.filename
    if kind == "pdf":
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        printed = [_number_on(page.extract_text(), competition.code) for page in reader.pages]
    else:
        with zipfile.ZipFile(path) as archive:
            printed = [name.removesuffix(".pdf") for name in archive.namelist()]
    numbers = list(db.session.scalars(sa.select(Certificate.number).order_by(Certificate.id)))
    assert printed == numbers  # each certificate once, in issue order
    sequences = [codes.sequence_of(competition.code, n) for n in printed]
    assert sequences == list(range(1, len(new) + 1))  # no gap, no duplicate
    assert not list((tmp_path / "batches").glob("*.parts"))  # the work folder is cleared
    print(f"{kind}: {len(new)} certificates, killed at {killed_at}, done in {elapsed:.1f} s")


def _number_on(text: str, code: str) -> str:
    """Return the certificate number printed on a page."""
    flat = "".join(text.split())
    start = flat.index(f"{code}-")
    end = start + len(code) + 1
    while end < len(flat) and flat[end].isdigit():
        end += 1
    return flat[start:end]
