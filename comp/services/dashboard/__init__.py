"""What each role's home page lists."""

from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Certificate, Competition, Entrant, JudgeAssignment, Upload, User
from comp.permissions import scope
from comp.services.dashboard import citystats

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
    query = sa.select(Competition).order_by(Competition.year.desc(), Competition.code)
    units = None if user.role == "admin" or user.org_unit_id is None else scope(user)
    if units is not None:
        query = query.where(sa.or_(Competition.organizer_unit_id.is_(None), Competition.organizer_unit_id.in_(units)))
    query = query.where(Competition.year == year) if year is not None else query.limit(HOME_ROWS + 1)
    listed = db.session.scalars(query).all()
    shown = listed[:HOME_ROWS] if year is None else listed
    # Entrants counted for the listed competitions only, not the city's whole history.
    counts = dict(
        db.session.execute(
            sa.select(Entrant.competition_id, sa.func.count())
            .where(Entrant.competition_id.in_([c.id for c in shown]))
            .group_by(Entrant.competition_id)
        ).all()
    )
    return {
        "competitions": [(c, counts.get(c.id, 0)) for c in shown],
        "more_competitions": len(shown) < len(listed),
        **city_dashboard(year),
    }


def judge_home(user: User) -> dict:
    """Return the judge's assignments with their competitions; a draft is its organizers' alone until it opens."""
    assignments = db.session.scalars(
        sa.select(JudgeAssignment)
        .join(Competition)
        .where(JudgeAssignment.user_id == user.id, Competition.status != "draft")
        .order_by(Competition.year.desc(), Competition.code)
    ).all()
    return {"assignments": assignments}


def liaison_home(user: User) -> dict:
    """Return what a liaison sees: the competitions open to their sheets, their uploads and the people they entered.

    Nothing else: no other enterprise's people, no approval queue, no results beyond their own entries.
    """
    from comp.permissions import can
    from comp.services import registration

    open_now = [c for c, _entry in registration.open_for(user) if can("competition.register_bulk", c, user)]
    kept = db.session.scalars(
        sa.select(Upload)
        .where(Upload.user_id == user.id, Upload.kind == "registration")
        .order_by(Upload.created_at.desc())
    ).all()
    imports = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.actor_id == user.id, AuditEvent.action == "registration.imported")
        .order_by(AuditEvent.id.desc())
        .limit(50)
    ).all()
    entered = db.session.scalars(
        sa.select(Entrant)
        .join(Competition)
        .where(Entrant.registered_by_id == user.id)
        .order_by(Competition.year.desc(), Competition.code, Entrant.ref)
    ).all()
    by_competition: dict[int, list[Entrant]] = {}
    for entrant in entered:
        by_competition.setdefault(entrant.competition_id, []).append(entrant)
    competitions = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Competition).where(
                Competition.id.in_(
                    {e.competition_id for e in entered}
                    | {u.competition_id for u in kept}
                    | {e.competition_id for e in imports}
                )
            )
        )
    }
    return {
        "open_now": open_now,
        "kept": kept,
        "imports": imports,
        "entered": by_competition,
        "competitions": competitions,
    }


def worker_home(user: User) -> dict:
    """Return the worker's own registrations and certificates."""
    if user.worker_id is None:
        return {"entries": [], "certificates": []}
    entries = db.session.scalars(
        sa.select(Entrant)
        .join(Competition)
        .where(Entrant.worker_id == user.worker_id)
        .order_by(Competition.year.desc(), Competition.code)
    ).all()
    certificates = db.session.scalars(
        sa.select(Certificate)
        .join(Entrant)
        .where(Entrant.worker_id == user.worker_id)
        .order_by(Certificate.issued_on.desc())
    ).all()
    return {"entries": entries, "certificates": certificates}
