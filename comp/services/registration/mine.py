"""A worker's own entries: where each stands in words, and her published result.

Only the worker's own entrant is ever read here; nothing of another entrant (marks, ranks, judges)
is returned. Published figures come from `Standing`, written when the results were published.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.labels import entrant_status_label
from comp.models import Certificate, Entrant, Stage, Standing, User
from comp.models.competition import PUBLIC_STATES

# The steps of an entry before its results are public, in order.
STEPS = ("registered", "approved", "checked_in", "results")


@dataclass(frozen=True)
class MyResult:
    """The worker's published result in one competition, and her certificate if issued."""

    rank: int | None
    total: Decimal | None
    award: str | None
    stages: list[tuple[str, str | None]]
    certificate: str | None  # the number of her valid certificate


@dataclass(frozen=True)
class Progress:
    """Where an entry stands: the step reached (None when it left the way), a short label and a sentence."""

    step: str | None
    label: str
    words: str


def own_entrant(user: User, entrant_id: int) -> Entrant | None:
    """Return the entrant if it is the worker account's own, else None (the caller answers 404)."""
    if user.role != "worker" or user.worker_id is None:
        return None
    entrant = db.session.get(Entrant, entrant_id)
    if entrant is None or entrant.worker_id != user.worker_id:
        return None
    return entrant


def published(entrant: Entrant) -> bool:
    """Tell whether the entrant's competition has published its results."""
    return entrant.competition.status in PUBLIC_STATES


def progress(entrant: Entrant) -> Progress:
    """Say in words where the entry stands before (or without) a published result."""
    status, state = entrant.status, entrant.competition.status
    label = entrant_status_label(status)
    if status == "pending":
        return Progress("registered", label, _("Registered: waiting for the organizer's approval."))
    if status == "approved":
        if state == "running":
            return Progress("approved", label, _("Approved: check in at the venue before you compete."))
        return Progress("approved", label, _("Approved: check in at the venue on the day of the competition."))
    if status == "ok":
        if state in ("locked", *PUBLIC_STATES):
            return Progress(
                "results", _("Awaiting results"), _("Awaiting results: they are shown here once they are published.")
            )
        return Progress("checked_in", label, _("Checked in: your marks are being given."))
    words = {
        "absent": _("Marked absent: you have no result in this competition."),
        "disqualified": _("Disqualified: you have no result in this competition."),
        "rejected": _("Your registration was rejected."),
        "withdrawn": _("Your registration is withdrawn."),
    }
    return Progress(None, label, words.get(status, label))


def steps(current: str | None) -> list[tuple[str, str]]:
    """Return each step with its label and "done", "current" or "todo" (all "todo" off the way)."""
    labels = {
        "registered": _("Registration received"),
        "approved": _("Approved"),
        "checked_in": _("Checked in"),
        "results": _("Awaiting results"),
    }
    reached = STEPS.index(current) if current in STEPS else -1
    return [(labels[s], "done" if i < reached else "current" if i == reached else "todo") for i, s in enumerate(STEPS)]


def results_of(entrants: list[Entrant]) -> dict[int, MyResult]:
    """Return, by entrant id, the published result of each of these (the worker's own) entrants."""
    public = [e for e in entrants if published(e)]
    if not public:
        return {}
    ids = {e.id for e in public}
    standings = db.session.scalars(sa.select(Standing).where(Standing.entrant_id.in_(ids))).all()
    stage_names: dict[int, list[tuple[str, str]]] = {}
    for row in db.session.execute(
        sa.select(Stage.competition_id, Stage.key, Stage.name)
        .where(Stage.competition_id.in_({e.competition_id for e in public}))
        .order_by(Stage.position, Stage.id)
    ):
        stage_names.setdefault(row.competition_id, []).append((row.key, row.name))
    certificates = dict(
        db.session.execute(
            sa.select(Certificate.entrant_id, Certificate.number)
            .where(Certificate.entrant_id.in_(ids), Certificate.status == "valid")
            .order_by(Certificate.id)
        ).all()
    )
    found = {}
    for standing in standings:
        scores = standing.stages or {}
        found[standing.entrant_id] = MyResult(
            standing.rank,
            standing.total,
            standing.award,
            [(name, scores.get(key)) for key, name in stage_names.get(standing.competition_id, [])],
            certificates.get(standing.entrant_id),
        )
    return found
