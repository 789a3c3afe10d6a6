"""Logging in and out, the failure limit, safe redirects and the language switch."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale, gettext

from comp.extensions import db
from comp.models import User
from tests.conftest import PASSWORD, csrf_token

HOMES = {"admin": "Competitions", "organizer": "Competitions", "judge": "My assignments", "worker": "My entries"}


def shown(msgid: str) -> str:
    """Return a message as a default-language page shows it (the msgid until it is translated)."""
    with force_locale("zh"):
        return gettext(msgid)


def failed() -> str:
    return shown("Login failed: the username or password is not correct.")


def _post_login(client, username: str, password: str, query: str = ""):
    """Post the login form with a fresh CSRF token."""
    token = csrf_token(client, "/login")
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post(f"/login{query}", data=data)


def _without_tokens(html: str) -> str:
    """Blank out the per-render CSRF tokens so two answers can be compared byte for byte."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


@pytest.mark.parametrize("role", list(HOMES))
def test_login_redirects_home_and_shows_the_role_home(client, auth, make_user, role):
    make_user("u1", role)
    response = auth.login("u1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert f"<h1>{shown(HOMES[role])}</h1>" in page
    assert all(f"<h1>{shown(other)}</h1>" not in page for other in set(HOMES.values()) - {HOMES[role]})
    assert 'action="/logout"' in page


def test_username_is_case_insensitive(client, auth, make_user):
    make_user("Chen", "worker")
    assert auth.login("chen").status_code == 302


def test_unknown_user_and_wrong_password_answer_alike(app, make_user):
    unknown = _post_login(app.test_client(), "zhang", "wrong password")
    make_user("zhang", "worker")
    wrong = _post_login(app.test_client(), "zhang", "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert failed() in unknown.get_data(as_text=True)
    pages = [_without_tokens(r.get_data(as_text=True)) for r in (unknown, wrong)]
    assert pages[0] == pages[1]


def test_inactive_user_cannot_log_in(client, make_user):
    make_user("gone", "organizer", active=False)
    response = _post_login(client, "gone", PASSWORD)
    assert response.status_code == 401
    assert failed() in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sixth_failure_in_a_minute_is_refused_for_that_account_only(client, make_user):
    make_user("li", "worker")
    make_user("wang", "worker")
    for _ in range(5):
        assert _post_login(client, "li", "wrong").status_code == 401
    refused = _post_login(client, "li", "wrong")
    assert refused.status_code == 429
    assert "<h1>429</h1>" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    assert _post_login(client, "LI", PASSWORD).status_code == 429  # the key ignores case
    assert _post_login(client, "wang", "wrong").status_code == 401
    assert _post_login(client, "wang", PASSWORD).status_code == 302


def test_the_limit_is_per_client_address(app, make_user):
    make_user("li", "worker")
    here, there = app.test_client(), app.test_client()
    there.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    for _ in range(6):
        _post_login(here, "li", "wrong")
    assert _post_login(here, "li", "wrong").status_code == 429
    assert _post_login(there, "li", "wrong").status_code == 401


def test_successful_logins_do_not_count(client, auth, make_user):
    make_user("li", "worker")
    for _ in range(4):
        assert _post_login(client, "li", "wrong").status_code == 401
    for _ in range(3):
        assert auth.login("li").status_code == 302
        assert auth.logout().status_code == 302
    assert _post_login(client, "li", "wrong").status_code == 401  # the 5th failure
    assert _post_login(client, "li", "wrong").status_code == 429  # the 6th


def test_logout_needs_post_with_csrf(client, auth, make_user):
    make_user("li", "worker")
    auth.login("li")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in
    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def _stays_on_site(location: str) -> bool:
    """Tell whether a browser would resolve the Location on this site (no host, no scheme)."""
    return (
        location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and not any(c in location for c in "\t\r\n")
    )


def test_local_next_is_followed(client, make_user):
    make_user("li", "worker")
    response = _post_login(client, "li", PASSWORD, query="?next=%2Fcompetitions%2FX%2Fresults%3Fa%3D1")
    assert response.headers["Location"] == "/competitions/X/results?a=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "",
        "http:/evil.example",
    ],
)
def test_next_never_leaves_the_site(client, make_user, target):
    from urllib.parse import quote

    make_user("li", "worker")
    response = _post_login(client, "li", PASSWORD, query=f"?next={quote(target)}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert _stays_on_site(location), location
    assert "evil.example" not in location or location.startswith("/%5C")


def test_anonymous_visit_is_sent_to_login_and_back(client, make_user):
    make_user("li", "worker")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    response = _post_login(client, "li", PASSWORD, query="?next=%2F")
    assert response.headers["Location"] == "/"


def test_language_switch_is_remembered_for_the_user(app, auth, client, make_user):
    user = make_user("li", "organizer")
    page = client.get("/login").get_data(as_text=True)
    assert _lang(page) == "zh-CN"
    auth.login("li")
    assert _lang(client.get("/").get_data(as_text=True)) == "zh-CN"
    token = csrf_token(client, "/")
    response = client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _lang(client.get("/").get_data(as_text=True)) == "en"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"

    other = app.test_client()  # a new browser: no session, the choice comes from the account
    assert _lang(other.get("/login").get_data(as_text=True)) == "zh-CN"
    assert _post_login(other, "li", PASSWORD).status_code == 302
    assert _lang(other.get("/").get_data(as_text=True)) == "en"


def test_anonymous_language_switch_lasts_for_the_session(client):
    token = csrf_token(client, "/login")
    client.post("/lang", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert _lang(client.get("/login").get_data(as_text=True)) == "en"
    token = csrf_token(client, "/login")
    client.post("/lang", data={"lang": "zh", "next": "/login", "csrf_token": token})
    assert _lang(client.get("/login").get_data(as_text=True)) == "zh-CN"


def test_unknown_language_is_ignored(client):
    token = csrf_token(client, "/login")
    response = client.post("/lang", data={"lang": "fr", "next": "/login", "csrf_token": token})
    assert response.status_code == 302
    assert _lang(client.get("/login").get_data(as_text=True)) == "zh-CN"


def test_language_switch_next_never_leaves_the_site(client):
    token = csrf_token(client, "/login")
    response = client.post("/lang", data={"lang": "en", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/people?q=x", "/?year=2026"])
def test_an_htmx_request_without_a_login_is_sent_to_the_login_page_whole(client, path):
    response = client.get(path, headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost{path}"})
    assert response.status_code == 401
    assert response.data == b""
    target = urlsplit(response.headers["HX-Redirect"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]


def test_an_htmx_save_after_expiry_returns_to_the_page_not_the_fragment(client):
    response = client.get(
        "/judge/T-1/sheet/ABCDEFGH/tally",
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/judge/T-1/sheet?e=3"},
    )
    assert parse_qs(urlsplit(response.headers["HX-Redirect"]).query)["next"] == ["/judge/T-1/sheet?e=3"]


def test_an_htmx_redirect_never_points_at_another_site(client):
    response = client.get("/people", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert parse_qs(urlsplit(response.headers["HX-Redirect"]).query)["next"] == ["/"]


def test_a_plain_request_is_still_redirected_with_a_message(client):
    response = client.get("/people?q=x")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "HX-Redirect" not in response.headers


def test_an_htmx_post_that_lost_its_session_is_sent_to_log_in(client):
    response = client.post(
        "/account/password",
        data={"current": "x"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/account"},
    )
    assert response.status_code == 401
    assert parse_qs(urlsplit(response.headers["HX-Redirect"]).query)["next"] == ["/account"]


def test_a_logged_in_htmx_post_without_a_token_is_still_a_csrf_refusal(client, auth, make_user):
    make_user("li", "worker")
    auth.login("li")
    response = client.post("/account/password", data={"current": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "HX-Redirect" not in response.headers
