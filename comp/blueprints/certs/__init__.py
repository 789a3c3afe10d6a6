"""Certificates: issuing and printing for organizers, downloads for workers, public verification."""

from flask import Blueprint

bp = Blueprint("certs", __name__)

from comp.blueprints.certs import views  # noqa: E402,F401
