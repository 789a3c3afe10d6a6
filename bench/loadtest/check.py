"""The ledger against the database: what the server acknowledged must be what it holds.

For each mark the clients wrote, the last acknowledged save is the one with the highest version
answered. The database then holds either that version with that value, or a later version
that one of the clients' own unanswered writes explains (a save whose answer was lost when
its worker was killed, or sent as the phase ended). Nobody else writes these marks.

- lost: an acknowledged mark the database does not hold, or holds at an older version;
- wrong: the database holds another value than the last acknowledged one at its version, or a
  later version no write of ours explains, or two acknowledgements gave one version two values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from bench.loadtest.clients import Ledger


@dataclass
class Verdict:
    """What the check found."""

    marks: int = 0  # distinct marks acknowledged at least once
    acknowledged: int = 0
    lost: int = 0
    wrong: int = 0
    unanswered_committed: int = 0  # marks whose latest version came from a write we never saw answered
    examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 8:
            self.examples.append(f"{kind}: {text}")


def check(ledger: Ledger, held: dict[tuple, tuple[int, int]]) -> Verdict:
    """Compare the ledger with the marks the database holds: key → (version, cents)."""
    verdict = Verdict(marks=len(ledger.acked), acknowledged=ledger.acknowledged())
    for key, acks in ledger.acked.items():
        by_version: dict[int, int] = {}
        for version, cents in acks:
            if by_version.setdefault(version, cents) != cents:
                verdict.problem("wrong", f"{key}: version {version} acknowledged as {by_version[version]} and {cents}")
        last_version = max(by_version)
        last_cents = by_version[last_version]
        row = held.get(key)
        if row is None:
            verdict.problem("lost", f"{key}: acknowledged version {last_version}, not in the database")
            continue
        version, cents = row
        if version < last_version:
            verdict.problem("lost", f"{key}: acknowledged version {last_version}, the database holds {version}")
        elif version == last_version:
            if cents != last_cents:
                verdict.problem("wrong", f"{key}: version {version} acknowledged as {last_cents}, holds {cents}")
        elif (version - 1, cents) in ledger.sent.get(key, []):
            verdict.unanswered_committed += 1
        else:
            verdict.problem("wrong", f"{key}: holds version {version} ({cents}) that no write of ours explains")
    strays = [key for key in held if key not in ledger.sent]
    if strays:
        verdict.problem("wrong", f"{len(strays)} marks in the database that no client wrote, e.g. {strays[0]}")
    return verdict


def app_marks(conninfo: str, competition_id: int) -> dict[tuple, tuple[int, int]]:
    """Return the competition's marks: (entrant, judge, criterion) → (version, cents)."""
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(
            "SELECT entrant_id, judge_id, criterion_id, version, value_cents FROM mark WHERE competition_id = %s",
            (competition_id,),
        ).fetchall()
    return {(e, j, c): (v, cents) for e, j, c, v, cents in rows}


def floor_marks(conninfo: str, table: str) -> dict[tuple, tuple[int, int]]:
    with psycopg.connect(conninfo) as connection:
        rows = connection.execute(f"SELECT entrant_id, judge_id, criterion_id, version, value_cents FROM {table}")
        return {(e, j, c): (v, cents) for e, j, c, v, cents in rows.fetchall()}


def audit_notes(conninfo: str, competition_id: int, ledger: Ledger, held: dict[tuple, tuple[int, int]]) -> list[str]:
    """Say whether every version has its change row, and how the retries after a failure were answered.

    Informative only (the change rows' shape belongs to the save path): a retry whose change row
    is older than the failure had committed on the first attempt, and its answer was lost.
    """
    notes = []
    try:
        with psycopg.connect(conninfo) as connection:
            changes = connection.execute(
                "SELECT entrant_id, judge_id, criterion_id, at FROM mark_change WHERE competition_id = %s ORDER BY id",
                (competition_id,),
            ).fetchall()
    except psycopg.Error as error:
        return [f"change rows not read ({type(error).__name__})"]
    times: dict[tuple, list[datetime]] = {}
    for e, j, c, at in changes:
        times.setdefault((e, j, c), []).append(at)
    versions = sum(version for version, _ in held.values())
    notes.append(
        f"change rows: {len(changes)} for {versions} versions"
        + (" (one per version)" if len(changes) == versions else " (NOT one per version)")
    )
    committed_first = written_by_retry = unknown = 0
    for key, version, failed_at, state in ledger.retried:
        rows = times.get(key, [])
        if state != "saved" or not 0 < version <= len(rows):
            unknown += 1
        elif rows[version - 1] < failed_at:
            committed_first += 1
        else:
            written_by_retry += 1
    if ledger.retried:
        notes.append(
            f"retried saves answered saved: committed by the first attempt (its answer lost) {committed_first},"
            f" written by the retry {written_by_retry}" + (f", other {unknown}" if unknown else "")
        )
    return notes
