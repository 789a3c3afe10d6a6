"""The floor: a bare Flask + psycopg app doing the tablet's requests on a table of its own.

`gunicorn -w 2 bench.loadtest.app_floor:app` with `LOADTEST_FLOOR_DSN` (a psycopg conninfo or
URL). The table has the shape of `mark` (`CREATE TABLE … (LIKE mark INCLUDING ALL)`, made by
`create_table`); each route is one statement (a saved mark two) on one connection per worker, in autocommit:

- `POST /mark/<entrant>/<judge>/<criterion>` — the versioned upsert (`value`, `version` seen),
  answered with a row in the score sheet's markup ("saved" or "stale"), so the same client code
  reads it; "saved" carries the tally out of band (a second statement, as the app's answer
  does), "stale" answers `HX-Trigger: mark-saved` instead; a retry of a write that committed
  but whose answer was lost (the same value, one version on) is answered "saved", as the app does;
- `GET /sheet/<entrant>/<judge>` — the judge's marks of the entrant (the sheet's rows);
- `GET /tally/<entrant>/<judge>` — their count and sum (the tally a stale answer reloads);
- `GET /ping` — for the harness to know the workers are up.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation

import psycopg
from flask import Flask, Response, request

TABLE = "loadtest_floor_mark"
COMPETITION_ID = 1  # the column is copied from `mark`; the floor has one competition

UPSERT = f"""
    INSERT INTO {TABLE} AS t (competition_id, entrant_id, judge_id, criterion_id, value_cents, version, updated_at)
    VALUES (%(competition)s, %(entrant)s, %(judge)s, %(criterion)s, %(cents)s, 1, now())
    ON CONFLICT (entrant_id, judge_id, criterion_id)
    DO UPDATE SET value_cents = excluded.value_cents, version = t.version + 1, updated_at = excluded.updated_at
    WHERE t.version = %(seen)s
    RETURNING version"""
CURRENT = f"SELECT value_cents, version FROM {TABLE} WHERE entrant_id = %s AND judge_id = %s AND criterion_id = %s"
SHEET = f"SELECT criterion_id, value_cents, version FROM {TABLE} WHERE entrant_id = %s AND judge_id = %s"
TALLY = f"SELECT count(*), coalesce(sum(value_cents), 0) FROM {TABLE} WHERE entrant_id = %s AND judge_id = %s"

app = Flask(__name__)
_connection: psycopg.Connection | None = None


def create_table(conninfo: str) -> None:
    """Create the floor's table with the shape of the app's `mark` table (columns, defaults, keys)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        connection.execute(f"CREATE TABLE {TABLE} (LIKE mark INCLUDING ALL)")


def _db() -> psycopg.Connection:
    """Return this worker's connection, opened on first use (after gunicorn forks)."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["LOADTEST_FLOOR_DSN"], autocommit=True)
    return _connection


def _cents(text: str) -> int | None:
    try:
        return int(Decimal(text) * 100)
    except (InvalidOperation, ValueError):
        return None


def _text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _row(criterion: int, state: str, cents: int | None, version: int) -> str:
    saved = _text(cents) if cents is not None else ""
    return (
        f'<div class="mark-row" id="mark-{criterion}" data-state="{state}" data-saved="{saved}">'
        f'<input type="hidden" name="version" id="version-{criterion}" value="{version}"></div>\n'
    )


@app.get("/ping")
def ping():
    return "ok"


@app.post("/mark/<int:entrant>/<int:judge>/<int:criterion>")
def save(entrant: int, judge: int, criterion: int):
    cents = _cents(request.form.get("value", ""))
    seen = request.form.get("version", type=int)
    if cents is None or seen is None:
        return Response(_row(criterion, "refused", None, seen or 0), 200)
    params = {"competition": COMPETITION_ID, "entrant": entrant, "judge": judge, "criterion": criterion}
    written = _db().execute(UPSERT, {**params, "cents": cents, "seen": seen}).fetchone()
    if written is not None:
        state, version = "saved", written[0]
    else:
        current_cents, version = _db().execute(CURRENT, (entrant, judge, criterion)).fetchone() or (None, 0)
        state = "saved" if current_cents == cents and version == seen + 1 else "stale"
        cents = current_cents if state == "saved" else cents
    if state == "stale":  # as the app: a stale answer makes the tablet reload its tally
        return Response(_row(criterion, state, cents, version), 200, {"HX-Trigger": "mark-saved"})
    # As the app: a saved mark's answer carries the judge's tally of the entrant out of band.
    count, total = _db().execute(TALLY, (entrant, judge)).fetchone()
    return Response(_row(criterion, state, cents, version) + _tally(count, total, oob=True), 200)


@app.get("/sheet/<int:entrant>/<int:judge>")
def sheet(entrant: int, judge: int):
    rows = _db().execute(SHEET, (entrant, judge)).fetchall()
    return "".join(_row(criterion, "saved", cents, version) for criterion, cents, version in rows)


@app.get("/tally/<int:entrant>/<int:judge>")
def tally(entrant: int, judge: int):
    count, total = _db().execute(TALLY, (entrant, judge)).fetchone()
    return _tally(count, total)


def _tally(count: int, total: int, oob: bool = False) -> str:
    swap = ' hx-swap-oob="outerHTML"' if oob else ""
    return f'<section id="tally"{swap}>{count} marks, {_text(total)} points</section>'
