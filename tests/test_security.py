"""Defensive headers, cookies, CSRF, self-hosted assets, the secret key, and error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import abort

import comp
from comp import config as settings
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def _csp(response) -> dict[str, list[str]]:
    """Parse the Content-Security-Policy header into directive → sources."""
    policy = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        policy[name] = sources
    return policy


# --- headers on every answer ---


@pytest.fixture()
def answers(client, auth, make_user, make_competition):
    """Return a sample of answers: pages, redirects, JSON, errors, static files, for several roles."""
    locked = make_competition(status="locked").code
    published = make_competition(status="published").code
    got = {}
    for path in (
        "/login",
        "/",
        "/healthz",
        "/nowhere",
        f"/competitions/{published}/results",
        f"/api/v1/competitions/{locked}/results",
    ):
        got[f"anonymous {path}"] = client.get(path)
    with client.get("/static/css/app.css") as static:  # a file answer must be closed
        static.get_data()
        got["anonymous static file"] = static
    got["anonymous POST without token"] = client.post("/login", data={"username": "x", "password": "y"})
    for role in ("worker", "organizer"):
        make_user(role, role)
        auth.login(role)
        for path in ("/", f"/competitions/{locked}/results", f"/api/v1/competitions/{locked}/results"):
            got[f"{role} {path}"] = client.get(path)
        auth.logout()
    return got


def test_every_answer_has_a_strict_csp(answers):
    for name, response in answers.items():
        policy = _csp(response)
        assert policy["script-src"] == ["'self'"], name
        assert policy["default-src"] == ["'self'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["object-src"] == ["'none'"], name
        header = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header, name


def test_every_answer_has_the_defensive_headers(answers):
    for name, response in answers.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert response.headers["Referrer-Policy"] == "same-origin", name


def test_the_sample_covers_the_statuses(answers):
    statuses = {r.status_code for r in answers.values()}
    assert {200, 302, 400, 403, 404} <= statuses


def test_results_api_is_not_cached(client, make_competition):
    code = make_competition(status="published").code
    assert client.get(f"/api/v1/competitions/{code}/results").headers["Cache-Control"] == "no-store"


# --- cookies ---


def test_session_cookie_is_httponly_and_lax(client, auth, make_user):
    make_user("li", "worker")
    response = auth.login("li")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in cookies[-1].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"


def test_remember_cookie_settings(app):
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


# --- CSRF ---


@pytest.mark.parametrize(
    "path, data",
    [
        ("/login", {"username": "li", "password": "correct horse 42"}),
        ("/lang", {"lang": "en", "next": "/"}),
        ("/logout", {}),
    ],
)
def test_posts_without_a_csrf_token_are_refused(client, auth, make_user, path, data):
    make_user("li", "worker")
    auth.login("li")
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # the refused POST changed nothing: still logged in


@pytest.mark.parametrize("path", ["/login", "/lang"])
def test_a_token_from_another_session_is_refused(app, client, make_user, path):
    make_user("li", "worker")
    stranger = app.test_client()
    token = csrf_token(stranger, "/login")
    assert token
    response = client.post(
        path, data={"username": "li", "password": "correct horse 42", "lang": "en", "next": "/", "csrf_token": token}
    )
    assert response.status_code == 400


def test_a_forged_token_is_refused(client, make_user):
    make_user("li", "worker")
    csrf_token(client, "/login")
    response = client.post(
        "/login", data={"username": "li", "password": "correct horse 42", "csrf_token": "forged.token.value"}
    )
    assert response.status_code == 400


# --- assets are served by the app itself ---


def test_templates_were_found():
    assert any(p.name == "base.html" for p in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_loads_from_another_site(template):
    text = template.read_text(encoding="utf-8")
    pattern = r"""(?:src|href|action|hx-get|hx-post)\s*=\s*["']?\s*(?:https?:)?//"""
    offending = re.findall(pattern, text, re.I)
    assert not offending, offending


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_relies_on_what_the_csp_blocks(template):
    """Inline scripts, event-handler attributes and javascript: URLs would be dead under the CSP."""
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text, re.I), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text, re.I), "inline event handler"
    assert "javascript:" not in text.lower()


def test_stylesheets_do_not_import_from_another_site():
    for path in (ROOT / "comp" / "static" / "css").rglob("*.css"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(@import|url\()\s*['\"]?\s*(https?:)?//", text), path


def test_vendored_htmx_is_2_0():
    text = (ROOT / "comp" / "static" / "vendor" / "htmx" / "htmx.min.js").read_text(encoding="utf-8")
    assert re.search(r'version:"2\.0\.\d+"', text)


def test_pages_load_htmx_from_the_app(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<script src="/static/vendor/htmx/htmx.min.js"' in page
    with client.get("/static/vendor/htmx/htmx.min.js") as response:
        assert response.status_code == 200


def test_every_page_has_an_icon_and_favicon_ico_is_not_a_404(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/static/favicon.svg")
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


# --- the secret key ---


@pytest.fixture()
def environment(monkeypatch, tmp_path):
    """Start from an environment with no secrets, an instance folder and database under tmp_path."""
    for name in (
        "SECRET_KEY",
        "CERT_KEY",
        "PUBLIC_BASE_URL",
        "DATA_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "JIANGXIN_ENV",
        "SESSION_HOURS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JIANGXIN_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    return monkeypatch


@pytest.mark.parametrize("env", ["production", "staging", None])
def test_no_secret_key_outside_development_refuses_to_start(environment, env):
    if env:
        environment.setenv("JIANGXIN_ENV", env)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        comp.create_app()


PRODUCTION = {
    "SECRET_KEY": "s3cret-from-the-environment",
    "CERT_KEY": "certificate-key-from-the-environment",
    "DATA_KEY": "data-key-from-the-environment",
    "PUBLIC_BASE_URL": "https://jiangxin.example.org",
}


def test_production_starts_with_its_required_settings(environment):
    environment.setenv("JIANGXIN_ENV", "production")
    for name, value in PRODUCTION.items():
        environment.setenv(name, value)
    app = comp.create_app()
    assert app.config["SECRET_KEY"] == "s3cret-from-the-environment"
    assert app.config["CERT_KEY"] == "certificate-key-from-the-environment"
    assert app.config["PUBLIC_BASE_URL"] == "https://jiangxin.example.org"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_production_refuses_to_start_without_each_required_setting(environment, missing):
    """A QR code printed with the 127.0.0.1 default would be a dead link; a CERT_KEY shared with
    SECRET_KEY would void every printed code when the session secret is rotated."""
    environment.setenv("JIANGXIN_ENV", "production")
    for name, value in PRODUCTION.items():
        if name != missing:
            environment.setenv(name, value)
    with pytest.raises(RuntimeError, match=missing):
        comp.create_app()


def test_session_lifetime_is_configurable(environment):
    environment.setenv("JIANGXIN_ENV", "development")
    assert comp.create_app().config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 14 * 3600
    environment.setenv("SESSION_HOURS", "8")
    app = comp.create_app()
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600  # a form's token lives as long as its session
    environment.setenv("SESSION_HOURS", "forever")
    with pytest.raises(RuntimeError, match="SESSION_HOURS"):
        comp.create_app()


def test_development_keeps_generated_secrets(environment, tmp_path):
    environment.setenv("JIANGXIN_ENV", "development")
    first = comp.create_app().config
    assert len(first["SECRET_KEY"]) >= 32 and len(first["CERT_KEY"]) >= 32
    assert first["SECRET_KEY"] != first["CERT_KEY"]
    again = comp.create_app().config
    assert (again["SECRET_KEY"], again["CERT_KEY"]) == (first["SECRET_KEY"], first["CERT_KEY"])
    assert first["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    for name in ("dev-secret-key", "dev-cert-key"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0


# --- error pages ---


@pytest.fixture(scope="module")
def error_app(database_url):
    """An app with routes that fail on purpose (added before its first request)."""
    app = comp.create_app({**settings.test_config(database_url), "PROPAGATE_EXCEPTIONS": False})

    @app.get("/_test/forbidden")
    @app.get("/api/v1/_test/forbidden")
    def forbidden():
        abort(403)

    @app.get("/_test/boom")
    @app.get("/api/v1/_test/boom")
    def boom():
        raise RuntimeError("secret internals")

    return app


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/_test/forbidden", 403),
        ("get", "/nowhere", 404),
        ("get", "/_test/boom", 500),
        ("post", "/healthz", 405),
    ],
)
def test_error_pages_are_html(error_app, method, path, status):
    response = getattr(error_app.test_client(), method)(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<html" in page and f"<h1>{status}</h1>" in page
    assert "secret internals" not in page and "Traceback" not in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/_test/forbidden", 403),
        ("get", "/api/v1/nowhere", 404),
        ("get", "/api/v1/_test/boom", 500),
        ("post", "/api/v1/competitions/X/results", 405),
    ],
)
def test_api_errors_are_json(error_app, method, path, status):
    response = getattr(error_app.test_client(), method)(path)
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["status"] == status and body["error"]
    assert "secret internals" not in response.get_data(as_text=True)


def test_real_forbidden_page(client, auth, make_user, make_competition):
    code = make_competition(status="locked").code
    make_user("li", "worker")
    auth.login("li")
    response = client.get(f"/competitions/{code}/results")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "<h1>403</h1>" in page and 'lang="zh-CN"' in page
    assert "<table" not in page  # no results leak onto the error page


def test_htmx_swaps_a_refusal_and_nothing_else_that_failed(client):
    """A 422 carries the fragment that says why; other errors are not swapped into the page."""
    import json
    import re

    page = client.get("/login").get_data(as_text=True)
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', page).group(1))
    handling = config["responseHandling"]
    assert {"code": "422", "swap": True, "error": False} in handling
    assert handling.index({"code": "422", "swap": True, "error": False}) < handling.index(
        {"code": "[45]..", "swap": False, "error": True}
    )
    assert config["allowEval"] is False
