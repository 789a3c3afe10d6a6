"""What each role's home page lists."""
from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Certificate, Competition, Entrant, JudgeAssignment, User
from comp.services import citystats, orgtree

# The years a dashboard may be asked for; anything else shows all years.
YEARS = range(1949, 2200)


def city_dashboard(year: int | None = None) -> dict:
    """Return the city dashboard's figures for the year (all years when None or out of range)."""
    return {"stats": citystats.current(year if year in YEARS else None)}


HOME_ROWS = 100  # competitions listed on the home page without a year chosen


def organizer_home(user: User, year: int | None = None) -> dict:
    """Return the city dashboard and the organizer's competitions (the year's, or the newest), with entrant counts.

    Which competitions the organizer manages is read from the union tree in the query, as
    `competition.manage` decides it, so the list costs the same few queries at any size.
    """
    year = year if year in YEARS else None
    counts = (sa.select(Entrant.competition_id, sa.func.count().label("n"))
              .group_by(Entrant.competition_id).subquery())
    query = (sa.select(Competition, sa.func.coalesce(counts.c.n, 0))
             .outerjoin(counts, counts.c.competition_id == Competition.id)
             .order_by(Competition.year.desc(), Competition.code))
    units = None if user.role == "admin" or user.org_unit_id is None else orgtree.scope(user)
    if units is not None:
        query = query.where(sa.or_(Competition.organizer_unit_id.is_(None), Competition.organizer_unit_id.in_(units)))
    if year is not None:
        query = query.where(Competition.year == year)
    else:
        query = query.limit(HOME_ROWS + 1)
    rows = db.session.execute(query).all()
    return {"competitions": rows[:HOME_ROWS] if year is None else rows,
            "more_competitions": year is None and len(rows) > HOME_ROWS, **city_dashboard(year)}


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
