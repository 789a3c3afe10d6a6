"""The organizer's side of registration: the approval queue, decisions, and .xlsx exports."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp.extensions import db
from comp.labels import entrant_status_label
from comp.models import Competition, Entrant, User, Worker
from comp.models.competition import ENTRANT_STATUSES
from comp.services import ServiceError, people, transaction
from comp.services.common import audit, sheets
from comp.services.registration import full_message, places_left, when
from comp.services.setup import lifecycle

PAGE_SIZE = 200
DECIDING_STATES = ("open", "closed")
# verdict → (new status, the statuses it may come from)
VERDICTS = {"approve": ("approved", ("pending", "rejected")), "reject": ("rejected", ("pending", "approved"))}
# Entrants proper: registrations that were accepted (the sign-in sheet, the hall).
ENTRANT_SET = ("approved", "ok", "absent", "disqualified")


@dataclass(frozen=True)
class Page:
    """One page of the queue, with the count per status for the filter."""

    entrants: list[Entrant]
    counts: dict[str, int]
    page: int
    pages: int


def _listing(competition: Competition):
    return (
        sa.select(Entrant)
        .where(Entrant.competition_id == competition.id)
        .options(so.selectinload(Entrant.worker), so.selectinload(Entrant.employer))
    )


def queue(competition: Competition, status: str | None = None, page: int = 1) -> Page:
    """Return one page of the competition's registrations, optionally of one status."""
    counts = dict(
        db.session.execute(
            sa.select(Entrant.status, sa.func.count(Entrant.id))
            .where(Entrant.competition_id == competition.id)
            .group_by(Entrant.status)
        ).all()
    )
    query = _listing(competition)
    if status in ENTRANT_STATUSES:
        query = query.where(Entrant.status == status)
    total = counts.get(status, 0) if status in ENTRANT_STATUSES else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.session.scalars(query.order_by(Entrant.ref).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return Page(list(rows), counts, page, pages)


def get_entrant(competition: Competition, entrant_id: int) -> Entrant | None:
    """Return the competition's entrant with this id, if any."""
    return db.session.scalar(_listing(competition).where(Entrant.id == entrant_id))


def _check_decision(competition: Competition, entrants: list[Entrant], verdict: str, reason: str) -> None:
    """Refuse a decision the competition's state, the entrants' states or the capacity forbid."""
    if competition.status not in DECIDING_STATES:
        raise ServiceError(_("Registrations can be decided only while registration is open or just closed."))
    if verdict == "reject" and not reason:
        raise ServiceError(_("Give the reason for the rejection; the worker will see it."))
    if len(reason) > 200:
        raise ServiceError(_("The reason is too long (at most 200 characters)."))
    target, sources = VERDICTS[verdict]
    stuck = [e for e in entrants if e.status != target and e.status not in sources]
    if stuck:
        raise ServiceError(
            _(
                "These registrations cannot be changed: %(items)s.",
                items=", ".join(f"{e.ref} ({entrant_status_label(e.status)})" for e in stuck[:20]),
            )
        )
    returning = sum(1 for e in entrants if e.status == "rejected" and target == "approved")
    left = places_left(competition)
    if returning and left is not None and returning > left:
        raise ServiceError(full_message(competition))


def decide(
    competition: Competition, entrant_ids: list[int], verdict: str, actor: User, reason: str = ""
) -> list[Entrant]:
    """Approve or reject registrations, one or many, all or none; return those that changed."""
    if verdict not in VERDICTS:
        raise ServiceError(_("Unknown decision."))
    ids = set(entrant_ids)
    if not ids:
        raise ServiceError(_("Select at least one registration."))
    reason = (reason or "").strip()
    entrants = list(db.session.scalars(_listing(competition).where(Entrant.id.in_(ids)).order_by(Entrant.ref)))
    if len(entrants) != len(ids):
        raise ServiceError(_("Some of the selected registrations do not belong to this competition."))
    _check_decision(competition, entrants, verdict, reason)
    target = VERDICTS[verdict][0]
    changed = [e for e in entrants if e.status != target]
    with transaction():
        for entrant in changed:
            previous, entrant.status = entrant.status, target
            entrant.status_reason = reason if target == "rejected" else None
            audit.record(
                f"registration.{target}",
                actor,
                competition,
                entrant,
                ref=entrant.ref,
                previous=previous,
                reason=reason or None,
                bulk=len(ids) > 1,
            )
        if changed:
            lifecycle.touch(competition)
    return changed


HEADERS = (
    _l("Ref"),
    _l("Number"),
    _l("Name"),
    _l("ID number"),
    _l("Gender"),
    _l("Phone"),
    _l("Employer"),
    _l("County"),
    _l("Trade"),
    _l("Skill grade"),
    _l("Team"),
    _l("Status"),
    _l("Reason"),
    _l("Registered"),
    _l("Workstation"),
    _l("Session"),
)


GENDERS = {"M": _l("Male"), "F": _l("Female")}


def _row(entrant: Entrant, full: bool) -> list:
    worker: Worker | None = entrant.worker
    employer = entrant.employer
    county = employer.county() if employer else None
    number = (people.id_number(worker) if full else worker.id_masked) if worker else None
    phone = worker.phone if worker and full else people.masked_phone(worker.phone if worker else None)
    gender = str(GENDERS.get(worker.gender or "", "")) if worker else ""
    return [
        entrant.ref,
        entrant.number,
        entrant.name,
        number or "",
        gender,
        phone,
        employer.name if employer else "",
        county.name if county else "",
        worker.trade if worker else "",
        worker.skill_grade if worker else None,
        entrant.team,
        entrant_status_label(entrant.status),
        entrant.status_reason or "",
        when(entrant.registered_at),
        entrant.workstation or "",
        entrant.session or "",
    ]


def export(competition: Competition, actor: User, which: str = "registrations", full: bool = False) -> bytes:
    """Return the registrations (or the accepted entrants) as .xlsx; a full export is audited."""
    query = _listing(competition).order_by(Entrant.number.is_(None), Entrant.number, Entrant.ref)
    if which == "entrants":
        query = query.where(Entrant.status.in_(ENTRANT_SET))
    entrants = db.session.scalars(query).all()
    data = sheets.write_xlsx([str(h) for h in HEADERS], (_row(e, full) for e in entrants), title=competition.code)
    if full:
        with transaction():
            audit.record(
                "registrations.exported_full", actor, competition, competition, count=len(entrants), which=which
            )
    return data
