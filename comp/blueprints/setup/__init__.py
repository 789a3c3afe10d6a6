"""Competition set-up: details, stages, criteria, rules, lifecycle, cloning."""

from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/competitions")

from comp.blueprints.setup import views  # noqa: E402,F401
