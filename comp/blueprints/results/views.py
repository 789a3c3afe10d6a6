"""Results with stage breakdown, awards, teams, discrepancies and judge bias; the published rules."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, render_template, request
from flask_babel import get_locale

from comp.blueprints.results import bp
from comp.permissions import competition_for
from comp.services import results as results_service


def rules_path() -> Path:
    """Return where the published rules document lives in the repository (the English edition)."""
    return Path(current_app.root_path).parent / "docs" / "rules.md"


def rules_edition(language: str) -> tuple[Path, str]:
    """Return the rules document for a language and the language it is in: rules.<lang>.md beside
    rules.md where that translation exists, else rules.md itself, which is the English edition."""
    original = rules_path()
    if language != "en":
        translated = original.with_name(f"{original.stem}.{language}{original.suffix}")
        if translated.is_file():
            return translated, language
    return original, "en"


@bp.get("/rules")
def rules() -> str:
    """Show the published scoring rules to anyone, as the plain text they are written in: in the
    user's language, or in the one asked for with ?lang= (the link to the other edition)."""
    languages: dict[str, str] = current_app.config["LANGUAGES"]
    asked = request.args.get("lang", "")
    path, language = rules_edition(asked if asked in languages else str(get_locale()))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        abort(404)
    others = [(code, label) for code, label in languages.items() if code != language and rules_edition(code)[1] == code]
    return render_template("results/rules.html", text=text, language=language, others=others)


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
