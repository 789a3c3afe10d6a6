"""Set up the load test's competition through the app's own services; print what the clients need as JSON.

Run as `python -m bench.loadtest.seed CODE ENTRANTS JUDGES PASSWORD` with `DATABASE_URL` (and the
production settings) in the environment, on a database `flask db upgrade` has just made.

The competition is imported in the exchange format with entrants and judges but no marks, so it
arrives running (`exchange.import_competition` locks only a complete one); the panel's
criteria are then assigned as the organizer's judges page does (`hall.judges.assign_criteria`)
and each judge is given a password as `flask user set-password` does (`accounts.set_password`).
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa

from bench import synthetic

THEORY = "theory.exam"  # marked by the chief judge alone (a "single" criterion)


def document(code: str, entrants: int, judges: int) -> dict:
    """Return the exchange-format competition: the synthetic scheme and entrants, a panel, no marks."""
    data = synthetic.competition(entrants, code=code)
    for entrant in data["entrants"]:
        entrant["status"] = "ok"  # every entrant checked in: each sheet has marks to enter
    data["marks"] = []
    data["judges"] = [
        {"ref": f"J{n}", "name": f"负载裁判{n}", "employer": f"裁判单位{n}", "chief": n == 1}
        for n in range(1, judges + 1)
    ]
    return data


def main(argv: list[str]) -> int:
    code, entrants, judges, password = argv[0], int(argv[1]), int(argv[2]), argv[3]
    from comp import create_app
    from comp.extensions import db
    from comp.models import Criterion, Entrant, Stage
    from comp.services import accounts, exchange
    from comp.services.hall import judges as panel

    app = create_app()
    with app.app_context():
        competition = exchange.import_competition(document(code, entrants, judges))
        if competition.status != "running":
            raise SystemExit(f"the imported competition is {competition.status}, not running")
        criteria = db.session.execute(
            sa.select(Criterion.id, Stage.key, Criterion.key, Criterion.max_value, Criterion.step)
            .join(Stage)
            .where(Stage.competition_id == competition.id)
            .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
        ).all()
        by_path = {f"{stage}.{key}": cid for cid, stage, key, _max, _step in criteria}
        practical = [cid for path, cid in by_path.items() if path != THEORY]
        seats = []
        for assignment in panel.panel(competition):
            wanted = ([by_path[THEORY]] if assignment.is_chief else []) + practical
            panel.assign_criteria(assignment, wanted)
            accounts.set_password(assignment.user, password)
            seats.append({"username": assignment.user.username, "id": assignment.user_id, "criteria": wanted})
        rows = db.session.execute(
            sa.select(Entrant.id, Entrant.secret_code)
            .where(Entrant.competition_id == competition.id)
            .order_by(Entrant.secret_code)
        ).all()
        print(
            json.dumps(
                {
                    "code": competition.code,
                    "competition_id": competition.id,
                    "judges": seats,
                    "entrants": [{"id": eid, "secret": secret} for eid, secret in rows],
                    "criteria": {
                        str(cid): {"path": f"{stage}.{key}", "max": str(maximum), "step": str(step) if step else None}
                        for cid, stage, key, maximum, step in criteria
                    },
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
