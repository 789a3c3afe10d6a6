"""Forms of account administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _p
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from comp.forms import Form
from comp.services.accounts.admin import ROLE_LABELS


class AccountForm(Form):
    """One account: who, which role, which union or enterprise."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_p("account", "Role"))
    unit = SelectField(_l("Union or enterprise"), coerce=int)
    id_number = StringField(
        _l("ID number of the worker's record"),
        validators=[Length(max=24)],
        description=_l("For a worker account: the record it belongs to."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Create and make the activation link"))

    def fill(self, roles: list[str], units) -> AccountForm:
        """Offer only the roles and units the organizer may grant."""
        self.role.choices = [SelectChoice(r, str(ROLE_LABELS[r])) for r in roles]
        self.unit.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, _unit_label(u)) for u in units]
        return self


def _unit_label(node) -> str:
    return f"{node.name}" if node.kind != "enterprise" else f"　{node.name}"


class EditForm(Form):
    """Change an account's name, role and union."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_p("account", "Role"))
    unit = SelectField(_l("Union or enterprise"), coerce=int)
    submit = SubmitField(_l("Save"))

    fill = AccountForm.fill


class ActionForm(Form):
    """A button that only needs the CSRF token."""

    submit = SubmitField()


class UploadForm(Form):
    """A sheet of judges or liaisons."""

    role = RadioField(
        _l("The sheet lists"),
        choices=[SelectChoice("judge", _l("Judges")), SelectChoice("liaison", _l("Enterprise liaisons"))],
        default="judge",
        validators=[DataRequired()],
    )
    sheet = FileField(
        _l("Sheet (.xlsx)"),
        validators=[FileRequired(_l("Choose a file."))],
        render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    submit = SubmitField(_l("Upload and check"))


class ConfirmForm(Form):
    """Create every row's account, or only the valid ones'."""

    mode = RadioField(choices=[SelectChoice("all", ""), SelectChoice("valid", "")], validators=[DataRequired()])
