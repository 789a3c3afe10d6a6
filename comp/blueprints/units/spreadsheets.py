"""Views of the units registry's .xlsx template, export and import (upload → report → confirm)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from comp.blueprints import uploads
from comp.blueprints.units import bp
from comp.blueprints.units.forms import ActionForm, ConfirmForm, UploadForm
from comp.models import Upload
from comp.permissions import authorize
from comp.services.units import imports as units_import


@bp.get("/units/export.xlsx")
@login_required
def export():
    """Download the studios and teams of the organizer's unions (no ID numbers)."""
    authorize("organizer.home")
    return uploads.download(units_import.export(current_user), "units.xlsx")


@bp.get("/units/template.xlsx")
@login_required
def template():
    """Download the empty units sheet."""
    authorize("organizer.home")
    return uploads.download(units_import.template(current_user), "units-template.xlsx")


def _upload_page(form: UploadForm, error: str | None = None, status: int = 200):
    return render_template("units/upload.html", form=form, error=error, columns=units_import.labels().items()), status


@bp.route("/units/import", methods=["GET", "POST"])
@login_required
def upload():
    """Show the upload form; on POST check the sheet and show its report."""
    authorize("organizer.home")
    form = UploadForm()
    return uploads.start(
        form,
        units_import.MAX_BYTES,
        lambda name, data: units_import.start(current_user, name, data),
        _upload_page,
        lambda token: url_for("units.preview", token=token),
    )


def _kept(token: str) -> Upload:
    """Return the user's own upload named by the URL, once they may import units; else 403 or 404."""
    authorize("organizer.home")
    return units_import.get_upload(current_user, token) or abort(404)


@bp.get("/units/import/<token>")
@login_required
def preview(token: str):
    """Show every row of the upload with what is wrong with it."""
    kept = _kept(token)
    return render_template("units/preview.html", **units_import.preview(kept), form=ConfirmForm(), action=ActionForm())


@bp.post("/units/import/<token>/confirm")
@login_required
def confirm(token: str):
    """Import the checked rows, all or only the valid ones; nothing is written on a refusal."""
    kept = _kept(token)

    def done(count: int) -> Response:
        flash(ngettext("%(num)d unit imported.", "%(num)d units imported.", count), "success")
        return redirect(url_for("units.index"))

    return uploads.confirm(
        ConfirmForm(),
        lambda form: units_import.confirm(kept, current_user, only_valid=form.mode.data == "valid"),
        url_for("units.preview", token=token),
        done,
    )


@bp.post("/units/import/<token>/discard")
@login_required
def discard(token: str):
    """Forget an upload without importing anything."""
    kept = _kept(token)
    return uploads.discard(ActionForm(), lambda: units_import.discard(kept), url_for("units.upload"))
