"""Account administration: admins everywhere, organizers within their own union's subtree.

An organizer never grants the admin role, never places an account at a union above their own,
and never sees or touches an account outside their subtree (nor an admin's). Every change is
audited with its old and new values; a disabled account, a reset and a changed role end the
account's sessions at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _p

from comp.extensions import db
from comp.models import AccountLink, AuditEvent, Competition, JudgeAssignment, OrgUnit, User, Worker
from comp.models.competition import FINAL_STATES
from comp.models.types import utcnow
from comp.orgtree import Node, Tree
from comp.permissions import can, city_wide, scope
from comp.services import ServiceError, people, transaction
from comp.services.accounts import links, new_user, sessions
from comp.services.common import audit

PER_PAGE = 50
ROLE_LABELS = {
    "admin": _p("role", "Administrator"),
    "organizer": _p("role", "Organizer"),
    "liaison": _p("role", "Enterprise liaison"),
    "judge": _p("role", "Judge"),
    "worker": _p("role", "Worker"),
}
STATE_LABELS = {
    "active": _p("account", "Active"),
    "invited": _l("Waiting for activation"),
    "disabled": _p("account", "Disabled"),
}
EVENT_LABELS = {
    "account.created": _l("Account created"),
    "account.link_activate": _l("Activation link made"),
    "account.link_reset": _l("Reset link made"),
    "account.activated": _l("Activated: password set"),
    "account.password_reset": _l("New password set through the reset link"),
    "account.password_changed": _l("Password changed by its owner"),
    "account.password_set": _l("Password set"),
    "account.changed": _l("Name, role or union changed"),
    "account.disabled": _l("Disabled"),
    "account.enabled": _l("Enabled"),
    "account.reset": _l("Password cleared for a reset"),
    "account.sessions_ended": _l("Logged out everywhere"),
    "account.signed_up": _l("Signed up"),
}
# The kinds of union an account of each role may belong to ("" = none needed).
UNIT_KINDS = {
    "admin": ("", "city", "county"),
    "organizer": ("city", "county"),
    "liaison": ("enterprise",),
    "judge": ("", "city", "county", "enterprise"),
    "worker": ("",),
}


@dataclass(frozen=True)
class Filters:
    """What the account list is narrowed to."""

    q: str = ""
    role: str = ""
    unit: int | None = None
    state: str = ""


def state_of(user: User) -> str:
    """Return "disabled", "invited" (no password set yet) or "active"."""
    if not user.active:
        return "disabled"
    return "active" if user.has_password else "invited"


def roles_for(actor: User) -> list[str]:
    """Return the roles the actor may grant: an organizer never grants admin."""
    if actor.role == "admin":
        return list(ROLE_LABELS)
    return [r for r in ROLE_LABELS if r != "admin"] if actor.role == "organizer" else []


def units_for(actor: User, tree: Tree | None = None) -> list[Node]:
    """Return the unions and enterprises the actor may place accounts at, city first."""
    tree = tree or Tree()
    allowed = scope(actor, tree)
    order = {"city": 0, "county": 1, "enterprise": 2}
    return sorted(
        (n for n in tree.nodes.values() if n.kind in order and (allowed is None or n.id in allowed)),
        key=lambda n: (order[n.kind], n.name),
    )


def _visible(query, actor: User):
    """Narrow an account query to the accounts the actor may administer."""
    if actor.role == "admin":
        return query
    query = query.where(User.role != "admin")
    if city_wide(actor):
        return query
    units = scope(actor) or set()
    return query.where(
        sa.or_(User.org_unit_id.in_(units), sa.and_(User.org_unit_id.is_(None), Worker.employer_id.in_(units)))
    )


def search(actor: User, filters: Filters, page: int = 1):
    """Return one page of the accounts the actor administers, narrowed by the filters."""
    query = (
        sa.select(User)
        .outerjoin(Worker, User.worker_id == Worker.id)
        .options(so.selectinload(User.org_unit), so.selectinload(User.worker).selectinload(Worker.employer))
    )
    query = _visible(query, actor)
    if filters.q:
        query = query.where(
            sa.or_(
                sa.func.lower(User.username).contains(filters.q.lower(), autoescape=True),
                User.display_name.contains(filters.q, autoescape=True),
            )
        )
    if filters.role in ROLE_LABELS:
        query = query.where(User.role == filters.role)
    if filters.unit:
        under = Tree().subtree(filters.unit)
        query = query.where(sa.or_(User.org_unit_id.in_(under), Worker.employer_id.in_(under)))
    if filters.state == "disabled":
        query = query.where(User.active.is_(False))
    elif filters.state == "invited":
        query = query.where(User.active.is_(True), User.password_hash.like("!%"))
    elif filters.state == "active":
        query = query.where(User.active.is_(True), User.password_hash.not_like("!%"))
    query = query.order_by(User.role, User.username, User.id)
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def get(actor: User, user_id: int) -> User | None:
    """Return the account if the actor may administer it; None alike for missing and out of scope."""
    target = db.session.get(User, user_id)
    return target if target is not None and can("account.manage", target, actor) else None


def check_grant(actor: User, role: str, unit_id: int | None, tree: Tree | None = None) -> OrgUnit | None:
    """Refuse a role or union the actor may not grant, or a union that does not fit the role; return the union."""
    if role not in roles_for(actor):
        raise ServiceError(_("You may not give the role “%(role)s”.", role=ROLE_LABELS.get(role, role)))
    tree = tree or Tree()
    kinds = UNIT_KINDS[role]
    if not unit_id:
        if "" not in kinds or (actor.role != "admin" and not city_wide(actor) and role != "worker"):
            raise ServiceError(_("Choose the union or enterprise the account belongs to."))
        return None
    allowed = scope(actor, tree)
    node = tree.nodes.get(unit_id)
    if node is None or (allowed is not None and unit_id not in allowed):
        raise ServiceError(
            _("Choose a union or enterprise from the list: you may place accounts only within your own union.")
        )
    if node.kind not in kinds:
        raise ServiceError(
            _(
                "A %(role)s belongs to %(kinds)s, not to “%(unit)s”.",
                role=ROLE_LABELS[role],
                kinds=_kinds_text(kinds),
                unit=node.name,
            )
        )
    return db.session.get(OrgUnit, unit_id)


def _kinds_text(kinds: tuple[str, ...]) -> str:
    names = {"city": _("the city union"), "county": _("a county union"), "enterprise": _("an enterprise")}
    return _(" or ").join(str(names[k]) for k in kinds if k)


def _record_for(actor: User, id_number: str | None) -> Worker | None:
    """Return the worker record an account is created for, found by ID number within the actor's scope."""
    if id_number is None or not id_number.strip():
        return None
    try:
        worker = people.find_by_id_number(id_number)
    except ValueError as error:
        raise ServiceError(_("ID number: %(reason)s", reason=error)) from None
    # The same answer for a missing record and one outside the actor's unions: no ID-number oracle.
    if worker is None or not can("worker.manage", worker, actor):
        raise ServiceError(_("No worker with this ID number is on record in your unions."))
    if worker.user is not None:
        raise ServiceError(_("This worker already has an account (%(username)s).", username=worker.user.username))
    return worker


def create(
    actor: User, username: str, display_name: str, role: str, unit_id: int | None, id_number: str | None = None
) -> tuple[User, AccountLink]:
    """Create an account without a password and its activation link."""
    if not can("accounts.admin", None, actor):
        raise ServiceError(_("You may not create accounts."))
    unit = check_grant(actor, role, unit_id)
    worker = _record_for(actor, id_number) if role == "worker" else None
    if role == "worker" and worker is None and not city_wide(actor):
        raise ServiceError(
            _(
                "Give the ID number of the worker's record: a worker account of your union "
                "belongs to a worker on record."
            )
        )
    with transaction():
        return invite(
            actor,
            username,
            role,
            (display_name or "").strip() or (worker.name if worker else None),
            unit.id if unit else None,
            worker_id=worker.id if worker else None,
            worker=worker.id if worker else None,
        )


def invite(
    actor: User,
    username: str,
    role: str,
    display_name: str | None,
    unit_id: int | None,
    worker_id: int | None = None,
    **detail: object,
) -> tuple[User, AccountLink]:
    """Add an account without a password, audit it and issue its activation link, in the caller's transaction.

    `detail` adds to what the audit records of the account (its username, role and union).
    """
    user = new_user(
        username,
        role,
        None,
        display_name=display_name,
        org_unit_id=unit_id,
        worker_id=worker_id,
        created_by_id=actor.id,
    )
    db.session.flush()
    audit.record("account.created", actor, None, user, username=user.username, role=role, unit=unit_id, **detail)
    return user, links.issue(user, "activate", actor)


def _refuse_self(actor: User, target: User) -> None:
    if actor.id == target.id:
        raise ServiceError(_("You cannot change your own account here: use “My account”."))


def update(actor: User, target: User, display_name: str, role: str, unit_id: int | None) -> User:
    """Change an account's name, role or union; a new role ends its sessions."""
    display_name = (display_name or "").strip()[:64] or target.display_name
    if (role, unit_id or None) != (target.role, target.org_unit_id):
        _refuse_self(actor, target)
        unit = check_grant(actor, role, unit_id)
        if role == "worker" and target.worker_id is None and not city_wide(actor):
            raise ServiceError(
                _(
                    "Give the ID number of the worker's record: a worker account of your union "
                    "belongs to a worker on record."
                )
            )
    else:
        unit = target.org_unit
    before = {"display_name": target.display_name, "role": target.role, "unit": target.org_unit_id}
    unit_id = unit.id if unit else None
    after = {"display_name": display_name, "role": role, "unit": unit_id}
    if before == after:
        return target
    with transaction():
        target.display_name, target.role, target.org_unit_id = display_name, role, unit_id
        if before["role"] != role or before["unit"] != after["unit"]:
            sessions.end_all(target, "role")
        if before["unit"] != after["unit"]:
            _results_may_move(target)
        audit.record(
            "account.changed",
            actor,
            None,
            target,
            **{k: [before[k], after[k]] for k in before if before[k] != after[k]},
        )
    return target


def _results_may_move(judge: User) -> None:
    """A judge's employer decides recusal (回避): the unfinished competitions they judge get a new stamp.

    Final results are not recomputed from accounts: locked and published competitions keep theirs.
    """
    judged = sa.select(JudgeAssignment.competition_id).where(JudgeAssignment.user_id == judge.id)
    db.session.execute(
        sa.update(Competition)
        .where(Competition.id.in_(judged), Competition.status.not_in(FINAL_STATES))
        .values(version=Competition.version + 1)
        .execution_options(synchronize_session=False)
    )


def set_active(actor: User, target: User, active: bool) -> None:
    """Disable an account (ending its sessions and links at once) or enable it again."""
    _refuse_self(actor, target)
    if target.active == active:
        return
    with transaction():
        target.active = active
        if not active:
            sessions.end_all(target, "disabled")
            db.session.execute(
                sa.update(AccountLink)
                .where(
                    AccountLink.user_id == target.id, AccountLink.used_at.is_(None), AccountLink.revoked_at.is_(None)
                )
                .values(revoked_at=utcnow())
            )
        audit.record("account.enabled" if active else "account.disabled", actor, None, target)


def reset(actor: User, target: User) -> AccountLink:
    """Clear the account's password, end its sessions, and issue a reset link."""
    _refuse_self(actor, target)
    if not target.active:
        raise ServiceError(_("Enable the account before resetting its password."))
    with transaction():
        had_password = target.has_password
        target.password_hash = "!" + secrets.token_hex(8)
        ended = sessions.end_all(target, "reset")
        audit.record("account.reset", actor, None, target, sessions_ended=ended, had_password=had_password)
        link = links.issue(target, "reset" if had_password else "activate", actor)
    return link


def end_sessions(actor: User, target: User) -> int:
    """Log the account out everywhere."""
    with transaction():
        count = sessions.end_all(target, "logout_all")
        audit.record("account.sessions_ended", actor, None, target, count=count)
    return count


def history(target: User, limit: int = 50) -> list[AuditEvent]:
    """Return the audit events about the account, newest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.object_type == "user", AuditEvent.object_id == target.id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def describe(event: AuditEvent, units: dict[int, str]) -> str:
    """Say in the user's language what an account event did: "Name, role or union changed: role 裁判 → 组委会"."""
    label = str(EVENT_LABELS.get(event.action, event.action))
    changes = []
    for key, value in (event.detail or {}).items():
        if key == "role" and isinstance(value, list):
            changes.append(f"{_('role')} {ROLE_LABELS.get(value[0], value[0])} → {ROLE_LABELS.get(value[1], value[1])}")
        elif key == "unit" and isinstance(value, list):
            changes.append(f"{_('union')} {units.get(value[0], '—')} → {units.get(value[1], '—')}")
        elif key == "display_name" and isinstance(value, list):
            changes.append(f"{_('name')} {value[0]} → {value[1]}")
    return label + (": " + "; ".join(changes) if changes else "")


def actors(events: list[AuditEvent]) -> dict[int, str]:
    """Return the display names of the events' actors, by id."""
    ids = {e.actor_id for e in events if e.actor_id}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}


def by_ids(actor: User, ids: list[int]) -> list[User]:
    """Return those of the accounts the actor administers, in the given order."""
    found = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids[:500])))}
    return [found[i] for i in ids if i in found and can("account.manage", found[i], actor)]
