"""Backups that restore: the database as one consistent snapshot, the files beside it, and a manifest.

A backup is one tar file:

- `manifest.json`: the format, the database kind, the schema revision, when it was taken, and for
  every table its row count and (with `checksums`) a SHA-256 of its rows in primary-key order, all
  read from the same snapshot the database copy holds;
- `database.sqlite3` (SQLite's online backup API: a consistent copy while the app keeps writing) or
  `database.pgdump` (`pg_dump --format=custom` of an exported snapshot, the one the counts were read in);
- `files/batches/…`: the certificate batch files (the seals are in the database).

`restore` puts it back into an empty database and an empty batch folder, then checks every table
against the manifest; anything it refuses, it refuses before it has written anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import sqlalchemy as sa

from comp.extensions import db
from comp.services.certs.batches import folder as batch_folder

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files/batches"
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, table by table."""

    database: str
    revision: str | None
    created_at: str
    tables: dict[str, dict]
    files: list[str]

    def as_json(self) -> dict:
        return {
            "format": FORMAT,
            "app": "jiangxin",
            "database": self.database,
            "revision": self.revision,
            "created_at": self.created_at,
            "tables": self.tables,
            "files": self.files,
        }

    @classmethod
    def of(cls, data: dict) -> Manifest:
        if data.get("app") != "jiangxin" or data.get("format") != FORMAT:
            raise BackupError(f"not a Jiangxin backup of format {FORMAT}")
        return cls(data["database"], data.get("revision"), data["created_at"], data["tables"], data["files"])


def dialect() -> str:
    """Return "sqlite" or "postgresql": the database the app is configured for."""
    name = db.engine.dialect.name
    if name not in DUMPS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


# ---------------------------------------------------------------- reading tables


def _tables(connection: sa.Connection) -> list[str]:
    """Return the tables the database has (the app's and alembic_version), sorted by name."""
    return sorted(sa.inspect(connection).get_table_names())


def _normal(value: object) -> object:
    """Return a value in a form both databases print alike (bytes as hex, datetimes without a zone)."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    return value


def table_summary(connection: sa.Connection, checksums: bool) -> dict[str, dict]:
    """Return each table's row count and, with `checksums`, the SHA-256 of its rows in key order."""
    summary: dict[str, dict] = {}
    inspector = sa.inspect(connection)
    for name in _tables(connection):
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        entry: dict = {"rows": count}
        if checksums:
            key = inspector.get_pk_constraint(name).get("constrained_columns") or [c.name for c in table.columns]
            digest = hashlib.sha256()
            query = sa.select(table).order_by(*(table.c[k] for k in key))
            for row in connection.execute(query).yield_per(2000):
                digest.update(json.dumps([_normal(v) for v in row], default=str, ensure_ascii=False).encode())
                digest.update(b"\n")
            entry["sha256"] = digest.hexdigest()
        summary[name] = entry
    return summary


def _revision(connection: sa.Connection) -> str | None:
    if "alembic_version" not in _tables(connection):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


# ---------------------------------------------------------------- backup


def backup(out: Path, checksums: bool = False) -> Manifest:
    """Write a backup of the database and the batch files to `out`; return its manifest.

    The app may keep running and writing: the copy is one snapshot, and the manifest describes it.
    """
    kind = dialect()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="jiangxin-backup-") as work:
        dump = Path(work) / DUMPS[kind]
        if kind == "sqlite":
            tables, revision = _sqlite_dump(dump, checksums)
        else:
            tables, revision = _pg_dump(dump, checksums)
        files = sorted(p for p in batch_folder().rglob("*") if p.is_file())
        manifest = Manifest(
            kind,
            revision,
            datetime.now(UTC).replace(microsecond=0).isoformat(),
            tables,
            [p.relative_to(batch_folder()).as_posix() for p in files],
        )
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            body = json.dumps(manifest.as_json(), ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(body))
            tar.add(dump, arcname=DUMPS[kind])
            for path in files:
                tar.add(path, arcname=f"{FILES}/{path.relative_to(batch_folder()).as_posix()}")
        os.replace(partial, out)  # a backup file is whole or absent, never half-written
    return manifest


def _sqlite_dump(target: Path, checksums: bool) -> tuple[dict[str, dict], str | None]:
    """Copy the live SQLite database with its online backup API; summarise the copy itself."""
    with db.engine.connect() as connection:
        source = connection.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # all pages in one step: one consistent snapshot, writers wait a moment
        finally:
            copy.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return table_summary(connection, checksums), _revision(connection)
    finally:
        engine.dispose()


def libpq_url(url: sa.URL) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URL without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _pg_dump(target: Path, checksums: bool) -> tuple[dict[str, dict], str | None]:
    """Dump PostgreSQL with pg_dump from a snapshot this transaction exports, and count in that snapshot."""
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    url, env = libpq_url(db.engine.url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            tables, revision = table_summary(connection, checksums), _revision(connection)
            done = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
                + ["--file", str(target), url],
                env=env,
                capture_output=True,
                text=True,
            )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return tables, revision


# ---------------------------------------------------------------- restore


@contextmanager
def _opened(archive: Path) -> Iterator[tuple[tarfile.TarFile, Manifest]]:
    try:
        tar = tarfile.open(archive, "r")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{archive}: not a backup file ({error})") from None
    with tar:
        try:
            member = tar.extractfile(MANIFEST)
            data = json.load(member) if member else None
        except (KeyError, ValueError) as error:
            raise BackupError(f"{archive}: the manifest is missing or unreadable ({error})") from None
        if not isinstance(data, dict):
            raise BackupError(f"{archive}: the manifest is missing")
        yield tar, Manifest.of(data)


def _safe_member(tar: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    """Return a regular-file member whose name stays inside the archive's own folders."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"refusing the member {name!r}: it points outside the restore folder")
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(f"the backup lacks {name}") from None
    if not member.isfile():
        raise BackupError(f"refusing the member {name!r}: not a regular file")
    return member


def _check_empty(kind: str) -> None:
    with db.engine.connect() as connection:
        present = [t for t in _tables(connection) if not t.startswith("sqlite_")]
    if present:
        raise BackupError(
            f"the {kind} database is not empty ({len(present)} tables, e.g. {present[0]}): "
            "restore into an empty database"
        )
    folder = batch_folder()
    if any(folder.iterdir()):
        raise BackupError(f"the batch folder {folder} is not empty: restore into an empty folder")


def restore(archive: Path) -> Manifest:
    """Restore a backup into the app's empty database and batch folder; check every table; return the manifest."""
    archive = Path(archive)
    kind = dialect()
    with _opened(archive) as (tar, manifest):
        if manifest.database != kind:
            raise BackupError(f"this backup is of a {manifest.database} database; the app uses {kind}")
        dump_member = _safe_member(tar, DUMPS[kind])
        file_members = [_safe_member(tar, f"{FILES}/{name}") for name in manifest.files]
        _check_empty(kind)
        with tempfile.TemporaryDirectory(prefix="jiangxin-restore-") as work:
            dump = Path(work) / DUMPS[kind]
            with tar.extractfile(dump_member) as source, open(dump, "wb") as sink:  # type: ignore[union-attr]
                shutil.copyfileobj(source, sink)
            if kind == "sqlite":
                _sqlite_restore(dump)
            else:
                _pg_restore(dump)
        folder = batch_folder()
        for name, member in zip(manifest.files, file_members, strict=True):
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(target, "wb") as sink:  # type: ignore[union-attr]
                shutil.copyfileobj(source, sink)
    verify(manifest)
    return manifest


def _sqlite_restore(dump: Path) -> None:
    source = sqlite3.connect(dump)
    try:
        with db.engine.connect() as connection:
            target = connection.connection.driver_connection
            assert isinstance(target, sqlite3.Connection)
            source.backup(target)
    finally:
        source.close()
    db.engine.dispose()  # pooled connections opened before the copy would not see its schema


def _pg_restore(dump: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    url, env = libpq_url(db.engine.url)
    done = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        + ["--dbname", url, str(dump)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    db.engine.dispose()


def verify(manifest: Manifest) -> None:
    """Check the database against the manifest: the same tables, rows and (where recorded) checksums."""
    checksums = any("sha256" in t for t in manifest.tables.values())
    with db.engine.connect() as connection:
        found = table_summary(connection, checksums)
    problems = [
        f"{name}: {manifest.tables.get(name)} in the backup, {found.get(name)} restored"
        for name in sorted(set(found) | set(manifest.tables))
        if found.get(name) != manifest.tables.get(name)
    ]
    if problems:
        raise BackupError("the restored database differs from the backup: " + "; ".join(problems[:10]))
