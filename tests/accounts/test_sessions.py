"""Server-side sessions: the cookie carries a random token, the user_session table decides whether it lives.

A copy of an old cookie must be refused after a logout, "log out everywhere", a password change, an
administrator's disable or reset; a session ends SESSION_HOURS after its login; the CSRF token is
renewed at login and lasts as long as a session; the login form is throttled per address.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from comp import config as settings
from comp.extensions import db
from comp.models import User, UserSession
from comp.models.types import utcnow
from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "a brand new sentence"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _post_login(client, username: str, password: str = PASSWORD):
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    )


def _client(app, address: str = "127.0.0.1"):
    """Return a new browser at this client address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _login(app, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    """Log a new client in through the form and return it."""
    client = _client(app, address)
    response = _post_login(client, username, password)
    assert response.status_code == 302, response.status_code
    return client


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _decode(app, value: str) -> dict:
    """Read a session cookie the way the app does (signature checked)."""
    data = app.session_interface.get_signing_serializer(app).loads(value)
    return dict(data)


def _replay(app, value: str):
    """Open /account in a new browser that only has a copy of the cookie; return the answer."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief.get("/account")


def _anonymous(response) -> bool:
    """Tell whether the app answered as to someone not logged in."""
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _row(app, cookie_value: str) -> UserSession:
    """Return the user_session row the cookie's token opens."""
    db.session.expire_all()
    token = _decode(app, cookie_value)["_user_id"]
    row = db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _digest(token)))
    assert row is not None
    return row


def _live(user: User) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )


def _post_action(client, page: str, path: str):
    """Post a form that only needs its CSRF token, taking the token from the page that shows it."""
    return client.post(path, data={"csrf_token": csrf_token(client, page)})


# Replaying an old cookie ------------------------------------------------------------------------


def _logout(app, runner, user, victim):
    assert _post_action(victim, "/account", "/logout").status_code == 302
    assert _anonymous(victim.get("/account"))


def _logout_all_elsewhere(app, runner, user, victim):
    other = _login(app, user.username)
    response = _post_action(other, "/account", "/account/logout-all")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _anonymous(other.get("/account"))  # this session ended too


def _password_changed_elsewhere(app, runner, user, victim):
    other = _login(app, user.username)
    token = csrf_token(other, "/account/password")
    response = other.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert other.get("/account").status_code == 200  # the browser that changed it goes on


def _admin_client(app, make_user):
    make_user("boss", "admin")
    return _login(app, "boss")


def _admin_disable(app, runner, user, victim, make_user):
    admin = _admin_client(app, make_user)
    response = _post_action(admin, f"/accounts/{user.id}", f"/accounts/{user.id}/disable")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).active is False


def _admin_reset(app, runner, user, victim, make_user):
    admin = _admin_client(app, make_user)
    response = _post_action(admin, f"/accounts/{user.id}", f"/accounts/{user.id}/reset")
    assert response.status_code == 302
    assert _post_login(app.test_client(), user.username).status_code == 401  # the old password is gone


def _admin_logout_all(app, runner, user, victim, make_user):
    admin = _admin_client(app, make_user)
    assert _post_action(admin, f"/accounts/{user.id}", f"/accounts/{user.id}/logout-all").status_code == 302


def _cli_set_password(app, runner, user, victim):
    result = runner.invoke(args=["user", "set-password", user.username, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output


EVENTS = {
    "logout": (_logout, "logout"),
    "logout-all from another session": (_logout_all_elsewhere, "logout_all"),
    "password changed in another session": (_password_changed_elsewhere, "password"),
    "admin disable": (_admin_disable, "disabled"),
    "admin reset": (_admin_reset, "reset"),
    "admin logout-all": (_admin_logout_all, "logout_all"),
    "set-password on the command line": (_cli_set_password, "password"),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_an_old_cookie_is_refused_after(app, runner, make_user, event):
    user = make_user("chen", "organizer")
    victim = _login(app, "chen")
    stolen = _cookie(victim)
    assert _replay(app, stolen).status_code == 200  # the copy works while the session lives
    action, reason = EVENTS[event]
    if "admin" in event:
        action(app, runner, user, victim, make_user)
    else:
        action(app, runner, user, victim)
    assert _anonymous(_replay(app, stolen))
    assert _anonymous(victim.get("/account"))
    row = _row(app, stolen)
    assert row.revoked_at is not None and row.revoked_reason == reason


def test_logout_all_ends_every_session_of_the_account_only(app, make_user):
    make_user("chen", "organizer")
    make_user("wang", "organizer")
    first, second = _login(app, "chen"), _login(app, "chen")
    bystander = _login(app, "wang")
    assert _post_action(first, "/account", "/account/logout-all").status_code == 302
    assert _anonymous(first.get("/account")) and _anonymous(second.get("/account"))
    assert bystander.get("/account").status_code == 200


def test_a_password_change_keeps_this_browser_on_a_new_session(app, make_user):
    """change_password ends every session, this one included, and opens a new one for this browser."""
    user = make_user("chen", "organizer")
    here, elsewhere = _login(app, "chen"), _login(app, "chen")
    before = _cookie(here)
    old_token = _decode(app, before)["_user_id"]
    token = csrf_token(here, "/account/password")
    response = here.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    new_token = _decode(app, _cookie(here))["_user_id"]
    assert new_token != old_token
    assert _anonymous(_replay(app, before))  # this browser's own old cookie is dead too
    assert _anonymous(elsewhere.get("/account"))
    assert _row(app, before).revoked_reason == "password"
    db.session.expire_all()
    live = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ).all()
    assert [row.token_hash for row in live] == [_digest(new_token)]


def test_a_disabled_account_cannot_log_in(app, make_user):
    user = make_user("chen", "organizer")
    admin = _admin_client(app, make_user)
    assert _post_action(admin, f"/accounts/{user.id}", f"/accounts/{user.id}/disable").status_code == 302
    client = app.test_client()
    response = _post_login(client, "chen")
    assert response.status_code == 401
    with force_locale("zh"):
        assert gettext("Login failed: the username or password is not correct.") in response.get_data(as_text=True)
    assert _anonymous(client.get("/account"))
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(UserSession.user_id == user.id))
        == 0
    )
    # Enabled again, the same password works: it was the disabling that refused it.
    assert _post_action(admin, f"/accounts/{user.id}", f"/accounts/{user.id}/enable").status_code == 302
    assert _post_login(app.test_client(), "chen").status_code == 302


def test_an_account_disabled_in_the_database_loses_its_session_at_once(app, make_user):
    """The loader checks the account on every request, not only the session row."""
    user = make_user("chen", "organizer")
    client = _login(app, "chen")
    db.session.execute(sa.update(User).where(User.id == user.id).values(active=False))
    db.session.commit()
    assert _anonymous(client.get("/account"))


# Expiry -----------------------------------------------------------------------------------------


def test_a_session_lasts_session_hours_from_its_login(app, make_user):
    make_user("chen", "organizer")
    client = _login(app, "chen")
    row = _row(app, _cookie(client))
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=settings.SESSION_HOURS)
    assert row.expires_at - row.created_at == timedelta(hours=settings.SESSION_HOURS)
    assert row.revoked_at is None


def test_the_lifetime_follows_the_configuration(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(hours=2))
    make_user("chen", "organizer")
    row = _row(app, _cookie(_login(app, "chen")))
    assert row.expires_at - row.created_at == timedelta(hours=2)


def _age(row_id: int, age: timedelta, lifetime: timedelta, seen: timedelta | None = None) -> None:
    """Move a session's times back as if it had been opened `age` ago (last seen `seen` ago)."""
    now = utcnow()
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == row_id)
        .values(
            created_at=now - age, last_seen_at=now - (age if seen is None else seen), expires_at=now - age + lifetime
        )
    )
    db.session.commit()


def test_a_session_older_than_session_hours_is_refused(app, make_user):
    make_user("chen", "organizer")
    client = _login(app, "chen")
    value = _cookie(client)
    row = _row(app, value)
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    _age(row.id, lifetime - timedelta(minutes=1), lifetime, seen=timedelta(0))
    assert client.get("/account").status_code == 200  # one minute left
    _age(row.id, lifetime + timedelta(minutes=1), lifetime, seen=timedelta(0))
    assert _anonymous(client.get("/account"))
    assert _anonymous(_replay(app, value))


def test_activity_does_not_extend_a_session(app, make_user):
    """last_seen_at is touched; expires_at stays login + SESSION_HOURS, however busy the session."""
    make_user("chen", "organizer")
    client = _login(app, "chen")
    row = _row(app, _cookie(client))
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    _age(row.id, lifetime - timedelta(hours=1), lifetime)  # last seen 13 hours ago
    before = _row(app, _cookie(client))
    expires, seen = before.expires_at, before.last_seen_at
    assert client.get("/account").status_code == 200
    after = _row(app, _cookie(client))
    assert after.last_seen_at > seen  # touched
    assert after.expires_at == expires


def test_the_cookie_expires_with_the_session(app, make_user):
    make_user("chen", "organizer")
    client = _login(app, "chen")
    cookie = client.get_cookie("session")
    row = _row(app, cookie.value)
    assert cookie.expires is not None
    expires = cookie.expires.replace(tzinfo=None)
    assert abs(expires - row.expires_at) < timedelta(minutes=1)


# What the cookie holds --------------------------------------------------------------------------


def test_the_cookie_carries_a_session_token_not_the_user_id(app, make_user):
    for n in range(3):
        make_user(f"filler{n}")
    user = make_user("chen", "organizer")
    value = _cookie(_login(app, "chen"))
    data = _decode(app, value)
    token = data["_user_id"]
    assert token != str(user.id)
    assert len(token) >= 40  # secrets.token_urlsafe(32)
    assert not any(str(v) == str(user.id) for v in data.values() if not isinstance(v, bool))
    row = _row(app, value)
    assert row.user_id == user.id
    assert row.token_hash == _digest(token)  # only the hash is stored
    assert token not in {row.token_hash, row.ip, row.user_agent}


def test_a_cookie_naming_a_user_id_opens_nothing(app, make_user):
    """Forging a cookie (with the app's own key) that holds a user id does not log that user in."""
    user = make_user("boss", "admin")
    _login(app, "boss")
    forged = app.session_interface.get_signing_serializer(app).dumps({"_user_id": str(user.id), "_fresh": True})
    assert _anonymous(_replay(app, forged))


def test_two_logins_get_two_tokens(app, make_user):
    make_user("chen", "organizer")
    first = _decode(app, _cookie(_login(app, "chen")))["_user_id"]
    second = _decode(app, _cookie(_login(app, "chen")))["_user_id"]
    assert first != second


# CSRF -------------------------------------------------------------------------------------------


def test_the_csrf_token_changes_at_login(app, client, make_user):
    make_user("chen", "organizer")
    before = csrf_token(client, "/login")
    raw_before = _decode(app, _cookie(client))["csrf_token"]
    response = client.post("/login", data={"username": "chen", "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    after = csrf_token(client, "/account")
    assert after and after != before
    assert _decode(app, _cookie(client))["csrf_token"] != raw_before
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 400
    assert client.get("/account").status_code == 200  # still logged in
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
    assert _anonymous(client.get("/account"))


def test_the_csrf_time_limit_is_the_session_lifetime(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    assert settings.BASE["WTF_CSRF_TIME_LIMIT"] == settings.BASE["PERMANENT_SESSION_LIFETIME"].total_seconds()


@pytest.mark.parametrize("hours", ["3", "0.5", "24"])
def test_session_hours_sets_both_lifetimes(monkeypatch, tmp_path, hours):
    monkeypatch.setenv("JIANGXIN_ENV", "development")
    monkeypatch.setenv("JIANGXIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SESSION_HOURS", hours)
    loaded = settings.from_environment()
    assert loaded["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=float(hours))
    assert loaded["WTF_CSRF_TIME_LIMIT"] == int(float(hours) * 3600)


def _token_signed(app, raw: str, seconds_ago: int) -> str:
    """Return a form's CSRF token for the session's raw token, as if the form was shown `seconds_ago`."""

    class Signed(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=Signed).dumps(raw)


@pytest.mark.parametrize("margin, accepted", [(-120, True), (120, False)])
def test_a_form_lasts_as_long_as_a_session(app, make_user, margin, accepted):
    make_user("chen", "organizer")
    client = _login(app, "chen")
    csrf_token(client, "/account")
    raw = _decode(app, _cookie(client))["csrf_token"]
    lifetime = int(app.config["PERMANENT_SESSION_LIFETIME"].total_seconds())
    response = client.post("/logout", data={"csrf_token": _token_signed(app, raw, lifetime + margin)})
    if accepted:
        assert response.status_code == 302
        assert _anonymous(client.get("/account"))
    else:
        assert response.status_code == 400
        assert client.get("/account").status_code == 200


# Throttling -------------------------------------------------------------------------------------


def test_the_login_form_is_throttled_per_address(app, make_user):
    make_user("chen", "organizer")
    here = _client(app, "10.9.8.7")
    token = csrf_token(here, "/login")
    answers = [
        here.post(
            "/login", data={"username": f"ghost{n}", "password": "wrong password", "csrf_token": token}
        ).status_code
        for n in range(30)
    ]
    assert answers == [401] * 20 + [429] * 10
    blocked = here.post("/login", data={"username": "chen", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429  # even the right password waits
    assert int(blocked.headers["Retry-After"]) > 0
    assert _anonymous(here.get("/account"))

    there = _client(app, "10.9.8.6")
    response = _post_login(there, "ghost99", "wrong password")
    assert response.status_code == 401
    with force_locale("zh"):
        assert gettext("Login failed: the username or password is not correct.") in response.get_data(as_text=True)
    assert _post_login(there, "chen").status_code == 302
