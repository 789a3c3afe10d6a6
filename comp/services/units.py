"""Innovation studios and craftsman teams: the registry, members and achievements, each write audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp.extensions import db
from comp.models import Achievement, OrgUnit, Unit, UnitMember, User, Worker
from comp.services import ServiceError, audit, people, transaction

PER_PAGE = 50
KIND_LABELS = {"studio": _l("Innovation studio"), "team": _l("Craftsman team")}
LEVEL_LABELS = {"city": _l("City"), "province": _l("Province"), "national": _l("National")}
ACHIEVEMENT_LABELS = {"project": _l("Project"), "patent": _l("Patent"), "method": _l("Named method"),
                      "training": _l("Trainees"), "other": _l("Other")}


@dataclass(frozen=True)
class Filters:
    """What the registry is narrowed to: a name search, kind, county, enterprise and level."""

    q: str = ""
    kind: str = ""
    county: int | None = None
    enterprise: int | None = None
    level: str = ""


def enterprises() -> list[OrgUnit]:
    """Return every enterprise, by name."""
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "enterprise").order_by(OrgUnit.name)))


def counties() -> list[OrgUnit]:
    """Return every county union, by name."""
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "county").order_by(OrgUnit.name)))


def _under(county_id: int) -> list[int]:
    """Return the ids of the organizations below a county union (its enterprises and their parts)."""
    found, frontier = [], [county_id]
    while frontier:  # the tree is shallow: one query per level
        frontier = list(db.session.scalars(sa.select(OrgUnit.id).where(OrgUnit.parent_id.in_(frontier))))
        found += frontier
    return found


def search(filters: Filters, page: int = 1):
    """Return one page (50 units) of the registry narrowed by every given filter."""
    query = sa.select(Unit).options(so.selectinload(Unit.enterprise).selectinload(OrgUnit.parent),
                                    so.selectinload(Unit.leader))
    if filters.q:
        query = query.where(Unit.name.contains(filters.q.strip(), autoescape=True))
    if filters.kind:
        query = query.where(Unit.kind == filters.kind)
    if filters.level:
        query = query.where(Unit.level == filters.level)
    if filters.enterprise:
        query = query.where(Unit.enterprise_id == filters.enterprise)
    if filters.county:
        query = query.where(Unit.enterprise_id.in_(_under(filters.county)))
    query = query.order_by(Unit.kind, Unit.name, Unit.id)
    return db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)


def get(unit_id: int) -> Unit | None:
    """Return the unit with this id, if any."""
    return db.session.get(Unit, unit_id)


def enterprise_workers(enterprise_id: int | None) -> list[Worker]:
    """Return the workers employed by an enterprise, by name."""
    if not enterprise_id:
        return []
    return list(db.session.scalars(sa.select(Worker).where(Worker.employer_id == enterprise_id)
                                   .order_by(Worker.name, Worker.id)))


def find_worker(worker_id: int | None, id_number: str | None) -> Worker | None:
    """Return the worker chosen from a list or by ID number; refuse an unknown one."""
    if id_number:
        worker = people.find_by_id_number(id_number)
        if worker is None:
            raise ServiceError(_("No worker has this ID number."))
        return worker
    if worker_id:
        return db.session.get(Worker, worker_id) or _refuse(_("No such worker."))
    return None


def _refuse(message: str):
    raise ServiceError(message)


def _check_unique(kind: str, enterprise_id: int | None, name: str, unit_id: int | None) -> None:
    clash = db.session.scalar(sa.select(Unit.id).where(
        Unit.kind == kind, Unit.enterprise_id == enterprise_id, Unit.name == name, Unit.id != (unit_id or 0)))
    if clash is not None:
        raise ServiceError(_("This enterprise already has a %(kind)s named “%(name)s”.",
                             kind=KIND_LABELS[kind], name=name))


def save(unit: Unit | None, fields: dict, actor: User) -> Unit:
    """Create a unit, or change one, from checked fields (kind, name, enterprise_id, workshop, leader, level, founded)."""
    _check_unique(fields["kind"], fields["enterprise_id"], fields["name"], unit and unit.id)
    with transaction():
        created = unit is None
        unit = unit or Unit()
        for key, value in fields.items():
            setattr(unit, key, value)
        if created:
            db.session.add(unit)
        db.session.flush()
        audit.record("unit.created" if created else "unit.changed", actor, None, unit,
                     **{k: v.isoformat() if isinstance(v, date) else getattr(v, "id", v) for k, v in fields.items()})
    return unit


def add_member(unit: Unit, worker: Worker, role: str, actor: User) -> UnitMember:
    """Make a worker a member of the unit; refuse a second membership."""
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
