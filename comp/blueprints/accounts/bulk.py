"""Judges and liaisons from a spreadsheet: template, upload, per-row report, confirmation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from comp.blueprints import uploads
from comp.blueprints.accounts import bp
from comp.blueprints.accounts.forms import ActionForm, ConfirmForm, UploadForm
from comp.models import Upload
from comp.permissions import authorize
from comp.services.accounts import bulk


@bp.get("/accounts/import/template.xlsx")
@login_required
def template():
    """Download the sheet to fill in, for judges or for liaisons."""
    authorize("accounts.admin")
    role = request.args.get("role") if request.args.get("role") in bulk.ROLES else "judge"
    return uploads.download(bulk.template(role, current_user), f"{role}s-template.xlsx")


def _upload_page(form: UploadForm, error: str | None = None, status: int = 200):
    return render_template("accounts/upload.html", form=form, error=error, columns=bulk.COLUMNS), status


@bp.route("/accounts/import", methods=["GET", "POST"])
@login_required
def upload():
    """Show the upload form; on POST check the sheet and show its report."""
    authorize("accounts.admin")
    form = UploadForm()
    return uploads.start(
        form,
        bulk.MAX_BYTES,
        lambda name, data: bulk.start(current_user, form.role.data, name, data),
        _upload_page,
        lambda token: url_for("accounts.preview", token=token),
    )


def _kept(token: str) -> Upload:
    """Return the user's own upload named by the URL, once they may import accounts; else 403 or 404."""
    authorize("accounts.admin")
    return bulk.get_upload(current_user, token) or abort(404)


@bp.get("/accounts/import/<token>")
@login_required
def preview(token: str):
    """Show every row with what is wrong with it."""
    kept = _kept(token)
    return render_template("accounts/preview.html", **bulk.preview(kept), form=ConfirmForm(), action=ActionForm())


@bp.post("/accounts/import/<token>/confirm")
@login_required
def confirm(token: str):
    """Create the accounts, all or only the valid rows'; then print their activation sheet."""
    kept = _kept(token)

    def done(created: list) -> Response:
        flash(
            ngettext(
                "%(num)d account created. Print the activation sheet and hand each person their card.",
                "%(num)d accounts created. Print the activation sheet and hand each person their card.",
                len(created),
            ),
            "success",
        )
        return redirect(url_for("accounts.sheet", id=[u.id for u in created]))

    return uploads.confirm(
        ConfirmForm(),
        lambda form: bulk.confirm(kept, current_user, only_valid=form.mode.data == "valid"),
        url_for("accounts.preview", token=token),
        done,
    )


@bp.post("/accounts/import/<token>/discard")
@login_required
def discard(token: str):
    """Forget an upload without creating anything."""
    kept = _kept(token)
    return uploads.discard(ActionForm(), lambda: bulk.discard(kept), url_for("accounts.upload"))
