"""The hall screen's live standings and the public results, shared by every app process.

A board is built from a *stamp* (the competition's version and its mark changes, see
`results.stamp_columns`) and stored for every process and screen (comp.services.common.computed):
however many screens poll, a competition's board is rebuilt at most once a second, and a
screen that already shows the current stamp gets 204 No Content.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Entrant, OrgUnit
from comp.models.competition import PUBLIC_STATES
from comp.models.types import utcnow
from comp.services import results
from comp.services.chief import progress as chief_progress
from comp.services.common import computed
from comp.services.setup import lifecycle

LIVE_STATES = ("running", "locked", "published")
BOARD_ROWS = 100  # a hall screen shows the top of the table; the rest are counted
REBUILD_EVERY = 1.0  # seconds: the most often one competition's board is rebuilt


@dataclass(frozen=True)
class Polled:
    """What a screen's poll needs to know, read in one small query."""

    id: int
    status: str
    stamp: str


def poll(code: str) -> Polled | None:
    """Return the competition's id, status and stamp in one query, or None."""
    changes, last = results.stamp_columns()
    row = db.session.execute(
        sa.select(Competition.id, Competition.status, Competition.version, changes, last).where(
            Competition.code == code
        )
    ).first()
    if row is None:
        return None
    return Polled(row.id, row.status, results.stamp(row.version, row[3], row[4]))


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
    """The provisional standings as of one stamp."""

    version: str
    status: str
    stages: tuple[tuple[str, str], ...]
    rows: tuple[BoardRow, ...]
    hidden: int
    entered: int
    due: int
    named: bool
    at: datetime


def board(competition: Competition, stamp: str) -> Board:
    """Return the live standings as of `stamp`, or as of an earlier stamp while they are rebuilt."""
    value, _built = computed.shared(
        "board",
        competition.id,
        stamp,
        lambda: _board(competition, stamp, competition.status),
        _encode_board,
        _decode_board,
        REBUILD_EVERY,
    )
    return value


def _encode_board(value: Board) -> str:
    data = asdict(value)
    data["at"] = value.at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _decode_board(text: str) -> Board:
    data: dict[str, Any] = json.loads(text)
    return Board(
        data["version"],
        data["status"],
        tuple((key, name) for key, name in data["stages"]),
        tuple(BoardRow(**{**row, "stages": tuple(row["stages"])}) for row in data["rows"]),
        data["hidden"],
        data["entered"],
        data["due"],
        data["named"],
        datetime.fromisoformat(data["at"]),
    )


def _board(competition: Competition, version: str, status: str) -> Board:
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
    employers = dict(
        db.session.execute(
            sa.select(Entrant.ref, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == Entrant.employer_id)
            .where(Entrant.competition_id == competition.id)
        ).all()
    )
    return {
        "doc": results.document(competition),
        "employers": employers,
        "stages": tuple((s.key, s.name) for s in competition.stages),
    }
