"""Login with failure limits per account and per address; no hint whether the account exists.

A login opens a server-side session (`services.accounts.sessions`); the cookie carries only
its token. Logging in starts a fresh cookie session, so the CSRF token is renewed too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from comp.blueprints.auth import bp
from comp.blueprints.auth.forms import LanguageForm, LoginForm
from comp.extensions import limiter
from comp.models import User
from comp.services import accounts


def _login_key() -> str:
    """Key login failures by account and client address together."""
    return f"login:{(request.form.get('username') or '').strip().lower()}:{request.remote_addr}"


def _address_key() -> str:
    """Key login failures by client address alone: many usernames tried from one place."""
    return f"login-address:{request.remote_addr}"


def _failed(response) -> bool:
    return response.status_code != 302


def safe_next(target: str | None) -> str:
    """Return a local redirect target, never another site."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


def client() -> tuple[str | None, str | None]:
    """Return the client's address and browser, as a session records them."""
    return request.remote_addr, request.headers.get("User-Agent")


def begin(user: User, token: str | None = None) -> None:
    """Start a fresh cookie session for the user: a new session token and a new CSRF token."""
    lang = session.get("lang")
    session.clear()  # nothing of the anonymous session survives, the CSRF token included
    if lang:
        session["lang"] = lang
    if token is None:
        token = accounts.log_in(user, *client())
    user.session_token = token
    login_user(user)
    session.permanent = True  # the cookie expires with the server-side session


def end() -> None:
    """Forget the cookie session, keeping only the chosen language."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], key_func=_login_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(
    lambda: current_app.config["LOGIN_IP_LIMIT"], key_func=_address_key, methods=["POST"], deduct_when=_failed
)
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            begin(user)
            return redirect(safe_next(request.args.get("next")))
        flash(_("Login failed: the username or password is not correct."), "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():
    """End this session on the server, then forget the cookie."""
    accounts.log_out(current_user.session_token)
    end()
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def language():
    """Switch the interface language, remembered for the user or the session."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.lang.data)
    return redirect(safe_next(form.next.data))


from comp.blueprints.auth import account, signup  # noqa: E402,F401
