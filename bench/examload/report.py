"""The exam load test's figures: per phase, the ledger's verdict, the ratio, the capacity and its projection."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

from bench.examload.clients import Record
from bench.loadtest.check import Verdict

P99_GOAL = 0.300  # seconds, issue 18
RATIO_GOAL = 0.30
MACHINES = (1, 2, 4, 8)


@dataclass
class Figures:
    """One phase: its record, the CPU seconds used in it by whom, the load average at its end."""

    name: str
    duration: float
    record: Record
    cpu: dict[str, float]
    load: tuple[float, float, float]
    offered: int | None = None
    kills: list = field(default_factory=list)
    unsent: int = 0

    def saves(self, within: bool = True) -> list[tuple[float, float, int]]:
        """Return the saves answered 200 (first attempts and re-sends), those within the phase by default."""
        rows = self.record.samples.get("save", []) + self.record.samples.get("retry", [])
        return [r for r in rows if r[2] == 200 and (not within or r[0] <= self.duration)]

    @property
    def rate(self) -> float:
        """Return the saves answered 200 a second within the phase."""
        return len(self.saves()) / self.duration

    def quantile(self, q: float) -> float | None:
        """Return the q-quantile of the first attempts answered 200, in seconds."""
        seconds = sorted(s for _, s, status in self.record.samples.get("save", []) if status == 200)
        if not seconds:
            return None
        return seconds[min(len(seconds) - 1, max(0, int(q * len(seconds) + 0.999999) - 1))]

    @property
    def server_errors(self) -> int:
        """Return how many requests were answered 5xx."""
        return sum(1 for rows in self.record.samples.values() for _, _, status in rows if status >= 500)

    def per_save(self, who: str) -> float | None:
        """Return the CPU seconds `who` (server, postgres, clients) used per save answered."""
        count = len(self.saves(within=False))
        return self.cpu[who] / count if count else None


@dataclass
class Run:
    """The whole run's results."""

    args: object
    pg_version: str = "?"
    setup: float = 0.0
    admission: float = 0.0
    steps: tuple[float, ...] = ()  # mean seconds of the admission page, the admission, the start
    elapsed: float = 0.0
    open: Figures | None = None
    closed: Figures | None = None
    floor: Figures | None = None
    verdict: Verdict | None = None
    floor_verdict: Verdict | None = None
    tracebacks: int = 0
    harness: list[str] = field(default_factory=list)

    def phases(self) -> list[Figures]:
        """Return the phases that ran, in order."""
        return [f for f in (self.open, self.closed, self.floor) if f is not None]

    def errors(self) -> list[str]:
        """Return the clients' harness errors of every phase."""
        return [e for f in self.phases() for e in f.record.errors]


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def print_run(run: Run) -> int:
    """Print the figures; return the exit status (1 on a lost or wrong save, a 5xx, or a harness failure)."""
    args = run.args
    print(
        f"Jiangxin exam load test · Python {platform.python_version()} · PostgreSQL {run.pg_version}"
        f" · gunicorn -w {args.workers} (sync){' ' + args.gunicorn_args if args.gunicorn_args else ''}"
        f" · {os.cpu_count()} cores"
    )
    print(
        f"setup: {args.candidates} candidates, a 100-item paper (70 single, 10 multiple, 20 true/false)"
        f" · migrated and seeded in {run.setup:.1f} s · admitted and started through the app in {run.admission:.1f} s"
    )
    if run.steps:
        page, admit, start = run.steps
        print(f"  (mean, 8 at a time: admission page {_ms(page)}, code + ID number {_ms(admit)}, start {_ms(start)})")
    for figures in run.phases():
        _phase(figures)
    problems = list(run.harness) + run.errors()[:5]
    if len(run.errors()) > 5:
        problems.append(f"… and {len(run.errors()) - 5} more client errors")
    for figures in run.phases():
        if figures.unsent:
            problems.append(f"{figures.unsent} saves still in an outbox when the {figures.name} phase ended")
    fv = run.floor_verdict
    if fv and (fv.lost or fv.wrong or (run.floor and run.floor.server_errors)):
        problems.append("the floor lost or changed saves, or answered 5xx: the harness is not to be trusted")
    v = run.verdict
    five = sum(f.server_errors for f in (run.open, run.closed) if f)
    for name, verdict in (("app", v), ("floor", fv)):
        if verdict:
            print(
                f"\nledger, {name}: {verdict.acknowledged} acknowledged saves of {verdict.marks} answers · lost"
                f" {verdict.lost} · wrong {verdict.wrong} · latest version from an unanswered write"
                f" {verdict.unanswered_committed}"
            )
            for example in verdict.examples:
                print(f"  {example}")
    print()
    print(
        f"lost {v.lost if v else '—'} · wrong {v.wrong if v else '—'} · 5xx {five}"
        f" · worker tracebacks logged {run.tracebacks}"
    )
    if run.open:
        o = run.open
        print(
            f"open loop: offered {o.offered / o.duration:.1f} saves/s · achieved {o.rate:.1f} saves/s"
            f" · p50 {_ms(o.quantile(0.5))} p95 {_ms(o.quantile(0.95))} p99 {_ms(o.quantile(0.99))}"
            f" (timed from when each save was due)"
        )
    ratio = run.closed.rate / run.floor.rate if run.closed and run.floor and run.floor.rate else None
    if ratio is not None:
        print(f"ratio app/floor {ratio:.2f} ({run.closed.rate:.1f} / {run.floor.rate:.1f} saves/s, closed loop)")
    if run.closed:
        _capacity(run)
        print(
            f"load average at the end of the open loop: {' '.join(f'{x:.2f}' for x in run.open.load)} (1, 5, 15 min)"
            if run.open
            else ""
        )
        _goals(run, ratio)
    for problem in problems:
        print(f"harness: {problem}")
    failed = bool(problems) or v is None or bool(v.lost or v.wrong or five)
    print(f"whole run {run.elapsed:.0f} s · {'FAILED' if failed else 'ok'} (speed goals are reported, not enforced)")
    return 1 if failed else 0


def _phase(f: Figures) -> None:
    print(f"\n{f.name}, {f.duration:.0f} s:")
    saves = f.saves()
    offered = f" of {f.offered} offered ({f.offered / f.duration:.1f}/s)" if f.offered is not None else ""
    print(
        f"  saves      {len(saves)} answered 200{offered} · {f.rate:.1f}/s · p50 {_ms(f.quantile(0.5))}"
        f" p95 {_ms(f.quantile(0.95))} p99 {_ms(f.quantile(0.99))} max {_ms(f.quantile(1.0))}"
    )
    print("  answers    " + " · ".join(f"{state} {n}" for state, n in sorted(f.record.states.items())))
    if f.offered is not None:
        print("  p99 by 5 s " + " · ".join(_windows(f, 5.0)))
    for at, pid, replaced in f.kills:
        after = f"a new worker forked {replaced:.1f} s later" if replaced is not None else "NOT replaced within 15 s"
        print(f"  kill -9    worker {pid} at {at:.1f} s, {after}")
    cpu, cores = f.cpu, os.cpu_count() or 1
    other = max(0.0, cpu["busy"] - cpu["server"] - cpu["postgres"] - cpu["clients"])
    print(
        f"  CPU        machine busy {cpu['busy'] / (cpu['wall'] * cores):.0%} of {cores} cores · server"
        f" {cpu['server']:.1f} s · PostgreSQL {cpu['postgres']:.1f} s · clients {cpu['clients']:.1f} s"
        f" · other processes {other:.1f} s · per save: server {_ms(f.per_save('server'))}"
        f", PostgreSQL {_ms(f.per_save('postgres'))}"
    )
    failures = ", ".join(f"{what} {n}" for what, n in sorted(f.record.failures.items())) or "none"
    print(f"  failures   5xx {f.server_errors} · not answered: {failures}")


def _windows(f: Figures, width: float) -> list[str]:
    """Return the p99 of the first attempts sent due in each `width` seconds of the phase."""
    buckets: dict[int, list[float]] = {}
    for t, seconds, status in f.record.samples.get("save", []):
        if status == 200:
            buckets.setdefault(int(max(0.0, t - seconds) // width), []).append(seconds)
    shown = []
    for k in sorted(buckets):
        values = sorted(buckets[k])
        shown.append(f"{k * width:.0f}s {_ms(values[min(len(values) - 1, int(0.99 * len(values)))])}")
    return shown


def _capacity(run: Run) -> None:
    """Print the candidates one machine holds and the projection for app servers sharing PostgreSQL."""
    c, args = run.closed, run.args
    p99 = c.quantile(0.99)
    held = "within" if p99 is not None and p99 <= P99_GOAL else "NOT within"
    print(
        f"capacity, this machine (app, PostgreSQL and clients on {os.cpu_count()} cores): {c.rate:.0f} saves/s"
        f" at p99 {_ms(p99)} ({held} {_ms(P99_GOAL)}, {args.concurrency} in flight)"
        f" → {c.rate * args.interval:,.0f} candidates at one save per {args.interval:g} s"
    )
    app, pg, clients = c.per_save("server"), c.per_save("postgres"), c.per_save("clients")
    if not app or not pg:
        return
    cores = os.cpu_count() or 1
    other = max(0.0, c.cpu["busy"] - c.cpu["server"] - c.cpu["postgres"] - c.cpu["clients"]) / c.cpu["wall"]
    quiet = cores / (app + pg + (clients or 0))
    print(
        f"  the same machine if quiet (estimate: its cores over the CPU a save took, server + PostgreSQL + clients):"
        f" {quiet:.0f} saves/s → {quiet * args.interval:,.0f} candidates; other processes used {other:.1f} cores here"
    )
    per_machine, pg_limit = cores / app, args.pg_cores / pg
    print(
        f"projection (not measured): app servers of {cores} cores at {app * 1000:.2f} ms CPU a save"
        f" ({per_machine:.0f} saves/s each) sharing PostgreSQL on {args.pg_cores} cores at {pg * 1000:.2f} ms"
        f" CPU a save (saturated at {pg_limit:.0f} saves/s):"
    )
    for machines in MACHINES:
        rate = min(machines * per_machine, pg_limit)
        bound = "PostgreSQL-bound" if machines * per_machine >= pg_limit else "app-bound"
        print(
            f"  {machines} app machine{'s' if machines > 1 else ' '}  {rate:6.0f} saves/s"
            f" → {rate * args.interval:8,.0f} candidates ({bound})"
        )
        if bound == "PostgreSQL-bound":
            break
    print("  (CPU alone: network round trips, WAL flushes and lock waits on PostgreSQL's side are not in it)")


def _goals(run: Run, ratio: float | None) -> None:
    print("goals (issue 18):")
    rows = [
        ("0 acknowledged answers lost", run.verdict.lost if run.verdict else None, lambda v: v == 0, str),
        (
            "p99 ≤ 300 ms at the offered rate",
            run.open.quantile(0.99) if run.open else None,
            lambda v: v <= P99_GOAL,
            _ms,
        ),
        ("ratio to the floor ≥ 0.30", ratio, lambda v: v >= RATIO_GOAL, lambda v: f"{v:.2f}"),
    ]
    for label, value, met, shown in rows:
        if value is None:
            print(f"  {label:<34} —        not measured")
        else:
            print(f"  {label:<34} {shown(value):<8} {'met' if met(value) else 'NOT MET'}")
