"""Judges at tablets: entrants by secret code, score sheets that save each mark as it is entered."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.answers import fragment_or_page
from comp.blueprints.judging import bp
from comp.blueprints.judging.forms import KeepForm, MarkForm
from comp.extensions import htmx, login
from comp.models import Criterion, Entrant
from comp.models.types import plain
from comp.permissions import competition_for
from comp.services import ServiceError
from comp.services.chief import recheck
from comp.services.judging import marks, scoresheets

TABLET_SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")


@bp.context_processor
def helpers() -> dict:
    """Give the judging templates the plain decimal format ("35.5")."""
    return {"plain": plain}


def _entrant(code: str, secret: str) -> Entrant:
    """Return the entrant with this secret code in a competition the user judges."""
    return scoresheets.find_entrant(competition_for(code, "competition.judge"), secret) or abort(404)


def _sheet_and_criterion(code: str, secret: str, criterion_id: int) -> tuple[Entrant, Criterion]:
    """Return the entrant and the criterion a mark URL names, after the judge's permission (404, 403)."""
    entrant = _entrant(code, secret)
    return entrant, scoresheets.find_criterion(entrant.competition, criterion_id) or abort(404)


def _permitted(load: Callable, *args):
    """Call a service, answering 403 when it says the judge may not act on this entrant."""
    try:
        return load(*args)
    except PermissionError:
        abort(403)


def _tablet_session() -> str | None:
    """Return the tablet's session id the score sheet sends, if it is well formed."""
    value = request.headers.get("X-Tablet-Session", "")
    return value if TABLET_SESSION.fullmatch(value) else None


@bp.get("/<code>")
@login_required
def home(code: str):
    """List the judge's criteria and the entrants to mark, by secret code only, with progress."""
    competition = competition_for(code, "competition.judge")
    prefix = request.args.get("q", "").strip()[:16]
    data = _permitted(scoresheets.overview, current_user, competition, prefix)
    data["recheck_waiting"] = recheck.waiting_for(competition, current_user)
    return fragment_or_page("judging/_entrants.html", "judging/home.html", q=prefix, **data)


def _sheet(code: str, secret: str, remarks: bool = True) -> scoresheets.Sheet:
    """Return the judge's sheet of the entrant with this secret code (404, 403 as `_entrant` and `load_sheet`).

    A judge's sheet is read with its checks in one statement (`open_sheet`: the page a tablet opens for every
    entrant); anyone else goes through the permission checks every page makes, and is refused by them.
    """
    if current_user.role != "judge":
        return _permitted(scoresheets.load_sheet, current_user, _entrant(code, secret), remarks)
    try:
        return scoresheets.open_sheet(current_user, code, secret, remarks)
    except LookupError:
        abort(404)
    except PermissionError:
        abort(403)


@bp.get("/<code>/sheet/<secret>")
def sheet(code: str, secret: str):
    """Show the judge's score sheet for one entrant.

    The page a tablet opens for every entrant: the login is read with the sheet's context in one query
    (scoresheets.open_judged, instead of Flask-Login's loader and then the sheet's own); a cookie without
    a live session is answered as `login_required` answers it, and anyone but a judge takes the checks
    every page makes.
    """
    judged = scoresheets.open_judged(session.get("_user_id"), code, secret)
    if judged is None:
        return login.unauthorized()
    login._update_request_context_with_user(judged.user)  # current_user, as Flask-Login's loader would set it
    if judged.refused is LookupError:
        abort(404)
    if judged.refused is PermissionError:
        abort(403)
    sheet = judged.sheet or _sheet(code, secret)
    next_code = scoresheets.next_entrant(current_user, sheet.entrant, [row.criterion for row in sheet.rows])
    return fragment_or_page("judging/_sheet.html", "judging/sheet.html", sheet=sheet, next_code=next_code)


@bp.get("/<code>/sheet/<secret>/tally")
@login_required
def tally(code: str, secret: str):
    """Render the sheet's subtotals, running total and sign-off (refreshed on every saved mark)."""
    sheet = _sheet(code, secret, remarks=False)
    return render_template(
        "judging/_tally.html",
        tally=sheet.tally,
        code=code,
        secret=secret,
        signed=sheet.signoff is not None,
        closed=sheet.closed,
    )


@bp.get("/<code>/sheet/<secret>/mark/<int:criterion_id>")
@login_required
def row(code: str, secret: str, criterion_id: int):
    """Render one row as saved now (the judge takes the newer value after a stale save)."""
    entrant = _entrant(code, secret)
    criterion = scoresheets.find_criterion(entrant.competition, criterion_id) or abort(404)
    sheet_row = _permitted(scoresheets.load_row, current_user, entrant, criterion)
    return render_template("judging/_row.html", code=code, secret=secret, row=sheet_row)


@bp.post("/<code>/sheet/<secret>/mark/<int:criterion_id>")
def save_mark(code: str, secret: str, criterion_id: int):
    """Save one mark and answer with its re-rendered row: saved, refused, stale or closed.

    The save is the hot path of a judging day: the login and everything the save checks are read in
    one query (marks.open_save, instead of Flask-Login's loader and then the save's own), and the saved
    row is rendered from what was written, with the judge's tally out of band: one request per mark,
    which is what a tablet on weak Wi-Fi can afford. A cookie without a live session is answered as
    `login_required` answers it.
    """
    opened = marks.open_save(session.get("_user_id"), code, secret, criterion_id)
    if opened is None:
        return login.unauthorized()
    login._update_request_context_with_user(opened.judge)  # current_user, as Flask-Login's loader would set it
    form = MarkForm()
    seen = form.version.data or 0
    saved = None
    try:
        if not form.validate():
            # Who may touch this sheet is answered first: 404 or 403 before anything about the form.
            _permitted(scoresheets.load_row, current_user, *_sheet_and_criterion(code, secret, criterion_id))
            raise marks.MarkRefused(form.first_error())
        saved = marks.save_opened(opened, form.value.data, seen, _tablet_session(), form.reason.data or None)
        state, message = "saved", None
    except LookupError:
        abort(404)
    except PermissionError:
        abort(403)
    except marks.StaleMark as error:
        state, message, seen = "stale", str(error), error.version
    except marks.MarkRefused as error:
        state, message = "refused", str(error)
    except ServiceError as error:
        state, message = "closed", str(error)
    if not htmx:
        flash(message or _("The mark is saved."), "error" if message else "success")
        return redirect(url_for(".sheet", code=code, secret=secret))
    if saved is not None:
        sheet_row = scoresheets.SheetRow(saved.criterion, saved.mark)
    else:  # a refusal shows the row as saved beside what was typed
        sheet_row = _permitted(scoresheets.load_row, current_user, *_sheet_and_criterion(code, secret, criterion_id))
    response = make_response(
        render_template(
            "judging/_row.html",
            code=code,
            secret=secret,
            row=sheet_row,
            row_state=state,
            row_message=message,
            typed=form.value.data,
            seen=seen,
            answer_tally=saved.tally if saved else None,
        )
    )
    if state == "stale":
        # Another tablet saved a newer value: the tally reloads to show it (a saved answer carries it).
        response.headers["HX-Trigger"] = "mark-saved"
    return response


@bp.post("/<code>/sheet/<secret>/sign")
@login_required
def sign(code: str, secret: str):
    """Sign the judge's finished sheet; it becomes read-only for the judge."""
    entrant = _entrant(code, secret)
    message = None
    try:
        marks.sign_sheet(current_user, entrant)
    except PermissionError:
        abort(403)
    except ServiceError as error:
        message = str(error)
    if not htmx:
        flash(message or _("The sheet is signed."), "error" if message else "success")
        return redirect(url_for(".sheet", code=code, secret=secret))
    sheet = scoresheets.load_sheet(current_user, entrant)
    next_code = scoresheets.next_entrant(current_user, entrant)
    return render_template("judging/_sheet.html", sheet=sheet, message=message, next_code=next_code)


@bp.post("/<code>/sheet/<secret>/mark/<int:criterion_id>/keep")
@login_required
def keep_mark(code: str, secret: str, criterion_id: int):
    """Answer the chief judge's re-mark request: the mark stands as it is (audited, the mark unchanged)."""
    entrant, criterion = _sheet_and_criterion(code, secret, criterion_id)
    _permitted(marks.check_can_mark, current_user, entrant, criterion)  # 404 or 403 before the form
    form = KeepForm()
    message = None
    try:
        if not form.validate():
            raise ServiceError(_("The page is out of date: reload it."))
        scoresheets.keep_mark(current_user, entrant, criterion, form.version.data)
    except PermissionError:
        abort(403)
    except ServiceError as error:
        message = str(error)
    if not htmx:
        flash(message or _("The chief judge is told that your mark stands."), "error" if message else "success")
        return redirect(url_for(".sheet", code=code, secret=secret, _anchor=f"mark-{criterion_id}"))
    sheet_row = _permitted(scoresheets.load_row, current_user, entrant, criterion)
    return render_template(
        "judging/_row.html", code=code, secret=secret, row=sheet_row, remark_message=message, kept=message is None
    )
