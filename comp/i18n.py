"""Language choice: the user's saved choice, else the session's, else Chinese."""

from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_login import current_user


def select_locale() -> str:
    """Return the locale for this request; outside a request (CLI, services) the default."""
    languages: dict[str, str] = current_app.config["LANGUAGES"]
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    return chosen if chosen in languages else default
