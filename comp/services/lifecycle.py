"""Competition lifecycle: draft → open → closed → running → locked → published → archived."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _

from comp.models import Competition
from comp.models.types import utcnow
from comp.services import ServiceError, audit, transaction

NEXT = {
    "draft": ("open",),
    "open": ("closed",),
    "closed": ("running", "open"),
    "running": ("locked",),
    "locked": ("published", "running"),
    "published": ("archived",),
    "archived": (),
}


def check_transition(competition: Competition, target: str) -> None:
    """Refuse a move the lifecycle does not allow, saying why."""
    if target not in NEXT.get(competition.status, ()):
        raise ServiceError(_("A competition in state “%(state)s” cannot move to “%(target)s”.",
                             state=competition.status, target=target))


def publish(competition: Competition, actor=None) -> None:
    """Publish a locked competition's results and start the public notice period."""
    check_transition(competition, "published")
    with transaction():
        competition.status = "published"
        competition.published_at = utcnow()
        audit.record("competition.published", actor, competition, competition,
                     notice_days=notice_days(competition))


def notice_days(competition: Competition) -> int:
    """Return the length of the public notice period (公示) in days."""
    return int((competition.rules or {}).get("notice_days", 5))


def notice_ends(competition: Competition) -> datetime | None:
    """Return when the notice period ends, once published."""
    if competition.published_at is None:
        return None
    return competition.published_at + timedelta(days=notice_days(competition))
