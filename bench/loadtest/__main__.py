"""`python -m bench.loadtest`: judges and hall screens against gunicorn on PostgreSQL, then the floor.

1. A scratch database (`--db`, dropped afterwards) is migrated with `flask db upgrade`, and a
   running competition of `--entrants` entrants and `--judges` judges, no marks, is set up
   through the app's services (`bench.loadtest.seed`).
2. App phase: `gunicorn -w 2 wsgi:app` (production settings, `REDIS_URL` passed through when
   set); the judges log in, then for `--duration` seconds mark as tablets do while `--screens`
   hall screens poll the live board every `--poll` seconds; `--kills` workers are killed with
   SIGKILL at even intervals, and the clients' outboxes re-send what failed. Afterwards the
   ledger of acknowledged saves is checked against the database.
3. Floor phase: the same judges, the same client code and the same kills against
   `gunicorn -w 2 bench.loadtest.app_floor:app`, the bare Flask + psycopg equivalent of each
   request, on a table of its own; its ledger is checked too.

Prints the figures, the ratio of saves a second app/floor, and issue 14's goals as met or not.
Exits 1 only when a save was lost or wrong, the app answered 5xx, or the harness failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench.loadtest import app_floor, check
from bench.loadtest.clients import AppTarget, FloorTarget, Judge, Ledger, Phase, Scale, Screen, Seat, Stats
from bench.loadtest.server import ROOT, Gunicorn, ScratchDatabase, conninfo, cpu_snapshot, forget_in_redis

PASSWORD = "loadtest judge password 2026"
GRACE = 15.0  # seconds after a phase for outboxes to drain (the backoff: 1 + 2 + 4 + 8 s)
GOALS = (  # issue 14, with 20 judges and 10 screens on this machine
    ("ratio to the floor ≥ 0.30", "ratio", 0.30, ">="),
    ("save p99 ≤ 250 ms", "save_p99", 0.250, "<="),
    ("board p95 ≤ 100 ms", "board_p95", 0.100, "<="),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--judges", type=int, default=20, help="judge clients (default 20)")
    parser.add_argument("--screens", type=int, default=10, help="hall screens in the app phase (default 10)")
    parser.add_argument("--entrants", type=int, default=200, help="entrants of the competition (default 200)")
    parser.add_argument("--duration", type=float, default=35.0, help="seconds of the app phase (default 35)")
    parser.add_argument("--floor-duration", type=float, help="seconds of the floor phase (default: --duration)")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between a screen's polls (page: 2)")
    parser.add_argument("--kills", type=int, default=1, help="workers killed with SIGKILL per phase (default 1)")
    parser.add_argument("--corrections", type=float, default=0.1, help="share of saves typed again (default 0.1)")
    parser.add_argument("--think", type=float, default=0.0, help="ms a judge waits between marks (default 0)")
    parser.add_argument(
        "--saves-only", action="store_true", help="no sheet or tally reads: saves alone, as issue 14's table measured"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, app and floor alike (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker; above 1 gunicorn's gthread")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor phase (no ratio)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("LOADTEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database (LOADTEST_PG)",
    )
    parser.add_argument("--db", default="jiangxin_load", help="scratch database, created and dropped")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database for inspection")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the typed values and the kills")
    return parser


@dataclass
class Result:
    """One phase's figures."""

    name: str
    duration: float
    stats: Stats = field(default_factory=Stats)
    ledger: Ledger = field(default_factory=Ledger)
    verdict: check.Verdict | None = None
    kills: list = field(default_factory=list)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    notes: list[str] = field(default_factory=list)
    tracebacks: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used during the phase, by whom

    def samples(self, kind: str, ok=lambda status: status == 200) -> list[tuple[float, float, int]]:
        return [s for s in self.stats.samples.get(kind, []) if ok(s[2])]

    @property
    def saves_per_second(self) -> float:
        return sum(1 for t, _, _ in self.samples("save") if t <= self.duration) / self.duration

    def quantile(self, kind: str, q: float, ok=lambda status: status == 200) -> float | None:
        seconds = sorted(s for _, s, _ in self.samples(kind, ok))
        if not seconds:
            return None
        return seconds[min(len(seconds) - 1, max(0, int(q * len(seconds) + 0.999999) - 1))]

    def count(self, kind: str, ok) -> int:
        return len(self.samples(kind, ok))

    @property
    def server_errors(self) -> int:
        return sum(1 for rows in self.stats.samples.values() for _, _, status in rows if status >= 500)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    rng = random.Random(args.seed)
    database = ScratchDatabase(args.pg, args.db, keep=args.keep_db)
    workdir = Path(tempfile.mkdtemp(prefix="jiangxin-load-"))
    results: list[Result] = []
    harness: list[str] = []
    pg_version = "?"
    setup_seconds = 0.0
    competition_id = None
    try:
        database.create()
        pg_version = database.version()
        env = _app_env(database.url, workdir)
        _say(f"scratch database {args.db}: migrating and setting up the competition …")
        _run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
        # Not id 1 every run: with REDIS_URL, boards are kept per competition id in a Redis others may share.
        database.start_ids_at("competition", rng.randrange(1_000_000, 2_000_000_000))
        code = f"LOAD-{secrets.token_hex(3).upper()}"  # new per run: one run is told from another in logs
        seed = json.loads(
            _run(
                [sys.executable, "-m", "bench.loadtest.seed", code, str(args.entrants), str(args.judges), PASSWORD], env
            )
        )
        setup_seconds = time.monotonic() - started
        competition_id = seed["competition_id"]
        seats = [Seat(s["username"], s["id"], s["criteria"]) for s in seed["judges"]]
        scales = {
            int(cid): Scale(Decimal(c["max"]), Decimal(c["step"]) if c["step"] else None)
            for cid, c in seed["criteria"].items()
        }
        app = Gunicorn("wsgi:app", env, workdir / "app.log", args.workers, args.threads)
        results.append(
            _phase("app", app, "/login", AppTarget(code, PASSWORD), seats, seed, scales, args, rng, args.duration)
        )
        app_result = results[-1]
        held = check.app_marks(conninfo(database.url), seed["competition_id"])
        app_result.verdict = check.check(app_result.ledger, held)
        app_result.notes += check.audit_notes(conninfo(database.url), seed["competition_id"], app_result.ledger, held)
        app_result.tracebacks = app.tracebacks()
        if not args.no_floor:
            app_floor.create_table(conninfo(database.url))
            floor_env = {**env, "LOADTEST_FLOOR_DSN": conninfo(database.url)}
            floor_log = workdir / "floor.log"
            floor = Gunicorn("bench.loadtest.app_floor:app", floor_env, floor_log, args.workers, args.threads)
            duration = args.floor_duration or args.duration
            results.append(
                _phase("floor", floor, "/ping", FloorTarget(), seats, seed, scales, args, rng, duration, screens=0)
            )
            floor_result = results[-1]
            floor_result.verdict = check.check(
                floor_result.ledger, check.floor_marks(conninfo(database.url), app_floor.TABLE)
            )
            floor_result.tracebacks = floor.tracebacks()
    except Exception as error:
        harness.append(f"{type(error).__name__}: {error}")
        traceback.print_exc()
    finally:
        try:
            if os.environ.get("REDIS_URL") and competition_id is not None:
                forget_in_redis(os.environ["REDIS_URL"], competition_id)
            database.drop()
        except Exception as error:
            harness.append(f"the scratch database was not dropped: {error}")
        if (harness or any(r.stats.errors for r in results)) and any(workdir.glob("*.log")):
            _say(f"server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return _report(args, results, harness, pg_version, setup_seconds, time.monotonic() - started)


def _app_env(url: str, instance: Path) -> dict[str, str]:
    """Production settings with throw-away keys; REDIS_URL comes through from the caller's environment."""
    return {
        **os.environ,
        "JIANGXIN_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CERT_KEY": secrets.token_urlsafe(48),
        "DATA_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "JIANGXIN_INSTANCE": str(instance),
    }


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _phase(name, server, probe, target, seats, seed, scales, args, rng, duration, screens=None) -> Result:
    """Start the server, log the judges in, run the clients for `duration` with the kills, stop everything."""
    result = Result(name, duration)
    phase = Phase(duration, GRACE)
    entrants = seed["entrants"]
    judges = [
        Judge(
            target,
            server.port,
            seat,
            entrants,
            scales,
            first=i * len(entrants) // max(1, len(seats)),  # judges start at different stations
            phase=phase,
            ledger=result.ledger,
            seed=args.seed * 1000 + i,
            corrections=args.corrections,
            reads=not args.saves_only,
            think=args.think / 1000,
        )
        for i, seat in enumerate(seats[: args.judges])
    ]
    count = args.screens if screens is None else screens
    hall = [Screen(server.port, seed["code"], args.poll, phase, args.poll * i / max(1, count)) for i in range(count)]
    _say(f"{name} phase: starting gunicorn …")
    server.start(probe)
    try:
        for client in judges + hall:
            client.start()
        for client in judges + hall:
            client.ready.wait(60)
        _say(f"{name} phase: {len(judges)} judges, {len(hall)} screens for {duration:.0f} s …")
        cpu = cpu_snapshot(server)
        phase.start()
        for k in range(1, args.kills + 1):
            at = duration * k / (args.kills + 1)
            time.sleep(max(0.0, at - phase.now()))
            pid = server.kill_worker(rng, round(phase.now(), 1))
            _say(f"{name} phase: killed worker {pid} at {phase.now():.1f} s")
        for client in judges + hall:
            client.join(max(0.1, duration + GRACE + 10 - phase.now()))
        result.load = os.getloadavg()
        result.cpu = {key: value - cpu[key] for key, value in cpu_snapshot(server).items()}
        result.cpu["wall"] = phase.now()
        stuck = [client.name for client in judges + hall if client.is_alive()]
        if stuck:
            result.stats.errors.append(f"clients still running after the phase: {', '.join(stuck)}")
    finally:
        server.stop()
    for client in judges + hall:
        result.stats.merge(client.stats)
    result.kills = server.kills
    return result


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def _report(args, results: list[Result], harness: list[str], pg: str, setup: float, elapsed: float) -> int:
    redis = "REDIS_URL set (boards and rate limits in Redis)" if os.environ.get("REDIS_URL") else "no REDIS_URL"
    worker = f"gthread × {args.threads}" if args.threads > 1 else "sync"
    print(
        f"Jiangxin load test · Python {platform.python_version()} · PostgreSQL {pg} · gunicorn -w {args.workers}"
        f" ({worker}) · {os.cpu_count()} cores · {redis}"
    )
    mix = "saves only" if args.saves_only else "sheet, save answered with the tally (as the tablet)"
    print(
        f"setup: {args.entrants} entrants, {args.judges} judges, running, no marks · {setup:.1f} s"
        f" · client mix: {mix}, {args.corrections:.0%} of marks typed again"
    )
    by_name = {r.name: r for r in results}
    for r in results:
        _phase_report(r)
    app, floor = by_name.get("app"), by_name.get("floor")
    ratio = None
    if app and floor and floor.saves_per_second:
        ratio = app.saves_per_second / floor.saves_per_second
    problems = list(harness)
    for r in results:
        problems += r.stats.errors[:5]
        if len(r.stats.errors) > 5:
            problems.append(f"… and {len(r.stats.errors) - 5} more client errors in the {r.name} phase")
        if r.ledger.unsent:
            problems.append(f"{len(r.ledger.unsent)} saves still in an outbox when the {r.name} phase ended")
    if floor and floor.verdict and (floor.verdict.lost or floor.verdict.wrong or floor.server_errors):
        problems.append("the floor lost or changed saves, or answered 5xx: the harness is not to be trusted")
    lost = app.verdict.lost if app and app.verdict else None
    wrong = app.verdict.wrong if app and app.verdict else None
    five = app.server_errors if app else None
    print()
    print(f"lost {lost if lost is not None else '—'} · wrong {wrong if wrong is not None else '—'} · 5xx {five}")
    if app:
        print(
            f"saves/s {app.saves_per_second:.1f} · save p50 {_ms(app.quantile('save', 0.5))}"
            f" p95 {_ms(app.quantile('save', 0.95))} p99 {_ms(app.quantile('save', 0.99))}"
            f" · board p95 {_ms(app.quantile('board', 0.95, lambda s: s in (200, 204)))}"
        )
    if ratio is not None:
        print(f"ratio app/floor {ratio:.2f} ({app.saves_per_second:.1f} / {floor.saves_per_second:.1f} saves/s)")
    if app:
        print(f"load average at the end of the app phase: {' '.join(f'{x:.2f}' for x in app.load)} (1, 5, 15 min)")
        figures = {
            "ratio": ratio,
            "save_p99": app.quantile("save", 0.99),
            "board_p95": app.quantile("board", 0.95, lambda s: s in (200, 204)),
        }
        print(f"goals (issue 14; measured with {args.judges} judges, {args.screens} screens):")
        for label, key, goal, sense in GOALS:
            value = figures[key]
            if value is None:
                print(f"  {label:<28} —        not measured")
                continue
            met = value >= goal if sense == ">=" else value <= goal
            shown = f"{value:.2f}" if key == "ratio" else _ms(value)
            print(f"  {label:<28} {shown:<8} {'met' if met else 'NOT MET'}")
    for problem in problems:
        print(f"harness: {problem}")
    failed = bool(problems) or app is None or app.verdict is None or bool(lost or wrong or five)
    print(f"whole run {elapsed:.0f} s · {'FAILED' if failed else 'ok'} (speed goals are reported, not enforced)")
    return 1 if failed else 0


def _phase_report(r: Result) -> None:
    print(f"\n{r.name} phase, {r.duration:.0f} s:")
    saves = r.samples("save")
    print(
        f"  saves      {len(saves)} answered ({r.saves_per_second:.1f}/s in the phase)"
        f" · p50 {_ms(r.quantile('save', 0.5))} p95 {_ms(r.quantile('save', 0.95))}"
        f" p99 {_ms(r.quantile('save', 0.99))} max {_ms(r.quantile('save', 1.0))}"
    )
    states = Counter({k: v for k, v in r.stats.states.items() if not k.startswith("board")})
    print("  answers    " + " · ".join(f"{state} {n}" for state, n in sorted(states.items())))
    for kind in ("sheet", "tally"):
        if r.samples(kind):
            print(
                f"  {kind:<10} {len(r.samples(kind))} · p50 {_ms(r.quantile(kind, 0.5))}"
                f" p95 {_ms(r.quantile(kind, 0.95))}"
            )
    polls = r.samples("board", lambda s: True)
    if polls:
        ok = lambda s: s in (200, 204)  # noqa: E731
        print(
            f"  board      {len(polls)} polls: {r.count('board', lambda s: s == 200)} × 200,"
            f" {r.count('board', lambda s: s == 204)} × 204 · p50 {_ms(r.quantile('board', 0.5, ok))}"
            f" p95 {_ms(r.quantile('board', 0.95, ok))} · 200s p95 {_ms(r.quantile('board', 0.95))}"
        )
    for at, pid, replaced in r.kills:
        after = f"a new worker forked {replaced:.1f} s later" if replaced is not None else "NOT replaced within 15 s"
        print(f"  kill -9    worker {pid} at {at:.1f} s, {after}")
    if r.cpu:
        cpu, cores = r.cpu, os.cpu_count() or 1
        other = max(0.0, cpu["busy"] - cpu["server"] - cpu["postgres"] - cpu["clients"])
        print(
            f"  CPU        machine busy {cpu['busy'] / (cpu['wall'] * cores):.0%} of {cores} cores · server"
            f" {cpu['server']:.1f} s · PostgreSQL {cpu['postgres']:.1f} s · clients {cpu['clients']:.1f} s"
            f" · other processes {other:.1f} s"
        )
    failures = ", ".join(f"{what} {n}" for what, n in sorted(r.stats.failures.items())) or "none"
    print(f"  failures   5xx {r.server_errors} · no answer: {failures} · worker tracebacks logged {r.tracebacks}")
    if r.ledger.retried:
        answered = Counter(state for _, _, _, state in r.ledger.retried)
        print("  retries    " + " · ".join(f"answered {state} {n}" for state, n in sorted(answered.items())))
    if r.verdict:
        v = r.verdict
        print(
            f"  ledger     {v.acknowledged} acknowledged saves of {v.marks} marks: lost {v.lost} · wrong {v.wrong}"
            f" · latest version from an unanswered write {v.unanswered_committed}"
        )
        for example in v.examples:
            print(f"    {example}")
    for note in r.notes:
        print(f"  note       {note}")


if __name__ == "__main__":
    sys.exit(main())
