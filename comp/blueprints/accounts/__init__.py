"""Account administration: list, create, change, disable, reset, import, activation sheets, worker requests."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from comp.blueprints.accounts import bulk, requests, views  # noqa: E402,F401
