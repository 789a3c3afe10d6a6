"""Craftsmen: the talent pool (人才库) and each worker's profile (工匠档案)."""

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")

from comp.blueprints.people import pool, profile  # noqa: E402,F401
