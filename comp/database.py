"""Database connection settings: SQLite with WAL and foreign keys on; read-only requests end with COMMIT.

Why COMMIT: psycopg prepares a statement on the server once a connection has run it five times,
which spares PostgreSQL planning it again, and forgets every prepared statement on ROLLBACK (a
rollback might have undone what they refer to). A request that only read would end with the
ROLLBACK of closing the session, so a judge's tablet, which alternates reads and saves, would
never reuse a plan. A request that wrote nothing uncommitted ends with COMMIT instead, which for
a transaction that only read is the same thing; one that did write (or failed) is rolled back
as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, g, has_request_context

from comp.extensions import db


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _note_write(conn, cursor, statement: str, parameters, context, executemany) -> None:
    """Remember that the request's open transaction sent something other than a SELECT."""
    if has_request_context() and statement.lstrip()[:6].upper() != "SELECT":
        g.wrote_uncommitted = True


def _committed(session) -> None:
    if has_request_context():
        g.wrote_uncommitted = False


def _end_read_only(error: BaseException | None) -> None:
    """Commit the request's transaction when it only read (runs before the session is removed)."""
    wrote = g.pop("wrote_uncommitted", False)
    session = db.session()
    if error is not None or wrote or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        return  # changed objects never flushed: closing the session discards them, as it should
    try:
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()


def init_app(app: Flask) -> None:
    """Turn on SQLite's foreign keys and WAL journal for every new connection; end read-only requests."""
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", _note_write)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
    if not sa.event.contains(db.session, "after_commit", _committed):  # on the session class: once for all apps
        sa.event.listen(db.session, "after_commit", _committed)
    app.teardown_request(_end_read_only)


def ping() -> bool:
    """Tell whether the database answers a trivial query."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return False
