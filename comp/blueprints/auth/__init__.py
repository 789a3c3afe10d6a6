"""Log in, log out, and choose the language."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from comp.blueprints.auth import views  # noqa: E402,F401
