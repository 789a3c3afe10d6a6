"""Certificate batches as jobs: claimed once, resumed from their finished parts, reaped when stalled, shown.

The tests run the queue in immediate mode (a job runs as it is queued); test_batch_worker.py runs a real
worker and kills it.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from comp.extensions import db
from comp.models import CertificateBatch
from comp.models.types import utcnow
from comp.services import certs as certificate_service
from comp.services import jobs
from comp.services.certs import batches as certificate_print
from tests.conftest import csrf_token


@pytest.fixture()
def batch_folder(app, tmp_path):
    app.config["CERTIFICATE_BATCH_FOLDER"] = str(tmp_path)
    yield tmp_path
    app.config.pop("CERTIFICATE_BATCH_FOLDER")


@pytest.fixture()
def segment(app):
    app.config["CERTIFICATE_BATCH_SEGMENT"] = 2
    yield 2
    app.config.pop("CERTIFICATE_BATCH_SEGMENT")


@pytest.fixture()
def organizer(make_user, auth):
    """Log an organizer in who reads English."""
    make_user("organizer1", "organizer", locale="en")
    auth.login("organizer1")


def _queued(competition, kind: str = "pdf", age: timedelta = timedelta(0)) -> CertificateBatch:
    """Add a batch row as start_batch() does, but queue nothing (as if its job were lost or waiting)."""
    at = utcnow() - age
    batch = CertificateBatch(
        competition_id=competition.id, kind=kind, status="running", total=6, done=0, created_at=at, updated_at=at
    )
    db.session.add(batch)
    db.session.commit()
    return batch


class Killed(BaseException):
    """What SIGKILL does to a worker, in-process: nothing after it runs, no except Exception catches it."""


def _pages(path) -> list[str]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return ["".join(page.extract_text().split()) for page in reader.pages]


def test_a_killed_batch_resumes_from_its_finished_parts(issued, batch_folder, segment, monkeypatch):
    competition, new = issued()
    batch = _queued(competition)
    drawn: list[str] = []
    page = certificate_service.page

    def dies_on_the_fourth(certificate, seal=None):
        if len(drawn) == 3:
            raise Killed
        drawn.append(certificate.number)
        return page(certificate, seal)

    monkeypatch.setattr(certificate_service, "page", dies_on_the_fourth)
    with pytest.raises(Killed):
        certificate_print.run(batch.id)
    db.session.rollback()
    db.session.refresh(batch)
    assert (batch.status, batch.done) == ("running", 2)  # two parts of two begun, the first finished
    assert certificate_print.stalled_ids() == []  # its heartbeat is fresh: nobody takes it over yet

    monkeypatch.setattr(certificate_service, "page", lambda c, seal=None: drawn.append(c.number) or page(c, seal))
    drawn.clear()
    batch.updated_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    assert jobs.reap() == [batch.id]  # queued again, and run at once in immediate mode
    db.session.refresh(batch)
    assert (batch.status, batch.done, batch.total) == ("done", 6, 6)
    assert drawn == [c.number for c in new[2:]]  # the finished part is not drawn again
    pages = _pages(batch_folder / batch.filename)
    assert [next(c.number for c in new if c.number in text) for text in pages] == [c.number for c in new]
    assert [p.name for p in batch_folder.iterdir()] == [batch.filename]  # the parts are gone


def test_a_zip_batch_resumes_with_each_certificate_once(issued, batch_folder, segment, monkeypatch):
    import zipfile

    competition, new = issued()
    batch = _queued(competition, "zip")
    calls = []
    page = certificate_service.page

    def dies_on_the_fifth(certificate, seal=None):
        calls.append(certificate.number)
        if len(calls) == 5:
            raise Killed
        return page(certificate, seal)

    monkeypatch.setattr(certificate_service, "page", dies_on_the_fifth)
    with pytest.raises(Killed):
        certificate_print.run(batch.id)
    db.session.rollback()
    monkeypatch.setattr(certificate_service, "page", page)
    batch.updated_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    jobs.reap()
    db.session.refresh(batch)
    with zipfile.ZipFile(batch_folder / batch.filename) as archive:
        assert archive.namelist() == [f"{c.number}.pdf" for c in new]


def test_a_job_for_a_finished_or_held_batch_does_nothing(issued, batch_folder, monkeypatch):
    competition, _new = issued()
    done = certificate_print.start_batch(competition, "pdf")
    assert done.status == "done"
    finished_at = done.finished_at
    held = _queued(competition, "zip")
    held.updated_at = utcnow()  # a live worker's heartbeat, newer than its creation
    db.session.commit()
    monkeypatch.setattr(certificate_print, "_build", lambda *a: pytest.fail("built twice"))
    certificate_print.run(done.id)
    certificate_print.run(held.id)
    db.session.expire_all()
    assert db.session.get(CertificateBatch, done.id).finished_at == finished_at
    assert db.session.get(CertificateBatch, held.id).done == 0


def test_a_worker_taken_over_stops_without_writing(issued, batch_folder):
    competition, _new = issued()
    batch = _queued(competition)
    token = certificate_print._claim(batch.id)
    assert token is not None and certificate_print._claim(batch.id) is None  # one claim only
    batch.updated_at = utcnow() + timedelta(seconds=1)  # another worker took it over (this one was thought dead)
    db.session.commit()
    with pytest.raises(certificate_print.Lost):
        certificate_print._beat(batch.id, token, done=3)
    db.session.refresh(batch)
    assert batch.done == 0


def test_the_reaper_takes_only_stalled_batches(issued, batch_folder, app):
    competition, _new = issued()
    fresh = _queued(competition, "zip")
    stalled = _queued(competition, "pdf", age=timedelta(minutes=11))
    assert certificate_print.stalled_ids() == [stalled.id]
    app.config["JOBS_STALLED_AFTER"] = 3600
    try:
        assert certificate_print.stalled_ids() == []  # the setting decides
    finally:
        app.config.pop("JOBS_STALLED_AFTER")
    jobs.reap()
    db.session.expire_all()
    assert db.session.get(CertificateBatch, stalled.id).status == "done"
    assert db.session.get(CertificateBatch, fresh.id).status == "running"


def test_a_failed_batch_says_why_and_can_be_tried_again(client, issued, organizer, batch_folder, monkeypatch):
    competition, _new = issued()

    def broken(certificate, seal=None):
        raise ValueError("the font file is missing")

    monkeypatch.setattr(certificate_service, "page", broken)
    url = f"/competitions/{competition.code}/certificates/batches"
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client, "/")}
    fragment = client.post(url, data={"kind": "pdf"}, headers=headers).get_data(as_text=True)
    batch = db.session.scalar(sa.select(CertificateBatch))
    assert (batch.status, batch.error) == ("failed", "the font file is missing")
    assert "the font file is missing" in fragment and "Try again" in fragment and "hx-trigger" not in fragment
    assert [p.name for p in batch_folder.iterdir()] == [f"{competition.code}-certificates-{batch.id}.pdf.parts"]
    monkeypatch.undo()
    fragment = client.post(url, data={"kind": "pdf"}, headers=headers).get_data(as_text=True)
    assert "/download" in fragment
    assert [p.name for p in batch_folder.iterdir()] == [f"{competition.code}-certificates-{batch.id + 1}.pdf"]
    assert [b.status for b in db.session.scalars(sa.select(CertificateBatch).order_by(CertificateBatch.id))] == [
        "failed",
        "done",
    ]


def test_a_stalled_batch_keeps_polling_and_can_be_continued(client, issued, organizer, batch_folder):
    competition, _new = issued()
    batch = _queued(competition, age=timedelta(minutes=11))
    fragment = client.get(
        f"/competitions/{competition.code}/certificates/batches/{batch.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'hx-trigger="load delay:5s"' in fragment and "Continue now" in fragment
    fragment = client.post(
        f"/competitions/{competition.code}/certificates/batches",
        data={"kind": "pdf"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token(client, "/")},
    ).get_data(as_text=True)
    db.session.refresh(batch)
    assert batch.status == "done" and f"/batches/{batch.id}/download" in fragment  # the same batch, resumed
    assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 1


def test_healthz_reports_the_queue(client, issued, batch_folder):
    competition, _new = issued()
    _queued(competition, age=timedelta(minutes=11))
    answer = client.get("/healthz?verbose").get_json()
    assert answer["checks"]["jobs"] == "ok"
    assert answer["details"]["jobs"] == {"backend": "sqlite", "queued": 0, "running": 1, "stalled": 1}


def test_the_jobs_commands(runner, issued, batch_folder):
    competition, _new = issued()
    stalled = _queued(competition, age=timedelta(minutes=11))
    result = runner.invoke(args=["jobs", "reap"])
    assert result.exit_code == 0 and f"queued again: {stalled.id}" in result.output
    result = runner.invoke(args=["jobs", "worker"])
    assert result.exit_code != 0 and "JOBS_IMMEDIATE" in result.output  # the tests' queue has nothing to consume


def test_the_queue_is_sqlite_in_the_instance_folder_or_redis(app, tmp_path):
    from flask import Flask

    bare = Flask("probe", instance_path=str(tmp_path))
    assert jobs.storage_url(bare) == f"sqlite:///{tmp_path / 'jobs.db'}"
    bare.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert jobs.storage_url(bare) == "redis://127.0.0.1:6379/0"
    bare.config["JOBS_URL"] = "redis://127.0.0.1:6379/3"
    assert jobs.storage_url(bare) == "redis://127.0.0.1:6379/3"
    assert type(jobs.make_huey(bare)).__name__ == "RedisHuey"
    bare.config["JOBS_URL"] = "postgresql://nowhere"
    with pytest.raises(RuntimeError, match="JOBS_URL"):
        jobs.make_huey(bare)
