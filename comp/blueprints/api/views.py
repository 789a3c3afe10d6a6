"""Results documents as JSON, exactly as SPEC.md defines them."""
from __future__ import annotations

from flask import abort, jsonify

from comp.blueprints.api import bp
from comp.permissions import can
from comp.services import results as results_service


@bp.get("/competitions/<code>/results")
def competition_results(code: str):
    """Serve the results document: public once published, organizers always."""
    competition = results_service.get_competition(code)
    if competition is None or not can("competition.results", competition):
        abort(404)  # an unpublished competition is not revealed to exist
    response = jsonify(results_service.document(competition))
    response.headers["Cache-Control"] = "no-store"
    return response
