"""What each role's home page lists."""
from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Certificate, Competition, Entrant, JudgeAssignment, User
from comp.permissions import can
from comp.services import citystats

# The years a dashboard may be asked for; anything else shows all years.
YEARS = range(1949, 2200)


def city_dashboard(year: int | None = None) -> dict:
    """Return the city dashboard's figures for the year (all years when None or out of range)."""
    return {"stats": citystats.current(year if year in YEARS else None)}


def organizer_home(user: User, year: int | None = None) -> dict:
    """Return the city dashboard and the organizer's competitions, newest first, with entrant counts."""
    counts = (sa.select(Entrant.competition_id, sa.func.count().label("n"))
              .group_by(Entrant.competition_id).subquery())
    rows = db.session.execute(
        sa.select(Competition, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.competition_id == Competition.id)
        .order_by(Competition.year.desc(), Competition.code)).all()
    return {"competitions": [(c, n) for c, n in rows if can("competition.manage", c, user)],
            **city_dashboard(year)}


def judge_home(user: User) -> dict:
    """Return the judge's assignments with their competitions."""
    assignments = db.session.scalars(
        sa.select(JudgeAssignment).join(Competition)
        .where(JudgeAssignment.user_id == user.id)
        .order_by(Competition.year.desc(), Competition.code)).all()
    return {"assignments": assignments}


def worker_home(user: User) -> dict:
    """Return the worker's own registrations and certificates."""
    if user.worker_id is None:
        return {"entries": [], "certificates": []}
    entries = db.session.scalars(
        sa.select(Entrant).join(Competition).where(Entrant.worker_id == user.worker_id)
        .order_by(Competition.year.desc(), Competition.code)).all()
    certificates = db.session.scalars(
        sa.select(Certificate).join(Entrant).where(Entrant.worker_id == user.worker_id)
        .order_by(Certificate.issued_on.desc())).all()
    return {"entries": entries, "certificates": certificates}
