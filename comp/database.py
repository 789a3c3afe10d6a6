"""Database connection settings: SQLite with WAL and foreign keys on."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from comp.extensions import db


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    """Turn on SQLite's foreign keys and WAL journal for every new connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        sa.event.listen(db.engine, "connect", _sqlite_pragmas)


def ping() -> bool:
    """Tell whether the database answers a trivial query."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return False
