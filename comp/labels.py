"""Translatable labels for the codes stored in the database."""

from flask_babel import lazy_gettext as _l

COMPETITION_STATES = {
    "draft": _l("Draft"),
    "open": _l("Registration open"),
    "closed": _l("Registration closed"),
    "running": _l("Running"),
    "locked": _l("Scores locked"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}
ENTRANT_STATUSES = {
    "pending": _l("Pending approval"),
    "approved": _l("Approved"),
    "ok": _l("Checked in"),
    "absent": _l("Absent"),
    "disqualified": _l("Disqualified"),
    "withdrawn": _l("Withdrawn"),
    "rejected": _l("Rejected"),
}
LEVELS = {"city": _l("City"), "county": _l("County"), "enterprise": _l("Enterprise")}


def status_label(code: str) -> str:
    """Return the competition state in the user's language."""
    return str(COMPETITION_STATES.get(code, code))


# A rating's entrants are studios and teams on a panel's list: nobody checks in or is absent.
RATING_STATUSES = {
    "pending": _l("Nominated, not yet confirmed"),
    "approved": _l("Nominated"),
    "ok": _l("Being rated"),
    "absent": _l("Not rated"),
}


def entrant_status_label(code: str, kind: str = "competition") -> str:
    """Return the entrant status in the user's language, in a rating's words when `kind` is "rating"."""
    if kind == "rating" and code in RATING_STATUSES:
        return str(RATING_STATUSES[code])
    return str(ENTRANT_STATUSES.get(code, code))


REQUEST_STATES = {
    "pending": _l("Waiting"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Replaced"),
}


def request_status_label(code: str) -> str:
    """Return a worker request's state in the user's language."""
    return str(REQUEST_STATES.get(code, code))
