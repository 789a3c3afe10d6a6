"""Judges score on tablets: entrant lists by secret code, score sheets with live tallies."""

from flask import Blueprint, request

from comp.extensions import limiter

bp = Blueprint("judging", __name__, url_prefix="/judge")


@limiter.request_filter
def _not_limited() -> bool:
    """Spare the judges' pages the rate limiter's work: none carries a limit (they are a logged-in panel's,
    every save checked and audited), and working that out on each request cost about 3 % of a judging
    day's CPU. A limit added to a judging view must remove this filter (tests/judging/test_save_path.py)."""
    return request.blueprint == "judging"


from comp.blueprints.judging import recheck, views  # noqa: E402,F401
