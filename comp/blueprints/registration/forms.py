"""Forms of registration: a worker's profile, the upload, decisions on registrations."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from comp import idcard
from comp.forms import Form
from comp.models import SKILL_GRADES
from comp.services import registration
from comp.services.registration.rows import PHONE


def _not_formula(form, field) -> None:
    """Refuse text a spreadsheet would run as a formula when it is exported."""
    if (field.data or "").strip().startswith(registration.FORMULA_PREFIXES):
        raise ValidationError(_l("Must not begin with =, +, - or @."))


class ProfileForm(Form):
    """What a worker account gives once, before its first registration."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=64), _not_formula], render_kw={"autocomplete": "name"}
    )
    id_number = StringField(
        _l("ID number"),
        validators=[DataRequired(), Length(max=24)],
        render_kw={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"},
    )
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    employer = SelectField(_l("Employer"), coerce=int, validators=[DataRequired()])
    trade = StringField(
        _l("Trade"), validators=[DataRequired(), Length(max=64), _not_formula], render_kw={"list": "trades"}
    )
    grade = SelectField(  # no grade until she picks one: the first grade is the highest, never a safe default
        _l("Skill grade"),
        coerce=int,
        choices=[SelectChoice(0, _l("Not known"))]
        + [SelectChoice(g, f"{g} · {n}") for g, n in sorted(SKILL_GRADES.items())],
    )
    submit = SubmitField(_l("Save my details"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.employer.choices = [SelectChoice(0, "—")] + [
            SelectChoice(u.id, u.name) for u in registration.enterprises()
        ]

    def validate_id_number(self, field) -> None:
        """Check the ID number's form and check digit, saying what is wrong."""
        try:
            field.data = idcard.normalize(field.data)
        except idcard.IdNumberError as error:
            raise ValidationError(_("Not a valid ID number: %(reason)s", reason=error)) from None

    def validate_phone(self, field) -> None:
        """Accept digits, spaces, dashes and a leading +."""
        if not PHONE.fullmatch((field.data or "").strip()):
            raise ValidationError(_l("This is not a phone number."))


class RegisterForm(Form):
    """A worker's registration: the button, and the team she competes in (optional)."""

    team = StringField(
        _l("Team (optional)"),
        filters=[lambda text: (text or "").strip()],
        validators=[
            Optional(),
            Length(max=registration.TEAM_LENGTH),
            _not_formula,
        ],
        render_kw={"list": "teams", "autocomplete": "off", "maxlength": registration.TEAM_LENGTH},
    )


class ActionForm(Form):
    """A button that only needs the CSRF token: register, withdraw, discard."""

    submit = SubmitField()


class UploadForm(Form):
    """The registration sheet to upload."""

    sheet = FileField(
        _l("Registration sheet (.xlsx)"),
        validators=[FileRequired(_l("Choose a file."))],
        render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    submit = SubmitField(_l("Upload and check"))


class ConfirmForm(Form):
    """Import every row, or only the valid ones."""

    mode = RadioField(
        choices=[SelectChoice("all", _l("Import all rows")), SelectChoice("valid", _l("Import only the valid rows"))],
        validators=[DataRequired()],
    )
    approve = BooleanField(_l("Approve the imported people at once"), default=True)


class DecisionForm(Form):
    """Approve or reject the selected registrations; a rejection needs its reason."""

    reason = StringField(_l("Reason for rejection"), validators=[Length(max=200)])
    verdict = RadioField(
        choices=[SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject"))],
        validators=[DataRequired()],
    )
