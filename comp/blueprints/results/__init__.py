"""The organizer's results page."""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/competitions")

from comp.blueprints.results import views  # noqa: E402,F401
