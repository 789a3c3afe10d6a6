"""The second marker's page of the re-check (复核): the sampled criteria, marked blind, by secret code."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import StringField
from wtforms.validators import Length

from comp.blueprints.judging import bp
from comp.extensions import db
from comp.forms import Form
from comp.models import RecheckItem
from comp.permissions import competition_for
from comp.services import ServiceError
from comp.services.chief import recheck


class SecondMarkForm(Form):
    """One re-check mark: the CSRF token and the value."""

    value = StringField(validators=[Length(max=16)])


@bp.get("/<code>/recheck")
@login_required
def recheck_marks(code: str):
    """List the marks a second (or third) marker gives blind: secret code and criterion, never the panel's marks."""
    competition = competition_for(code, "competition.judge")
    if not recheck.marks_for(competition, current_user):
        abort(404)
    return render_template(
        "judging/recheck.html",
        competition=competition,
        review=recheck.review(competition, blind_for=current_user),
        form=SecondMarkForm(),
    )


@bp.post("/<code>/recheck/<int:item_id>")
@login_required
def save_recheck_mark(code: str, item_id: int):
    """Save one blind re-check mark and go back to the list, at that mark."""
    competition = competition_for(code, "competition.judge")
    form = SecondMarkForm()
    try:
        if not form.validate():
            raise ServiceError(_("The page is out of date: reload it."))
        item = db.session.get(RecheckItem, item_id)
        # A third marker asked gives the third mark; the second marker, the second.
        third = item is not None and item.third_marker_id == current_user.id and item.state == "third"
        save = recheck.save_third if third else recheck.save_second
        save(competition, current_user, item_id, form.value.data or "")
    except PermissionError:
        abort(403)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("The re-check mark is saved."), "success")
    return redirect(url_for(".recheck_marks", code=code, _anchor=f"recheck-{item_id}"))
