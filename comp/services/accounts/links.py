"""One-time links to set a password: activating a new account, or a reset. No e-mail needed.

A link carries a signed (link id, nonce) pair (itsdangerous, keyed by SECRET_KEY, 72 hours).
The row makes it single-use, lets a newer link replace an older one, and lets the organizer
show it again — to copy, or to print as a QR code — while it is live. No password is ever
shown: the person sets their own when they open the link.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.engine import CursorResult

from comp.extensions import db
from comp.models import AccountLink, User
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.accounts import passwords, sessions
from comp.services.common import audit

VALID_FOR = timedelta(hours=72)
SALT = "jiangxin.account-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(user: User, purpose: str, actor: User | None) -> AccountLink:
    """Create a link for the user, replacing any live one (the caller commits)."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None), AccountLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    link = AccountLink(
        user_id=user.id,
        purpose=purpose,
        nonce=secrets.token_urlsafe(16),
        created_at=now,
        created_by_id=actor.id if actor else None,
        expires_at=now + VALID_FOR,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        f"account.link_{purpose}",
        actor,
        None,
        user,
        link=link.id,
        expires=link.expires_at.isoformat(timespec="minutes"),
    )
    return link


def token(link: AccountLink) -> str:
    """Return the signed token of a link, the same every time it is shown.

    The signature's time is the link's creation, not the moment of showing: the page, the
    printed card and a copy made later all carry one token, and its 72 hours run from the issue.
    """
    issued = int((link.created_at or utcnow()).replace(tzinfo=UTC).timestamp())

    class _IssuedAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return issued

    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_IssuedAt)
    return serializer.dumps([link.id, link.nonce])


def url(link: AccountLink) -> str:
    """Return the link's full address on PUBLIC_BASE_URL (the address people reach the app at)."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base and has_request_context():
        return url_for("auth.activate", token=token(link), _external=True)
    return f"{base}/activate/{token(link)}"


def live_link(user: User) -> AccountLink | None:
    """Return the user's live link, if any."""
    return db.session.scalar(
        sa.select(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(AccountLink.id.desc())
        .limit(1)
    )


def live_links(users: list[User]) -> dict[int, AccountLink]:
    """Return the live link of each of the users that has one, by user id (one query)."""
    ids = [u.id for u in users]
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(AccountLink)
        .where(
            AccountLink.user_id.in_(ids),
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(AccountLink.id)
    )
    return {link.user_id: link for link in rows}


def resolve(value: str) -> AccountLink:
    """Return the live link a token names; refuse a forged, expired, used or replaced one, saying which."""
    try:
        link_id, nonce = _serializer().loads(value or "", max_age=int(VALID_FOR.total_seconds()))
        link = db.session.get(AccountLink, int(link_id))
    except SignatureExpired:
        raise ServiceError(
            _("This link has expired (links last 72 hours). Ask your organizer for a new one.")
        ) from None
    except (BadSignature, TypeError, ValueError, OverflowError):
        link = None
        nonce = ""
    if link is None or not hmac.compare_digest(str(link.nonce), str(nonce)):
        raise ServiceError(
            _("This link is not valid. Check that it was copied whole, or ask your organizer for a new one.")
        )
    if link.used_at is not None:
        raise ServiceError(
            _(
                "This link has been used already. Log in with the password you set, or ask your "
                "organizer for a new link."
            )
        )
    if link.revoked_at is not None:
        raise ServiceError(_("This link was replaced by a newer one. Use the newest link your organizer gave you."))
    if link.expires_at <= utcnow():
        raise ServiceError(_("This link has expired (links last 72 hours). Ask your organizer for a new one."))
    if not link.user.active:
        raise ServiceError(_("This account is disabled. Ask your organizer."))
    return link


def use(value: str, password: str, ip: str | None = None, user_agent: str | None = None) -> User:
    """Set the password through a link, once; end every older session and open a new one."""
    link = resolve(value)
    user = link.user
    passwords.check(password, user.username, passwords.personal_of(user))
    with transaction():
        # Claim the link in the UPDATE itself, so two tabs submitting at once cannot both use it.
        claimed = cast(  # an UPDATE's result is a CursorResult, which counts the rows
            "CursorResult[Any]",
            db.session.execute(
                sa.update(AccountLink)
                .where(AccountLink.id == link.id, AccountLink.used_at.is_(None), AccountLink.revoked_at.is_(None))
                .values(used_at=utcnow())
            ),
        ).rowcount
        if not claimed:
            raise ServiceError(
                _(
                    "This link has been used already. Log in with the password you set, or ask "
                    "your organizer for a new link."
                )
            )
        user.set_password(password)
        user.password_changed_at = utcnow()
        sessions.end_all(user, "password")
        sessions.start(user, ip, user_agent)
        user.last_login_at = utcnow()
        audit.record(
            "account.activated" if link.purpose == "activate" else "account.password_reset",
            user,
            None,
            user,
            link=link.id,
        )
    return user
