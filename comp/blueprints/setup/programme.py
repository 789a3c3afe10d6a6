"""The declared programme: each entrant's factor on each factored criterion (a dive's degree of difficulty)."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from comp.blueprints.answers import REFUSED
from comp.blueprints.setup import bp
from comp.blueprints.setup.views import managed
from comp.forms import Form
from comp.models import Competition
from comp.models.types import plain
from comp.services import ServiceError
from comp.services.setup import programme

# The name of a cell's input, as programme.field_name writes it: what, entrant id, criterion id.
CELL = re.compile(r"(factor|label)-([0-9]{1,10})-([0-9]{1,10})")


class ProgrammeForm(Form):
    """The programme grid: its cells are named by entrant and criterion and read from the post; this checks CSRF."""


def posted_cells(posted: MultiDict) -> dict[tuple[int, int], tuple[str, str]]:
    """Return the (factor, label) texts of every cell the post names, keyed by (entrant id, criterion id)."""
    cells: dict[tuple[int, int], tuple[str, str]] = {}
    for name in posted:
        match = CELL.fullmatch(name)
        if match:
            entrant_id, criterion_id = int(match[2]), int(match[3])
            cells[(entrant_id, criterion_id)] = (
                posted.get(programme.field_name("factor", entrant_id, criterion_id), ""),
                posted.get(programme.field_name("label", entrant_id, criterion_id), ""),
            )
    return cells


def _stored(grid: programme.Grid) -> dict[str, str]:
    """Return what each input shows: the declared factor and label."""
    shown = {}
    for (entrant_id, criterion_id), (factor, label) in grid.declared.items():
        shown[programme.field_name("factor", entrant_id, criterion_id)] = plain(factor)
        shown[programme.field_name("label", entrant_id, criterion_id)] = label
    return shown


def _page(
    competition: Competition,
    form: ProgrammeForm,
    shown: dict[str, str] | None = None,
    refused: programme.ProgrammeProblems | None = None,
):
    """Render the grid; after a refusal with what was typed, each problem beside its input and above the table."""
    grid = programme.grid(competition)
    return render_template(
        "setup/programme.html",
        competition=competition,
        form=form,
        grid=grid,
        shown=_stored(grid) if shown is None else shown,
        field_name=programme.field_name,
        problems=refused.problems if refused else {},
        cells=refused.cells if refused else {},
    ), (200 if shown is None else REFUSED)


@bp.get("/<code>/programme")
def programme_page(code: str):
    """Show every entrant's declared factor and label on each factored criterion."""
    return _page(managed(code), ProgrammeForm())


@bp.post("/<code>/programme")
def save_programme(code: str):
    """Save the whole programme grid, or show every refused cell and write nothing."""
    competition = managed(code)
    form = ProgrammeForm()
    typed = request.form.to_dict()
    if not form.validate_on_submit():  # CSRFProtect refuses a missing token first; this keeps the form's own check
        form.form_errors.append(_("The form has expired. Reload the page and try again."))
        return _page(competition, form, typed)
    try:
        changed = programme.save(competition, current_user, posted_cells(request.form))
    except programme.ProgrammeProblems as error:
        return _page(competition, form, typed, error)
    except ServiceError as error:
        form.form_errors.append(str(error))
        return _page(competition, form, typed)
    if changed:
        flash(
            ngettext("%(num)d cell of the programme changed.", "%(num)d cells of the programme changed.", changed),
            "success",
        )
    else:
        flash(_("Nothing changed in the programme."), "info")
    return redirect(url_for(".programme_page", code=competition.code))
