"""The spreadsheet import workflow every upload shares: template, upload and check, preview, confirm or discard.

Registrations, units and accounts differ in what they read and create; the steps, messages and
answers around them are the same, and are written here once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Protocol

from flask import abort, flash, redirect, send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from comp.blueprints.answers import REFUSED
from comp.services import ServiceError


class SheetForm(Protocol):
    """An upload form: a validated file field named `sheet`."""

    sheet: Any

    def is_submitted(self) -> bool: ...

    def validate_on_submit(self) -> bool: ...


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, name: str) -> Response:
    """Send a spreadsheet (an empty template, an export) as a download named `name`."""
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


def start(
    form: SheetForm,
    max_bytes: int,
    check: Callable[[str, bytes], Any],
    page: Callable[..., Any],
    preview_url: Callable[[str], str],
) -> Any:
    """Show the upload form; once posted, check the sheet and go to its preview, or show the form
    again saying why (422)."""
    if not form.is_submitted():
        return page(form)
    if not form.validate_on_submit():
        return page(form, status=REFUSED)
    sheet = form.sheet.data
    try:
        # One byte past the limit is enough for the service to refuse a file that is too large.
        kept = check(sheet.filename or "", sheet.read(max_bytes + 1))
    except ServiceError as error:
        return page(form, error=str(error), status=REFUSED)
    return redirect(preview_url(kept.token))


def confirm(form: Any, run: Callable[[Any], Any], preview_url: str, done: Callable[[Any], Response]) -> Response:
    """Import the checked rows as the form says; a refusal goes back to the preview with its reason."""
    if not form.validate_on_submit():
        abort(400)
    try:
        result = run(form)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(preview_url)
    return done(result)


def discard(form: Any, forget: Callable[[], None], back_url: str) -> Response:
    """Forget the upload without importing anything, and go back to the upload form."""
    if form.validate_on_submit():
        forget()
        flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(back_url)
