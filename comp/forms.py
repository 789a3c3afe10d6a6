"""The base of every form: no control characters in text, no whole number beyond the database's integers.

PostgreSQL refuses a NUL in text (a 500), and a name of NUL bytes or escape codes is no name; an
IntegerField reads any length of digits, which an INTEGER column then overflows. Each form derives
from `Form` instead of FlaskForm, so every field is checked without a validator on each.
"""

from __future__ import annotations

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, IntegerField, StringField, TextAreaField
from wtforms.i18n import messages_path

from comp.converters import BIGGEST, has_control_characters

LINE_BREAKS = "\t\n\r"  # kept in a text area: what typing several lines (or a pasted table) gives
CONTROL_MESSAGE = _l("contains control characters")
NUMBER_MESSAGE = _l("This number is too large.")


_WTFORMS_MESSAGES: dict[str, support.Translations] = {}  # WTForms' own messages per locale: read-only, read once


class Form(FlaskForm):
    """A FlaskForm whose validation also refuses control characters and over-large whole numbers."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            """Return WTForms' messages in the user's language, read once a process (Flask-WTF: once a request)."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None
            locale = str(get_locale())
            messages = _WTFORMS_MESSAGES.get(locale)
            if messages is None:
                messages = _WTFORMS_MESSAGES[locale] = support.Translations.load(messages_path(), [locale], "wtforms")
            return messages

    def validate(self, extra_validators=None) -> bool:
        """Validate as FlaskForm does, then add an error to each field holding what the database cannot."""
        valid = super().validate(extra_validators)
        return not any([_refuse(field) for field in self]) and valid


def _refuse(field: Field) -> bool:
    """Add the field's error when its value is unacceptable (nested forms and lists too); tell whether it was."""
    if isinstance(field, FormField):
        return any([_refuse(sub) for sub in field.form])
    if isinstance(field, FieldList):
        if not any([_refuse(entry) for entry in field.entries]):
            return False
        field.errors = [entry.errors for entry in field.entries]  # the list's copy, made as it validated
        return True
    message = None
    if isinstance(field, StringField) and isinstance(field.data, str):
        allowed = LINE_BREAKS if isinstance(field, TextAreaField) else ""
        message = CONTROL_MESSAGE if has_control_characters(field.data, allowed) else None
    elif isinstance(field, IntegerField) and isinstance(field.data, int) and abs(field.data) > BIGGEST:
        message = NUMBER_MESSAGE
    if message is None:
        return False
    field.errors = [*field.errors, message]
    return True
