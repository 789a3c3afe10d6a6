"""Driving the candidates: open-loop arrivals (each phone on its own clock), closed loop at full speed, the check.

Open loop: every candidate saves about every `interval` seconds (uniformly 0.8–1.2 ×, first at a
random moment of the first interval) whatever the server does, as 2,000 phones would; a thread pool
sends, a dispatcher keeps the schedule, and a save is timed from the moment it was due, so a queue
in front of a busy server counts. Closed loop: `concurrency` threads each send their candidates'
saves back to back, the most the server answers. Failed saves stay in the candidate's outbox and
are re-sent; after `duration` no new answer is chosen and the outboxes drain until `grace` ends.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.examload.clients import Candidate, Record
from bench.loadtest.check import Verdict
from bench.loadtest.clients import Ledger, Phase

TICK = 0.02  # the dispatcher looks at its schedule at least this often


def open_loop(
    candidates: list[Candidate],
    target,
    ledger: Ledger,
    phase: Phase,
    *,
    interval: float,
    changes: float,
    threads: int,
    seed: int,
) -> tuple[Record, int]:
    """Run the phones on their own clocks until the phase ends; return the record and the saves offered."""
    record, rng = Record(), random.Random(seed)
    lock, order = threading.Lock(), itertools.count()
    t0 = phase.t0
    schedule = [(t0 + rng.uniform(0, interval), next(order), i, "answer") for i in range(len(candidates))]
    heapq.heapify(schedule)
    offered, ended, inflight = 0, False, [0]

    def push(due: float, index: int, kind: str) -> None:
        with lock:
            heapq.heappush(schedule, (due, next(order), index, kind))

    def task(index: int, due: float, kind: str) -> None:
        candidate = candidates[index]
        try:
            _task(candidate, index, due, kind)
        finally:
            with lock:
                inflight[0] -= 1

    def _task(candidate: Candidate, index: int, due: float, kind: str) -> None:
        with candidate.lock:
            try:
                if kind == "answer":
                    candidate.choose(changes)
                candidate.flush(target, ledger, record, phase, due)
            except Exception as error:  # a harness error: reported, the run exits 1
                record.error(f"{candidate.ref}: {type(error).__name__}: {error}")
            if candidate.outbox:
                push(min(p.due for p in candidate.outbox.values()), index, "retry")

    with ThreadPoolExecutor(threads, thread_name_prefix="phone") as pool:
        while True:
            with lock:
                head = schedule[0] if schedule else None
            now = time.monotonic()
            if head is None:
                with lock:
                    idle = inflight[0] == 0
                if idle:  # nothing scheduled, nothing sending: every outbox is empty
                    break
                time.sleep(TICK)
                continue
            due, _, index, kind = head
            if now - t0 >= phase.duration + phase.grace:
                break
            if now - t0 >= phase.duration and not ended:  # no new answer from now on: the outboxes drain
                ended = True
                with lock:
                    schedule[:] = [entry for entry in schedule if entry[3] != "answer"]
                    heapq.heapify(schedule)
                continue
            if due > now:
                time.sleep(min(TICK, due - now))
                continue
            with lock:
                heapq.heappop(schedule)
            if kind == "answer":
                if due - t0 >= phase.duration:
                    continue  # the phase is over: no new answer, the outboxes drain
                offered += 1
                push(due + interval * rng.uniform(0.8, 1.2), index, "answer")
            with lock:
                inflight[0] += 1
            pool.submit(task, index, due, kind)
    return record, offered


def closed_loop(
    candidates: list[Candidate], target, ledger: Ledger, phase: Phase, *, concurrency: int, changes: float
) -> Record:
    """Run `concurrency` threads saving back to back, each over its share of the candidates; then drain."""
    record = Record()

    def run(own: list[Candidate]) -> None:
        try:
            for candidate in itertools.cycle(own):
                if not phase.running():
                    break
                with candidate.lock:
                    candidate.choose(changes)
                    candidate.flush(target, ledger, record, phase, time.monotonic())
            while any(c.outbox for c in own) and phase.draining():
                time.sleep(0.2)
                for candidate in own:
                    with candidate.lock:
                        candidate.flush(target, ledger, record, phase, time.monotonic())
        except Exception as error:
            record.error(f"closed loop: {type(error).__name__}: {error}")

    workers = [
        threading.Thread(target=run, args=(candidates[k::concurrency],), daemon=True) for k in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(phase.duration + phase.grace + 15)
    if any(worker.is_alive() for worker in workers):
        record.error("closed-loop threads still running after the phase")
    return record


def verify(ledger: Ledger, held: dict[tuple, tuple[int, str]]) -> Verdict:
    """Compare the acknowledged saves with what the database holds: (sitting, position) → (version, response).

    The last acknowledgement of each answer (its highest version) must be held at that version with
    that response, or overtaken by a later version holding a response this phone sent over an older
    version whose answer never came back (a worker killed mid-request, or the phase's end).
    """
    verdict = Verdict(marks=len(ledger.acked), acknowledged=ledger.acknowledged())
    for key, acks in ledger.acked.items():
        by_version: dict[int, str] = {}
        for version, value in acks:
            if by_version.setdefault(version, value) != value:
                verdict.problem(
                    "wrong", f"{key}: version {version} acknowledged as {by_version[version]!r} and {value!r}"
                )
        last = max(by_version)
        row = held.get(key)
        if row is None:
            verdict.problem("lost", f"{key}: acknowledged version {last}, not in the database")
        elif row[0] < last:
            verdict.problem("lost", f"{key}: acknowledged version {last}, the database holds {row[0]}")
        elif row[0] == last and row[1] != by_version[last]:
            verdict.problem("wrong", f"{key}: version {last} acknowledged as {by_version[last]!r}, holds {row[1]!r}")
        elif row[0] > last:
            if any(seen < row[0] and value == row[1] for seen, value in ledger.sent.get(key, [])):
                verdict.unanswered_committed += 1
            else:
                verdict.problem("wrong", f"{key}: holds version {row[0]} ({row[1]!r}) that no write of ours explains")
    strays = [key for key in held if key not in ledger.sent]
    if strays:
        verdict.problem("wrong", f"{len(strays)} answers in the database that no phone sent, e.g. {strays[0]}")
    return verdict


def unsent(candidates: list[Candidate]) -> int:
    """Return how many choices are still in an outbox."""
    return sum(len(c.outbox) for c in candidates)
