"""Public pages: the hall screen's live standings, published results, objections."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/c")

from comp.blueprints.public import views  # noqa: E402,F401
