"""Benchmark 4: the judging day — mark saves a second, and the hall screen's idle poll.

Both run in-process through the Flask test client, on a small running competition of their
own in the shared database, beside their floors: a bare Flask route doing one sqlite3 upsert
of the same mark row, and the poll's one `SELECT version` through sqlite3.
"""

from __future__ import annotations

import copy
import gc
import statistics
import time
from decimal import Decimal

from bench import Row
from bench.context import Context

CODE = "BENCH-JUDGING"
JUDGE, ENTRANT, CRITERION = "J1", "E1", ("practical", "route")
PASSWORD = "bench judge password"
SAVES = 300  # a round: saves alternating two values, each one a real change
ROUNDS = 3
POLLS = 500
TARGET_SHARE = 0.5  # of the bare route's rate
TARGET_POLL = 0.005  # seconds

COMPETITION = {
    "format": "jiangxin.competition/1",
    "competition": {
        "code": CODE,
        "name": "基准测试竞赛",
        "kind": "competition",
        "trade": "无人机驾驶员",
        "level": "city",
        "year": 2026,
        "organizer": "基准测试单位",
        "rules": {},
    },
    "stages": [
        {
            "key": "theory",
            "name": "理论知识",
            "weight": "30",
            "criteria": [{"key": "exam", "name": "理论考试", "max": "100", "aggregation": "single"}],
        },
        {
            "key": "practical",
            "name": "实际操作",
            "weight": "70",
            "criteria": [{"key": "route", "name": "航线飞行", "max": "40", "aggregation": "mean"}],
        },
    ],
    "entrants": [
        {
            "ref": f"E{n}",
            "name": f"选手{n}",
            "employer": f"参赛单位{n}",
            "team": "",
            "status": "ok",
            "time_seconds": 600 + n,
        }
        for n in range(1, 6)
    ],
    "judges": [{"ref": "J1", "name": "基准裁判", "employer": "评审单位", "chief": True}],
    "marks": [
        {"entrant": f"E{n}", "judge": "J1", "criterion": criterion, "value": value}
        for n in range(1, 6)
        for criterion, value in (("theory.exam", str(80 + n)), ("practical.route", str(30 + n)))
    ],
}

UPSERT_SQL = """
    INSERT INTO mark (competition_id, entrant_id, judge_id, criterion_id, value_cents, version,
                      updated_at)
    VALUES (?, ?, ?, ?, ?, 1, ?)
    ON CONFLICT (entrant_id, judge_id, criterion_id)
    DO UPDATE SET value_cents = excluded.value_cents, version = mark.version + 1,
                  updated_at = excluded.updated_at"""
# What the saved mark's answer carries besides its row: the judge's tally of the entrant.
TALLY_SQL = "SELECT count(*), coalesce(sum(value_cents), 0) FROM mark WHERE entrant_id = ? AND judge_id = ?"
# The poll's one query: the competition's version and the count and last id of its mark changes.
STAMP_SQL = """
    SELECT c.version,
           (SELECT count(id) FROM mark_change WHERE competition_id = c.id),
           (SELECT max(id) FROM mark_change WHERE competition_id = c.id)
    FROM competition c WHERE c.code = ?"""


def judging_time(ctx: Context) -> list[Row]:
    """Time mark saves (HTMX POST → row fragment) and the idle live poll, each beside its floor."""
    app, ids = _judging_app(ctx)
    connection = ctx.sqlite()
    client = app.test_client()
    response = client.post("/login", data={"username": ids["username"], "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"the benchmark judge cannot log in: {response.status_code}")
    floor_client = _floor_app(connection, ids).test_client()
    mark_url = f"/judge/{CODE}/sheet/{ids['secret']}/mark/{ids['criterion_id']}"
    floor_url = f"/mark/{ids['entrant_id']}/{ids['judge_id']}/{ids['criterion_id']}"

    def app_round() -> float:
        version = _mark_version(connection, ids)
        start = time.perf_counter()
        for i in range(SAVES):
            answer = client.post(
                mark_url,
                data={"value": ("20", "21")[i % 2], "version": version},
                headers={"HX-Request": "true", "X-Tablet-Session": "bench"},
            )
            if 'data-state="saved"' not in answer.get_data(as_text=True):
                raise RuntimeError(f"save {i} was not saved: {answer.status_code}")
            version += 1
        seconds = time.perf_counter() - start
        if _mark_version(connection, ids) != version:
            raise RuntimeError("the saves did not all reach the database")
        return seconds

    def floor_round() -> float:
        start = time.perf_counter()
        for i in range(SAVES):
            if floor_client.post(floor_url, data={"value": ("20", "21")[i % 2]}).status_code != 200:
                raise RuntimeError("the bare upsert route failed")
        return time.perf_counter() - start

    saves, floor_saves = _alternate(app_round, floor_round)
    rate, floor_rate = SAVES / saves, SAVES / floor_saves

    poll_url = f"/c/{CODE}/live?v={_stamp(connection)}"
    if client.get(poll_url).status_code != 204:
        raise RuntimeError("the live board answered a poll at the current version with content")
    poll = _median_each(lambda: client.get(poll_url), POLLS)
    floor_poll = _median_each(lambda: connection.execute(STAMP_SQL, (CODE,)).fetchall(), POLLS)
    return [
        Row(
            "mark save (HTMX POST → row and tally)",
            saves / SAVES,
            floor_saves / SAVES,
            max_ratio=round(1 / TARGET_SHARE, 2),
            note=f"{rate:.0f} req/s vs floor {floor_rate:.0f} req/s"
            f" ({rate / floor_rate:.2f} of it);"
            f" ≥ {TARGET_SHARE:g} of floor; test client in-process, {SAVES} saves alternating"
            f" two values, median of {ROUNDS}; floor: bare Flask route, one sqlite3 upsert and the tally's SELECT",
        ),
        Row(
            "live poll, no change (204)",
            poll,
            floor_poll,
            max_seconds=TARGET_POLL,
            note=f"median of {POLLS}; test client in-process; floor: the stamp SELECT via sqlite3",
        ),
    ]


def _judging_app(ctx: Context):
    """Return an app without CSRF on the shared database, and the ids of the benchmark's mark.

    The running competition is imported on first use; its judge gets a password.
    """
    import sqlalchemy as sa

    from comp import create_app
    from comp.config import test_config
    from comp.extensions import db
    from comp.models import Competition, Criterion, Entrant, Stage, User
    from comp.services.exchange import import_competition, judge_username

    ctx.app  # noqa: B018 — the shared app migrates the database
    app = create_app({**test_config(f"sqlite:///{ctx.db_path}"), "WTF_CSRF_ENABLED": False})
    # Pushed for the set-up only: each request then gets its own app context, as in production.
    with app.app_context():
        competition = db.session.scalar(sa.select(Competition).where(Competition.code == CODE))
        if competition is None:
            competition = import_competition(copy.deepcopy(COMPETITION))
        competition.status = "running"
        judge = db.session.scalar(sa.select(User).where(User.username == judge_username(CODE, JUDGE)))
        judge.set_password(PASSWORD)
        db.session.commit()
        entrant = db.session.scalar(
            sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == ENTRANT)
        )
        criterion = db.session.scalar(
            sa.select(Criterion)
            .join(Stage)
            .where(Stage.competition_id == competition.id, Stage.key == CRITERION[0], Criterion.key == CRITERION[1])
        )
        ids = {
            "competition_id": competition.id,
            "entrant_id": entrant.id,
            "secret": entrant.secret_code,
            "judge_id": judge.id,
            "username": judge.username,
            "criterion_id": criterion.id,
        }
        db.session.remove()
        app.extensions["sqlalchemy"].engine.dispose()
    return app, ids


def _floor_app(connection, ids: dict):
    """Return a tiny Flask app whose one route upserts the mark via sqlite3 and answers it with the tally."""
    from flask import Flask, request

    from comp.models.types import utcnow

    floor = Flask("bench_floor")

    @floor.post("/mark/<int:entrant_id>/<int:judge_id>/<int:criterion_id>")
    def upsert(entrant_id: int, judge_id: int, criterion_id: int):
        cents = int(Decimal(request.form["value"]) * 100)
        stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores a DateTime
        connection.execute(UPSERT_SQL, (ids["competition_id"], entrant_id, judge_id, criterion_id, cents, stamp))
        count, total = connection.execute(TALLY_SQL, (entrant_id, judge_id)).fetchone()
        return f"{request.form['value']} · {count} marks, {total} cents"

    return floor


def _mark_version(connection, ids: dict) -> int:
    return connection.execute(
        "SELECT version FROM mark WHERE entrant_id = ? AND judge_id = ? AND criterion_id = ?",
        (ids["entrant_id"], ids["judge_id"], ids["criterion_id"]),
    ).fetchone()[0]


def _stamp(connection) -> str:
    version, changes, last = connection.execute(STAMP_SQL, (CODE,)).fetchone()
    return f"{version}.{changes}.{last or 0}"


def _alternate(app, floor, rounds: int = ROUNDS) -> tuple[float, float]:
    """Run the app's round and the floor's in turn, after a warm-up of each; return each median.

    Taking turns gives both the same caches and the same neighbours on a shared machine.
    """
    app(), floor()
    times: tuple[list, list] = ([], [])
    for _ in range(rounds):
        gc.collect()
        times[0].append(app())
        gc.collect()
        times[1].append(floor())
    return statistics.median(times[0]), statistics.median(times[1])


def _median_each(work, count: int) -> float:
    """Return the median seconds of `count` single calls, after a few untimed ones."""
    for _ in range(10):
        work()
    gc.collect()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
