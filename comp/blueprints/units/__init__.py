"""Innovation studios and craftsman teams: the registry, unit profiles, enterprise pages."""

from flask import Blueprint

bp = Blueprint("units", __name__)

from comp.blueprints.units import views  # noqa: E402,F401
