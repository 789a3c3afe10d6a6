"""`python -m bench.examload`: a mass preliminary's answer saves against gunicorn on PostgreSQL, then the floor.

1. A scratch database (`--db`, dropped afterwards) is migrated with `flask db upgrade`; a running
   competition of `--candidates` checked-in candidates with ID numbers, a bank and a ready 100-item
   exam (70 single, 10 multiple, 20 true/false) are set up (`bench.examload.seed`).
2. `gunicorn -w 2 wsgi:app` (production settings): every candidate is admitted as a phone is (the
   admission page, exam code + ID number, the start, which draws her paper), before the clock runs.
3. Open loop, `--duration` s: each candidate saves an answer about every `--interval` s, some
   changing an earlier one, as exam.js posts it; `--kills` workers are killed with SIGKILL at even
   intervals and the outboxes re-send what failed.
4. Closed loop, `--burst` s: `--concurrency` threads save back to back — the most the app answers.
5. The ledger of acknowledged saves is checked against exam_answer.
6. The same closed loop against `gunicorn -w 2 bench.examload.floor:app`, the bare upsert; its ledger
   is checked too. Ratio = app saves/s ÷ floor saves/s.

Prints lost, wrong, 5xx, offered and achieved saves/s, the latencies, the ratio, the capacity of
this machine and a projection for more app servers sharing PostgreSQL, and the load average.
Exits 1 only when a save was lost or wrong, the app answered 5xx, or the harness failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from bench.examload import floor, report, runner
from bench.examload.clients import AppTarget, Candidate, FloorTarget, Question
from bench.loadtest.__main__ import _app_env, _run, _say
from bench.loadtest.clients import Ledger, Phase
from bench.loadtest.server import Gunicorn, ScratchDatabase, conninfo, cpu_snapshot

GRACE = 15.0  # seconds after a phase for the outboxes to drain (the backoff: 1 + 2 + 4 + 8 s)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.examload", description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", "-n", type=int, default=2000, help="candidates (default 2000)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between a candidate's saves (10)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the open-loop phase (30)")
    parser.add_argument("--burst", type=float, default=12.0, help="seconds of each closed-loop phase (12)")
    parser.add_argument("--concurrency", type=int, default=6, help="closed-loop threads (6)")
    parser.add_argument("--threads", type=int, default=64, help="the open loop's sending threads (64)")
    parser.add_argument("--kills", type=int, default=1, help="workers killed with SIGKILL in the open loop (1)")
    parser.add_argument("--changes", type=float, default=0.15, help="share of saves changing an earlier answer")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, app and floor alike (2)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (no ratio)")
    parser.add_argument(
        "--gunicorn-args",
        default=os.environ.get("GUNICORN_CMD_ARGS", ""),
        help='more gunicorn options for app and floor, e.g. "--preload" (passed as GUNICORN_CMD_ARGS)',
    )
    parser.add_argument("--pg-cores", type=int, default=os.cpu_count() or 1, help="PostgreSQL's cores (projection)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("LOADTEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database (LOADTEST_PG)",
    )
    parser.add_argument("--db", default="examload_run", help="scratch database, created and dropped")
    parser.add_argument("--keep-db", action="store_true", help="keep the scratch database for inspection")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the choices and the kills")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the phases, check the ledgers, print the figures; 1 on a lost or wrong save, a 5xx or a harness failure."""
    args = _parser().parse_args(argv)
    started = time.monotonic()
    database = ScratchDatabase(args.pg, args.db, keep=args.keep_db)
    workdir = Path(tempfile.mkdtemp(prefix="jiangxin-examload-"))
    run = report.Run(args)
    try:
        database.create()
        run.pg_version = database.version()
        # As deploy/gunicorn.conf.py: no control socket (gunicorn's default path is one per user, shared by runs).
        extra = f"--no-control-socket {args.gunicorn_args}".strip()
        env = _app_env(database.url, workdir) | {"GUNICORN_CMD_ARGS": extra}
        dsn = conninfo(database.url)
        _say(f"scratch database {args.db}: migrating and setting up {args.candidates} candidates …")
        _run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
        seed = json.loads(
            _run(
                [
                    sys.executable,
                    "-m",
                    "bench.examload.seed",
                    f"EXL-{secrets.token_hex(3).upper()}",
                    str(args.candidates),
                ],
                env,
            )
        )
        run.setup = time.monotonic() - started
        candidates = [Candidate(0, i, c["ref"], c["id_number"], args.seed) for i, c in enumerate(seed["candidates"])]
        _app(args, run, env, dsn, seed, candidates)
        if not args.no_floor and not run.harness:
            _floor(args, run, env, dsn, candidates)
    except Exception as error:
        run.harness.append(f"{type(error).__name__}: {error}")
        traceback.print_exc()
    finally:
        try:
            database.drop()
        except Exception as error:
            run.harness.append(f"the scratch database was not dropped: {error}")
    run.elapsed = time.monotonic() - started
    status = report.print_run(run)
    if status:
        _say(f"server logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def _app(args, run: report.Run, env: dict, dsn: str, seed: dict, candidates: list[Candidate]) -> None:
    """Admit everyone, run the open loop with the kills and the closed loop, check the ledger."""
    server = Gunicorn("wsgi:app", env, Path(env["JIANGXIN_INSTANCE"]) / "app.log", args.workers)
    target, ledger = AppTarget(seed["exam"]), Ledger()
    _say("app: starting gunicorn …")
    server.start("/exam")
    try:
        _say(f"app: admitting {len(candidates)} candidates (admission page, code + ID number, start) …")
        begun = time.monotonic()
        for candidate in candidates:
            candidate.use_port(server.port)
        with ThreadPoolExecutor(8) as pool:
            steps = list(pool.map(lambda c: c.admit(seed["exam"]), candidates))
        run.admission = time.monotonic() - begun
        run.steps = tuple(sum(s[k] for s in steps) / len(steps) for k in range(3))
        _papers(dsn, seed["exam_id"], candidates)
        _say(f"app: open loop, {len(candidates)} candidates every {args.interval:g} s for {args.duration:.0f} s …")
        phase = Phase(args.duration, GRACE)
        cpu = cpu_snapshot(server)
        phase.start()
        killer = _killer(server, phase, args)
        record, offered = runner.open_loop(
            candidates,
            target,
            ledger,
            phase,
            interval=args.interval,
            changes=args.changes,
            threads=args.threads,
            seed=args.seed,
        )
        killer.join()
        run.open = report.Figures("app, open loop", args.duration, record, _cpu(server, cpu, phase), os.getloadavg())
        run.open.offered = offered
        run.open.kills = list(server.kills)
        run.open.unsent = runner.unsent(candidates)
        _say(f"app: closed loop, {args.concurrency} threads for {args.burst:.0f} s …")
        run.closed = _burst("app, closed loop", server, candidates, target, ledger, args)
        run.tracebacks = server.tracebacks()
    finally:
        server.stop()
    run.verdict = runner.verify(ledger, _held(dsn, seed["exam_id"]))


def _floor(args, run: report.Run, env: dict, dsn: str, candidates: list[Candidate]) -> None:
    """Run the same closed loop against the bare upsert and check its ledger."""
    floor.create_table(dsn)
    log = Path(env["JIANGXIN_INSTANCE"]) / "floor.log"
    server = Gunicorn("bench.examload.floor:app", {**env, "LOADTEST_FLOOR_DSN": dsn}, log, args.workers)
    ledger = Ledger()
    _say("floor: starting gunicorn …")
    server.start("/ping")
    try:
        for candidate in candidates:
            candidate.forget()
            candidate.use_port(server.port)
        _say(f"floor: closed loop, {args.concurrency} threads for {args.burst:.0f} s …")
        run.floor = _burst("floor, closed loop", server, candidates, FloorTarget(), ledger, args)
    finally:
        server.stop()
    run.floor_verdict = runner.verify(ledger, floor.held(dsn))


def _burst(name: str, server: Gunicorn, candidates, target, ledger: Ledger, args) -> report.Figures:
    phase = Phase(args.burst, GRACE)
    cpu = cpu_snapshot(server)
    phase.start()
    record = runner.closed_loop(candidates, target, ledger, phase, concurrency=args.concurrency, changes=args.changes)
    figures = report.Figures(name, args.burst, record, _cpu(server, cpu, phase), os.getloadavg())
    figures.unsent = runner.unsent(candidates)
    return figures


def _cpu(server: Gunicorn, before: dict[str, float], phase: Phase) -> dict[str, float]:
    after = cpu_snapshot(server)
    return {**{key: after[key] - before[key] for key in after}, "wall": phase.now()}


def _killer(server: Gunicorn, phase: Phase, args):
    """Start the thread that kills `--kills` workers at even intervals of the open loop."""
    import threading

    rng = _Busy(args.seed, server.port)

    def kill() -> None:
        for k in range(1, args.kills + 1):
            time.sleep(max(0.0, args.duration * k / (args.kills + 1) - phase.now()))
            rng.cut = False
            pid = server.kill_worker(rng, round(phase.now(), 1))
            _say(
                f"app: killed worker {pid} at {phase.now():.1f} s" + (" holding a connection" if rng.cut else " (idle)")
            )

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


class _Busy(random.Random):
    """Choose a worker holding a client's connection (mid-request) when one does within 2 s: the kill cuts a save."""

    def __init__(self, seed: int, port: int):
        super().__init__(seed)
        self.port, self.cut = port, False

    def choice(self, workers):
        """Return a worker serving a request, else one at random."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            for pid in workers:
                if _serving(pid, self.port):
                    self.cut = True
                    return pid
            time.sleep(0.001)
        return super().choice(workers)


def _serving(pid: int, port: int) -> bool:
    """Tell whether the process holds an established connection on `port` (a request it is answering)."""
    try:
        inodes = {
            os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1]
            for fd in os.listdir(f"/proc/{pid}/fd")
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        }
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    local = f":{port:04X}"
    for line in lines:
        fields = line.split()
        if fields[1].endswith(local) and fields[3] == "01" and fields[9] in inodes:
            return True
    return False


def _papers(dsn: str, exam_id: int, candidates: list[Candidate]) -> None:
    """Give each phone its paper as the page shows it: the sitting's positions, kinds, option counts, orders."""
    with psycopg.connect(dsn) as connection:
        sittings = dict(
            (entrant, (sid, paper))
            for sid, entrant, paper in connection.execute(
                "SELECT id, entrant_id, paper FROM exam_sitting WHERE exam_id = %s", (exam_id,)
            )
        )
        kinds = {
            vid: (kind, len(options or []))
            for vid, kind, options in connection.execute("SELECT id, kind, options FROM question_version")
        }
        entrants = dict(connection.execute("SELECT ref, id FROM entrant").fetchall())
    missing = [c.ref for c in candidates if entrants.get(c.ref) not in sittings]
    if missing:
        raise RuntimeError(f"{len(missing)} candidates have no sitting after the start, e.g. {missing[0]}")
    for candidate in candidates:
        candidate.sitting, paper = sittings[entrants[candidate.ref]]
        candidate.paper = [Question(*kinds[int(e["v"])], tuple(e.get("o") or ())) for e in paper]


def _held(dsn: str, exam_id: int) -> dict[tuple, tuple[int, str]]:
    """Return the exam's answers: (sitting, position) → (version, stored response)."""
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT a.sitting_id, a.position, a.version, a.response FROM exam_answer a"
            " JOIN exam_sitting s ON s.id = a.sitting_id WHERE s.exam_id = %s",
            (exam_id,),
        ).fetchall()
    return {(s, p): (v, r) for s, p, v, r in rows}


if __name__ == "__main__":
    sys.exit(main())
