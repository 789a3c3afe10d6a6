"""Benchmark 1: import a 10,000-entrant competition, then compute its results document."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import statistics
from pathlib import Path

from bench import Row, clock, floors, median_time, synthetic
from bench.context import Context

PROFILE_PATH = Path("/tmp/jiangxin-bench-profile.txt")
RUNS = 5
PHASE_RUNS = 3


def import_time(ctx: Context) -> list[Row]:
    """Time `import_competition` against one executemany INSERT of the same mark rows."""
    ctx.competition()
    floor, rows = floors.insert_marks(ctx.sqlite(), ctx.competition_id)
    return [
        Row(
            f"import ({ctx.entrants:,} entrants, {rows:,} marks)",
            ctx.import_seconds,
            floor,
            note="floor: executemany INSERT of the same rows into a copy of mark",
        )
    ]


def results_time(ctx: Context) -> list[Row]:
    """Time `results.document` cold (computed) and warm (shared), against the one GROUP BY of every mark."""
    from comp.services import results

    cid = ctx.competition().id
    connection = ctx.sqlite()
    fresh = {}

    def reload(cold: bool):
        if cold:  # the shared computation is forgotten: the next call computes and stores it
            connection.execute("DELETE FROM computed WHERE competition_id = ?", (cid,))
            connection.commit()
        fresh["competition"] = ctx.competition()

    cold = median_time(lambda: results.document(fresh["competition"]), runs=RUNS, before=lambda: reload(True))
    warm = median_time(lambda: results.document(fresh["competition"]), runs=RUNS, before=lambda: reload(False))
    floor = floors.query(connection, floors.SUMMARY_SQL, (cid,), runs=RUNS)
    rows = [
        Row(
            "results.document, cold (computed and stored)",
            cold,
            floor,
            max_seconds=2,
            max_ratio=3,
            note=f"median of {RUNS}; floor: one GROUP BY, fetched",
        ),
        Row(
            "results.document, warm (stored, once per stamp)",
            warm,
            floor,
            max_seconds=0.05,
            note=f"median of {RUNS}; the stamp query and the stored document, decoded",
        ),
    ]
    rows += _phases(ctx, connection, cold)
    ctx.notes.append(f"profile of one cold results.document run: {_profile(ctx, connection)}")
    return rows


PHASES = {
    "load": "scheme, rules, entrants (ORM)",
    "marks": "marks read once → summaries + bias sums",
    "engine": "scoring.compute (pure engine)",
    "document": "results document (dicts)",
}
# The steps results.document takes; the breakdown is skipped if they are renamed.
STEPS = ("load", "read_marks", "document_from")


def _phases(ctx: Context, connection, whole: float) -> list[Row]:
    """Break results.document into its steps; each step's floor is its SQL, replayed bare."""
    from comp.services import results

    missing = [name for name in STEPS if not hasattr(results, name)]
    if missing:
        ctx.notes.append(f"breakdown skipped: comp.services.results has no {', '.join(missing)}")
        return []
    times, sql = _time_phases(ctx)
    rows = []
    for name, label in PHASES.items():
        seconds, queries = statistics.median(times[name]), len(sql[name])
        rows.append(
            Row(
                f"  · {label}",
                seconds,
                floors.replay(connection, sql[name], PHASE_RUNS),
                note=f"{100 * seconds / whole:.0f}% of the whole; {queries} quer{'y' if queries == 1 else 'ies'}",
            )
        )
    total_sql = floors.replay(connection, [q for name in PHASES for q in sql[name]], PHASE_RUNS)
    rows.append(
        Row(
            "  · all its SQL, replayed bare",
            total_sql,
            note=f"{100 * total_sql / whole:.0f}% of the whole; steps: median of "
            f"{PHASE_RUNS}, floor = their SQL replayed via sqlite3",
        )
    )
    return rows


def _time_phases(ctx: Context) -> tuple[dict[str, list[float]], dict[str, list]]:
    """Run the steps of results.document PHASE_RUNS times; return their times and their SQL."""
    from comp import scoring
    from comp.extensions import db
    from comp.services import results

    times: dict[str, list[float]] = {name: [] for name in PHASES}
    sql: dict[str, list] = {name: [] for name in PHASES}

    def take(name, work):
        with floors.captured_sql(db.engine) as seen:
            seconds, value = clock(work)
        times[name].append(seconds)
        sql[name] = seen
        return value

    for _ in range(PHASE_RUNS):
        competition = ctx.competition()
        gc.collect()
        loaded = take("load", lambda c=competition: results.load(c))
        summaries, bias = take("marks", lambda c=competition, d=loaded: results.read_marks(c, d))
        outcome = take(
            "engine", lambda d=loaded, s=summaries, b=bias: scoring.compute(d.scheme, d.rules, d.entrants, s, b)
        )
        take("document", lambda c=competition, d=loaded, o=outcome: results.document_from(c, d, o))
    return times, sql


def _profile(ctx: Context, connection) -> Path:
    """Profile one cold results.document run; write the top 15 by cumulative and by own time."""
    from comp.services import results

    competition = ctx.competition()
    connection.execute("DELETE FROM computed WHERE competition_id = ?", (competition.id,))
    connection.commit()
    profiler = cProfile.Profile()
    profiler.runcall(results.document, competition)
    out = io.StringIO()
    out.write(
        f"results.document, {ctx.entrants:,} entrants, {synthetic.mark_count(ctx.data):,}"
        " marks (times include cProfile's overhead)\n\n"
    )
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(15)
    stats.sort_stats("tottime").print_stats(15)
    PROFILE_PATH.write_text(out.getvalue(), encoding="utf-8")
    return PROFILE_PATH
