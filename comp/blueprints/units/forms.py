"""Forms of the units registry: a unit, a member, an achievement, the upload and its confirmation."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from comp import idcard
from comp.forms import Form
from comp.services import units as service
from comp.services.common import sheets


def _not_formula(form, field) -> None:
    """Refuse text a spreadsheet would run as a formula when it is exported."""
    if (field.data or "").strip().startswith(sheets.FORMULA_PREFIXES):
        raise ValidationError(_l("Must not begin with =, +, - or @."))


def _id_number(form, field) -> None:
    """Check an ID number typed to find a worker, saying what is wrong."""
    if field.data:
        try:
            field.data = idcard.normalize(field.data)
        except idcard.IdNumberError as error:
            raise ValidationError(_l("Not a valid ID number: %(reason)s", reason=error)) from None


class UnitForm(Form):
    """A studio or team: kind, name, enterprise, workshop, leader, level, founded."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in service.KIND_LABELS.items()])
    name = StringField(_l("Name of the studio or team"), validators=[DataRequired(), Length(max=120), _not_formula])
    enterprise = SelectField(_l("Employer"), coerce=int)
    workshop = StringField(_l("Workshop"), validators=[Optional(), Length(max=64), _not_formula])
    leader = SelectField(_l("Leader (from the enterprise's workers)"), coerce=int)
    leader_id_number = StringField(
        _l("…or the leader's ID number"),
        validators=[Optional(), _id_number],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    level = SelectField(
        _l("Level"), choices=[SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in service.LEVEL_LABELS.items()]
    )
    founded = DateField(_l("Founded"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, enterprises=(), workers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.enterprise.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, u.name) for u in enterprises]
        self.leader.choices = [SelectChoice(0, "—")] + [
            SelectChoice(w.id, f"{w.name} · {w.id_masked or ''}") for w in workers
        ]

    def validate_enterprise(self, field) -> None:
        """Every unit belongs to an enterprise."""
        if not field.data:
            raise ValidationError(_l("Choose the enterprise."))

    def validate_founded(self, field) -> None:
        """A unit cannot be founded in the future."""
        if field.data and field.data > date.today():
            raise ValidationError(_l("The founding date is in the future."))


class MemberForm(Form):
    """A member chosen from the enterprise's workers or by ID number, with a role."""

    worker = SelectField(_l("Worker"), coerce=int)
    id_number = StringField(
        _l("…or ID number"),
        validators=[Optional(), _id_number],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    role = StringField(_l("Role"), validators=[Optional(), Length(max=32), _not_formula])
    submit = SubmitField(_l("Add member"))

    def __init__(self, *args, workers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.worker.choices = [SelectChoice(0, "—")] + [
            SelectChoice(w.id, f"{w.name} · {w.id_masked or ''}") for w in workers
        ]

    def validate_worker(self, field) -> None:
        """One of the two ways of choosing the worker is needed."""
        if not field.data and not self.id_number.data:
            raise ValidationError(_l("Choose a worker or type their ID number."))


class AchievementForm(Form):
    """One yearly achievement."""

    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(1949, 2100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in service.ACHIEVEMENT_LABELS.items()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), _not_formula])
    submit = SubmitField(_l("Add achievement"))


class ActionForm(Form):
    """A button that only needs the CSRF token."""

    submit = SubmitField()


class UploadForm(Form):
    """The units sheet to upload."""

    sheet = FileField(
        _l("Units sheet (.xlsx)"), validators=[FileRequired(_l("Choose a file."))], render_kw={"accept": ".xlsx"}
    )
    submit = SubmitField(_l("Upload and check"))


class ConfirmForm(Form):
    """Import every row, or only the valid ones."""

    mode = RadioField(
        choices=[SelectChoice("all", _l("Import all rows")), SelectChoice("valid", _l("Import only the valid rows"))],
        validators=[DataRequired()],
    )
