"""A big talent-pool export is a job: queued with its filters, written by the worker, watched, downloaded.

The queue runs in immediate mode here (a job runs as it is queued); EXPORT_INLINE_ROWS is lowered so
that the eight workers of the pool fixture count as a big export.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, ExportJob
from comp.models.types import utcnow
from comp.services import exports, jobs
from comp.services.common import heartbeat
from comp.services.people import talent
from tests.conftest import csrf_token
from tests.people.test_talent import found


@pytest.fixture(autouse=True)
def _small_inline_limit(app):
    app.config["EXPORT_INLINE_ROWS"] = 2
    yield
    app.config.pop("EXPORT_INLINE_ROWS")


def _start(client, **filters):
    token = csrf_token(client, "/people")
    return client.post("/people/exports", data={"csrf_token": token, **filters})


def _rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))


def _download(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, path
    data = response.get_data()
    response.close()
    return data


def _everyone(pool) -> int:
    return len(found(pool.city_user, {}))


def _audits() -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "talent.export").order_by(AuditEvent.id))
    )


def test_the_pool_offers_a_background_export_above_the_limit_and_a_link_below(client, auth, pool, app):
    auth.login("city")
    page = client.get("/people").get_data(as_text=True)
    assert "Prepare the export (.xlsx)" in page and "/people/export.xlsx" not in page
    app.config["EXPORT_INLINE_ROWS"] = 100
    page = client.get("/people").get_data(as_text=True)
    assert "Prepare the export" not in page and "/people/export.xlsx" in page


def test_a_direct_link_above_the_limit_is_sent_to_the_pool_and_nothing_is_exported(client, auth, pool):
    auth.login("city")
    response = client.get("/people/export.xlsx", query_string={"trade": "无人机驾驶员"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/people?")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 craftsmen are too many to download at once" in page
    assert _audits() == []


def test_a_background_export_writes_the_filtered_rows_once_and_audits_once(client, auth, pool):
    auth.login("city")
    response = _start(client, trade="无人机驾驶员", sort="grade")
    assert response.status_code == 302
    job_page = response.headers["Location"]
    assert re.fullmatch(r"/people/exports/\d+", job_page)
    page = client.get(job_page).get_data(as_text=True)
    assert "Ready: 3 craftsmen" in page
    job = db.session.scalar(sa.select(ExportJob))
    assert (job.status, job.done, job.total) == ("done", 3, 3)
    download = client.get(f"{job_page}/file")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert "talent-pool.xlsx" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    rows = _rows(download.get_data())
    download.close()
    assert rows[0] == talent.HEADERS
    assert [r[0] for r in rows[1:]] == found(pool.city_user, {"trade": "无人机驾驶员", "sort": "grade"})
    assert [r[1] for r in rows[1:]] == [pool.workers[n].id_masked for n in ("张伟", "杨磊", "王芳")]
    (event,) = _audits()
    assert event.actor_id == pool.city_user.id
    assert event.detail == {"filters": {"trade": "无人机驾驶员", "sort": "grade"}, "rows": 3, "background": True}


def test_the_file_is_written_in_the_language_of_the_user_who_asked(client, auth, pool):
    auth.login("city")  # English
    _start(client, honour="技术能手")
    job = db.session.scalar(sa.select(ExportJob))
    assert job.params["locale"] == "en"
    cells = " ".join(str(v) for r in _rows(_download(client, f"/people/exports/{job.id}/file")) for v in r)
    assert "技术能手 2025 (推荐 recommended)" in cells


def test_only_the_user_who_asked_sees_or_downloads_the_export(client, auth, pool, make_user):
    make_user("other", "organizer", org_unit_id=pool.units.city.id)
    auth.login("city")
    job_page = _start(client).headers["Location"]
    auth.logout()
    auth.login("other")
    assert client.get(job_page).status_code == 404
    assert client.get(f"{job_page}/file").status_code == 404
    token = csrf_token(client, "/people")
    assert client.post(f"{job_page}/again", data={"csrf_token": token}).status_code == 404


def test_starting_without_the_csrf_token_is_refused_and_queues_nothing(client, auth, pool):
    auth.login("city")
    assert client.post("/people/exports", data={}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 0


def test_a_failed_export_says_why_and_can_be_tried_again(client, auth, pool, monkeypatch):
    auth.login("city")
    writer, name = exports.KINDS["talent_pool"]

    def broken(params, user, progress):
        raise OSError("disk full")

    monkeypatch.setitem(exports.KINDS, "talent_pool", (broken, name))
    job_page = _start(client).headers["Location"]
    page = client.get(job_page).get_data(as_text=True)
    assert "The file could not be prepared: disk full" in page and "Try again" in page
    assert client.get(f"{job_page}/file").status_code == 404
    assert list(exports.folder().glob("*.tmp")) == []  # the failed run left no half-file
    monkeypatch.setitem(exports.KINDS, "talent_pool", (writer, name))
    token = csrf_token(client, job_page)
    assert client.post(f"{job_page}/again", data={"csrf_token": token}).status_code == 302
    everyone = _everyone(pool)
    assert f"Ready: {everyone} craftsmen" in client.get(job_page).get_data(as_text=True)
    assert len(_rows(_download(client, f"{job_page}/file"))) == everyone + 1
    assert len(_audits()) == 1  # asked for once


def _stalled_job(user, age: timedelta) -> ExportJob:
    """A job whose worker died: running, claimed `age` ago, never finished."""
    created = utcnow() - age - timedelta(seconds=1)
    job = ExportJob(
        kind="talent_pool",
        user_id=user.id,
        params={"filters": {"trade": "制鞋工"}, "locale": "zh"},
        total=2,
        created_at=created,
        updated_at=created + timedelta(seconds=1),
    )
    db.session.add(job)
    db.session.commit()
    return job


def test_the_reaper_writes_a_stalled_export_again_and_leaves_a_live_one(client, auth, pool):
    stalled = _stalled_job(pool.city_user, timedelta(minutes=11))
    live = _stalled_job(pool.city_user, timedelta(minutes=1))
    auth.login("city")
    page = client.get(f"/people/exports/{stalled.id}").get_data(as_text=True)
    assert "The job worker has stopped or is busy" in page and "Continue now" in page
    assert exports.stalled_ids() == [stalled.id]
    assert jobs.reap() == [stalled.id]
    db.session.expire_all()
    assert db.session.get(ExportJob, stalled.id).status == "done"
    assert db.session.get(ExportJob, live.id).status == "running"  # its worker is alive: nobody takes it
    rows = _rows(_download(client, f"/people/exports/{stalled.id}/file"))
    assert sorted(r[0] for r in rows[1:]) == sorted(["李娜", "刘洋"])
    assert jobs.counts()[("export", "done")] == 1 and jobs.counts()[("export", "running")] == 1


def test_a_worker_taken_over_stops_without_writing(pool):
    job = _stalled_job(pool.city_user, timedelta(minutes=11))
    token = heartbeat.claim(ExportJob, job.id)
    assert token is not None and heartbeat.claim(ExportJob, job.id) is None  # one claim only
    db.session.execute(sa.update(ExportJob).where(ExportJob.id == job.id).values(updated_at=utcnow()))
    db.session.commit()
    with pytest.raises(heartbeat.Lost):
        heartbeat.beat(ExportJob, job.id, token, done=1)


def test_progress_is_written_as_the_rows_go_out(client, auth, pool, monkeypatch):
    monkeypatch.setattr(talent, "EXPORT_CHUNK", 3)
    seen: list[int] = []
    beat = heartbeat.beat

    def watched(model, row_id, token, **values):
        if "done" in values and "status" not in values:
            seen.append(values["done"])
        return beat(model, row_id, token, **values)

    monkeypatch.setattr(heartbeat, "beat", watched)
    everyone = _everyone(pool)
    auth.login("city")
    _start(client)
    assert seen == [0, *range(3, everyone, 3), everyone]


def test_an_old_finished_export_and_its_file_are_forgotten_when_another_is_asked_for(client, auth, pool):
    auth.login("city")
    first = db.session.get(ExportJob, int(_start(client).headers["Location"].rsplit("/", 1)[1]))
    path = exports.file_of(first)
    assert path is not None and path.is_file()
    first.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    _start(client)
    assert not path.exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 1


def test_a_file_is_not_sent_after_its_day_and_the_reaper_deletes_it(client, auth, pool):
    auth.login("city")
    job_page = _start(client).headers["Location"]
    job = db.session.scalar(sa.select(ExportJob))
    path = exports.file_of(job)
    assert path is not None
    job.created_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    assert client.get(f"{job_page}/file").status_code == 404  # the page promised a day
    jobs.reap()
    assert not path.exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 0


def test_asking_again_while_it_is_written_returns_the_same_job(client, auth, pool):
    now = utcnow()
    writing = ExportJob(
        kind="talent_pool",
        user_id=pool.city_user.id,
        params={"filters": {"trade": "制鞋工"}, "locale": "en"},
        total=2,
        created_at=now - timedelta(seconds=5),
        updated_at=now,  # claimed, and its worker beat just now
    )
    db.session.add(writing)
    db.session.commit()
    auth.login("city")
    assert _start(client, trade="制鞋工").headers["Location"] == f"/people/exports/{writing.id}"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 1
    other = _start(client, trade="缝纫工").headers["Location"]  # other filters: a job of its own
    assert other != f"/people/exports/{writing.id}"
    assert len(_audits()) == 1  # the repeated request wrote no second audit
