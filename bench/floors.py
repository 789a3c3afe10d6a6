"""Floors: the same work done by the bare sqlite3 module, with no app, ORM or engine on top."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator

import sqlalchemy as sa

from bench import clock, median_time

FLOOR_TABLE = "bench_floor_mark"
_TABLE_HEAD = re.compile(r'^CREATE TABLE "?mark"? \(')
_INDEX_HEAD = re.compile(r'^CREATE (UNIQUE )?INDEX "?(\w+)"? ON "?mark"? \(')

SUMMARY_SQL = """
    SELECT entrant_id, criterion_id, COUNT(*), SUM(value_cents), MIN(value_cents), MAX(value_cents)
    FROM mark WHERE competition_id = ? GROUP BY entrant_id, criterion_id"""


def floor_ddl(connection: sqlite3.Connection) -> list[str]:
    """Return the live mark table's DDL (columns, checks, keys, indexes) for a fresh table."""
    ddl = []
    for kind, sql in connection.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'mark' AND sql IS NOT NULL ORDER BY type = 'index'"
    ):
        if kind == "table":
            ddl.append(_TABLE_HEAD.sub(f"CREATE TABLE {FLOOR_TABLE} (", sql, count=1))
        else:
            ddl.append(
                _INDEX_HEAD.sub(lambda m: f"CREATE {m[1] or ''}INDEX {m[2]}_floor ON {FLOOR_TABLE} (", sql, count=1)
            )
    if not ddl or not ddl[0].startswith(f"CREATE TABLE {FLOOR_TABLE}"):
        raise RuntimeError("cannot copy the mark table's shape for the insert floor")
    return ddl


def insert_marks(connection: sqlite3.Connection, competition_id: int) -> tuple[float, int]:
    """Time one executemany INSERT of the competition's marks into a fresh mark-shaped table.

    Returns (seconds, rows). The rows are read beforehand, untimed; the table is dropped after.
    """
    columns = ", ".join(row[1] for row in connection.execute("PRAGMA table_info(mark)") if row[1] != "id")
    rows = connection.execute(
        f"SELECT {columns} FROM mark WHERE competition_id = ? ORDER BY id", (competition_id,)
    ).fetchall()
    connection.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
    for statement in floor_ddl(connection):
        connection.execute(statement)
    marks = ", ".join("?" * len(rows[0])) if rows else ""

    def insert():
        connection.execute("BEGIN")
        connection.executemany(f"INSERT INTO {FLOOR_TABLE} ({columns}) VALUES ({marks})", rows)
        connection.execute("COMMIT")

    try:
        seconds, _ = clock(insert)
    finally:
        connection.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
    return seconds, len(rows)


def query(connection: sqlite3.Connection, sql: str, params: tuple, runs: int = 5) -> float:
    """Return the median seconds of running `sql` and fetching every row."""
    return median_time(lambda: connection.execute(sql, params).fetchall(), runs=runs)


@contextlib.contextmanager
def captured_sql(engine: sa.Engine) -> Iterator[list[tuple[str, tuple]]]:
    """Collect every (statement, parameters) the engine sends to the database meanwhile."""
    seen: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, tuple(parameters or ())))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def replay(connection: sqlite3.Connection, statements: list[tuple[str, tuple]], runs: int = 3) -> float | None:
    """Return the median seconds of running the statements bare and fetching every row."""
    if not statements:
        return None

    def run():
        for sql, params in statements:
            connection.execute(sql, params).fetchall()

    return median_time(run, runs=runs)
