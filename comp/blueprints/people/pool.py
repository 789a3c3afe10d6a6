"""The talent pool: search, filter, sort and export workers."""

from __future__ import annotations

from flask import current_app, make_response, render_template, request, stream_with_context
from flask_login import current_user, login_required

from comp.blueprints.people import bp
from comp.extensions import htmx
from comp.permissions import permission_required
from comp.services.people import talent

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("")
@login_required
@permission_required("talent.search")
def pool():
    """List the workers in the user's scope, filtered and sorted, 50 a page; htmx gets the results alone."""
    asked = talent.prepare(request.args, current_user)
    context = {
        "filters": asked.filters,
        "problems": asked.problems,
        "choices": asked.choices,
        "page": talent.search(asked.filters, current_user, asked.page, tree=asked.tree),
    }
    # A history restore after a cache miss swaps the whole body: it needs the page, not the fragment.
    if htmx and not htmx.history_restore_request:
        response = make_response(render_template("people/_pool_results.html", oob=True, **context))
    else:
        response = make_response(render_template("people/pool.html", **context))
    response.vary.add("HX-Request")
    return response


@bp.get("/export.xlsx")
@login_required
@permission_required("talent.search")
def pool_export():
    """Download every matching worker (masked ID numbers) as .xlsx; the export is audited."""
    asked = talent.prepare(request.args, current_user, choices=False)
    _count, chunks = talent.export(asked.filters, current_user, asked.tree)
    # Streamed as it is written: a city-wide export starts downloading at once.
    response = current_app.response_class(stream_with_context(chunks), mimetype=XLSX)
    response.headers["Content-Disposition"] = "attachment; filename=talent-pool.xlsx"
    return response
