"""Forms of a craftsman profile: an honour, the mentor, the skill grade, and plain action buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from comp.forms import Form
from comp.models import SKILL_GRADES
from comp.services.common import sheets
from comp.services.people import profiles


def _not_formula(form, field) -> None:
    """Refuse text a spreadsheet would run as a formula when the talent pool is exported."""
    if (field.data or "").strip().startswith(sheets.FORMULA_PREFIXES):
        raise ValidationError(_l("Must not begin with =, +, - or @."))


class HonourForm(Form):
    """An honour: title (suggested from the usual ones), year, issuer, awarded or recommended."""

    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Enter the honour's title.")), Length(max=64), _not_formula],
        render_kw={"list": "honour-titles", "autocomplete": "off"},
    )
    year = IntegerField(
        _l("Year"),
        validators=[InputRequired(message=_l("Enter the year, e.g. 2025."))],
        render_kw={"inputmode": "numeric"},
    )
    issuer = StringField(_l("Issuer"), validators=[Optional(), Length(max=120), _not_formula])
    status = SelectField(_l("Status"), choices=[SelectChoice(k, v) for k, v in profiles.HONOUR_STATUSES.items()])
    submit = SubmitField(_l("Add honour"))

    def validate_year(self, field) -> None:
        """An honour's year lies between 1950 and next year."""
        if field.data is not None and not profiles.FIRST_YEAR <= field.data <= profiles.last_year():
            raise ValidationError(
                _l(
                    "The year must be between %(first)d and %(last)d.",
                    first=profiles.FIRST_YEAR,
                    last=profiles.last_year(),
                )
            )


class MentorForm(Form):
    """The mentor, by name (among the workers the organizer oversees) or by profile number."""

    mentor = StringField(
        _l("Mentor's name or profile number"),
        validators=[DataRequired(message=_l("Enter the mentor's name or profile number.")), Length(max=64)],
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Set mentor"))


class GradeForm(Form):
    """A new skill grade and why it changes."""

    grade = SelectField(
        _l("Skill grade"),
        coerce=int,
        choices=[SelectChoice(k, v) for k, v in sorted(SKILL_GRADES.items(), reverse=True)],
    )
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say why the skill grade changes.")), Length(max=200), _not_formula],
    )
    submit = SubmitField(_l("Change grade"))


class ActionForm(Form):
    """A button that only needs the CSRF token."""

    submit = SubmitField()
