"""Rating campaigns: create one from the default scheme, nominate the units it rates."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from comp.blueprints.answers import REFUSED, fragment_or_page
from comp.blueprints.setup import bp
from comp.blueprints.setup.forms import CODE_RULE, choices
from comp.blueprints.setup.views import attach, managed
from comp.converters import whole_numbers
from comp.extensions import htmx
from comp.forms import Form
from comp.permissions import authorize
from comp.services import ServiceError
from comp.services import setup as setup_service
from comp.services.setup import ratings

UNIT_KINDS = [("team", _l("Craftsman teams")), ("studio", _l("Innovation studios"))]


class CampaignForm(Form):
    """A rating campaign: what it rates, the year, its code and name, the organizing union."""

    unit_kind = SelectField(_l("Rated units"), choices=choices(UNIT_KINDS))
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(1990, 2100)])
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), CODE_RULE])
    name = StringField(_l("Name (empty: the usual title)"), validators=[Optional(), Length(max=200)])
    organizer_unit_id = SelectField(_l("Organizing union"), coerce=int)

    def details(self) -> dict:
        """Return the campaign's details as the ratings service takes them."""
        return {
            "unit_kind": self.unit_kind.data,
            "year": self.year.data,
            "code": self.code.data.strip(),
            "name": self.name.data,
            "organizer_unit_id": self.organizer_unit_id.data or None,
        }


SUGGESTED_CODE = "RT-{year}-{unit_kind}"  # app.js keeps it in step with the fields until one types a code


def _campaign_form() -> CampaignForm:
    year = date.today().year
    suggested = SUGGESTED_CODE.format(year=year, unit_kind="TEAM")
    form = CampaignForm(data={"year": year, "code": suggested})
    form.code.render_kw = {"data-suggest": SUGGESTED_CODE, "data-suggested": suggested}
    optional = current_user.role == "admin" or current_user.org_unit_id is None
    form.organizer_unit_id.choices = choices(
        [(0, "—")] * optional + [(u.id, u.name) for u in setup_service.organizer_units(current_user)]
    )
    return form


@bp.route("/ratings/new", methods=["GET", "POST"])
def new_rating():
    """Create a yearly rating campaign of studios or teams from the default scheme."""
    authorize("competition.create")
    form = _campaign_form()
    if form.validate_on_submit():
        try:
            campaign = ratings.create_campaign(form.details(), current_user)
        except ServiceError as error:
            attach(form, getattr(error, "problems", {"": str(error)}))
        else:
            flash(
                _(
                    "%(code)s was created as a draft with the default scheme; adjust it here, then nominate the units.",
                    code=campaign.code,
                ),
                "success",
            )
            return redirect(url_for(".edit", code=campaign.code))
    return render_template(
        "ratings/new.html", form=form, schemes=ratings.SCHEMES, tiers=ratings.DEFAULT_TIERS
    ), 422 if form.errors or form.form_errors else 200


def _nominations(competition, error: str | None = None, status: int = 200, notice: str | None = None):
    query = request.values.get("q", "").strip()
    units, matching = ratings.candidates(competition, query)
    context = {
        "competition": competition,
        "units": units,
        "matching": matching,
        "query": query,
        "nominated": ratings.nominations(competition),
        "error": error,
        "notice": notice,
        "editable": competition.status in ratings.NOMINATING,
    }
    return fragment_or_page("ratings/_nominations.html", "ratings/nominations.html", status, **context)


@bp.route("/<code>/nominations", methods=["GET", "POST"])
def nominations(code: str):
    """List the units of the campaign's kind and its nominations; nominate the chosen units."""
    competition = managed(code)
    try:
        ratings.check_rating(competition)
        if request.method == "GET":
            return _nominations(competition)
        ids = whole_numbers(request.form.getlist("unit"))
        made = ratings.nominate(competition, ids, current_user)
    except ServiceError as error:
        return _nominations(competition, str(error), REFUSED)
    return _done(competition, _("%(count)d units were nominated.", count=len(made)))


def _done(competition, message: str):
    """Answer a successful change: the fragment with its notice for htmx, else back to the page."""
    if htmx:
        return _nominations(competition, notice=message)
    flash(message, "success")
    return redirect(url_for(".nominations", code=competition.code))


@bp.post("/<code>/nominations/<int:entrant_id>/remove")
def remove_nomination(code: str, entrant_id: int):
    """Take a unit off the campaign while it is not running."""
    competition = managed(code)
    try:
        ratings.remove_nomination(competition, entrant_id, current_user)
    except ServiceError as error:
        return _nominations(competition, str(error), REFUSED)
    return _done(competition, _("The nomination was removed."))
