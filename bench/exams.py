"""Benchmark 6: grading a mass preliminary's theory exam — 2,000 finished sittings of a 100-item paper.

The competition (2,000 candidates, imported), the bank and the ready exam are those of the exam load
test (`bench.examload.scenario`); each candidate's paper is drawn by the pure core from the exam's
seed (`papers.draw`, as `sitting.start` does) and her 100 answers written with bare inserts, about
two thirds right. Timed: `grading.regrade` over every finished sitting — first with every score and
mark still to write (2,000 marks and their changes, as after the last candidate hands in), then again
with nothing changed. Floor: the same rows read by bare SELECTs (the papers, the answers, the keys)
and the core's `score()` in a loop. On the shared SQLite database, and on PostgreSQL when `BENCH_PG`
names a server (postgresql+psycopg://user@host:port): a scratch database `examload_bench` is created
there and dropped.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sqlite3
import time
from fractions import Fraction

from bench import Row, median_time
from bench.context import Context

CANDIDATES = 2000
CODE = "BENCH-EXAMS"
EXAM_CODE = "BENCHEXM"
RIGHT_SHARE = 0.65
RUNS = 3
TARGET = 2.0  # seconds, issue 18


def grading_time(ctx: Context) -> list[Row]:
    """Time grading 2,000 sittings on SQLite, and on PostgreSQL when BENCH_PG is set, beside the floor."""
    ctx.app  # noqa: B018 — the shared app migrates the database and pushes its context
    connection = ctx.sqlite()
    rows = _grading("SQLite", connection, "?", ctx.notes)
    server = os.environ.get("BENCH_PG")
    if server:
        rows += _on_postgres(server, ctx.notes)
    return rows


def _on_postgres(server: str, notes: list[str]) -> list[Row]:
    """Run the same on a scratch PostgreSQL database, migrated here and dropped afterwards."""
    import flask_migrate
    import psycopg

    from bench.loadtest.server import ScratchDatabase, conninfo
    from comp import create_app
    from comp.config import test_config
    from comp.extensions import db

    database = ScratchDatabase(server, "examload_bench")
    database.create()
    try:
        app = create_app(test_config(database.url))
        with app.app_context(), psycopg.connect(conninfo(database.url), autocommit=True) as connection:
            with contextlib.redirect_stderr(io.StringIO()):
                flask_migrate.upgrade()
            try:
                return _grading(f"PostgreSQL {database.version()}", connection, "%s", notes)
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        database.drop()


def _grading(name: str, connection, mark: str, ctx_notes: list[str]) -> list[Row]:
    """Set the exam up on the app's database, then time the regrade twice and the floor."""
    from comp.extensions import db
    from comp.models.exam import Exam
    from comp.services.exams import grading

    exam_id, written = _prepare(connection, mark)

    def reset() -> None:  # back to every sitting handed in and not yet graded, no exam marks
        db.session.remove()
        _execute(connection, f"UPDATE exam_sitting SET points = NULL, score_cents = NULL WHERE exam_id = {exam_id}")
        criterion, marker = _one(connection, f"SELECT criterion_id, marker_id FROM exam WHERE id = {exam_id}")
        for table in ("mark_change", "mark"):
            _execute(connection, f"DELETE FROM {table} WHERE criterion_id = {criterion} AND judge_id = {marker}")

    def regrade() -> int:
        return grading.regrade(db.session.get(Exam, exam_id), None, "benchmark")

    first = median_time(regrade, runs=RUNS, warmup=0, before=reset)
    changed = _count(connection, f"SELECT count(*) FROM exam_sitting WHERE exam_id = {exam_id} AND points IS NOT NULL")
    again = median_time(regrade, runs=RUNS, warmup=1, before=db.session.remove)
    floor_seconds, floor_total, split = _floor_run(connection, exam_id)
    if changed != CANDIDATES or floor_total != _graded_total(connection, exam_id):
        raise RuntimeError(f"the regrade graded {changed} sittings, its points differ from the floor's")
    note = f"{written:,} answers; median of {RUNS}; floor: bare SELECTs + paper_from() and score() of the core"
    read, parse, score = split
    ctx_notes.append(
        f"exam regrade floor ({name}): SELECTs {read:.2f} s · papers decoded + core paper_from() {parse:.2f} s"
        f" · core score() {score:.2f} s (last run)"
    )
    return [
        Row(
            f"exam regrade, {CANDIDATES:,} marks written ({name})",
            first,
            floor_seconds,
            max_seconds=TARGET,
            note=f"{note}; every score, mark and change written",
        ),
        Row(f"exam regrade, nothing changed ({name})", again, floor_seconds, max_seconds=TARGET, note=note),
    ]


def _prepare(connection, mark: str) -> tuple[int, int]:
    """Import the competition, add the bank and exam, draw the papers, insert the finished sittings and answers."""
    from bench.examload import scenario
    from comp.exams import papers
    from comp.extensions import db
    from comp.models.types import utcnow
    from comp.services.exams.sitting import pool_for
    from comp.services.exchange import import_competition

    competition = import_competition(scenario.document(CODE, CANDIDATES, with_ids=False))
    exam = scenario.make_exam(competition, scenario.make_bank(competition.trade), EXAM_CODE)
    db.session.commit()
    pool = pool_for(exam)
    keys = {item.ref: item for item in pool}
    blueprint, competition_id, exam_id, seed = (
        papers.parse_blueprint(exam.blueprint),
        competition.id,
        exam.id,
        exam.seed,
    )
    db.session.remove()  # the bare inserts follow; the regrade starts from a fresh session
    entrants = _rows(connection, f"SELECT id, ref FROM entrant WHERE competition_id = {competition_id} ORDER BY id")
    now = utcnow()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if mark == "?" else now  # as SQLAlchemy stores a DateTime
    sittings = []
    for entrant_id, ref in entrants:
        paper = papers.paper_data(papers.draw(blueprint, pool, seed, ref))
        sittings.append(
            (exam_id, entrant_id, json.dumps(paper), stamp, stamp, 0, f"dev-{ref}", stamp, 0, stamp, "candidate")
        )
    columns = "exam_id, entrant_id, paper, started_at, deadline, extra_minutes, device, last_seen_at,"
    columns += " focus_losses, finished_at, finished_by"
    _many(connection, f"INSERT INTO exam_sitting ({columns}) VALUES ({', '.join([mark] * 11)})", sittings)
    ids = dict(_rows(connection, f"SELECT entrant_id, id FROM exam_sitting WHERE exam_id = {exam_id}"))
    rng, answers = random.Random(2026), []
    for (entrant_id, _ref), (_, _, paper, *_rest) in zip(entrants, sittings, strict=True):
        for position, entry in enumerate(json.loads(paper)):
            answers.append((ids[entrant_id], position, _response(rng, keys[entry["v"]]), 1, stamp))
    insert = (
        f"INSERT INTO exam_answer (sitting_id, position, response, version, saved_at) VALUES ({', '.join([mark] * 5)})"
    )
    _many(connection, insert, answers)
    return exam_id, len(answers)


def _response(rng: random.Random, item) -> str:
    """Return a stored response: the key about two thirds of the time, else another answer the item takes."""
    if rng.random() < RIGHT_SHARE:
        return item.answer
    if item.kind == "truefalse":
        return "TF"[item.answer == "T"]
    letters = "ABCDEFGH"[: len(item.options)]
    if item.kind == "single":
        return rng.choice(letters)
    return "".join(sorted(rng.sample(letters, rng.randint(1, len(letters)))))


def _floor_run(connection, exam_id: int) -> tuple[float, Fraction, tuple[float, float, float]]:
    """Return the floor's median seconds, the points it totals (to compare), and its last run's split."""
    found: dict[str, tuple] = {}

    def run() -> None:
        found["last"] = _floor(connection, exam_id)

    seconds = median_time(run, runs=RUNS)
    return seconds, *found["last"]


def _floor(connection, exam_id: int) -> tuple[Fraction, tuple[float, float, float]]:
    """Read the papers, answers and keys bare, score every paper with the core; return the total and the split.

    The split: seconds reading, parsing the papers (`paper_from`), scoring (`score`).
    """
    from comp.exams import grading, papers
    from comp.exams.types import Item

    start = time.perf_counter()
    blueprint = _one(connection, f"SELECT blueprint FROM exam WHERE id = {exam_id}")[0]
    multiple = papers.parse_blueprint(_json(blueprint)).multiple
    papers_sql = f"SELECT id, CAST(paper AS TEXT) FROM exam_sitting WHERE exam_id = {exam_id} ORDER BY id"
    sittings = _rows(connection, papers_sql)
    responses: dict[int, dict[int, str]] = {sid: {} for sid, _ in sittings}
    for sid, position, response in _rows(
        connection,
        "SELECT a.sitting_id, a.position, a.response FROM exam_answer a"
        f" JOIN exam_sitting s ON s.id = a.sitting_id WHERE s.exam_id = {exam_id}",
    ):
        responses[sid][position] = response
    items = {
        ref: Item(ref=ref, kind=kind, options=tuple(_json(options)), answer=answer)
        for ref, kind, options, answer in _rows(
            connection,
            "SELECT v.id, v.kind, v.options, v.answer FROM question_version v JOIN question q ON q.id = v.question_id"
            f" JOIN exam e ON e.bank_id = q.bank_id WHERE e.id = {exam_id}",
        )
    }
    read = time.perf_counter()
    # Each paper decoded and scored in turn, as the regrade does: holding all 2,000 decoded papers at once
    # costs the garbage collector more than the scoring, and the floor is meant to be a lower bound.
    total, parse, scoring = Fraction(0), 0.0, 0.0
    for sid, paper in sittings:
        began = time.perf_counter()
        drawn = papers.paper_from(_json(paper))
        parsed = time.perf_counter()
        total += grading.score(items, drawn, responses[sid], multiple)
        parse, scoring = parse + parsed - began, scoring + time.perf_counter() - parsed
    return total, (read - start, parse, scoring)


def _graded_total(connection, exam_id: int) -> Fraction:
    """Return the sum of the points the regrade stored."""
    rows = _rows(connection, f"SELECT points FROM exam_sitting WHERE exam_id = {exam_id}")
    return sum((Fraction(points) for (points,) in rows), Fraction(0))


# Bare database calls for either driver: sqlite3 ("?") or psycopg ("%s"), both in autocommit.


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _rows(connection, sql: str) -> list[tuple]:
    return [tuple(row) for row in connection.execute(sql).fetchall()]


def _one(connection, sql: str) -> tuple:
    return tuple(connection.execute(sql).fetchone())


def _count(connection, sql: str) -> int:
    return int(_one(connection, sql)[0])


def _execute(connection, sql: str) -> None:
    connection.execute(sql)
    if isinstance(connection, sqlite3.Connection) and connection.in_transaction:
        connection.commit()


def _many(connection, sql: str, rows: list[tuple]) -> None:
    if isinstance(connection, sqlite3.Connection):
        connection.execute("BEGIN")
        connection.executemany(sql, rows)
        connection.execute("COMMIT")
    else:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
