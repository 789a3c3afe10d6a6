"""Forms for logging in, passwords, activation links, sign-up, and choosing a language."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length

from comp.forms import Form
from comp.models import SKILL_GRADES
from comp.services.accounts.passwords import MAX_LENGTH, MIN_LENGTH

NEW_PASSWORD = {"autocomplete": "new-password", "minlength": MIN_LENGTH, "maxlength": MAX_LENGTH}


class LoginForm(Form):
    """Username and password."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField(_l("Log in"))


class NewPasswordMixin:
    """A new password typed twice."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_LENGTH)], render_kw=NEW_PASSWORD
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw=NEW_PASSWORD,
    )


class SetPasswordForm(NewPasswordMixin, Form):
    """The form an activation or reset link opens."""

    submit = SubmitField(_l("Set my password"))


class ChangePasswordForm(NewPasswordMixin, Form):
    """Change one's own password: the current one first."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Change my password"))


class SignupForm(NewPasswordMixin, Form):
    """A worker's own account: who they are, and the password they choose."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)], render_kw={"autocomplete": "name"})
    id_number = StringField(
        _l("ID number"),
        validators=[DataRequired(), Length(max=24)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    employer = SelectField(_l("Employer"), coerce=int)
    trade = StringField(_l("Trade"), validators=[Length(max=64)])
    grade = SelectField(_l("Skill grade"), coerce=int)
    username = StringField(
        _l("Username"),
        validators=[Length(max=64)],
        description=_l("Leave empty to log in with your phone number."),
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Create my account"))

    def __init__(self, *args, enterprises=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.employer.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, u.name) for u in enterprises]
        self.grade.choices = [SelectChoice(0, _l("Not known"))] + [
            SelectChoice(g, f"{g} · {n}") for g, n in sorted(SKILL_GRADES.items())
        ]


class ActionForm(Form):
    """A button that only needs the CSRF token."""

    submit = SubmitField()


class LanguageForm(Form):
    """The header's language switch."""

    lang = HiddenField(validators=[AnyOf(["zh", "en"])])
    next = HiddenField()
