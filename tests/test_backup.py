"""Backups restore: the demo backed up while a judge keeps saving, restored into a new database, every table compared.

On SQLite the copy is the online backup API's; on PostgreSQL (TEST_DATABASE_URL) it is pg_dump of an
exported snapshot, restored with pg_restore into a database the test creates and drops.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from comp import config, create_app, demo
from comp.extensions import db
from comp.models import Criterion, Entrant, JudgeAssignment, JudgeCriterion, Mark, MarkChange, User
from comp.services import ServiceError
from comp.services import backup as backups
from comp.services.judging import marks

BATCH = b"%PDF-1.4 a certificate batch standing in for the real one\n"


@pytest.fixture()
def batches(app, tmp_path, monkeypatch):
    """Give the app its own batch folder holding one batch file."""
    folder = tmp_path / "batches"
    folder.mkdir()
    (folder / "QZ-2026-UAV-1.pdf").write_bytes(BATCH)
    monkeypatch.setitem(app.config, "CERTIFICATE_BATCH_FOLDER", str(folder))
    return folder


@pytest.fixture()
def city(app):
    demo.load()
    db.session.commit()


@pytest.fixture()
def empty_app(database_url, tmp_path):
    """Return an app on a new, empty database (a new SQLite file or a new PostgreSQL database)."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        new = f"sqlite:///{tmp_path / 'restored.db'}"
        admin = None
    else:
        name = f"restore_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        new = url.set(database=name).render_as_string(hide_password=False)
    app = create_app({**config.test_config(new), "CERTIFICATE_BATCH_FOLDER": str(tmp_path / "restored-batches")})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.set(database=name).database}"'))
        admin.dispose()


def _summary(checksums: bool = True) -> dict[str, dict]:
    with db.engine.connect() as connection:
        return backups.table_summary(connection, checksums)


def test_a_backup_restores_into_a_new_database_table_for_table(app, city, batches, empty_app, tmp_path):
    archive = tmp_path / "jiangxin.backup"
    manifest = backups.backup(archive, checksums=True)
    source = _summary()
    assert manifest.tables == source
    assert source["mark"]["rows"] > 0 and source["certificate"]["rows"] > 0 and "alembic_version" in source
    assert manifest.files == ["QZ-2026-UAV-1.pdf"]

    with empty_app.app_context():
        restored = backups.restore(archive)
        assert _summary() == source  # every table, row for row (SHA-256 of its rows in key order)
        assert restored.revision == manifest.revision
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == source["user"]["rows"]
    assert (tmp_path / "restored-batches" / "QZ-2026-UAV-1.pdf").read_bytes() == BATCH


def _writer(app, stop: threading.Event, saved: list, failed: list) -> None:
    """Save marks as a tablet would, one after another, until told to stop; note each acknowledged save."""
    try:
        _write(app, stop, saved)
    except BaseException as error:  # the test reports it instead of waiting for saves that never come
        failed.append(error)


def _wait_for(count: int, saved: list, failed: list) -> None:
    for _ in range(600):
        if failed:
            raise failed[0]
        if len(saved) >= count:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"the writer saved {len(saved)} marks, not {count}")


def _write(app, stop: threading.Event, saved: list) -> None:
    with app.app_context():
        judge = db.session.scalar(sa.select(User).where(User.username == "judge4"))
        rows = db.session.execute(
            sa.select(Entrant.competition_id, Entrant.secret_code, Entrant.id, Criterion.id, Criterion.max_value)
            .join(JudgeAssignment, JudgeAssignment.competition_id == Entrant.competition_id)
            .join(JudgeCriterion, JudgeCriterion.assignment_id == JudgeAssignment.id)
            .join(Criterion, Criterion.id == JudgeCriterion.criterion_id)
            .where(JudgeAssignment.user_id == judge.id, Entrant.status == "ok", Entrant.secret_code.is_not(None))
            .where(Criterion.kind == "score", Criterion.fixed_scale.is_(False))
            .limit(20)
        ).all()
        code = {cid: c for cid, c in db.session.execute(sa.text("SELECT id, code FROM competition"))}
        n = 0
        while not stop.is_set():
            competition_id, secret, entrant_id, criterion_id, maximum = rows[n % len(rows)]
            judge = db.session.scalar(sa.select(User).where(User.username == "judge4"))
            version = db.session.scalar(
                sa.select(Mark.version).where(
                    Mark.judge_id == judge.id, Mark.entrant_id == entrant_id, Mark.criterion_id == criterion_id
                )
            )
            value = str(min(maximum, 1 + n % 9))
            try:
                done = marks.save(judge, code[competition_id], secret, criterion_id, value, version or 0, "backup")
                saved.append(done.mark.id)
            except ServiceError:  # a signed sheet, say: that pair is not the tablet's to change
                rows.remove(rows[n % len(rows)])
            db.session.remove()
            n += 1


def test_a_backup_taken_while_marks_are_saved_is_one_consistent_snapshot(app, city, batches, empty_app, tmp_path):
    stop, saved, failed = threading.Event(), [], []
    writer = threading.Thread(target=_writer, args=(app, stop, saved, failed))
    writer.start()
    try:
        _wait_for(5, saved, failed)
        archive = tmp_path / "during.backup"
        manifest = backups.backup(archive, checksums=True)
        _wait_for(len(saved) + 5, saved, failed)  # the judge went on saving after the backup
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not writer.is_alive() and len(saved) >= 5

    with empty_app.app_context():
        backups.restore(archive)  # checks every table's rows and checksum against the manifest
        restored = _summary()
        assert restored == manifest.tables
        # One snapshot: each mark agrees with the last change its audit trail records, the judge's saves included.
        key = (MarkChange.judge_id, MarkChange.entrant_id, MarkChange.criterion_id)
        last = sa.select(*key, sa.func.max(MarkChange.id).label("id")).group_by(*key).subquery()
        pairs = db.session.execute(
            sa.select(Mark.value_cents, MarkChange.new_cents)
            .join(last, sa.and_(Mark.judge_id == last.c.judge_id, Mark.entrant_id == last.c.entrant_id))
            .join(MarkChange, MarkChange.id == last.c.id)
            .where(Mark.criterion_id == last.c.criterion_id)
        ).all()
        assert len(pairs) >= 1 and all(mark == change for mark, change in pairs)
    assert manifest.tables["mark_change"]["rows"] >= 5


def test_restore_refuses_a_database_that_is_not_empty_and_writes_nothing(app, city, batches, tmp_path):
    archive = tmp_path / "jiangxin.backup"
    backups.backup(archive)
    before = _summary()
    with pytest.raises(backups.BackupError, match="not empty"):
        backups.restore(archive)
    assert _summary() == before


def test_restore_refuses_a_file_that_is_not_a_backup(empty_app, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a tar file at all")
    with empty_app.app_context():
        with pytest.raises(backups.BackupError, match="not a backup file"):
            backups.restore(junk)


def test_restore_refuses_a_member_that_points_outside_the_batch_folder(app, city, batches, empty_app, tmp_path):
    archive = tmp_path / "jiangxin.backup"
    backups.backup(archive)
    evil = tmp_path / "evil.backup"
    with tarfile.open(archive) as source, tarfile.open(evil, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member)
            if member.name == "manifest.json":
                manifest = json.load(data)
                manifest["files"] = ["../../escaped.txt"]
                body = json.dumps(manifest).encode()
                member.size = len(body)
                target.addfile(member, io.BytesIO(body))
            else:
                target.addfile(member, data)
    with empty_app.app_context():
        with pytest.raises(backups.BackupError, match="outside the restore folder"):
            backups.restore(evil)
        with db.engine.connect() as connection:
            assert sa.inspect(connection).get_table_names() == []  # refused before anything was written
    assert not (tmp_path / "escaped.txt").exists()


def test_the_cli_backs_up_and_restores(app, city, batches, empty_app, tmp_path, runner):
    archive = tmp_path / "cli.backup"
    result = runner.invoke(args=["backup", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "tables" in result.output and archive.is_file()
    assert not Path(str(archive) + ".partial").exists()
    with empty_app.app_context():  # the command runs in the app context it finds, as `flask` would give it
        restored = empty_app.test_cli_runner().invoke(args=["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert "match the backup" in restored.output
        again = empty_app.test_cli_runner().invoke(args=["restore", str(archive)])
        assert again.exit_code == 1 and "not empty" in again.output
