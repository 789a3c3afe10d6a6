"""Accounts: create users, authenticate, remember the language."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from comp.extensions import db
from comp.models import ROLES, User
from comp.services import ServiceError, transaction

# Compared against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


def find_user(username: str) -> User | None:
    """Return the user with this username (case-insensitive), if any."""
    name = (username or "").strip().lower()
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == name))


def authenticate(username: str, password: str) -> User | None:
    """Return the active user whose password matches, else None, without revealing which failed."""
    user = find_user(username)
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if user.password_hash.startswith("!"):
        # No password set yet: spend the same time as a real check, so timing tells nothing.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def new_user(username: str, role: str, password: str | None = None, display_name: str | None = None,
             **fields) -> User:
    """Add a user to the session (the caller commits); refuse a bad role or a taken name."""
    if role not in ROLES:
        raise ServiceError(_("role must be one of %(roles)s, not %(role)s", roles=", ".join(ROLES), role=role))
    username = (username or "").strip()  # login strips what is typed, so a stored space could never match
    if not username or len(username) > 64:
        raise ServiceError(_("username must have 1 to 64 characters"))
    if find_user(username) is not None:
        raise ServiceError(_("username “%(name)s” is taken", name=username))
    user = User(username=username, role=role, display_name=display_name or username, **fields)
    if password:
        user.set_password(password)
    else:
        # No password yet (an imported judge): a hash no password can match, and no slow
        # key derivation for an account nobody can log in to until an admin sets one.
        user.password_hash = "!" + secrets.token_hex(8)
    db.session.add(user)
    return user


def create_user(username: str, role: str, password: str | None = None, **fields) -> User:
    """Create and commit a user."""
    with transaction():
        return new_user(username, role, password, **fields)


def set_locale(user: User, lang: str) -> None:
    """Remember the user's interface language."""
    with transaction():
        user.locale = lang
