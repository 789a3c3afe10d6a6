"""The honours pipeline (以赛促升): the rules a competition's results earn, and confirming them."""

from __future__ import annotations

import io
import re

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from comp.blueprints.flashes import flash_outcome
from comp.blueprints.setup import bp
from comp.blueprints.setup.forms import choices
from comp.blueprints.setup.views import managed
from comp.converters import whole_numbers
from comp.forms import Form
from comp.models import SKILL_GRADES
from comp.models.competition import PUBLIC_STATES
from comp.services import ServiceError
from comp.services.setup import honours

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROMOTIONS = [(0, _l("No promotion")), (1, _l("One skill grade up")), (2, _l("Two skill grades up"))]


class RuleForm(Form):
    """One outcome rule: places (or an award) and what they earn."""

    applies = SelectField(_l("Applies to"), choices=choices([("places", _l("Places")), ("award", _l("An award"))]))
    first = IntegerField(_l("From place"), validators=[Optional(), NumberRange(1, 100000)])
    last = IntegerField(_l("To place"), validators=[Optional(), NumberRange(1, 100000)])
    award = StringField(_l("Award"), validators=[Optional(), Length(max=32)])
    honours = StringField(_l("Honours recommended (separate with 、 or commas)"), validators=[Length(max=300)])
    promote = SelectField(_l("Promotion"), coerce=int, choices=choices(PROMOTIONS))
    grade = SelectField(
        _l("Raise the skill grade to at least"),
        coerce=int,
        choices=choices([(0, "—")] + [(g, SKILL_GRADES[g]) for g in (4, 3, 2, 1)]),
    )

    def rule(self) -> dict:
        """Return the rule as the honours service takes it."""
        data: dict = (
            {"award": (self.award.data or "").strip()}
            if self.applies.data == "award"
            else {"places": [self.first.data, self.last.data if self.last.data is not None else self.first.data]}
        )
        titles = [t.strip() for t in re.split(r"[、,，;；]", self.honours.data or "") if t.strip()]
        if titles:
            data["honours"] = titles
        if self.promote.data:
            data["promote"] = self.promote.data
        if self.grade.data:
            data["grade"] = self.grade.data
        return data


FIELDS = {
    "rule.places": "first",
    "rule.places[0]": "first",
    "rule.places[1]": "last",
    "rule.award": "award",
    "rule.promote": "promote",
    "rule.grade": "grade",
}


def _attach(form: RuleForm, problems: dict[str, str]) -> None:
    """Put each problem next to its field (honours titles on the honours field), the rest above."""
    for path, message in problems.items():
        name = FIELDS.get(path) or ("honours" if path.startswith("rule.honours") else None)
        if name:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)


def _page(competition, form: RuleForm, status: int = 200):
    problem = None
    try:
        rules = [honours.describe(rule) for rule in honours.rules(competition)]
    except honours.OutcomeProblems as error:
        rules, problem = [], str(error)
    listed = None
    if competition.status in PUBLIC_STATES and not problem:
        listed = honours.candidates(competition)
    return render_template(
        "setup/honours.html",
        competition=competition,
        form=form,
        rules=rules,
        problem=problem,
        candidates=listed,
        standard=honours.STANDARD_HONOURS,
        grades=SKILL_GRADES,
    ), status


@bp.get("/<code>/honours")
def honours_page(code: str):
    """Show the outcome rules and, once the results are published, who qualifies."""
    competition = managed(code)
    return _page(competition, RuleForm(data={"first": 1, "last": 1}))


@bp.post("/<code>/honours/rules")
def add_outcome_rule(code: str):
    """Add an outcome rule."""
    competition = managed(code)
    form = RuleForm()
    if form.validate_on_submit():
        try:
            honours.add_rule(competition, form.rule(), current_user)
        except honours.OutcomeProblems as error:
            _attach(form, error.problems)
        else:
            flash(_("The rule was added."), "success")
            return redirect(url_for(".honours_page", code=code))
    return _page(competition, form, 422)


@bp.post("/<code>/honours/rules/<int:index>/delete")
def remove_outcome_rule(code: str, index: int):
    """Remove an outcome rule."""
    competition = managed(code)
    flash_outcome(lambda: honours.remove_rule(competition, index, current_user), _("The rule was removed."))
    return redirect(url_for(".honours_page", code=code))


@bp.post("/<code>/honours/confirm")
def confirm_honours(code: str):
    """Confirm what the chosen entrants earned: honours and grades land in their profiles."""
    competition = managed(code)
    chosen = whole_numbers(request.form.getlist("entrant"))
    if not chosen:
        flash(_("Choose at least one person to confirm."), "error")
        return redirect(url_for(".honours_page", code=code))
    flash_outcome(
        lambda: honours.confirm(competition, chosen, current_user),
        lambda added: (
            _("%(n)s honours and promotions were confirmed and added to the profiles.", n=added)
            if added
            else _("Nothing new to confirm: these were confirmed before.")
        ),
    )
    return redirect(url_for(".honours_page", code=code))


@bp.get("/<code>/honours.xlsx")
def export_honours(code: str):
    """Download the confirmed list with full ID numbers for the human-resources bureau (audited)."""
    competition = managed(code)
    try:
        data = honours.export(competition, current_user)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for(".honours_page", code=code))
    return send_file(
        io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"{competition.code}-honours.xlsx"
    )
