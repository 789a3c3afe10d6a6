"""Request-wide behaviour: security headers, error pages, the login loader, template helpers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, flash, jsonify, make_response, redirect, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_url
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from comp.extensions import login
from comp.models import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


@login.user_loader
def load_user(token: str) -> User | None:
    """Return the user of the live server-side session whose token the cookie carries."""
    from comp.services.accounts import sessions

    return sessions.load(token)


def security_headers(response):
    """Add the Content-Security-Policy, HSTS over HTTPS, no-store on private answers and the other headers."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:  # behind the proxy, from X-Forwarded-Proto once PROXY_FIX trusts it
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    response.vary.add("HX-Request")
    if _private(response):
        response.headers["Cache-Control"] = "no-store"  # over send_file's no-cache, which still lets a cache keep it
        response.vary.add("Cookie")
    return response


def _private(response) -> bool:
    """Tell whether no cache may keep the answer: whatever a logged-in user or an admitted candidate is shown,
    and every download (a hall's shared computer keeps nothing of the last candidate's paper)."""
    if request.endpoint == "static":
        return False  # public files keep their caching, and no user is loaded for them
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        return True
    return current_user.is_authenticated or bool(session.get("exam_entrants"))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_page(code: int, message: str):
    """Render an error page in the user's language, or JSON under /api/."""
    if _wants_json():
        return jsonify({"error": str(message), "status": code}), code
    return render_template("errors/error.html", code=code, message=message), code


def unauthorized():
    """Send an anonymous visitor to the login page, and back to where they were afterwards.

    An htmx request gets `HX-Redirect` so that the whole page goes to the login form, never the
    section it was updating; "next" is then the page the browser shows, not the fragment's URL.
    """
    if request.headers.get("HX-Request") == "true":
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = (shown.path or "/") + (f"?{shown.query}" if shown.query else "")
        if shown.netloc and shown.netloc != request.host:
            page = "/"
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login_url(login.login_view, next_url=page)
        return response
    flash(str(login.login_message), login.login_message_category)
    return redirect(login_url(login.login_view, next_url=request.url))


def csrf_refused(error: CSRFError):
    """Refuse a form without a valid token; an htmx request that lost its whole session logs in again."""
    if request.headers.get("HX-Request") == "true" and not current_user.is_authenticated:
        return unauthorized()
    return error_page(400, _l("The form has expired. Reload the page and try again."))


def init_app(app: Flask) -> None:
    """Install headers, error handlers, the login view and template globals."""
    if app.config.get("PROXY_FIX"):
        # Flask's documented way to wrap the app in middleware, which replaces the method on the instance.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.after_request(security_headers)
    login.login_view = "auth.login"
    login.login_message = _l("Please log in to see this page.")
    login.login_message_category = "info"
    login.unauthorized_handler(unauthorized)
    messages = {
        403: _l("You do not have permission to see this page."),
        404: _l("This page does not exist."),
        405: _l("This action is not allowed here."),
        413: _l("The file is too large."),
        429: _l("Too many attempts. Please wait a minute and try again."),
        500: _l("Something went wrong on our side. The error has been logged."),
    }
    for code, message in messages.items():
        app.register_error_handler(code, lambda e, c=code, m=message: error_page(c, m))
    app.register_error_handler(CSRFError, csrf_refused)
    from comp import templating

    templating.init_app(app)
