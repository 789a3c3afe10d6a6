"""Domain verbs: they read and write the database, call scoring, and own the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from comp.extensions import db

_DEPTH = "transaction_depth"


class ServiceError(ValueError):
    """A refused action, with a message the user can read."""


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the work done inside, or roll all of it back on any error.

    Verbs compose: only the outermost block commits. A block inside another is a savepoint,
    so an error inside it undoes its own work and, unless the outer verb catches the error,
    the outer block then rolls back everything.
    """
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        if depth:
            with session.begin_nested():
                yield
            return
        _begin_writing(session)
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        session.info[_DEPTH] = depth


def in_transaction() -> bool:
    """Tell whether a `transaction()` block is open in this session."""
    return bool(db.session().info.get(_DEPTH))


def _begin_writing(session: Session) -> None:
    """On SQLite, open the transaction with BEGIN IMMEDIATE so that savepoints nest inside it.

    Python's sqlite3 driver opens a transaction only before the first INSERT, UPDATE or DELETE;
    a SAVEPOINT issued before then would itself start the transaction, and releasing it would
    commit. Taking the write lock at the start also spares a writer the "database is locked"
    error of upgrading a read snapshot that another writer has moved past.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
