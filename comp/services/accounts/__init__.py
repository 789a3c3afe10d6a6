"""Accounts: create users, authenticate, log in and out, change passwords, remember the language.

The package's modules: `passwords` (the policy), `sessions` (server-side sessions),
`links` (one-time activation and reset links), `admin` (account administration within an
organizer's scope), `bulk` (accounts from a spreadsheet), `claims` (sign-up, claiming a worker
record, change requests).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from comp.extensions import db
from comp.models import ROLES, User
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.accounts import passwords, sessions
from comp.services.common import audit

# Compared against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
USERNAME_MAX = 64


def find_user(username: str) -> User | None:
    """Return the user with this username (case-insensitive), if any."""
    name = (username or "").strip().lower()
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == name))


def authenticate(username: str, password: str) -> User | None:
    """Return the active user whose password matches, else None, without revealing which failed."""
    user = find_user(username)
    if user is None or not user.has_password:
        # Unknown, or no password set yet (an invited account): spend the time of a real check.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def log_in(user: User, ip: str | None, user_agent: str | None) -> str:
    """Open a new session for the user and return its token."""
    with transaction():
        token = sessions.start(user, ip, user_agent)
        user.last_login_at = utcnow()
    return token


def log_out(token: str | None) -> None:
    """End the session the token opens."""
    with transaction():
        sessions.end(token, "logout")


def log_out_everywhere(user: User, actor: User | None = None) -> int:
    """End every session of the user, this one included; return how many ended."""
    with transaction():
        count = sessions.end_all(user, "logout_all")
        audit.record("account.sessions_ended", actor or user, None, user, count=count)
    return count


def check_username(username: str) -> str:
    """Return the username stripped, or refuse an empty, long, control-character or taken one."""
    username = (username or "").strip()  # login strips what is typed, so a stored space could never match
    if not username or len(username) > USERNAME_MAX:
        raise ServiceError(_("username must have 1 to 64 characters"))
    if any(not ch.isprintable() or ch.isspace() for ch in username):
        raise ServiceError(_("the username may not contain spaces or control characters"))
    if find_user(username) is not None:
        raise ServiceError(_("username “%(name)s” is taken", name=username))
    return username


def new_user(username: str, role: str, password: str | None = None, display_name: str | None = None, **fields) -> User:
    """Add a user to the session (the caller commits); refuse a bad role, a taken name or a weak password.

    Without a password the account waits for its activation link (`links.issue`).
    """
    if role not in ROLES:
        raise ServiceError(_("role must be one of %(roles)s, not %(role)s", roles=", ".join(ROLES), role=role))
    username = check_username(username)
    user = User(username=username, role=role, display_name=(display_name or username)[:64], **fields)
    if password:
        passwords.check(password, username)
        user.set_password(password)
        user.password_changed_at = utcnow()
    else:
        # No password yet: a hash no password can match, and no slow key derivation for an
        # account nobody can log in to until its activation link is used.
        user.password_hash = "!" + secrets.token_hex(8)
    db.session.add(user)
    return user


def create_user(username: str, role: str, password: str | None = None, **fields) -> User:
    """Create and commit a user."""
    with transaction():
        return new_user(username, role, password, **fields)


def change_password(user: User, current: str, new: str, ip: str | None = None, user_agent: str | None = None) -> None:
    """Change the user's own password: the current one is required; every session ends and a new one opens."""
    if not user.has_password or not user.check_password(current or ""):
        raise ServiceError(_("The current password is not correct."))
    if current == new:
        raise ServiceError(_("The new password must differ from the current one."))
    passwords.check(new, user.username, passwords.personal_of(user))
    with transaction():
        user.set_password(new)
        user.password_changed_at = utcnow()
        ended = sessions.end_all(user, "password")
        sessions.start(user, ip, user_agent)
        audit.record("account.password_changed", user, None, user, sessions_ended=ended)


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Set a password from the command line (policy checked); every session of the user ends."""
    passwords.check(password, user.username, passwords.personal_of(user))
    with transaction():
        user.set_password(password)
        user.password_changed_at = utcnow()
        sessions.end_all(user, "password")
        audit.record("account.password_set", actor, None, user, by="cli" if actor is None else "admin")


def set_locale(user: User, lang: str) -> None:
    """Remember the user's interface language."""
    with transaction():
        user.locale = lang
