"""Results with stage breakdown, awards, teams, discrepancies and judge bias; the published rules."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template

from comp.blueprints.results import bp
from comp.permissions import competition_for
from comp.services import results as results_service


def rules_path() -> Path:
    """Return where the published rules document lives in the repository."""
    return Path(current_app.root_path).parent / "docs" / "rules.md"


@bp.get("/rules")
def rules():
    """Show the published scoring rules to anyone, as the plain text they are written in."""
    try:
        text = rules_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        abort(404)
    return render_template("results/rules.html", text=text)


@bp.get("/<code>/results")
def show(code: str):
    """Show a competition's results: always to its organizers, to everyone once published."""
    competition = competition_for(code, "competition.results")
    doc = results_service.document(competition)  # shared by every process, once per stamp
    scheme = results_service.scheme_of(competition)
    rules = results_service.rules_of(competition, scheme)
    return render_template("results/results.html", competition=competition, doc=doc, stages=scheme.stages, rules=rules)


@bp.get("/<code>/results.xlsx")
def export(code: str):
    """Download the results and team standings as a spreadsheet."""
    from comp.services.results.export import results_xlsx

    competition = competition_for(code, "competition.results")
    return Response(
        results_xlsx(competition),
        headers={
            "Content-Disposition": f'attachment; filename="{competition.code}-results.xlsx"',
            "Cache-Control": "no-store",
        },
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
