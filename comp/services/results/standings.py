"""Published standings: each entrant's rank, award, total and stage scores, kept once published.

Profiles, the talent pool, the dashboard and the honours pipeline read these rows, so a
city with hundreds of published competitions never recomputes them on a page view. They
are written in the same transaction that publishes the results, and removed when an upheld
objection sends the results back to locked.
"""

from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Entrant, Standing


def snapshot(competition: Competition) -> int:
    """Replace the competition's standings with its results as they are now; return the row count.

    The caller owns the transaction (publication writes these with the state change).
    """
    from comp.services.results import compute

    clear(competition)
    loaded, results = compute(competition)
    ids = {ref: entrant_id for entrant_id, ref in loaded.entrant_refs.items()}
    people = {
        r.id: r
        for r in db.session.execute(
            sa.select(Entrant.id, Entrant.worker_id, Entrant.unit_id).where(Entrant.competition_id == competition.id)
        )
    }
    rows = []
    for result in results.entrants:
        entrant = people[ids[result.ref]]
        rows.append(
            {
                "competition_id": competition.id,
                "entrant_id": entrant.id,
                "worker_id": entrant.worker_id,
                "unit_id": entrant.unit_id,
                "year": competition.year,
                "rank": result.rank,
                "award": result.award,
                "total": result.total,
                "stages": {key: format(value, "f") for key, value in result.stages.items() if value is not None},
            }
        )
    if rows:
        db.session.execute(sa.insert(Standing), rows)
    return len(rows)


def clear(competition: Competition) -> None:
    """Remove the competition's standings (its results are no longer public)."""
    db.session.execute(sa.delete(Standing).where(Standing.competition_id == competition.id))
