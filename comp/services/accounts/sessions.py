"""Server-side sessions: the cookie carries a random token, the database decides whether it lives.

Every app server reads the same table, so a logout, a disabled account, a password change or
reset, or "log out everywhere" ends the user's sessions at once on all of them, and a replayed
old cookie is refused. Only the token's SHA-256 is stored: a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from comp.extensions import db
from comp.models import User, UserSession
from comp.models.types import utcnow

# last_seen_at is written at most this often per session, not on every request.
TOUCH_EVERY = timedelta(minutes=5)
REASONS = ("logout", "logout_all", "password", "reset", "disabled", "role", "expired")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime() -> timedelta:
    """Return how long a session lasts from its login (SESSION_HOURS; default one judging day)."""
    return current_app.config["PERMANENT_SESSION_LIFETIME"]


def start(user: User, ip: str | None = None, user_agent: str | None = None) -> str:
    """Open a session for the user (the caller commits) and return its token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    purge(user)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime(),
            ip=(ip or "")[:45] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    user.session_token = token
    return token


def live_conditions() -> tuple[sa.ColumnElement[bool], ...]:
    """Return what makes a session live, on `UserSession` joined to its `User`: the token hash and the time
    are the bound parameters "token_hash" and "now" (every statement that logs a request in uses these)."""
    return (
        UserSession.token_hash == sa.bindparam("token_hash", type_=sa.String),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > sa.bindparam("now", type_=sa.DateTime),
        User.active.is_(True),
    )


_LOAD = (  # built once: every request of a logged-in user runs it
    sa.select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(*live_conditions())
)
# A user's columns, for a statement that reads the login with its own work (see `adopt`).
USER_COLUMNS = tuple(column.key for column in cast(sa.Table, User.__table__).columns)


def login_parameters(token: str | None) -> dict[str, Any] | None:
    """Return the bound parameters of `live_conditions` for a session token, None for no possible token."""
    if not token or len(token) > 128:
        return None
    return {"token_hash": _digest(token), "now": utcnow()}


def load(token: str) -> User | None:
    """Return the active user of a live session, with its token set, or None (one query)."""
    params = login_parameters(token)
    if params is None:
        return None
    row = db.session.execute(_LOAD, params).first()
    if row is None:
        return None
    user, session_id, seen = row
    user.session_token = token
    touch(session_id, seen, params["now"])
    return user


def adopt(values: dict[str, Any], token: str, session_id: int, seen: datetime, now: datetime) -> User:
    """Return the user of a live session read by another statement (all of `USER_COLUMNS` in `values`).

    The user is put in the session's identity map as if loaded (its relationships load as usual); the
    session's last-seen time is written as `load` does.
    """
    user: User | None = db.session.identity_map.get(identity_key(User, values["id"]))
    if user is None:
        user = User(**values)
        make_transient_to_detached(user)
        db.session.add(user)
    else:  # already in the session (expired by a commit, say): what was read fills what is not loaded
        unloaded: set[str] = set(sa.inspect(user).unloaded)
        for name in unloaded & values.keys():
            set_committed_value(user, name, values[name])
    user.session_token = token
    touch(session_id, seen, now)
    return user


def touch(session_id: int, seen: datetime, now: datetime) -> None:
    """Write the session's last-seen time when it is older than TOUCH_EVERY (and commit it)."""
    if now - seen > TOUCH_EVERY:
        db.session.execute(sa.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
        db.session.commit()


def end(token: str | None, reason: str = "logout") -> None:
    """End one session (the caller commits)."""
    if token:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )


def end_all(user: User, reason: str, keep: str | None = None) -> int:
    """End every live session of the user but `keep` (the caller commits); return how many ended."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep:
        query = query.where(UserSession.token_hash != _digest(keep))
    # An UPDATE's result is a CursorResult, which counts the rows.
    result = cast("CursorResult[Any]", db.session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason)))
    return result.rowcount or 0


def live(user: User) -> list[UserSession]:
    """Return the user's live sessions, newest first."""
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow())
            .order_by(UserSession.created_at.desc(), UserSession.id.desc())
        )
    )


def is_current(entry: UserSession, token: str | None) -> bool:
    """Tell whether a session row is the one the token opens."""
    return bool(token) and entry.token_hash == _digest(token or "")


def purge(user: User, before: datetime | None = None) -> int:
    """Delete the user's sessions that ended or expired more than a week ago (kept that long for the
    account page and audits); return how many went. Run at each login, so the table stays small."""
    cutoff = before or utcnow() - timedelta(days=7)
    result = cast(  # a DELETE's result is a CursorResult, which counts the rows
        "CursorResult[Any]",
        db.session.execute(
            sa.delete(UserSession).where(
                UserSession.user_id == user.id,
                sa.or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff),
            )
        ),
    )
    return result.rowcount or 0
