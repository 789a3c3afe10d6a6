"""The chief judge's console: one page, every action re-rendering it with the action's outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.chief import bp
from comp.blueprints.chief.forms import (
    ActionForm,
    NotTakenForm,
    ReasonForm,
    RecheckDrawForm,
    ReopenForm,
    ReviewForm,
    RulingForm,
    RulingRecheckForm,
)
from comp.extensions import htmx
from comp.models import Competition
from comp.permissions import authorize, can, competition_or_404
from comp.services import ServiceError, chief
from comp.services.chief import attempts, recheck
from comp.services.results import objections


@dataclass(frozen=True)
class Feedback:
    """The outcome of an action, shown beside the form that asked for it."""

    section: str
    text: str
    kind: str = "success"
    key: str | None = None


def _competition(code: str, action: str | None = None) -> Competition:
    """Return the competition if the user may act on it (or, without `action`, view the console)."""
    competition = competition_or_404(code)
    if action is None and can("competition.manage", competition):
        return competition  # the organizers follow the console; only the chief judge acts on it
    authorize(action or "competition.chief", competition)
    return competition


def _render(competition: Competition, feedback: Feedback | None = None, polling: bool = False, stamp: str = ""):
    """Render the console: the fragment for htmx, else the whole page.

    The stamp is read before the console, so a change made while it is computed shows at the next
    poll; a poll's answer keeps the forms the chief is filling in (hx-preserve).
    """
    template = "chief/_console.html" if htmx else "chief/console.html"
    stamp = stamp or chief.stamp_of(competition)
    return render_template(
        template,
        competition=competition,
        console=chief.console(competition, current_user),
        feedback=feedback,
        partial=bool(htmx),
        stamp=stamp,
        polling=polling,
    )


def _answer(competition: Competition, feedback: Feedback):
    """Answer an action: the re-rendered console for htmx, else a message and the page again."""
    if htmx:
        return _render(competition, feedback)
    flash(feedback.text, "error" if feedback.kind == "error" else "success")
    return redirect(url_for("chief.console", code=competition.code, _anchor=feedback.section))


def _first_error(form) -> str:
    return next(iter(e for errors in form.errors.values() for e in errors), _("Check the form."))


def _act(code: str, action: str, form, section: str, run: Callable, done: str, key: str | None = None):
    """Validate the form, run the service, and answer with its outcome."""
    competition = _competition(code, action)
    if not form.validate_on_submit():
        return _answer(competition, Feedback(section, _first_error(form), "error", key))
    try:
        run(competition)
    except ServiceError as error:
        return _answer(competition, Feedback(section, str(error), "error", key))
    return _answer(competition, Feedback(section, done, "success", key))


@bp.get("/<code>")
@login_required
def console(code: str):
    """Show the console: progress, discrepancies, judge bias, the lock, objections, re-mark history.

    The console polls with the stamp it shows (`v`): 204 No Content while nothing has changed.
    """
    competition = _competition(code)
    shown = request.args.get("v")
    if not (htmx and shown is not None):
        return _render(competition)
    stamp = chief.stamp_of(competition)
    if shown == stamp:
        response = current_app.response_class(status=204)
        response.headers["Cache-Control"] = "no-store"
        return response
    return _render(competition, polling=True, stamp=stamp)


@bp.post("/<code>/discrepancies")
@login_required
def review(code: str):
    """Confirm a flagged discrepancy or request a re-mark."""
    form = ReviewForm()
    done = (
        _("Re-mark requested; the judges' sheets are open again.")
        if form.action.data == "remark"
        else _("Marks confirmed as they stand.")
    )
    return _act(
        code,
        "competition.chief",
        form,
        "discrepancies",
        lambda c: chief.review_discrepancy(
            c, current_user, form.entrant_id.data, form.criterion_id.data, form.action.data, form.note.data
        ),
        done,
        key=f"{form.entrant_id.data}-{form.criterion_id.data}",
    )


@bp.post("/<code>/reopen")
@login_required
def reopen(code: str):
    """Reopen one judge's signed sheet of one entrant."""
    form = ReopenForm()
    return _act(
        code,
        "competition.chief",
        form,
        "reopen",
        lambda c: chief.reopen_sheet(c, current_user, form.judge.data, form.code.data, form.reason.data),
        _("The sheet is open again for the judge."),
    )


@bp.post("/<code>/attempts")
@login_required
def not_taken(code: str):
    """Record that an entrant did not take an attempt (DNS, DNI)."""
    form = NotTakenForm()
    return _act(
        code,
        "competition.chief",
        form,
        "attempts",
        lambda c: attempts.record(c, current_user, form.code.data, form.attempt.data, form.reason.data),
        _("The attempt is recorded as not taken."),
    )


@bp.post("/<code>/attempts/<int:skipped_id>/undo")
@login_required
def taken_after_all(code: str, skipped_id: int):
    """Take back an attempt recorded as not taken: its marks are due again."""
    return _act(
        code,
        "competition.chief",
        ActionForm(),
        "attempts",
        lambda c: attempts.undo(c, current_user, skipped_id),
        _("The attempt is due again."),
    )


@bp.post("/<code>/recheck")
@login_required
def draw_recheck(code: str):
    """Draw the re-check sample from a recorded seed (the organizer)."""
    form = RecheckDrawForm()
    hundred = Decimal(100)
    return _act(
        code,
        "competition.manage",
        form,
        "recheck",
        lambda c: recheck.draw(
            c, current_user, form.marker.data, form.share.data / hundred, form.tolerance.data / hundred, form.seed.data
        ),
        _("The re-check sample is drawn; the second marker sees it on their home page."),
    )


@bp.post("/<code>/recheck/<int:item_id>")
@login_required
def rule_recheck(code: str, item_id: int):
    """Rule on a re-check difference: keep the panel's mark or take the second one."""
    form = RulingRecheckForm()
    return _act(
        code,
        "competition.chief",
        form,
        "recheck",
        lambda c: recheck.resolve(c, current_user, item_id, form.action.data, form.note.data, form.third_marker.data),
        _("The ruling is recorded."),
    )


@bp.post("/<code>/lock")
@login_required
def lock(code: str):
    """Lock the scores."""
    return _act(
        code,
        "competition.chief",
        ActionForm(),
        "lock",
        lambda c: chief.lock(c, current_user),
        _("The scores are locked; the names are shown."),
    )


@bp.post("/<code>/unlock")
@login_required
def unlock(code: str):
    """Unlock the scores for corrections."""
    form = ReasonForm()
    return _act(
        code,
        "competition.chief",
        form,
        "lock",
        lambda c: chief.unlock(c, current_user, form.reason.data),
        _("The scores are unlocked for corrections."),
    )


@bp.post("/<code>/publish")
@login_required
def publish(code: str):
    """Publish the locked results (the organizer)."""
    return _act(
        code,
        "competition.manage",
        ActionForm(),
        "lock",
        lambda c: chief.publish(c, current_user),
        _("The results are published; the notice period has started."),
    )


@bp.post("/<code>/amend")
@login_required
def amend(code: str):
    """Take published results back to locked for a correction (the organizer)."""
    form = ReasonForm()
    return _act(
        code,
        "competition.manage",
        form,
        "lock",
        lambda c: chief.amend_after_publication(c, current_user, form.reason.data),
        _("The results are back to locked for the correction."),
    )


@bp.post("/<code>/objections/<int:objection_id>")
@login_required
def rule(code: str, objection_id: int):
    """Record the chief judge's ruling on an objection."""
    form = RulingForm()
    return _act(
        code,
        "competition.chief",
        form,
        "objections",
        lambda c: objections.rule(c, current_user, objection_id, form.status.data, form.ruling.data),
        _("The ruling is recorded."),
        key=str(objection_id),
    )
