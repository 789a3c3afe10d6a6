"""Benchmarks: each figure is printed beside its floor, the same work done by the bare database.

A benchmark is a function `(ctx: Context) -> list[Row]`; `bench.__main__.BENCHMARKS` lists
them in the order they run. Speed is measured and reported, never asserted: `python -m bench`
exits 0 whether the targets are met or missed.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure: seconds, the floor's seconds, and the targets it is held to."""

    name: str
    seconds: float
    floor: float | None = None
    max_seconds: float | None = None
    max_ratio: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Return measured ÷ floor, None without a floor."""
        return self.seconds / self.floor if self.floor else None

    @property
    def target(self) -> str:
        """Return the targets as text, e.g. "≤ 2 s, ≤ 3× floor"."""
        parts = []
        if self.max_seconds is not None:
            parts.append(f"≤ {self.max_seconds:g} s")
        if self.max_ratio is not None:
            parts.append(f"≤ {self.max_ratio:g}× floor")
        return ", ".join(parts)

    @property
    def verdict(self) -> str:
        """Return PASS when every target is met, MISS when one is not, "" without targets."""
        if self.max_seconds is None and self.max_ratio is None:
            return ""
        ok = self.max_seconds is None or self.seconds <= self.max_seconds
        if self.max_ratio is not None:
            ok = ok and self.ratio is not None and self.ratio <= self.max_ratio
        return "PASS" if ok else "MISS"


def clock(work: Callable[[], object]) -> tuple[float, object]:
    """Run `work` once; return the wall-clock seconds it took and what it returned."""
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def median_time(
    work: Callable[[], object], runs: int = 5, warmup: int = 1, before: Callable[[], object] | None = None
) -> float:
    """Return the median seconds of `runs` timed calls after `warmup` untimed ones.

    `before` runs untimed ahead of every call, e.g. to start from a fresh session.
    """
    times = []
    for i in range(warmup + runs):
        if before is not None:
            before()
        gc.collect()  # garbage left by the last run is not this run's cost
        seconds, _ = clock(work)
        if i >= warmup:
            times.append(seconds)
    return statistics.median(times)
