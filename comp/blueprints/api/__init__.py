"""The JSON API, version 1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from comp.blueprints.api import views  # noqa: E402,F401
