"""The chief judge's console: progress, discrepancies, bias, reopening sheets, the lock."""

from flask import Blueprint

bp = Blueprint("chief", __name__, url_prefix="/chief")

from comp.blueprints.chief import views  # noqa: E402,F401
