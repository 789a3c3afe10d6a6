"""Login with a per-account-and-address failure limit; no hint whether the account exists."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from comp.blueprints.auth import bp
from comp.blueprints.auth.forms import LanguageForm, LoginForm
from comp.extensions import limiter
from comp.services import accounts


def _login_key() -> str:
    """Key login failures by account and client address together."""
    return f"login:{(request.form.get('username') or '').strip().lower()}:{request.remote_addr}"


def _safe_next(target: str | None) -> str:
    """Return a local redirect target, never another site."""
    if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], key_func=_login_key, methods=["POST"],
               deduct_when=lambda response: response.status_code != 302)
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Login failed: the username or password is not correct."), "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():
    """Log the user out."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def language():
    """Switch the interface language, remembered for the user or the session."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.lang.data)
    return redirect(_safe_next(form.next.data))
