"""Theory exams: the question banks, the organizer's exam pages, and the candidate's sitting."""

from flask import Blueprint

bp = Blueprint("exams", __name__)

from comp.blueprints.exams import bank, candidate, organizer, proctoring  # noqa: E402,F401
