"""Results with stage breakdown, awards, teams, discrepancies and judge bias."""
from __future__ import annotations

from flask import abort, render_template

from comp.blueprints.results import bp
from comp.permissions import authorize
from comp.services import results as results_service


@bp.get("/<code>/results")
def show(code: str):
    """Show a competition's results: always to its organizers, to everyone once published."""
    competition = results_service.get_competition(code) or abort(404)
    authorize("competition.results", competition)
    loaded, outcome = results_service.compute(competition)
    doc = results_service.document_from(competition, loaded, outcome)
    return render_template("results/results.html", competition=competition, doc=doc,
                           stages=loaded.scheme.stages, rules=loaded.rules)
