"""Judges and liaisons from a spreadsheet: template, upload, per-row report, confirmation."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from comp.blueprints.accounts import bp
from comp.blueprints.accounts.forms import ActionForm, ConfirmForm, UploadForm
from comp.permissions import authorize
from comp.services import ServiceError
from comp.services.accounts import bulk

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/accounts/import/template.xlsx")
@login_required
def template():
    """Download the sheet to fill in, for judges or for liaisons."""
    authorize("accounts.admin")
    role = request.args.get("role") if request.args.get("role") in bulk.ROLES else "judge"
    return send_file(
        io.BytesIO(bulk.template(role)), mimetype=XLSX, as_attachment=True, download_name=f"{role}s-template.xlsx"
    )


def _upload_page(form: UploadForm, error: str | None = None, status: int = 200):
    return render_template("accounts/upload.html", form=form, error=error, columns=bulk.COLUMNS), status


@bp.route("/accounts/import", methods=["GET", "POST"])
@login_required
def upload():
    """Show the upload form; on POST check the sheet and show its report."""
    authorize("accounts.admin")
    form = UploadForm()
    if not form.is_submitted():
        return _upload_page(form)
    if not form.validate_on_submit():
        return _upload_page(form, status=422)
    sheet = form.sheet.data
    try:
        kept = bulk.start(current_user, form.role.data, sheet.filename or "", sheet.read(bulk.MAX_BYTES + 1))
    except ServiceError as error:
        return _upload_page(form, error=str(error), status=422)
    return redirect(url_for("accounts.preview", token=kept.token))


@bp.get("/accounts/import/<token>")
@login_required
def preview(token: str):
    """Show every row with what is wrong with it."""
    authorize("accounts.admin")
    kept = bulk.get_upload(current_user, token) or abort(404)
    return render_template("accounts/preview.html", **bulk.preview(kept), form=ConfirmForm(), action=ActionForm())


@bp.post("/accounts/import/<token>/confirm")
@login_required
def confirm(token: str):
    """Create the accounts, all or only the valid rows'; then print their activation sheet."""
    authorize("accounts.admin")
    kept = bulk.get_upload(current_user, token) or abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        created = bulk.confirm(kept, current_user, only_valid=form.mode.data == "valid")
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("accounts.preview", token=token))
    flash(
        ngettext(
            "%(num)d account created. Print the activation sheet and hand each person their card.",
            "%(num)d accounts created. Print the activation sheet and hand each person their card.",
            len(created),
        ),
        "success",
    )
    return redirect(url_for("accounts.sheet", id=[u.id for u in created]))


@bp.post("/accounts/import/<token>/discard")
@login_required
def discard(token: str):
    """Forget an upload without creating anything."""
    authorize("accounts.admin")
    kept = bulk.get_upload(current_user, token) or abort(404)
    if ActionForm().validate_on_submit():
        bulk.discard(kept)
        flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for("accounts.upload"))
