"""Workers' claims of records on file and their correction requests, decided by their union."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.accounts import bp
from comp.blueprints.people.forms_request import DecisionForm
from comp.models import OrgUnit
from comp.permissions import authorize
from comp.services import ServiceError
from comp.services.accounts import claims
from comp.services.registration import grade_label


def _shown(field: str, value) -> str:
    """Show a record field's value as a person reads it."""
    if value in (None, ""):
        return "—"
    if field == "employer_id":
        from comp.extensions import db

        unit = db.session.get(OrgUnit, int(value))
        return unit.name if unit else "—"
    if field == "skill_grade":
        return grade_label(int(value))
    return str(value)


@bp.get("/accounts/requests")
@login_required
def requests():
    """List the pending claims and correction requests of workers of the organizer's unions."""
    authorize("accounts.admin")
    return render_template(
        "accounts/requests.html",
        pending=claims.pending(current_user),
        form=DecisionForm(),
        labels=claims.FIELD_LABELS,
        shown=_shown,
    )


@bp.post("/accounts/requests/<int:request_id>/<any(accept, reject):verdict>")
@login_required
def decide(request_id: int, verdict: str):
    """Accept or reject one request."""
    authorize("accounts.admin")
    found = claims.get(current_user, request_id) or abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        claims.decide(current_user, found, verdict == "accept", form.note.data)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(
            _(
                "Request of %(name)s: %(verdict)s.",
                name=found.user.display_name,
                verdict=_("accepted") if verdict == "accept" else _("rejected"),
            ),
            "success",
        )
    return redirect(url_for("accounts.requests"))
