"""The floor of the answer save: a bare Flask + psycopg route doing the versioned upsert on a table of its own.

`gunicorn -w 2 bench.examload.floor:app` with `LOADTEST_FLOOR_DSN` (a psycopg conninfo). The table
has the shape of `exam_answer` (`CREATE TABLE … (LIKE exam_answer INCLUDING ALL)`, made by
`create_table`); one connection per worker, in autocommit:

- `POST /answers/<sitting>/<position>` — the form exam.js posts (`response` fields, `version`,
  `device`), one statement: INSERT … ON CONFLICT (sitting_id, position) DO UPDATE … WHERE version =
  the one seen, answered in the app's JSON (`saved` with the new version); when nothing was written, a
  second statement reads the row: a retry of a write that committed (same response, one version on) is
  answered saved, as the app does, anything else 409 `stale` with the server's answer;
- `GET /ping` — for the harness to know the workers are up.
"""

from __future__ import annotations

import os

import psycopg
from flask import Flask, jsonify, request

TABLE = "examload_floor_answer"
UPSERT = f"""
    INSERT INTO {TABLE} AS a (sitting_id, position, response, version, saved_at)
    VALUES (%(sitting)s, %(position)s, %(response)s, 1, now())
    ON CONFLICT (sitting_id, position)
    DO UPDATE SET response = excluded.response, version = a.version + 1, saved_at = excluded.saved_at
    WHERE a.version = %(seen)s
    RETURNING version"""
CURRENT = f"SELECT response, version FROM {TABLE} WHERE sitting_id = %s AND position = %s"

app = Flask(__name__)
_connection: psycopg.Connection | None = None


def create_table(conninfo: str) -> None:
    """Create the floor's table with the shape of the app's `exam_answer` (columns, defaults, keys)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        connection.execute(f"CREATE TABLE {TABLE} (LIKE exam_answer INCLUDING ALL)")


def held(conninfo: str) -> dict[tuple, tuple[int, str]]:
    """Return what the floor's table holds: (sitting, position) → (version, response)."""
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(f"SELECT sitting_id, position, version, response FROM {TABLE}").fetchall()
    return {(s, p): (v, r) for s, p, v, r in rows}


def _db() -> psycopg.Connection:
    """Return this worker's connection, opened on first use (after gunicorn forks)."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["LOADTEST_FLOOR_DSN"], autocommit=True)
    return _connection


@app.get("/ping")
def ping():
    """Answer the harness's probe."""
    return "ok"


@app.post("/answers/<int:sitting>/<int:position>")
def save(sitting: int, position: int):
    """Upsert the answer over the version seen; answer as the app does (saved, or 409 stale)."""
    response = "".join(request.form.getlist("response"))
    seen = request.form.get("version", type=int)
    if seen is None or not request.form.get("device"):
        return jsonify(position=position, state="refused"), 422
    params = {"sitting": sitting, "position": position, "response": response, "seen": seen}
    written = _db().execute(UPSERT, params).fetchone()
    if written is not None:
        return jsonify(position=position, state="saved", response=response, version=written[0])
    current, version = _db().execute(CURRENT, (sitting, position)).fetchone() or ("", 0)
    if current == response and version == seen + 1:
        return jsonify(position=position, state="saved", response=response, version=version)
    return jsonify(position=position, state="stale", response=current, version=version), 409
