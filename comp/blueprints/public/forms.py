"""The public objection form (异议) of the notice period."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from comp.forms import Form
from comp.services.results.objections import CONTACT_MAX, NAME_MAX, TEXT_MAX

PHONE = re.compile(r"\+?[0-9][0-9 -]{6,19}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ObjectionForm(Form):
    """Name, contact and the objection itself."""

    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(message=_l("Give your name.")),
            Length(max=NAME_MAX, message=_l("Keep your name to %(max)d characters.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    contact = StringField(
        _l("Phone or e-mail"),
        validators=[
            DataRequired(message=_l("Give a phone number or e-mail address.")),
            Length(max=CONTACT_MAX, message=_l("Keep the contact to %(max)d characters.")),
        ],
        render_kw={"autocomplete": "tel"},
    )
    text = TextAreaField(
        _l("Your objection"),
        validators=[
            DataRequired(message=_l("Write what you object to.")),
            Length(max=TEXT_MAX, message=_l("Keep the objection to %(max)d characters.")),
        ],
        render_kw={"rows": 5, "maxlength": TEXT_MAX},
    )
    submit = SubmitField(_l("Lodge the objection"))

    def validate_contact(self, field) -> None:
        """Accept a phone number or an e-mail address, so the organizer can answer."""
        value = (field.data or "").strip()
        if not (PHONE.fullmatch(value) or EMAIL.fullmatch(value)):
            raise ValidationError(_l("Give a phone number or e-mail address we can reach you at."))
