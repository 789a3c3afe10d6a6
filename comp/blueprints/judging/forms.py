"""The score sheet's forms: one mark, and "my mark stands" answering a re-mark request."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from comp.forms import Form


class MarkForm(Form):
    """A typed or tapped mark with the version of the mark the tablet last saw."""

    # Kept as text: the scoring rules parse it, so "1e2" or "35.555" are refused, never rounded.
    value = StringField(_l("Mark"), validators=[Length(max=32)])
    version = IntegerField(validators=[InputRequired(), NumberRange(min=0)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])

    class Meta(Form.Meta):
        csrf = False  # CSRFProtect has checked the request's token before the view (app-wide); once is enough

    def first_error(self) -> str:
        """Return the first validation message, for the row to show."""
        for errors in self.errors.values():
            return str(errors[0])
        return ""


class KeepForm(Form):
    """The judge's answer to a re-mark request that the mark stands, with the version they see."""

    version = IntegerField(validators=[InputRequired(), NumberRange(min=0)])
