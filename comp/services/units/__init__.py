"""Innovation studios and craftsman teams: the registry, members and achievements, each write audited.

An organizer below the city union sees and chooses only what lies under its union: the units of
its enterprises, those enterprises, their workers. A worker outside is answered like no worker, so
the registry never tells which ID numbers exist elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp.extensions import db
from comp.models import Achievement, OrgUnit, Unit, UnitMember, User, Worker
from comp.orgtree import Node, Tree
from comp.permissions import scope
from comp.services import ServiceError, people, transaction
from comp.services.common import audit

PER_PAGE = 50
KIND_LABELS = {"studio": _l("Innovation studio"), "team": _l("Craftsman team")}
LEVEL_LABELS = {"city": _l("City"), "province": _l("Province"), "national": _l("National")}
ACHIEVEMENT_LABELS = {
    "project": _l("Project"),
    "patent": _l("Patent"),
    "method": _l("Named method"),
    "training": _l("Trainees"),
    "other": _l("Other"),
}


@dataclass(frozen=True)
class Filters:
    """What the registry is narrowed to: a name search, kind, county, enterprise and level."""

    q: str = ""
    kind: str = ""
    county: int | None = None
    enterprise: int | None = None
    level: str = ""


def enterprises(user: User, tree: Tree | None = None) -> list[Node]:
    """Return the enterprises of the user's unions, by name."""
    tree = tree or Tree()
    allowed = scope(user, tree)
    return [e for e in tree.enterprises() if allowed is None or e.id in allowed]


def counties(user: User, tree: Tree | None = None) -> list[Node]:
    """Return the county unions with part of the user's unions below them, by name."""
    tree = tree or Tree()
    allowed = scope(user, tree)
    return [c for c in tree.counties() if allowed is None or tree.subtree(c.id) & allowed]


def registry(filters: Filters, user: User, page: int = 1) -> dict:
    """Return one page of the user's units narrowed by the filters, and the places the filters offer."""
    tree = Tree()
    return {
        "page": search(filters, user, page, tree),
        "counties": counties(user, tree),
        "enterprises": enterprises(user, tree),
    }


def search(filters: Filters, user: User, page: int = 1, tree: Tree | None = None):
    """Return one page (50 units) of the units of the user's unions narrowed by every given filter."""
    tree = tree or Tree()
    allowed = scope(user, tree)
    for place in (filters.county, filters.enterprise):
        if place:  # a place outside the user's unions narrows to nothing
            below = tree.subtree(place)
            allowed = below if allowed is None else allowed & below
    query = sa.select(Unit).options(
        so.selectinload(Unit.enterprise).selectinload(OrgUnit.parent), so.selectinload(Unit.leader)
    )
    if filters.q:
        query = query.where(Unit.name.contains(filters.q.strip(), autoescape=True))
    if filters.kind:
        query = query.where(Unit.kind == filters.kind)
    if filters.level:
        query = query.where(Unit.level == filters.level)
    if allowed is not None:
        query = query.where(Unit.enterprise_id.in_(sorted(allowed)))
    query = query.order_by(Unit.kind, Unit.name, Unit.id)
    return db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)


def get(unit_id: int) -> Unit | None:
    """Return the unit with this id, if any."""
    return db.session.get(Unit, unit_id)


def _outside(allowed: set[int] | None, org_id: int | None) -> bool:
    """Tell whether an organization lies outside a scope (None: the whole city)."""
    return allowed is not None and org_id not in allowed


def enterprise_workers(enterprise_id: int | None, user: User) -> list[Worker]:
    """Return the workers employed by an enterprise of the user's unions, by name; none for another."""
    if not enterprise_id or _outside(scope(user), enterprise_id):
        return []
    return list(
        db.session.scalars(
            sa.select(Worker).where(Worker.employer_id == enterprise_id).order_by(Worker.name, Worker.id)
        )
    )


def find_worker(worker_id: int | None, id_number: str | None, user: User) -> Worker | None:
    """Return the worker of the user's unions chosen from a list or by ID number; refuse any other alike."""
    allowed = scope(user)
    if id_number:
        worker = people.find_by_id_number(id_number)
        if worker is None or _outside(allowed, worker.employer_id):
            raise ServiceError(_("No worker with this ID number in your unions."))
        return worker
    if worker_id:
        worker = db.session.get(Worker, worker_id)
        if worker is None or _outside(allowed, worker.employer_id):
            raise ServiceError(_("No such worker."))
        return worker
    return None


def _refuse(message: str):
    raise ServiceError(message)


def _check_unique(kind: str, enterprise_id: int | None, name: str, unit_id: int | None) -> None:
    clash = db.session.scalar(
        sa.select(Unit.id).where(
            Unit.kind == kind, Unit.enterprise_id == enterprise_id, Unit.name == name, Unit.id != (unit_id or 0)
        )
    )
    if clash is not None:
        raise ServiceError(
            _("This enterprise already has a %(kind)s named “%(name)s”.", kind=KIND_LABELS[kind], name=name)
        )


def save(unit: Unit | None, fields: dict, actor: User) -> Unit:
    """Create a unit, or change one, from checked fields (kind, name, enterprise, workshop, leader, level, founded)."""
    allowed = scope(actor)
    if _outside(allowed, fields["enterprise_id"]):
        raise ServiceError(_("No such enterprise in your unions."))
    leader, kept = fields.get("leader"), unit.leader_id if unit else None
    if leader is not None and leader.id != kept and _outside(allowed, leader.employer_id):
        raise ServiceError(_("No such worker."))  # a leader the city union chose may stay
    _check_unique(fields["kind"], fields["enterprise_id"], fields["name"], unit.id if unit is not None else None)
    with transaction():
        created = unit is None
        unit = unit or Unit()
        for key, value in fields.items():
            setattr(unit, key, value)
        if created:
            db.session.add(unit)
        db.session.flush()
        audit.record(
            "unit.created" if created else "unit.changed",
            actor,
            None,
            unit,
            **{k: v.isoformat() if isinstance(v, date) else getattr(v, "id", v) for k, v in fields.items()},
        )
    return unit


def add_member(unit: Unit, worker: Worker, role: str, actor: User) -> UnitMember:
    """Make a worker of the actor's unions a member of the unit; refuse a second membership."""
    if _outside(scope(actor), worker.employer_id):
        raise ServiceError(_("No such worker."))
    if any(m.worker_id == worker.id for m in unit.members):
        raise ServiceError(_("%(name)s is already a member.", name=worker.name))
    with transaction():
        member = UnitMember(unit=unit, worker=worker, role=role or None)
        db.session.add(member)
        db.session.flush()
        audit.record("unit.member_added", actor, None, unit, worker_id=worker.id, role=role)
    return member


def remove_member(unit: Unit, member_id: int, actor: User) -> None:
    """Remove one member from the unit."""
    member = next((m for m in unit.members if m.id == member_id), None) or _refuse(_("No such member."))
    with transaction():
        unit.members.remove(member)
        audit.record("unit.member_removed", actor, None, unit, worker_id=member.worker_id)


def add_achievement(unit: Unit, year: int, kind: str, title: str, actor: User) -> Achievement:
    """Record one of the unit's yearly achievements."""
    if kind not in ACHIEVEMENT_LABELS:
        raise ServiceError(_("Unknown kind of achievement."))
    with transaction():
        achievement = Achievement(unit=unit, year=year, kind=kind, title=title)
        db.session.add(achievement)
        db.session.flush()
        audit.record("unit.achievement_added", actor, None, unit, year=year, kind=kind, title=title)
    return achievement


def remove_achievement(unit: Unit, achievement_id: int, actor: User) -> None:
    """Delete one of the unit's achievements."""
    found = next((a for a in unit.achievements if a.id == achievement_id), None) or _refuse(_("No such achievement."))
    with transaction():
        unit.achievements.remove(found)
        audit.record("unit.achievement_removed", actor, None, unit, year=found.year, title=found.title)
