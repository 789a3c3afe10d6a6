"""The talent pool: search, filter, sort and export workers; a big export is prepared in the background."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.people import bp
from comp.extensions import htmx
from comp.forms import Form
from comp.models import ExportJob
from comp.permissions import permission_required
from comp.services import exports
from comp.services.people import talent

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND = "talent_pool"


class ExportForm(Form):
    """Start (or start again) a background export: the CSRF token is all it carries; the filters ride along."""


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
        "inline_limit": exports.inline_limit(),
    }
    # A history restore after a cache miss swaps the whole body: it needs the page, not the fragment.
    if htmx and not htmx.history_restore_request:
        response = make_response(render_template("people/_pool_results.html", oob=True, **context))
    else:
        latest = exports.latest(current_user, KIND)
        response = make_response(render_template("people/pool.html", last_export=latest, **context))
    response.vary.add("HX-Request")
    return response


@bp.get("/export.xlsx")
@login_required
@permission_required("talent.search")
def pool_export():
    """Download every matching worker (masked ID numbers) as .xlsx; the export is audited.

    Up to EXPORT_INLINE_ROWS workers stream at once; more are prepared in the background
    (the pool page offers that button instead of this link).
    """
    asked = talent.prepare(request.args, current_user, choices=False)
    total = talent.count(asked.filters, current_user, asked.tree)
    if total > exports.inline_limit():
        flash(
            _(
                "%(num)s craftsmen are too many to download at once: use “Prepare the export” "
                "and download the file when it is ready.",
                num=f"{total:,}",
            ),
            "error",
        )
        return redirect(url_for("people.pool", **asked.filters.args()))
    _count, chunks = talent.export(asked.filters, current_user, asked.tree)
    # Streamed as it is written: the download starts at once.
    response = current_app.response_class(stream_with_context(chunks), mimetype=XLSX)
    response.headers["Content-Disposition"] = "attachment; filename=talent-pool.xlsx"
    return response


@bp.post("/exports")
@login_required
@permission_required("talent.search")
def start_export():
    """Queue the export of every matching worker; show its progress page."""
    if not ExportForm().validate_on_submit():
        abort(400)
    asked = talent.prepare(request.form, current_user, choices=False)
    total = talent.count(asked.filters, current_user, asked.tree)
    args = asked.filters.args()
    job = exports.start(KIND, current_user, {"filters": args}, total, "talent.export", filters=args)
    return redirect(url_for("people.export_job", job_id=job.id))


def _job(job_id: int) -> ExportJob:
    """Return the user's own export; another user's is not found."""
    return exports.get(current_user, job_id) or abort(404)


@bp.get("/exports/<int:job_id>")
@login_required
@permission_required("talent.search")
def export_job(job_id: int):
    """Show an export's progress (htmx polls the card alone), its download once done, or why it failed."""
    job = _job(job_id)
    context = {"job": job, "stalled": exports.stalled(job)}
    if htmx and not htmx.history_restore_request:
        return render_template("people/_export_job.html", **context)
    return render_template("people/export_job.html", **context)


@bp.post("/exports/<int:job_id>/again")
@login_required
@permission_required("talent.search")
def export_again(job_id: int):
    """Queue a failed or stalled export again."""
    job = _job(job_id)
    if not ExportForm().validate_on_submit():
        abort(400)
    exports.again(job)
    return redirect(url_for("people.export_job", job_id=job.id))


@bp.get("/exports/<int:job_id>/file")
@login_required
@permission_required("talent.search")
def export_file(job_id: int):
    """Send a finished export's file to the user who asked for it."""
    job = _job(job_id)
    path = exports.file_of(job) or abort(404)
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=exports.download_name(job))
