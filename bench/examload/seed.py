"""Set up the exam load test's preliminary; print what the clients need as JSON.

Run as `python -m bench.examload.seed CODE CANDIDATES` with `DATABASE_URL` (and the production
settings) in the environment, on a database `flask db upgrade` has just made. The competition is
imported in the exchange format with every candidate's ID number (so each has a worker to be
admitted by), J1 is given the theory criterion, and the bank and the ready exam are inserted
(`bench.examload.scenario`). No sitting is started here: the clients start theirs through the app.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    """Import the competition, add the bank and the exam, print the exam code and the candidates."""
    code, candidates = argv[0], int(argv[1])
    import sqlalchemy as sa

    from bench.examload import scenario
    from comp import create_app
    from comp.extensions import db
    from comp.models import Entrant
    from comp.services import exchange
    from comp.services.exams.setup import new_code

    app = create_app()
    with app.app_context():
        data = scenario.document(code, candidates)
        numbers = {e["ref"]: e["id_number"] for e in data["entrants"]}
        competition = exchange.import_competition(data)
        if competition.status != "running":
            raise SystemExit(f"the imported competition is {competition.status}, not running")
        bank = scenario.make_bank(competition.trade)
        exam = scenario.make_exam(competition, bank, new_code())
        db.session.commit()
        rows = db.session.execute(
            sa.select(Entrant.id, Entrant.ref).where(Entrant.competition_id == competition.id).order_by(Entrant.ref)
        ).all()
        print(
            json.dumps(
                {
                    "exam": exam.code,
                    "exam_id": exam.id,
                    "competition_id": competition.id,
                    "candidates": [{"id": eid, "ref": ref, "id_number": numbers[ref]} for eid, ref in rows],
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
