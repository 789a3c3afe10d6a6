"""Competition lifecycle: draft → open → closed → running → locked → published → archived.

Every move is checked by its guard and audited; a refused move says why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from comp import scoring
from comp.extensions import db
from comp.labels import status_label
from comp.models import Competition, Criterion, Stage
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit, wording
from comp.services.results import standings

NEXT = {
    "draft": ("open",),
    "open": ("closed",),
    "closed": ("running", "open"),
    "running": ("locked",),
    "locked": ("published", "running"),
    # An upheld objection sends published results back to locked (then running to re-mark);
    # publishing again restarts the notice period.
    "published": ("archived", "locked"),
    "archived": (),
}
SCHEME_EDITABLE = ("draft", "open", "closed")


def touch(competition: Competition) -> None:
    """Bump the competition's version in the database, so pollers and caches see a change."""
    # An SQL increment, not a Python one: two app processes saving marks at once both count.
    competition.version = Competition.version + 1


def check_transition(competition: Competition, target: str) -> None:
    """Refuse a move the lifecycle does not allow, or whose guard fails, saying why."""
    if target not in NEXT.get(competition.status, ()):
        raise ServiceError(
            _(
                "A competition in state “%(state)s” cannot move to “%(target)s”.",
                state=status_label(competition.status),
                target=status_label(target),
            )
        )
    guard = GUARDS.get(target)
    if guard is not None:
        guard(competition)


def transition(competition: Competition, target: str, actor=None, **detail) -> None:
    """Move the competition to `target` after its guard passes, and audit the move."""
    check_transition(competition, target)
    with transaction():
        previous = competition.status
        competition.status = target
        if target == "locked":
            competition.locked_at = utcnow()
        if target == "published":
            competition.published_at = utcnow()
            standings.snapshot(competition)
        elif previous == "published" and target == "locked":
            standings.clear(competition)
        touch(competition)
        audit.record(f"competition.{target}", actor, competition, competition, previous=previous, **detail)


def publish(competition: Competition, actor=None) -> None:
    """Publish a locked competition's results and start the public notice period."""
    transition(competition, "published", actor, notice_days=notice_days(competition))


def scheme_problems(competition: Competition) -> list[str]:
    """Return what keeps the competition's stages, criteria and rules from being valid."""
    from comp.services.results import expected_marks, scheme_of

    scheme = scheme_of(competition, expected_marks(competition))  # with its panel, once judges are seated
    if not scheme.stages:  # said in the user's language, not the engine's "stages: …"
        problems = [_("The competition has no stages yet.")]
    else:
        problems = wording.sentences(scoring.check_scheme(scheme), scheme)
    try:
        scoring.parse_rules(competition.rules or {}, scheme, competition.kind)
    except scoring.RuleError as error:
        problems.extend(wording.sentences(error.problems, scheme))
    return problems


def _guard_open(competition: Competition) -> None:
    problems = scheme_problems(competition)
    if problems:
        raise ServiceError(_("The competition cannot open: %(problems)s", problems="; ".join(problems)))


def lock_problems(competition: Competition) -> list[str]:
    """Return why the scores cannot be locked yet: missing marks, open discrepancies (the chief console's list)."""
    from comp.services import chief

    return list(chief.lock_blockers(competition))


def _guard_lock(competition: Competition) -> None:
    problems = lock_problems(competition)
    if problems:
        raise ServiceError(_("The scores cannot be locked: %(problems)s", problems=" ".join(problems)))


def _guard_start(competition: Competition) -> None:
    # The panel is known now: a trimmed mean that would drop every mark of its judges is refused here.
    problems = scheme_problems(competition)
    if problems:
        raise ServiceError(_("The competition cannot start: %(problems)s", problems="; ".join(problems)))


GUARDS: dict[str, Callable[[Competition], None]] = {"open": _guard_open, "running": _guard_start, "locked": _guard_lock}


def check_scheme_editable(competition: Competition) -> None:
    """Refuse a change of stages, criteria or rules once the competition is running."""
    if competition.status not in SCHEME_EDITABLE:
        raise ServiceError(_("The scoring scheme cannot change once the competition is running."))


def notice_days(competition: Competition) -> int:
    """Return the length of the public notice period (公示) in days.

    The rules were checked against the scheme when they were set; the notice period does not
    depend on it, so no stage or criterion is read here.
    """
    return scoring.parse_rules(competition.rules or {}, None, competition.kind).notice_days


def notice_ends(competition: Competition) -> datetime | None:
    """Return when the notice period ends, once published."""
    if competition.published_at is None:
        return None
    return competition.published_at + timedelta(days=notice_days(competition))


def notice_over(competition: Competition, now: datetime | None = None) -> bool:
    """Tell whether the published results' notice period has ended."""
    ends = notice_ends(competition)
    return ends is not None and (now or utcnow()) >= ends


def criteria_count(competition: Competition) -> int:
    """Count the competition's criteria."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Criterion.id)).join(Stage).where(Stage.competition_id == competition.id)
        )
        or 0
    )
