"""The accounts migration's data step (migrations/versions/7786fe567f01_…).

Besides its new tables (account_link, user_session, worker_request) the migration turns the
organizer accounts of enterprises — how a liaison was made before the role existed — into
liaisons, and keeps only the birth year of a worker (birth_date → birth_year).

The suite's database is shared by every test, so these tests never move it: each builds a
scratch database of its own (an SQLite file under tmp_path; with TEST_DATABASE_URL on
PostgreSQL, a scratch PostgreSQL database too), migrates it to the revision before, writes rows
with plain SQL as the old schema had them, and migrates it to head.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from comp import config as settings
from comp import create_app
from comp.extensions import db

BEFORE = "086b8be82467"
REVISION = "7786fe567f01"
# Later migrations stack on this one: "upgrade()" goes to the newest.
HEAD = ScriptDirectory(str(Path(__file__).parents[2] / "migrations")).get_current_head()
NEW_TABLES = {"account_link", "user_session", "worker_request"}
NOW = datetime(2026, 3, 1, 8, 0)

# The old schema's tables, as plain SQL sees them (no models: they describe the new schema).
ORG_UNIT = sa.table(
    "org_unit", sa.column("id", sa.Integer), sa.column("parent_id", sa.Integer), sa.column("kind"), sa.column("name")
)
USER = sa.table(
    "user",
    sa.column("id", sa.Integer),
    sa.column("username"),
    sa.column("display_name"),
    sa.column("password_hash"),
    sa.column("role"),
    sa.column("active", sa.Boolean),
    sa.column("org_unit_id", sa.Integer),
    sa.column("worker_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
)
WORKER = sa.table(
    "worker",
    sa.column("id", sa.Integer),
    sa.column("name"),
    sa.column("birth_date", sa.Date),
    sa.column("employer_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
)


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request, tmp_path):
    """Return an app on an empty scratch database of its own, and drop the database afterwards."""
    if request.param == "sqlite":
        url, cleanup = f"sqlite:///{tmp_path / 'migration.db'}", None
    else:
        base = _postgres_url()
        if base is None:
            pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
        server = sa.make_url(base)
        name = f"{server.database}_mig_{uuid.uuid4().hex[:8]}"
        admin_engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin_engine.dispose()

    app = create_app(settings.test_config(url))
    logs = _logging_state()
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        _restore_logging(logs)
        if cleanup:
            cleanup()


def _logging_state() -> tuple:
    """Return what alembic's env.py (logging.config.fileConfig) changes: root handlers and level, disabled loggers."""
    root = logging.getLogger()
    known = logging.root.manager.loggerDict.items()
    loggers = {name: logger.disabled for name, logger in known if isinstance(logger, logging.Logger)}
    return list(root.handlers), root.level, loggers


def _restore_logging(state: tuple) -> None:
    """Put logging back as the rest of the suite had it."""
    handlers, level, loggers = state
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, disabled in loggers.items():
        logging.getLogger(name).disabled = disabled


def _version() -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _old_rows() -> None:
    """Write, at the revision before, a union tree, accounts of every kind, and workers with birth dates."""
    with db.engine.begin() as conn:
        conn.execute(
            ORG_UNIT.insert(),
            [
                {"id": 1, "parent_id": None, "kind": "city", "name": "泉州市总工会"},
                {"id": 2, "parent_id": 1, "kind": "county", "name": "晋江市总工会"},
                {"id": 3, "parent_id": 2, "kind": "enterprise", "name": "晋江翔鹭航空"},
                {"id": 4, "parent_id": 3, "kind": "workshop", "name": "翔鹭航空一车间"},
            ],
        )
        conn.execute(
            WORKER.insert(),
            [
                {"id": 1, "name": "张三", "birth_date": date(1990, 3, 15), "employer_id": 3, "created_at": NOW},
                {"id": 2, "name": "李四", "birth_date": date(1985, 12, 31), "employer_id": None, "created_at": NOW},
                {"id": 3, "name": "王五", "birth_date": None, "employer_id": 3, "created_at": NOW},
            ],
        )
        accounts = [
            (1, "admin", "admin", None, None),
            (2, "org-city", "organizer", 1, None),
            (3, "org-county", "organizer", 2, None),
            (4, "org-enterprise", "organizer", 3, None),  # a liaison in all but name
            (5, "org-none", "organizer", None, None),
            (6, "judge-enterprise", "judge", 3, None),
            (7, "worker", "worker", None, 1),
            (8, "org-workshop", "organizer", 4, None),  # a workshop is no enterprise
        ]
        conn.execute(
            USER.insert(),
            [
                {
                    "id": uid,
                    "username": name,
                    "display_name": name,
                    "password_hash": "!nopassword",
                    "role": role,
                    "active": True,
                    "org_unit_id": unit,
                    "worker_id": worker,
                    "created_at": NOW,
                }
                for uid, name, role, unit, worker in accounts
            ],
        )


def _roles() -> dict[str, str]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text('SELECT username, role FROM "user"')).all())


def _birth_years() -> dict[int, int | None]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT id, birth_year FROM worker")).all())


EXPECTED_ROLES = {
    "admin": "admin",
    "org-city": "organizer",
    "org-county": "organizer",
    "org-enterprise": "liaison",
    "org-none": "organizer",
    "judge-enterprise": "judge",
    "worker": "worker",
    "org-workshop": "organizer",
}


def test_the_data_step_makes_enterprise_organizers_liaisons_and_keeps_the_birth_year(scratch):
    upgrade(revision=BEFORE)
    assert _version() == BEFORE
    assert "birth_date" in _columns("worker") and "birth_year" not in _columns("worker")
    assert not NEW_TABLES & _tables()
    _old_rows()

    upgrade(revision=REVISION)
    assert _version() == REVISION
    assert _roles() == EXPECTED_ROLES
    assert _birth_years() == {1: 1990, 2: 1985, 3: None}
    assert "birth_date" not in _columns("worker") and "birth_year" in _columns("worker")
    assert NEW_TABLES <= _tables()
    assert {"created_by_id", "password_changed_at", "last_login_at"} <= _columns("user")
    # The rest of each row survives the table rebuilds.
    with db.engine.connect() as conn:
        worker = conn.execute(sa.text("SELECT name, employer_id FROM worker WHERE id = 1")).one()
        account = conn.execute(sa.text("SELECT org_unit_id, worker_id FROM \"user\" WHERE username = 'worker'")).one()
    assert tuple(worker) == ("张三", 3) and tuple(account) == (None, 1)
    # The foreign keys hold: what the app's connections enforce (SQLite: the pragma is back on).
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE \"user\" SET worker_id = 999 WHERE username = 'worker'"))


def test_the_new_role_constraint_takes_liaison_and_still_refuses_an_unknown_role(scratch):
    upgrade(revision=BEFORE)
    _old_rows()
    upgrade(revision=REVISION)
    row = {
        "username": "li2",
        "display_name": "li2",
        "password_hash": "!x",
        "role": "liaison",
        "active": True,
        "org_unit_id": 3,
        "created_at": NOW,
    }
    with db.engine.begin() as conn:
        conn.execute(USER.insert(), [{**row, "id": 20}])
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(USER.insert(), [{**row, "id": 21, "username": "bad", "role": "superuser"}])
    assert "bad" not in _roles()


def test_the_migrated_rows_read_through_the_models(scratch):
    """The app's own models and permission rules read the migrated database: the liaison is one."""
    from comp.models import User, Worker
    from comp.permissions import can

    upgrade(revision=BEFORE)
    _old_rows()
    upgrade()
    liaison = db.session.scalar(sa.select(User).where(User.username == "org-enterprise"))
    assert liaison.role == "liaison" and liaison.org_unit.kind == "enterprise"
    assert can("liaison.home", None, liaison) and not can("accounts.admin", None, liaison)
    assert not can("organizer.home", None, liaison)
    worker = db.session.get(Worker, 1)
    assert worker.birth_year == 1990 and worker.user.username == "worker"


def test_a_downgrade_and_a_new_upgrade_come_back_to_the_same_data(scratch):
    upgrade(revision=BEFORE)
    _old_rows()
    upgrade(revision=REVISION)
    downgrade(revision=BEFORE)
    assert _version() == BEFORE
    assert not NEW_TABLES & _tables()
    assert "birth_date" in _columns("worker") and "birth_year" not in _columns("worker")
    # Back to organizers, the old constraint's roles; the full birth dates are not recovered.
    assert set(_roles().values()) <= {"admin", "organizer", "judge", "worker"}
    assert _roles()["org-enterprise"] == "organizer"
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM worker WHERE birth_date IS NOT NULL")).scalar_one() == 0

    upgrade()
    assert _version() == HEAD
    assert _roles() == EXPECTED_ROLES
    assert _birth_years() == {1: None, 2: None, 3: None}  # the downgrade kept no date to take a year from


def test_the_suite_database_is_untouched(app, scratch):
    """The scratch database is another file: the shared one stays at head with its schema."""
    upgrade(revision=BEFORE)
    with app.app_context():
        assert _version() == HEAD
        assert NEW_TABLES <= _tables() and "birth_year" in _columns("worker")
