"""What each role's home page lists."""
from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Certificate, Competition, Entrant, JudgeAssignment, User
from comp.permissions import can


def organizer_home(user: User) -> dict:
    """Return the competitions the organizer manages, newest first, with entrant counts."""
    counts = (sa.select(Entrant.competition_id, sa.func.count().label("n"))
              .group_by(Entrant.competition_id).subquery())
    rows = db.session.execute(
        sa.select(Competition, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.competition_id == Competition.id)
        .order_by(Competition.year.desc(), Competition.code)).all()
    return {"competitions": [(c, n) for c, n in rows if can("competition.manage", c, user)]}


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
