"""Judges score on tablets: entrant lists by secret code, score sheets with live tallies."""

from flask import Blueprint

bp = Blueprint("judging", __name__, url_prefix="/judge")

from comp.blueprints.judging import recheck, views  # noqa: E402,F401
