"""Claiming a job's row and beating its heartbeat: how two workers never run one job at once.

A job's row (a certificate batch, an export) is `running` from the moment it is queued; its
`updated_at` equals its `created_at` until a worker claims it. A worker claims the row with one
conditional UPDATE — never claimed, or silent for longer than JOBS_STALLED_AFTER — and then
writes progress only while the heartbeat is still the one it wrote last. A worker that was
thought dead and taken over finds its heartbeat gone and stops (`Lost`) without writing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from comp.extensions import db
from comp.models.types import utcnow
from comp.services import jobs


class Lost(Exception):
    """Another worker took the job over (this one was thought dead): stop without touching it."""


def claim(model: Any, row_id: int) -> datetime | None:
    """Take the row if nobody holds it (never started, or stopped moving); return the heartbeat it now has."""
    now = utcnow()
    taken = db.session.execute(
        sa.update(model)
        .where(
            model.id == row_id,
            model.status == "running",
            sa.or_(model.updated_at == model.created_at, model.updated_at < now - jobs.stalled_after()),
        )
        .values(updated_at=now)
    )
    db.session.commit()
    return now if cast("sa.CursorResult", taken).rowcount == 1 else None


def beat(model: Any, row_id: int, token: datetime, **values: Any) -> datetime:
    """Record progress and the heartbeat, if this worker still holds the row; return the new heartbeat."""
    now = max(utcnow(), token + timedelta(microseconds=1))  # never equal to the last one
    moved = db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.status == "running", model.updated_at == token)
        .values(updated_at=now, **values)
    )
    db.session.commit()
    if cast("sa.CursorResult", moved).rowcount != 1:
        raise Lost(row_id)
    return now


def fail(model: Any, row_id: int, error: BaseException) -> None:
    """Record on a running row why its job failed (after rolling back what the job had begun)."""
    db.session.rollback()
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.status == "running")
        .values(status="failed", error=str(error)[:300] or type(error).__name__, finished_at=utcnow())
    )
    db.session.commit()


def stalled_ids(model: Any) -> list[int]:
    """Return the running rows that stopped moving, oldest first: the reaper queues them again."""
    return list(
        db.session.scalars(
            sa.select(model.id)
            .where(model.status == "running", model.updated_at < utcnow() - jobs.stalled_after())
            .order_by(model.id)
        )
    )


def counts_by_state(model: Any) -> dict[str, int]:
    """Return how many rows are in each state: running (of which some may be stalled), done, failed."""
    counted = dict(db.session.execute(sa.select(model.status, sa.func.count()).group_by(model.status)).all())
    counted["stalled"] = len(stalled_ids(model))
    return {state: counted.get(state, 0) for state in ("running", "stalled", "done", "failed")}
