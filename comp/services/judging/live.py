"""The hall screen's live standings and the public results, computed once per competition version.

Every write that can move a result bumps `competition.version` (lifecycle.touch), so a
computation cached under (competition, version) is valid until the next write, in every
app process; the cache itself is only this process's memory.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Entrant, OrgUnit
from comp.models.competition import PUBLIC_STATES
from comp.models.types import utcnow
from comp.services import results
from comp.services.chief import progress as chief_progress
from comp.services.setup import lifecycle

LIVE_STATES = ("running", "locked", "published")
BOARD_ROWS = 100  # a hall screen shows the top of the table; the rest are counted
CACHE_SIZE = 64

_cache: OrderedDict[tuple, object] = OrderedDict()
_building: dict[tuple, threading.Lock] = {}
_guard = threading.Lock()


def poll(code: str):
    """Return the competition's (id, status, version) in one small query, or None."""
    return db.session.execute(
        sa.select(Competition.id, Competition.status, Competition.version).where(Competition.code == code)
    ).first()


def _cached(kind: str, competition: Competition, build: Callable[[], object]):
    """Return the value built for this competition version, building it once however many ask."""
    # created_at tells apart a competition that reuses the id of a deleted one.
    key = (kind, competition.id, competition.created_at, competition.version)
    with _guard:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        lock = _building.setdefault(key, threading.Lock())
    with lock:  # the other screens asking for the same version wait for this one computation
        with _guard:
            if key in _cache:
                return _cache[key]
        value = build()
        with _guard:
            _cache[key] = value
            _building.pop(key, None)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every cached computation."""
    with _guard:
        _cache.clear()


def _fixed(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class BoardRow:
    """One line of the hall screen: secret code before publication, the name after."""

    rank: int | None
    label: str
    total: str | None
    stages: tuple[str | None, ...]
    entered: int
    due: int
    award: str | None


@dataclass(frozen=True)
class Board:
    """The provisional standings of one competition version."""

    version: int
    status: str
    stages: tuple[tuple[str, str], ...]
    rows: tuple[BoardRow, ...]
    hidden: int
    entered: int
    due: int
    named: bool
    at: datetime


def board(competition: Competition) -> Board:
    """Return the live standings of the competition's current version."""
    version, status = competition.version, competition.status
    return _cached("board", competition, lambda: _board(competition, version, status))


def _board(competition: Competition, version: int, status: str) -> Board:
    loaded, outcome = results.compute(competition)
    progress = chief_progress.counts(competition)
    entrants = {
        e.ref: e
        for e in db.session.execute(
            sa.select(Entrant.id, Entrant.ref, Entrant.secret_code, Entrant.name).where(
                Entrant.competition_id == competition.id, Entrant.status == "ok"
            )
        )
    }
    named = status in PUBLIC_STATES
    stages = tuple((s.key, s.name) for s in loaded.scheme.stages)
    rows = []
    for result in outcome.entrants:
        entrant = entrants.get(result.ref)
        if entrant is None:
            continue  # absent, withdrawn and disqualified entrants are not on the hall screen
        entered, due = progress.get(entrant.id, (0, 0))
        rows.append(
            BoardRow(
                result.rank,
                entrant.name if named else (entrant.secret_code or "—"),
                _fixed(result.total),
                tuple(_fixed(result.stages.get(k)) for k, _ in stages),
                entered,
                due,
                result.award if named else None,
            )
        )
    # Unranked entrants by label, not by ref: the registration order could hint at who is who.
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.label if r.rank is None else ""))
    return Board(
        version,
        status,
        stages,
        tuple(rows[:BOARD_ROWS]),
        max(0, len(rows) - BOARD_ROWS),
        sum(r.entered for r in rows),
        sum(r.due for r in rows),
        named,
        utcnow(),
    )


@dataclass(frozen=True)
class Notice:
    """The public notice period (公示) of published results."""

    starts: datetime
    ends: datetime
    days_left: int

    @property
    def running(self) -> bool:
        """Tell whether the notice period is still on."""
        return self.days_left > 0


def notice(competition: Competition, now: datetime | None = None) -> Notice | None:
    """Return the notice period of published results, with the whole days left (rounded up)."""
    ends = lifecycle.notice_ends(competition)
    if ends is None:
        return None
    left = (ends - (now or utcnow())).total_seconds()
    assert competition.published_at is not None  # notice_ends() has a time only for a publication time
    return Notice(competition.published_at, ends, max(0, math.ceil(left / 86400)))


def official(competition: Competition) -> dict:
    """Return the published results: the results document, employers by ref, and the stages."""
    return _cached("official", competition, lambda: _official(competition))


def _official(competition: Competition) -> dict:
    loaded, outcome = results.compute(competition)
    employers = dict(
        db.session.execute(
            sa.select(Entrant.ref, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == Entrant.employer_id)
            .where(Entrant.competition_id == competition.id)
        ).all()
    )
    return {
        "doc": results.document_from(competition, loaded, outcome),
        "employers": employers,
        "stages": tuple((s.key, s.name) for s in loaded.scheme.stages),
    }
