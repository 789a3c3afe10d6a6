"""Registration: who may enter a competition, and workers registering themselves.

The checks here are shared by self-registration and the spreadsheet upload
(`registration_bulk`), so a refusal reads the same whichever way a person is entered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from comp.converters import has_control_characters
from comp.extensions import db
from comp.labels import entrant_status_label, status_label
from comp.models import SKILL_GRADES, Competition, Entrant, OrgUnit, User, Worker
from comp.models.types import utcnow
from comp.services import ServiceError, people, transaction
from comp.services.common import audit
from comp.services.setup import lifecycle

# Entrants that hold a place: everyone but the rejected and the withdrawn.
INACTIVE = ("rejected", "withdrawn")
WITHDRAWABLE = ("pending", "approved")
FORMULA_PREFIXES = ("=", "+", "-", "@")
TEAM_LENGTH = 64  # as Entrant.team, and the sheet's team column


@dataclass(frozen=True)
class Candidate:
    """What eligibility looks at: a worker on record, or a row of an uploaded sheet."""

    birth_date: date | None
    trade: str | None
    grade: int | None
    employer: OrgUnit | None

    @classmethod
    def of(cls, worker: Worker) -> Candidate:
        """Return the candidate a worker record describes."""
        return cls(people.birth_date(worker), worker.trade, worker.skill_grade, worker.employer)


def grade_label(grade: int | None) -> str:
    """Name a skill grade: "三级/高级工 (3)"."""
    return f"{SKILL_GRADES[grade]} ({grade})" if grade in SKILL_GRADES else "—"


def age_on(birth: date, day: date) -> int:
    """Return the age in whole years on the given day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def counties_of(competition: Competition) -> list[OrgUnit]:
    """Return the county unions the competition is limited to (none: open to all)."""
    ids = [int(i) for i in (competition.eligibility or {}).get("counties") or []]
    if not ids:
        return []
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.id)))


def trades_of(competition: Competition) -> list[str]:
    """Return the trades the competition admits (none: any trade)."""
    return [str(t).strip() for t in (competition.eligibility or {}).get("trades") or [] if str(t).strip()]


def _limit(competition: Competition, key: str) -> int | None:
    value = (competition.eligibility or {}).get(key)
    return int(value) if value not in (None, "") else None


def conditions(competition: Competition) -> list[str]:
    """Describe every eligibility condition, for the registration page."""
    rules, elig = [], competition.eligibility or {}
    if trades_of(competition):
        rules.append(_("Trade: %(trades)s", trades="、".join(trades_of(competition))))
    low, high = _limit(competition, "age_min"), _limit(competition, "age_max")
    if low is not None or high is not None:
        rules.append(
            _("Age: %(low)s to %(high)s", low=low if low is not None else "—", high=high if high is not None else "—")
        )
    if elig.get("min_grade") not in (None, ""):
        rules.append(_("Skill grade %(grade)s or higher", grade=grade_label(_limit(competition, "min_grade"))))
    if counties_of(competition):
        rules.append(_("Employer in: %(counties)s", counties="、".join(c.name for c in counties_of(competition))))
    return rules


def ineligible(competition: Competition, who: Candidate, today: date | None = None) -> list[tuple[str, str]]:
    """Return (field, reason) for every eligibility condition the candidate fails."""
    today = today or utcnow().date()
    found: list[tuple[str, str]] = []
    trades = trades_of(competition)
    if trades and (who.trade or "").strip() not in trades:
        found.append(
            (
                "trade",
                _(
                    "trade “%(trade)s” is not one of this competition's trades (%(trades)s)",
                    trade=who.trade or "—",
                    trades="、".join(trades),
                ),
            )
        )
    low, high = _limit(competition, "age_min"), _limit(competition, "age_max")
    if (low is not None or high is not None) and who.birth_date is None:
        found.append(("id_number", _("the birth date is unknown, and the competition has an age limit")))
    elif who.birth_date is not None:
        age = age_on(who.birth_date, today)
        if low is not None and age < low:
            found.append(("id_number", _("age %(age)s is below the minimum age of %(limit)s", age=age, limit=low)))
        if high is not None and age > high:
            found.append(("id_number", _("age %(age)s is above the maximum age of %(limit)s", age=age, limit=high)))
    required = _limit(competition, "min_grade")
    if required is not None and (who.grade is None or who.grade > required):
        found.append(
            (
                "grade",
                _(
                    "skill grade %(grade)s is below the required %(required)s",
                    grade=grade_label(who.grade),
                    required=grade_label(required),
                ),
            )
        )
    counties = counties_of(competition)
    if counties:
        lineage = {u.id for u in who.employer.lineage()} if who.employer else set()
        if not lineage & {c.id for c in counties}:
            found.append(
                (
                    "employer",
                    _(
                        "employer %(employer)s is not in an eligible county (%(counties)s)",
                        employer=who.employer.name if who.employer else "—",
                        counties="、".join(c.name for c in counties),
                    ),
                )
            )
    return found


def when(moment: datetime | None) -> str:
    """Show a stored (UTC) moment in the user's time zone."""
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else "—"


def window_problem(competition: Competition, now: datetime | None = None) -> str | None:
    """Say why registration is not open now, or None when it is."""
    now = now or utcnow()
    if competition.kind != "competition":
        return _("A rating takes no personal registrations.")
    if competition.status != "open":
        return _("Registration is not open: the competition is “%(state)s”.", state=status_label(competition.status))
    opens, closes = competition.registration_opens, competition.registration_closes
    if opens and now < opens:
        return _("Registration opens on %(opens)s (it runs until %(closes)s).", opens=when(opens), closes=when(closes))
    if closes and now > closes:
        return _("Registration closed on %(closes)s (it opened on %(opens)s).", opens=when(opens), closes=when(closes))
    return None


def active_count(competition: Competition) -> int:
    """Count the entrants holding a place (not rejected, not withdrawn)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Entrant.id)).where(
                Entrant.competition_id == competition.id, Entrant.status.not_in(INACTIVE)
            )
        )
        or 0
    )


def places_left(competition: Competition) -> int | None:
    """Return how many places remain, or None without a capacity."""
    if not competition.capacity:
        return None
    return max(0, competition.capacity - active_count(competition))


def full_message(competition: Competition) -> str:
    """Say that the competition is full."""
    return _("The competition is full: all %(capacity)s places are taken.", capacity=competition.capacity)


def entry_of(competition: Competition, worker: Worker) -> Entrant | None:
    """Return the person's entry in the competition, found by ID number when there is one."""
    query = (
        sa.select(Entrant).join(Worker, Entrant.worker_id == Worker.id).where(Entrant.competition_id == competition.id)
    )
    if worker.id_hash:
        return db.session.scalar(query.where(Worker.id_hash == worker.id_hash))
    return db.session.scalar(query.where(Worker.id == worker.id))


def already_message(entry: Entrant) -> str:
    """Say that the person is registered already, and how the registration stands."""
    return _(
        "This person is already registered for the competition (%(ref)s, %(status)s).",
        ref=entry.ref,
        status=entrant_status_label(entry.status),
    )


def refusals(competition: Competition, worker: Worker | None, now: datetime | None = None) -> list[str]:
    """Return every reason the worker cannot register now (empty: they can)."""
    if worker is None:
        return [_("Complete your worker profile first.")]
    closed = window_problem(competition, now)
    if closed:
        return [closed]
    entry = entry_of(competition, worker)
    if entry is not None and entry.status != "withdrawn":
        return [already_message(entry)]
    found = [reason for _field, reason in ineligible(competition, Candidate.of(worker))]
    if places_left(competition) == 0:
        found.append(full_message(competition))
    return found


def next_refs(competition: Competition, count: int) -> list[str]:
    """Return the next `count` registration refs, R0001, R0002 …"""
    taken = db.session.scalars(
        sa.select(Entrant.ref).where(Entrant.competition_id == competition.id, Entrant.ref.like("R%"))
    ).all()
    last = max((int(r[1:]) for r in taken if re.fullmatch(r"R\d+", r)), default=0)
    return [f"R{n:04d}" for n in range(last + 1, last + 1 + count)]


def lock(competition: Competition) -> None:
    """Hold the competition row, so two registrations cannot take the last place at once."""
    db.session.execute(sa.select(Competition.id).where(Competition.id == competition.id).with_for_update())


def enter(
    competition: Competition,
    worker: Worker,
    actor: User,
    status: str,
    team: str = "",
    employer: OrgUnit | None = None,
    ref: str | None = None,
    existing: Entrant | None | object = ...,
    flush: bool = True,
) -> Entrant:
    """Add the worker's entrant (or revive their withdrawn one); the caller holds the transaction.

    A sheet's import passes the entry it already looked up (`existing`, None for none) and flushes once
    at the end (`flush=False`) rather than once a row.
    """
    entrant = entry_of(competition, worker) if existing is ... else existing
    assert entrant is None or isinstance(entrant, Entrant)
    if entrant is None:
        ref = ref or next_refs(competition, 1)[0]
        entrant = Entrant(competition_id=competition.id, ref=ref, type="person", worker=worker)
        db.session.add(entrant)
    entrant.name, entrant.team, entrant.status, entrant.status_reason = worker.name, team or "", status, None
    entrant.employer_id = employer.id if employer else worker.employer_id
    entrant.registered_by_id, entrant.registered_at = actor.id, utcnow()
    if flush:
        db.session.flush()
    return entrant


def team_problem(team: str) -> str | None:
    """Say what is wrong with a team name as the worker typed it (already trimmed), or None; as the sheet checks it."""
    if team.startswith(FORMULA_PREFIXES):
        return _("Team: must not begin with =, +, - or @.")
    if has_control_characters(team):
        return _("Team: contains control characters.")
    if len(team) > TEAM_LENGTH:
        return _("Team: at most %(n)s characters.", n=TEAM_LENGTH)
    return None


def team_names(competition: Competition, worker: Worker | None) -> list[str]:
    """Return the teams the worker's colleagues entered in the competition, as suggestions for her own.

    Only where the standings go by team name; no names of people, only the teams' names.
    """
    if worker is None or worker.employer_id is None or competition.team_by != "team":
        return []
    return list(
        db.session.scalars(
            sa.select(Entrant.team)
            .where(
                Entrant.competition_id == competition.id,
                Entrant.employer_id == worker.employer_id,
                Entrant.team != "",
                Entrant.status.not_in(INACTIVE),
            )
            .distinct()
            .order_by(Entrant.team)
        )
    )


def register_self(competition: Competition, user: User, team: str = "") -> Entrant:
    """Register the worker account's own worker, pending approval; refuse saying exactly why.

    `team` is the team she competes in, trimmed like a sheet's cell; empty, she is in no team
    (with teams formed by team name she is then ranked individually only, see `results.load`).
    """
    team = (team or "").strip()
    problem = team_problem(team)
    if problem:
        raise ServiceError(problem)
    try:
        with transaction():
            lock(competition)
            worker = user.worker
            problems = refusals(competition, worker)
            if problems:
                raise ServiceError(" ".join(problems))
            assert worker is not None  # refusals() refuses a user without a worker
            entrant = enter(competition, worker, user, "pending", team=team)
            lifecycle.touch(competition)
            audit.record("registration.created", user, competition, entrant, ref=entrant.ref, by="self", team=team)
    except IntegrityError:
        raise ServiceError(_("Someone registered at the same moment. Please try again.")) from None
    return entrant


def withdraw(entrant: Entrant, user: User) -> None:
    """Withdraw a pending or approved registration at the worker's request."""
    if entrant.status not in WITHDRAWABLE:
        raise ServiceError(
            _("A registration that is “%(status)s” cannot be withdrawn.", status=entrant_status_label(entrant.status))
        )
    if entrant.competition.status not in ("open", "closed"):
        raise ServiceError(_("The competition has started: ask the organizer to withdraw you."))
    with transaction():
        previous, entrant.status = entrant.status, "withdrawn"
        lifecycle.touch(entrant.competition)
        audit.record("registration.withdrawn", user, entrant.competition, entrant, ref=entrant.ref, previous=previous)


def create_profile(user: User, name: str, id_number: str, phone: str, employer_id: int, trade: str, grade: int | None):
    """Give a worker account its record: a new one, or a claim of the one on file (returned) for an organizer."""
    from comp.services.accounts import claims

    return claims.complete_profile(user, claims.Person(name, id_number, phone, employer_id or None, trade, grade))


def enterprises() -> list[OrgUnit]:
    """Return the enterprises a worker can name as employer, by name."""
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "enterprise").order_by(OrgUnit.name)))


def open_for(user: User, now: datetime | None = None) -> list[tuple[Competition, Entrant | None]]:
    """Return the competitions taking registrations now, each with the worker's entry if any."""
    now = now or utcnow()
    found = db.session.scalars(
        sa.select(Competition)
        .where(
            Competition.status == "open",
            Competition.kind == "competition",
            sa.or_(Competition.registration_opens.is_(None), Competition.registration_opens <= now),
            sa.or_(Competition.registration_closes.is_(None), Competition.registration_closes >= now),
        )
        .order_by(Competition.registration_closes, Competition.code)
    ).all()
    worker = user.worker
    return [(c, entry_of(c, worker) if worker else None) for c in found]
