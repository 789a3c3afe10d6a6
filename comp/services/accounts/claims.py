"""Workers' own accounts: sign-up, claiming a record already on file, and asking for corrections.

Knowing a name and an ID number is not proof of being that person: when a sign-up (or a
worker's profile form) names an ID number already on record, the account is not linked to the
record; a claim waits for an organizer of the worker's union, who confirms or rejects it. No
sign-up, profile or registration form overwrites the identity fields of a record (name, ID
number, employer, phone, grade); the owner's corrections go to the organizer as a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp import idcard
from comp.extensions import db
from comp.models import SKILL_GRADES, OrgUnit, User, Worker, WorkerRequest
from comp.models.types import utcnow
from comp.permissions import can, city_wide, scope
from comp.services import ServiceError, people, transaction
from comp.services.accounts import check_username, new_user, passwords, sessions
from comp.services.common import audit

PHONE = re.compile(r"\+?[0-9][0-9 -]{5,18}")
FIELD_LABELS = {
    "name": _l("Name"),
    "phone": _l("Phone"),
    "employer_id": _l("Employer"),
    "trade": _l("Trade"),
    "skill_grade": _l("Skill grade"),
}
LENGTHS = {"name": 64, "trade": 64}


@dataclass(frozen=True)
class Person:
    """What a worker says about themselves: at sign-up, on the profile form, in a claim."""

    name: str
    id_number: str
    phone: str
    employer_id: int | None
    trade: str
    grade: int | None

    def detail(self) -> dict:
        """Return what a claim records of it (never the ID number in the clear)."""
        return {
            "name": self.name,
            "phone": self.phone,
            "employer_id": self.employer_id,
            "trade": self.trade,
            "skill_grade": self.grade,
        }


def _text(value: str | None, field: str) -> str:
    text = (value or "").strip()
    if any(not ch.isprintable() for ch in text):
        raise ServiceError(_("%(field)s contains control characters.", field=FIELD_LABELS[field]))
    if len(text) > LENGTHS.get(field, 64):
        raise ServiceError(
            _("%(field)s is too long (at most %(n)s characters).", field=FIELD_LABELS[field], n=LENGTHS.get(field, 64))
        )
    return text


def checked(person: Person) -> tuple[Person, str, OrgUnit | None]:
    """Return the person with trimmed fields, the normalised ID number and the employer; refuse what is wrong."""
    name = _text(person.name, "name")
    if not name:
        raise ServiceError(_("Give your name."))
    try:
        number = idcard.normalize(person.id_number)
    except idcard.IdNumberError as error:
        raise ServiceError(_("ID number: %(reason)s", reason=error)) from None
    phone = (person.phone or "").strip()
    if not PHONE.fullmatch(phone):
        raise ServiceError(_("Phone: not a phone number."))
    employer = db.session.get(OrgUnit, person.employer_id) if person.employer_id else None
    if person.employer_id and (employer is None or employer.kind != "enterprise"):
        raise ServiceError(_("Choose your employer from the list."))
    if person.grade is not None and person.grade not in SKILL_GRADES:
        raise ServiceError(_("Choose a skill grade from the list."))
    return Person(name, number, phone, person.employer_id, _text(person.trade, "trade"), person.grade), number, employer


def _attach(user: User, person: Person, number: str, actor: User) -> WorkerRequest | None:
    """Link a new record to the account, or file a claim of the existing one (the caller commits)."""
    worker = people.find_by_id_number(number)
    if worker is not None and worker.user is not None:
        raise ServiceError(
            _(
                "An account already exists for this ID number. If it is yours, ask your union "
                "for a new activation link instead of signing up again."
            )
        )
    if worker is None:
        worker = Worker(
            name=person.name,
            phone=person.phone,
            employer_id=person.employer_id,
            trade=person.trade or None,
            skill_grade=person.grade,
        )
        people.set_id_number(worker, number)
        db.session.add(worker)
        db.session.flush()
        user.worker_id = worker.id
        user.display_name = person.name  # the header greets her by the name she gave, not her username
        audit.record("worker.profile", actor, None, worker, claimed=False)
        return None
    claim = WorkerRequest(kind="claim", user_id=user.id, worker_id=worker.id, detail=person.detail())
    db.session.add(claim)
    db.session.flush()
    audit.record(
        "worker.claim_filed",
        actor,
        None,
        worker,
        request=claim.id,
        user=user.id,
        name_matches=worker.name == person.name,
    )
    return claim


def sign_up(
    person: Person, username: str, password: str, ip: str | None = None, user_agent: str | None = None
) -> tuple[User, WorkerRequest | None]:
    """Create a worker's own account and log it in; a record already on file is claimed, not taken."""
    person, number, _employer = checked(person)
    username = check_username(username)
    passwords.check(password, username, personal=(number, person.phone))
    with transaction():
        user = new_user(username, "worker", password, display_name=person.name)
        db.session.flush()
        audit.record("account.signed_up", user, None, user, username=user.username)
        claim = _attach(user, person, number, user)
        sessions.start(user, ip, user_agent)
        user.last_login_at = utcnow()
    return user, claim


def complete_profile(user: User, person: Person) -> WorkerRequest | None:
    """Give a worker account without a record its record: a new one, or a claim of the one on file."""
    if user.worker_id is not None:
        raise ServiceError(_("Your worker profile exists already."))
    if pending_claim(user) is not None:
        raise ServiceError(_("Your claim of a worker record is waiting for your union's confirmation."))
    person, number, _employer = checked(person)
    with transaction():
        return _attach(user, person, number, user)


def pending_claim(user: User) -> WorkerRequest | None:
    """Return the account's claim waiting for a decision, if any."""
    return db.session.scalar(
        sa.select(WorkerRequest).where(
            WorkerRequest.user_id == user.id, WorkerRequest.kind == "claim", WorkerRequest.status == "pending"
        )
    )


def mine(user: User) -> list[WorkerRequest]:
    """Return the account's requests, newest first."""
    return list(
        db.session.scalars(
            sa.select(WorkerRequest).where(WorkerRequest.user_id == user.id).order_by(WorkerRequest.id.desc()).limit(20)
        )
    )


def request_change(user: User, changes: dict, reason: str) -> WorkerRequest:
    """File the owner's request to correct their record; it replaces a pending one."""
    worker = user.worker
    if worker is None:
        raise ServiceError(_("You have no worker record to correct yet."))
    wanted = _changes(worker, changes)
    if not wanted:
        raise ServiceError(_("Nothing differs from your record: change at least one field."))
    reason = (reason or "").strip()[:200]
    with transaction():
        db.session.execute(
            sa.update(WorkerRequest)
            .where(WorkerRequest.user_id == user.id, WorkerRequest.kind == "change", WorkerRequest.status == "pending")
            .values(status="withdrawn", decided_at=utcnow())
        )
        request = WorkerRequest(
            kind="change", user_id=user.id, worker_id=worker.id, detail={"fields": wanted, "reason": reason}
        )
        db.session.add(request)
        db.session.flush()
        audit.record("worker.change_requested", user, None, worker, request=request.id, fields=sorted(wanted))
    return request


def _changes(worker: Worker, changes: dict) -> dict:
    """Return the requested values that differ from the record, checked."""
    wanted: dict = {}
    for field, value in changes.items():
        if field not in FIELD_LABELS or value in (None, ""):
            continue
        if field in ("name", "trade"):
            value = _text(value, field)
        elif field == "phone":
            value = str(value).strip()
            if not PHONE.fullmatch(value):
                raise ServiceError(_("Phone: not a phone number."))
        elif field == "employer_id":
            unit = db.session.get(OrgUnit, int(value))
            if unit is None or unit.kind != "enterprise":
                raise ServiceError(_("Choose your employer from the list."))
        elif field == "skill_grade" and int(value) not in SKILL_GRADES:
            raise ServiceError(_("Choose a skill grade from the list."))
        if getattr(worker, field) != value:
            wanted[field] = value
    return wanted


def pending(actor: User):
    """Return the pending claims and change requests about workers of the actor's unions, oldest first."""
    query = (
        sa.select(WorkerRequest)
        .join(Worker, WorkerRequest.worker_id == Worker.id)
        .where(WorkerRequest.status == "pending")
        .options(
            so.selectinload(WorkerRequest.user), so.selectinload(WorkerRequest.worker).selectinload(Worker.employer)
        )
        .order_by(WorkerRequest.id)
    )
    if not city_wide(actor):
        query = query.where(Worker.employer_id.in_(scope(actor) or set()))
    return list(db.session.scalars(query.limit(500)))


def get(actor: User, request_id: int) -> WorkerRequest | None:
    """Return a request the actor may decide; None alike for missing and out of scope."""
    request = db.session.get(WorkerRequest, request_id)
    return request if request is not None and can("worker.manage", request.worker, actor) else None


def decide(actor: User, request: WorkerRequest, accept: bool, note: str = "") -> None:
    """Accept or reject a claim or change request; an accepted claim links the record to the account."""
    if request.status != "pending":
        raise ServiceError(_("This request has been decided already."))
    with transaction():
        if accept and request.kind == "claim":
            _link(actor, request)
        elif accept:
            _apply(actor, request)
        request.status, request.decided_at, request.decided_by_id = (
            ("accepted" if accept else "rejected"),
            utcnow(),
            actor.id,
        )
        request.note = (note or "").strip()[:200] or None
        audit.record(
            f"worker.{request.kind}_{'accepted' if accept else 'rejected'}",
            actor,
            None,
            request.worker,
            request=request.id,
            user=request.user_id,
            note=request.note,
        )


def _link(actor: User, claim: WorkerRequest) -> None:
    worker, user = claim.worker, claim.user
    if worker.user is not None:
        raise ServiceError(_("This record belongs to another account already."))
    if user.worker_id is not None:
        raise ServiceError(_("This account has a worker record already."))
    user.worker_id = worker.id
    db.session.flush()
    # The record is taken: any other claim of it is answered at once.
    db.session.execute(
        sa.update(WorkerRequest)
        .where(
            WorkerRequest.worker_id == worker.id,
            WorkerRequest.kind == "claim",
            WorkerRequest.status == "pending",
            WorkerRequest.id != claim.id,
        )
        .values(status="rejected", decided_at=utcnow(), decided_by_id=actor.id, note="claimed by another account")
    )


def _apply(actor: User, change: WorkerRequest) -> None:
    worker = change.worker
    fields = _changes(worker, dict(change.detail.get("fields") or {}))
    before = {field: getattr(worker, field) for field in fields}
    for field, value in fields.items():
        setattr(worker, field, value)
    audit.record(
        "worker.changed", actor, None, worker, request=change.id, **{f: [before[f], fields[f]] for f in fields}
    )
