"""The hall before the contest: numbers and secret codes, the lot draw, lists, check-in, judges."""

from flask import Blueprint

bp = Blueprint("hall", __name__, url_prefix="/competitions")

from comp.blueprints.hall import views  # noqa: E402,F401
