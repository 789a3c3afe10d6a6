"""Print the figures as an aligned table, and the machine they were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import unicodedata

from bench import Row

HEADERS = ("benchmark", "measured", "floor", "ratio", "target", "", "note")


def environment() -> str:
    """Return one line naming the Python, SQLite and SQLAlchemy versions, cores and load."""
    import sqlalchemy

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    line = (
        f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}"
        f" · SQLAlchemy {sqlalchemy.__version__} · {cores} cores ({usable} usable)"
        f" · {platform.machine()} {platform.system()}"
    )
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        line += f" · load {load:.2f}"
        if load > 0.5 * usable:
            # Wall-clock figures on a busy machine run long; compare ratios, or re-run idle.
            line += " (busy: figures may run long)"
    return line


def seconds(value: float | None) -> str:
    """Format seconds with a unit that keeps three significant figures."""
    if value is None:
        return "—"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def table(rows: list[Row]) -> str:
    """Return the rows as a table aligned on display width (CJK characters count twice)."""
    cells = [HEADERS] + [
        (
            r.name,
            seconds(r.seconds),
            seconds(r.floor),
            "—" if r.ratio is None else f"{r.ratio:.1f}×",
            r.target,
            r.verdict,
            r.note,
        )
        for r in rows
    ]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(HEADERS))]
    right = {1, 2, 3}  # numbers line up on the right
    lines = []
    for n, row in enumerate(cells):
        parts = [_pad(text, widths[i], i in right) for i, text in enumerate(row)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap
