"""The one permission check every view and service uses: role plus ownership.

Ownership runs through the union tree (`comp.orgtree`): an organizer manages what lies at or
below their union. The tree is read once per session, so a list of a hundred rows asks
`can()` a hundred times without a query each.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from comp import orgtree
from comp.extensions import db
from comp.models import Competition, JudgeAssignment, Unit, User, Worker
from comp.models.competition import PUBLIC_STATES


def _unit_of(obj: Any, relation: str, column: str) -> int | None:
    """Return the id of the unit the object points at: the related object if set, else the column.

    A relationship just assigned (not flushed yet) is ahead of its foreign-key column; a loaded one
    agrees with it; an unloaded one is not loaded here (the column needs no query).
    """
    related = obj.__dict__.get(relation, _UNSET)
    if related is not _UNSET:
        return related.id if related is not None else None
    return getattr(obj, column)


_UNSET = object()


def _home(user: User) -> int | None:
    """Return the id of the user's own union or enterprise."""
    return _unit_of(user, "org_unit", "org_unit_id")


def _within(unit_id: int | None, union_id: int | None) -> bool:
    """Tell whether the unit is the union or lies below it."""
    return union_id is not None and orgtree.current().is_within(unit_id, union_id)


def _manages(user: User, competition: Competition) -> bool:
    """Tell whether an organizer's union is the competition's organizer or one above it."""
    if user.role == "admin":
        return True
    if user.role != "organizer":
        return False
    unit_id = _unit_of(competition, "organizer_unit", "organizer_unit_id")
    if unit_id is None or _home(user) is None:
        return True  # a competition without an organizing unit belongs to every organizer
    return _within(unit_id, _home(user))


def _judges(user: User, competition: Competition) -> bool:
    """Tell whether the user sits on the competition's panel."""
    return (
        db.session.scalar(
            sa.select(JudgeAssignment.id).where(
                JudgeAssignment.competition_id == competition.id, JudgeAssignment.user_id == user.id
            )
        )
        is not None
    )


def _liaison(user: User, competition: Competition) -> bool:
    """Tell whether an enterprise's liaison (企业联络员) may enter its employees in the competition."""
    if user.role != "liaison" or orgtree.current().kind_of(_home(user)) != "enterprise":
        return False
    unit_id = _unit_of(competition, "organizer_unit", "organizer_unit_id")
    return unit_id is None or _within(_home(user), unit_id)


def _creates(user: User, _=None) -> bool:
    """Tell whether the user may set up competitions: admins and city or county union organizers."""
    if user.role == "admin":
        return True
    return user.role == "organizer" and (
        _home(user) is None or orgtree.current().kind_of(_home(user)) in ("city", "county")
    )


def _chief(user: User, competition: Competition) -> bool:
    """Tell whether the user is the competition's chief judge (裁判长)."""
    return (
        db.session.scalar(
            sa.select(JudgeAssignment.id).where(
                JudgeAssignment.competition_id == competition.id,
                JudgeAssignment.user_id == user.id,
                JudgeAssignment.is_chief.is_(True),
            )
        )
        is not None
    )


def city_wide(user: User) -> bool:
    """Tell whether the user oversees the whole city: admins and organizers of no unit or the city union."""
    if user.role == "admin":
        return True
    return user.role == "organizer" and (_home(user) is None or orgtree.current().kind_of(_home(user)) == "city")


def _oversees(user: User, worker: Worker) -> bool:
    """Tell whether an organizer's union is the worker's employer or one above it."""
    if user.role not in ("admin", "organizer"):
        return False
    if city_wide(user):
        return True
    employer_id = _unit_of(worker, "employer", "employer_id")
    return employer_id is not None and _within(employer_id, _home(user))


def _manages_unit(user: User, unit: Unit) -> bool:
    """Tell whether the user may manage a studio or team: admins; organizers whose union is its enterprise or above."""
    if user.role not in ("admin", "organizer"):
        return False
    if city_wide(user):
        return True
    enterprise_id = _unit_of(unit, "enterprise", "enterprise_id")
    return enterprise_id is not None and _within(enterprise_id, _home(user))


def scope(user: User, tree: orgtree.Tree | None = None) -> set[int] | None:
    """Return the unit ids whose workers the organizer oversees, or None for the whole city."""
    if city_wide(user):
        return None
    home = _home(user)
    if home is None:
        return set()
    return (tree or orgtree.current()).subtree(home)


def account_unit(target: User):
    """Return the unit an account belongs to: its own union or enterprise, else its worker's employer."""
    if target.org_unit is not None:
        return target.org_unit
    return target.worker.employer if target.worker is not None else None


def _manages_account(user: User, target: User) -> bool:
    """Tell whether the user may administer the account: admins any; organizers below their union, never an admin."""
    if user.role == "admin":
        return True
    if user.role != "organizer" or target.role == "admin":
        return False
    if city_wide(user):
        return True
    unit = account_unit(target)
    return unit is not None and _within(unit.id, _home(user))


def _own_record(user: User, worker: Worker) -> bool:
    """Tell whether the worker is the user's own record."""
    return user.role == "worker" and user.worker_id is not None and user.worker_id == worker.id


POLICY: dict[str, Callable[[User, Any], bool]] = {
    "organizer.home": lambda u, _: u.role in ("admin", "organizer"),
    "judge.home": lambda u, _: u.role == "judge",
    "worker.home": lambda u, _: u.role == "worker",
    "liaison.home": lambda u, _: u.role == "liaison",
    "accounts.admin": lambda u, _: u.role in ("admin", "organizer"),
    "account.manage": _manages_account,
    "competition.create": _creates,
    "competition.manage": _manages,
    "competition.results": lambda u, c: _manages(u, c) or c.status in PUBLIC_STATES,
    "competition.judge": lambda u, c: u.role == "judge" and _judges(u, c),
    "competition.chief": lambda u, c: u.role == "judge" and _chief(u, c),
    "competition.register_self": lambda u, c: u.role == "worker",
    "competition.register_bulk": lambda u, c: _manages(u, c) or _liaison(u, c),
    "talent.search": lambda u, _: u.role in ("admin", "organizer"),
    "worker.profile": lambda u, w: _own_record(u, w) or _oversees(u, w),
    "worker.manage": _oversees,
    "unit.manage": _manages_unit,
    "entrant.own": lambda u, e: u.role == "worker" and u.worker_id is not None and e.worker_id == u.worker_id,
}

ANONYMOUS = {"competition.results": lambda c: c.status in PUBLIC_STATES}


def can(action: str, obj: Any = None, user: User | None = None) -> bool:
    """Tell whether the user (default: the current one) may do the action on the object."""
    user = user if user is not None else current_user
    if not user or not user.is_authenticated or not user.active:  # a deactivated account is anyone's
        rule = ANONYMOUS.get(action)
        return bool(rule and rule(obj))
    return bool(POLICY[action](user, obj))


def authorize(action: str, obj: Any = None) -> None:
    """Abort with 403 (or send to login when anonymous) unless the action is allowed."""
    if can(action, obj):
        return
    if not current_user.is_authenticated:
        from comp.extensions import login

        abort(login.unauthorized())
    abort(403)


def competition_or_404(code: str) -> Competition:
    """Return the competition with this code, else 404; a draft is missing too for whoever may not manage it."""
    competition = db.session.scalar(sa.select(Competition).where(Competition.code == code))
    if competition is None or (competition.status == "draft" and not can("competition.manage", competition)):
        abort(404)
    return competition


def competition_for(code: str, action: str = "competition.manage") -> Competition:
    """Return the competition with this code once the current user may do the action on it (404, 403 or login)."""
    competition = competition_or_404(code)
    authorize(action, competition)
    return competition


def permission_required(action: str) -> Callable:
    """Decorate a view that needs a permission not tied to one object."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            authorize(action)
            return view(*args, **kwargs)

        return wrapped

    return decorator
