"""One-time links to set a password (comp/services/accounts/links.py, /activate/<token>).

A link is a signed (link id, nonce) pair valid 72 hours; it works once, a newer link replaces an
older one, a forged or tampered token opens nothing, nor does the link of a disabled account. The
address is on PUBLIC_BASE_URL. After activation the person logs in with the password they chose.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape

from comp.extensions import db
from comp.models import AccountLink, AuditEvent, User
from comp.services import ServiceError
from comp.services.accounts import admin, links, passwords
from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "a quiet river at dawn"

USED = "This link has been used already. Log in with the password you set, or ask your organizer for a new link."
REPLACED = "This link was replaced by a newer one. Use the newest link your organizer gave you."
EXPIRED = "This link has expired (links last 72 hours). Ask your organizer for a new one."
INVALID = "This link is not valid. Check that it was copied whole, or ask your organizer for a new one."
DISABLED = "This account is disabled. Ask your organizer."


def _zh(msgid: str) -> str:
    """Return the message as the (Chinese) page shows it, HTML-escaped."""
    with force_locale("zh"):
        return str(escape(gettext(msgid)))


@pytest.fixture()
def boss(make_user):
    return make_user("boss", "admin")


@pytest.fixture()
def invited(boss):
    """An account created without a password, and its activation token."""
    user, link = admin.create(boss, "wang", "王裁判", "judge", None)
    return user, links.token(link)


def _path(token: str) -> str:
    return f"/activate/{token}"


def _set_password(client, token: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    """Open the link and post the password form with the page's CSRF token."""
    token_value = csrf_token(client, _path(token))
    return client.post(
        _path(token),
        data={"password": password, "repeat": password if repeat is None else repeat, "csrf_token": token_value},
    )


def _login(app, username: str, password: str):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    )
    return response.status_code


def _refused(client, token: str, message: str) -> None:
    """The link's page says it cannot be used, with the reason, and offers no form."""
    response = client.get(_path(token))
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert _zh(message) in page
    assert 'name="password"' not in page
    # A post (with a valid CSRF token from another page) is refused alike and changes nothing.
    form = {"password": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": csrf_token(client, "/login")}
    assert client.post(_path(token), data=form).status_code == 404


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


# Using a link ---------------------------------------------------------------------------------------


def test_a_link_sets_the_password_once_and_the_person_logs_in(app, client, invited):
    user, token = invited
    assert not user.has_password
    assert _login(app, "wang", NEW_PASSWORD) == 401

    page = client.get(_path(token))
    assert page.status_code == 200
    assert "wang" in page.get_data(as_text=True)

    response = _set_password(client, token)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # logged in by the link
    user = _user(user.id)
    assert user.has_password and user.check_password(NEW_PASSWORD)
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.user_id == user.id))
    assert link.used_at is not None
    assert db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "account.activated", AuditEvent.object_id == user.id, AuditEvent.actor_id == user.id
        )
    )

    # A fresh browser logs in with the chosen password.
    assert _login(app, "wang", NEW_PASSWORD) == 302


def test_a_second_use_is_refused(app, client, invited):
    user, token = invited
    assert _set_password(client, token).status_code == 302
    other = app.test_client()
    _refused(other, token, USED)
    with pytest.raises(ServiceError):
        links.use(token, "another fine sentence")
    assert _user(user.id).check_password(NEW_PASSWORD)  # the first password stands


@pytest.mark.parametrize(
    "password, repeat",
    [
        ("short", None),  # too short
        ("woaini1314", None),  # on the common list
        ("wang-is-my-name", None),  # contains the username
        (NEW_PASSWORD, "a quiet river at dusk"),  # the two do not match
    ],
)
def test_a_refused_password_leaves_the_link_usable(app, client, invited, password, repeat):
    user, token = invited
    response = _set_password(client, token, password, repeat)
    assert response.status_code == 422
    assert client.get("/account").status_code == 302  # not logged in
    user = _user(user.id)
    assert not user.has_password
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.user_id == user.id))
    assert link.used_at is None and link.revoked_at is None

    assert _set_password(client, token).status_code == 302
    assert _user(user.id).check_password(NEW_PASSWORD)


def test_a_weak_password_names_the_problem(client, invited):
    _user_, token = invited
    page = _set_password(client, token, "woaini1314").get_data(as_text=True)
    with force_locale("zh"):
        problems = passwords.problems("woaini1314", "wang")
    assert problems
    assert all(str(escape(problem)) in page for problem in problems)
    assert 'name="password"' in page  # the form is shown again for another try


# Expiry -------------------------------------------------------------------------------------------------


def _age_link(user: User, hours: float) -> None:
    """Move the link's stored times back, as if it had been made `hours` ago."""
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.user_id == user.id))
    link.created_at = link.created_at - timedelta(hours=hours)
    link.expires_at = link.expires_at - timedelta(hours=hours)
    db.session.commit()


def test_a_link_older_than_72_hours_is_refused(app, client, invited):
    user, token = invited
    _age_link(user, 72 + 1 / 60)
    _refused(client, token, EXPIRED)
    assert not _user(user.id).has_password


def test_a_link_is_still_good_just_before_72_hours(client, invited):
    user, token = invited
    _age_link(user, 71.9)
    assert client.get(_path(token)).status_code == 200
    assert _set_password(client, token).status_code == 302


def _signed(app, payload, seconds_ago: int) -> str:
    """Sign a link payload as if the token had been made `seconds_ago`."""

    class Signed(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    return URLSafeTimedSerializer(app.secret_key, salt=links.SALT, signer=Signed).dumps(payload)


def test_a_token_signed_more_than_72_hours_ago_is_refused_even_if_the_row_lives(app, client, invited):
    """The signature's own timestamp is checked too, not only the row's expiry."""
    user, _token = invited
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.user_id == user.id))
    old = _signed(app, [link.id, link.nonce], 72 * 3600 + 120)
    _refused(client, old, EXPIRED)
    fresh = _signed(app, [link.id, link.nonce], 72 * 3600 - 120)
    assert client.get(_path(fresh)).status_code == 200


# Replacement, tampering, disabled accounts ---------------------------------------------------------------


def test_a_newer_link_replaces_the_older(app, client, boss, invited):
    user, old = invited
    new_link = admin.reset(boss, _user(user.id))
    new = links.token(new_link)
    assert new != old
    _refused(client, old, REPLACED)
    assert _set_password(client, new).status_code == 302
    assert _user(user.id).check_password(NEW_PASSWORD)
    # The old one stays refused after the new one was used.
    assert app.test_client().get(_path(old)).status_code == 404


def test_reset_of_an_active_account_gives_a_reset_link(app, client, boss, make_user):
    user = make_user("chen", "judge")
    link = admin.reset(boss, user)
    assert link.purpose == "reset"
    assert _login(app, "chen", PASSWORD) == 401  # the password was cleared
    assert _set_password(client, links.token(link)).status_code == 302
    assert _login(app, "chen", NEW_PASSWORD) == 302
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "account.password_reset", AuditEvent.object_id == user.id)
    )


def _tampered(app, token: str) -> list[str]:
    other_char = {c: ("A" if c != "A" else "B") for c in set(token)}
    return [
        # Signature changed: not its last character, whose low bits are base64 padding and may decode alike.
        token[:-2] + other_char[token[-2]] + token[-1],
        other_char[token[0]] + token[1:],  # payload changed
        token[: len(token) // 2],  # cut short
        token + "x",
        "",
        "not-a-token",
    ]


def test_a_tampered_token_is_refused(app, client, invited):
    user, token = invited
    for bad in _tampered(app, token):
        if not bad:
            assert client.get("/activate/").status_code == 404
            continue
        _refused(client, bad, INVALID)
    assert not _user(user.id).has_password
    assert client.get(_path(token)).status_code == 200  # the true token still works


def test_a_token_with_the_right_id_but_another_nonce_is_refused(app, client, invited):
    user, _token = invited
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.user_id == user.id))
    forged = URLSafeTimedSerializer(app.secret_key, salt=links.SALT).dumps([link.id, "guess" * 4])
    _refused(client, forged, INVALID)
    wrong_key = URLSafeTimedSerializer("another-key", salt=links.SALT).dumps([link.id, link.nonce])
    _refused(client, wrong_key, INVALID)


def test_the_link_of_a_disabled_account_is_refused(app, client, boss, invited):
    user, token = invited
    admin.set_active(boss, _user(user.id), False)
    response = client.get(_path(token))
    assert response.status_code == 404
    assert 'name="password"' not in response.get_data(as_text=True)
    assert not _user(user.id).has_password


def test_a_live_link_of_an_account_disabled_in_the_database_is_refused(client, invited):
    """Even when the row was not revoked (disabled by hand in the database), the account's state decides."""
    user, token = invited
    db.session.execute(sa.update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    _refused(client, token, DISABLED)
    assert not _user(user.id).has_password


# The address -------------------------------------------------------------------------------------------------


def test_the_url_starts_with_public_base_url(app, boss, invited, monkeypatch):
    user, token = invited
    link = links.live_link(_user(user.id))
    assert links.url(link) == f"{app.config['PUBLIC_BASE_URL']}/activate/{token}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://jiangxin.example.org/")
    url = links.url(link)
    assert url.startswith("https://jiangxin.example.org/activate/")
    assert "//activate" not in url


def test_the_account_page_shows_the_public_url(app, boss, invited):
    user, token = invited
    client = app.test_client()
    assert _login_client(client, "boss") == 302
    page = client.get(f"/accounts/{user.id}").get_data(as_text=True)
    assert f"{app.config['PUBLIC_BASE_URL']}/activate/{token}" in page


def _login_client(client, username: str, password: str = PASSWORD) -> int:
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    ).status_code


def test_activation_ends_the_browsers_other_session(app, make_user, invited):
    """Someone else logged in on this device is logged out; the link's owner is logged in."""
    user, token = invited
    make_user("li", "judge")
    client = app.test_client()
    assert _login_client(client, "li") == 302
    assert _set_password(client, token).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "wang" in page
