"""Results documents as JSON, exactly as SPEC.md defines them."""

from __future__ import annotations

import json

from flask import abort, current_app

from comp.blueprints.api import bp
from comp.permissions import can
from comp.services import results as results_service


@bp.get("/competitions/<code>/results")
def competition_results(code: str):
    """Serve the results document: public once published, organizers always."""
    competition = results_service.get_competition(code)
    if competition is None or not can("competition.results", competition):
        abort(404)  # an unpublished competition is not revealed to exist
    # Not jsonify: it sorts keys, and the document keeps the SPEC's order, as the CLI prints it.
    body = json.dumps(results_service.document(competition), ensure_ascii=False)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
