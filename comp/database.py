"""Database connection settings: SQLite with WAL and foreign keys on; read-only requests end with COMMIT;
on PostgreSQL a pooled connection the server has closed is replaced without a round trip.

Why COMMIT: psycopg prepares a statement on the server once a connection has run it five times,
which spares PostgreSQL planning it again, and forgets every prepared statement on ROLLBACK (a
rollback might have undone what they refer to). A request that only read would end with the
ROLLBACK of closing the session, so a judge's tablet, which alternates reads and saves, would
never reuse a plan. A request that wrote nothing uncommitted ends with COMMIT instead, which for
a transaction that only read is the same thing; one that did write (or failed) is rolled back
as before.

Why no pre-ping on PostgreSQL: SQLAlchemy's `pool_pre_ping` sends `SELECT 1` each time a request
takes a connection from the pool, a round trip on every request (a tablet's save is otherwise
seven). A server that ends a connection (a restart, `pg_terminate_backend`, an idle timeout)
sends an error message and closes the socket, so a dead pooled connection has something to read
and a live idle one has nothing. `_checkout` polls the socket without waiting: only when data is
there does it ping, and a connection that fails the ping is replaced before the request uses it.
"""

from __future__ import annotations

import select

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


def _checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    """Replace a pooled PostgreSQL connection the server has closed (see the module's docstring)."""
    pgconn = dbapi_connection.pgconn
    try:
        waiting = bool(select.select([pgconn.socket], [], [], 0)[0])
    except (OSError, ValueError, TypeError):  # no socket any more (a closed connection)
        raise sa.exc.DisconnectionError("the connection has no socket") from None
    if not waiting:
        return
    try:
        db.engine.dialect.do_ping(dbapi_connection)
    except Exception as error:  # whatever the driver raises for a dead connection
        raise sa.exc.DisconnectionError("the server closed the connection") from error


def engine_options(uri: str, options: dict) -> dict:
    """Return the engine options for the database: no pre-ping on PostgreSQL, where `_checkout` does its work."""
    if uri.startswith("postgresql"):
        return {**options, "pool_pre_ping": False}
    return options


def init_app(app: Flask) -> None:
    """Turn on SQLite's foreign keys and WAL journal for every new connection; end read-only requests."""
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", _note_write)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
        if db.engine.dialect.driver == "psycopg":
            sa.event.listen(db.engine, "checkout", _checkout)  # the pool's event, kept by its successors
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
