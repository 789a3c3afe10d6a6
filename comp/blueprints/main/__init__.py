"""Home pages per role and the health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from comp.blueprints.main import views  # noqa: E402,F401
