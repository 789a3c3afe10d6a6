"""Forms of the hall: the lot draw, the judging panel, conflicts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from comp.forms import Form
from comp.services.hall.draw import MAX_SESSIONS, MAX_STATIONS


class DrawForm(Form):
    """Sessions and workstations for the lot draw, an optional seed, a reason when drawing again."""

    sessions = IntegerField(_l("Sessions"), default=1, validators=[DataRequired(), NumberRange(1, MAX_SESSIONS)])
    stations = IntegerField(_l("Workstations per session"), validators=[DataRequired(), NumberRange(1, MAX_STATIONS)])
    seed = StringField(_l("Seed (leave empty for a random one)"), validators=[Optional(), Length(max=64)])
    reason = StringField(_l("Reason for drawing again"), validators=[Optional(), Length(max=200)])


class NewJudgeForm(Form):
    """A new judge account: the initial password is generated and shown once."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    employer = SelectField(_l("Employer"), coerce=int, default=0)

    def validate_username(self, field):
        """Refuse spaces: the login form could never match them."""
        if any(ch.isspace() for ch in field.data.strip()):
            raise ValidationError(_l("A username has no spaces."))


class ExistingJudgeForm(Form):
    """An existing judge account to put on the panel."""

    user = SelectField(_l("Judge account"), coerce=int, validators=[DataRequired()])


class CriteriaForm(Form):
    """The criteria a judge marks, and the organizer's explicit recusal from conflicted entrants."""

    criteria = SelectMultipleField(_l("Criteria"), coerce=int)
    recuse = BooleanField(_l("Recuse this judge from the entrants listed"))


class ConflictForm(Form):
    """A conflict of interest a judge declared with an entrant."""

    entrant = StringField(_l("Entrant (number or ref)"), validators=[DataRequired(), Length(max=40)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])
