"""Write the demo's org tree, workers, accounts, studios and teams, skipping what exists.

Every function looks its rows up by their natural key first (name under a parent, ID-number
hash, username, unit kind + enterprise + name), so running the demo again adds nothing. The
caller owns the transaction.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from comp.demo import data
from comp.demo.roster import WorkerSpec
from comp.extensions import db
from comp.models import Achievement, Honour, OrgUnit, Unit, UnitMember, User, Worker
from comp.services import accounts, people


class Tally(dict):
    """Counts of created rows by kind."""

    def add(self, kind: str, n: int = 1) -> None:
        """Count n more rows of a kind."""
        self[kind] = self.get(kind, 0) + n


def _org(name: str, kind: str, parent: OrgUnit | None, tally: Tally) -> OrgUnit:
    """Return the org unit with this name under the parent, creating it when missing."""
    under = OrgUnit.parent_id.is_(None) if parent is None else OrgUnit.parent_id == parent.id
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == name, under))
    if unit is None:
        unit = OrgUnit(name=name, kind=kind, parent=parent)
        db.session.add(unit)
        db.session.flush()
        tally.add("organizations")
    return unit


def orgs(tally: Tally) -> dict[str, OrgUnit]:
    """Create the tree city → counties → enterprises → workshops → teams; return units by name."""
    city = _org(data.CITY, "city", None, tally)
    units = {data.CITY: city}
    for county in data.COUNTIES:
        units[county] = _org(county, "county", city, tally)
    for key, (name, county) in data.ENTERPRISES.items():
        units[key] = units[name] = _org(name, "enterprise", units[county], tally)
    for key, (workshop, teams) in data.WORKSHOPS.items():
        shop = _org(workshop, "workshop", units[key], tally)
        for team in teams:
            _org(team, "team", shop, tally)
    return units


def workers(specs: list[WorkerSpec], units: dict[str, OrgUnit], tally: Tally) -> dict[str, Worker]:
    """Create the workers unknown by ID number, with honours and mentors; return all by key."""
    found: dict[str, Worker] = {}
    for spec in specs:
        worker = people.find_by_id_number(spec.id_number)
        if worker is None:
            worker = Worker(
                name=spec.name,
                phone=spec.phone,
                employer=units[spec.enterprise],
                trade=spec.trade,
                skill_grade=spec.grade,
                mentor=found.get(spec.mentor) if spec.mentor is not None else None,
            )
            people.set_id_number(worker, spec.id_number)
            worker.honours = [Honour(title=t, year=y, issuer=i) for t, y, i in spec.honours]
            db.session.add(worker)
            db.session.flush()
            tally.add("workers")
            tally.add("honours", len(spec.honours))
        found[spec.key] = worker
    return found


def users(units: dict[str, OrgUnit], workers: dict[str, Worker], tally: Tally) -> None:
    """Create the demo accounts that do not exist yet, all with the demo password."""
    wanted = {
        name: {"role": role, "display_name": display, "org_unit_id": units[org].id}
        for name, (role, display, org) in data.ACCOUNTS.items()
    }
    username, key = data.WORKER_ACCOUNT
    worker = workers[key]
    if db.session.scalar(sa.select(User.id).where(User.worker_id == worker.id)) is None:
        wanted[username] = {
            "role": "worker",
            "display_name": worker.name,
            "worker_id": worker.id,
            "org_unit_id": worker.employer_id,
        }
    # One salted hash serves every demo account: they share a published password, and
    # hashing it once (scrypt is slow on purpose) keeps the demo quick to load.
    password_hash = None
    for name, fields in wanted.items():
        if accounts.find_user(name) is None:
            password_hash = password_hash or generate_password_hash(data.PASSWORD)
            db.session.add(User(username=name, password_hash=password_hash, **fields))
            tally.add("accounts")
    db.session.flush()


def onboarding(units: dict[str, OrgUnit], workers: dict[str, Worker], tally: Tally) -> None:
    """Show the people side: an invited judge with a live link, a claim and a correction waiting."""
    from comp.models import WorkerRequest
    from comp.services.accounts import links

    name, role, display, org = data.INVITED
    if accounts.find_user(name) is None:
        invited = accounts.new_user(name, role, None, display_name=display, org_unit_id=units[org].id)
        db.session.flush()
        links.issue(invited, "activate", accounts.find_user("organizer"))
        tally.add("accounts")
    username, key, phone = data.CLAIM_ACCOUNT
    claimed = workers[key]
    if accounts.find_user(username) is None and claimed.user is None:
        user = User(
            username=username,
            role="worker",
            display_name=claimed.name,
            password_hash=generate_password_hash(data.PASSWORD),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            WorkerRequest(
                kind="claim",
                user_id=user.id,
                worker_id=claimed.id,
                detail={
                    "name": claimed.name,
                    "phone": phone,
                    "employer_id": claimed.employer_id,
                    "trade": claimed.trade,
                    "skill_grade": claimed.skill_grade,
                },
            )
        )
        tally.add("accounts")
    owner = accounts.find_user(data.WORKER_ACCOUNT[0])
    if (
        owner is not None
        and owner.worker is not None
        and db.session.scalar(
            sa.select(WorkerRequest.id).where(WorkerRequest.user_id == owner.id, WorkerRequest.kind == "change")
        )
        is None
    ):
        db.session.add(
            WorkerRequest(
                kind="change",
                user_id=owner.id,
                worker_id=owner.worker_id,
                detail={"fields": data.CHANGE_REQUEST, "reason": "换了新手机号"},
            )
        )
    db.session.flush()


def _unit(kind: str, name: str, enterprise: OrgUnit, tally: Tally, **fields) -> Unit | None:
    """Add a studio or team unless the enterprise has one of that kind and name (then None)."""
    exists = db.session.scalar(
        sa.select(Unit.id).where(Unit.kind == kind, Unit.name == name, Unit.enterprise_id == enterprise.id)
    )
    if exists is not None:
        return None
    unit = Unit(kind=kind, name=name, enterprise=enterprise, **fields)
    db.session.add(unit)
    tally.add("studios" if kind == "studio" else "craftsman teams")
    return unit


def _colleagues(specs: list[WorkerSpec], enterprise: str, skip: set[str]) -> list[str]:
    """Return the keys of an enterprise's workers, the highest grades first."""
    return [s.key for s in sorted(specs, key=lambda s: s.grade) if s.enterprise == enterprise and s.key not in skip]


def studios(units: dict[str, OrgUnit], workers: dict[str, Worker], specs: list[WorkerSpec], tally: Tally) -> None:
    """Create the innovation studios with their leader, five members and achievements."""
    for name, enterprise, leader, level, founded, named, achievements in data.STUDIOS:
        unit = _unit(
            "studio",
            name,
            units[enterprise],
            tally,
            leader=workers[leader],
            level=level,
            founded=date.fromisoformat(founded),
        )
        if unit is None:
            continue
        crew = list(named) + _colleagues(specs, enterprise, {leader, *named})
        unit.members = [UnitMember(worker=workers[leader], role="领衔人")]
        unit.members += [UnitMember(worker=workers[k], role="成员") for k in crew[:4]]
        unit.achievements = [Achievement(year=y, kind=k, title=t) for y, k, t in achievements]
    db.session.flush()


def teams(units: dict[str, OrgUnit], workers: dict[str, Worker], specs: list[WorkerSpec], tally: Tally) -> None:
    """Create the craftsman teams, each led by its most senior member who leads no studio."""
    studio_leaders = {studio[2] for studio in data.STUDIOS}
    for name, enterprise, workshop, _ in data.TEAMS:
        crew = _colleagues(specs, enterprise, studio_leaders)[:6]
        unit = _unit("team", name, units[enterprise], tally, workshop=workshop, leader=workers[crew[0]])
        if unit is not None:
            unit.members = [
                UnitMember(worker=workers[k], role="班组长" if i == 0 else "组员") for i, k in enumerate(crew)
            ]
    db.session.flush()
