"""Contestant numbers, secret codes (加密号) and the lot draw (抽签), reproducible from its seed."""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from comp import codes
from comp.extensions import db
from comp.models import AuditEvent, Competition, Entrant
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import lifecycle

NUMBERED = ("approved", "ok", "absent")  # accepted entrants: they get a number and a secret code
DRAWN = ("approved", "ok")  # entrants who take part in the lot draw
MAX_SESSIONS = len(string.ascii_uppercase)
MAX_STATIONS = 999


@dataclass(frozen=True)
class Replay:
    """The outcome of recomputing a draw from its recorded seed and parameters."""

    seed: str
    sessions: int
    stations: int
    differing: tuple[int, ...]  # contestant numbers whose stored place differs from the replay

    @property
    def verified(self) -> bool:
        """Tell whether the stored assignment is exactly the one the seed gives."""
        return not self.differing


def close_registration(competition: Competition, actor=None) -> int:
    """Close registration, then number the approved entrants; return how many got a number.

    Both happen or neither: a competition is never left closed without its numbers.
    """
    with transaction():
        lifecycle.transition(competition, "closed", actor)
        return assign_numbers(competition, actor)


def assign_numbers(competition: Competition, actor=None) -> int:
    """Number the accepted entrants who have none, in registration order, each with a fresh secret code."""
    if competition.status not in ("closed", "running"):
        raise ServiceError(_("Numbers are assigned once registration is closed."))
    try:
        with transaction():
            return _number(competition, actor)
    except IntegrityError:
        raise ServiceError(
            _("Numbers were being assigned by someone else at the same time. Reload and try again.")
        ) from None


def _number(competition: Competition, actor) -> int:
    entrants = db.session.scalars(
        sa.select(Entrant)
        .where(Entrant.competition_id == competition.id, Entrant.status.in_(NUMBERED), Entrant.number.is_(None))
        .order_by(Entrant.registered_at, Entrant.id)
    ).all()
    if not entrants:
        return 0
    last = (
        db.session.scalar(sa.select(sa.func.max(Entrant.number)).where(Entrant.competition_id == competition.id)) or 0
    )
    # Every code in use counts as taken, also the imported ones about to be replaced:
    # rows are updated one by one and must never collide on the way.
    taken = {
        code
        for code in db.session.scalars(
            sa.select(Entrant.secret_code).where(
                Entrant.competition_id == competition.id, Entrant.secret_code.is_not(None)
            )
        )
        if code is not None  # as the query asks: this tells the type
    }
    fresh = codes.secret_codes(len(entrants), taken)
    for offset, (entrant, code) in enumerate(zip(entrants, fresh), start=1):
        entrant.number = last + offset
        entrant.secret_code = code
    lifecycle.touch(competition)
    audit.record(
        "draw.numbers", actor, competition, competition, count=len(entrants), first=last + 1, last=last + len(entrants)
    )
    return len(entrants)


def session_label(index: int) -> str:
    """Return the name of the session at this index: A, B, C …"""
    return string.ascii_uppercase[index]


def allocate(numbers: list[int], sessions: int, stations: int, seed: str) -> dict[int, tuple[str, str]]:
    """Place contestant numbers into sessions and workstations by a permutation drawn from the seed.

    The numbers are sorted first, so the same seed and the same entrants always give the
    same places; sessions are filled evenly (their sizes differ by at most one).
    """
    order = sorted(numbers)
    random.Random(seed).shuffle(order)
    width = max(2, len(str(stations)))
    size, extra = divmod(len(order), sessions)
    places: dict[int, tuple[str, str]] = {}
    position = 0
    for s in range(sessions):
        for w in range(size + (1 if s < extra else 0)):
            places[order[position]] = (session_label(s), f"{w + 1:0{width}d}")
            position += 1
    return places


def check_draw(competition: Competition, sessions: int, stations: int, reason: str | None) -> Sequence[Entrant]:
    """Refuse a draw that cannot take place, saying why; return the entrants to draw, by number."""
    if competition.status != "closed":
        raise ServiceError(_("The lot draw takes place after registration closes and before the competition starts."))
    if not 1 <= sessions <= MAX_SESSIONS or not 1 <= stations <= MAX_STATIONS:
        raise ServiceError(
            _(
                "Choose 1 to %(sessions)d sessions and 1 to %(stations)d workstations per session.",
                sessions=MAX_SESSIONS,
                stations=MAX_STATIONS,
            )
        )
    entrants = db.session.scalars(
        sa.select(Entrant)
        .where(Entrant.competition_id == competition.id, Entrant.status.in_(DRAWN))
        .order_by(Entrant.number)
    ).all()
    if not entrants or any(e.number is None for e in entrants):
        raise ServiceError(_("Assign contestant numbers before the lot draw."))
    missing = len(entrants) - sessions * stations
    if missing > 0:
        raise ServiceError(
            _(
                "%(sessions)d sessions × %(stations)d workstations seat %(capacity)d, but "
                "%(entrants)d entrants are to be drawn: %(missing)d places are missing.",
                sessions=sessions,
                stations=stations,
                capacity=sessions * stations,
                entrants=len(entrants),
                missing=missing,
            )
        )
    if competition.drawn_at is not None and not (reason or "").strip():
        raise ServiceError(_("Lots were already drawn: give a reason for drawing again."))
    return entrants


def draw_lots(
    competition: Competition,
    sessions: int,
    stations_per_session: int,
    seed: str | None = None,
    actor=None,
    reason: str | None = None,
) -> str:
    """Draw every approved entrant's session and workstation from a recorded seed; return the seed."""
    entrants = check_draw(competition, sessions, stations_per_session, reason)
    seed = (seed or "").strip() or secrets.token_hex(8)
    if len(seed) > 64:
        raise ServiceError(_("The seed can have at most 64 characters."))
    # check_draw refuses entrants without a number: the filter only tells the type.
    places = allocate([e.number for e in entrants if e.number is not None], sessions, stations_per_session, seed)
    with transaction():
        redraw = competition.drawn_at is not None
        db.session.execute(
            sa.update(Entrant).where(Entrant.competition_id == competition.id).values(session=None, workstation=None),
            execution_options={"synchronize_session": "fetch"},
        )
        for entrant in entrants:
            assert entrant.number is not None  # check_draw refuses entrants without a number
            entrant.session, entrant.workstation = places[entrant.number]
        competition.draw_seed = seed
        competition.drawn_at = utcnow()
        audit.record(
            "draw.lots",
            actor,
            competition,
            competition,
            seed=seed,
            sessions=sessions,
            stations=stations_per_session,
            numbers=[e.number for e in entrants],
            redraw=redraw,
            reason=(reason or "").strip() or None,
        )
    return seed


def last_draw(competition: Competition) -> AuditEvent | None:
    """Return the audit record of the competition's latest lot draw."""
    return db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.competition_id == competition.id, AuditEvent.action == "draw.lots")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def replay_draw(competition: Competition) -> Replay | None:
    """Recompute the latest draw from its recorded seed and compare it with the stored places."""
    event = last_draw(competition)
    if event is None or competition.draw_seed is None:
        return None
    detail = event.detail
    expected = allocate(detail["numbers"], detail["sessions"], detail["stations"], competition.draw_seed)
    stored = {
        number: (session, workstation)
        for number, session, workstation in db.session.execute(
            sa.select(Entrant.number, Entrant.session, Entrant.workstation).where(
                Entrant.competition_id == competition.id,
                Entrant.number.is_not(None),
                sa.or_(Entrant.session.is_not(None), Entrant.workstation.is_not(None)),
            )
        )
        if number is not None  # as the query asks: this tells the type
    }
    differing = sorted(n for n in expected.keys() | stored.keys() if expected.get(n) != stored.get(n))
    if detail["seed"] != competition.draw_seed:
        differing = sorted(expected)  # the recorded seed was changed: nothing can be trusted
    return Replay(competition.draw_seed, detail["sessions"], detail["stations"], tuple(differing))


def session_sizes(competition: Competition) -> list[tuple[str, int]]:
    """Return how many entrants each drawn session seats."""
    return [
        (session, count)
        for session, count in db.session.execute(
            sa.select(Entrant.session, sa.func.count())
            .where(Entrant.competition_id == competition.id, Entrant.session.is_not(None))
            .group_by(Entrant.session)
            .order_by(Entrant.session)
        ).all()
        if session is not None  # as the query asks: this tells the type
    ]


def status_counts(competition: Competition) -> dict[str, int]:
    """Count the competition's entrants by status, and those with a number."""
    counts = dict(
        db.session.execute(
            sa.select(Entrant.status, sa.func.count())
            .where(Entrant.competition_id == competition.id)
            .group_by(Entrant.status)
        ).all()
    )
    counts["numbered"] = (
        db.session.scalar(
            sa.select(sa.func.count()).where(Entrant.competition_id == competition.id, Entrant.number.is_not(None))
        )
        or 0
    )
    counts["unnumbered"] = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Entrant.competition_id == competition.id, Entrant.status.in_(NUMBERED), Entrant.number.is_(None)
            )
        )
        or 0
    )
    return counts
