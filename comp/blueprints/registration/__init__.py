"""Registration: workers register themselves, liaisons upload spreadsheets, organizers approve."""

from flask import Blueprint

bp = Blueprint("registration", __name__)

from comp.blueprints.registration import views  # noqa: E402,F401
