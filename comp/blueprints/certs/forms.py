"""Forms of the certificates pages: design, seal, issuing, revoking, and the look-up without account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from comp.certificates import seal as seal_image
from comp.certificates.text import MAX_TEMPLATE, PLACEHOLDERS, template_problems
from comp.forms import Form
from comp.services.certs.batches import SEAL_MESSAGES


class DesignForm(Form):
    """The certificate's title, body template, issuer and printed date."""

    title = StringField(
        _l("Title"), validators=[DataRequired(message=_l("Give the certificate a title.")), Length(max=20)]
    )
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(message=_l("Write the certificate's text.")), Length(max=MAX_TEMPLATE)],
        render_kw={"rows": 4},
    )
    issuer = StringField(
        _l("Issued by"), validators=[DataRequired(message=_l("Name the issuing union.")), Length(max=60)]
    )
    date = DateField(_l("Date printed (empty: the day of issue)"), validators=[Optional()])
    submit = SubmitField(_l("Save the design"))

    def validate_body(self, field) -> None:
        """Accept only the known placeholders, so no certificate prints a stray {brace}."""
        problems = template_problems(field.data or "")
        if "braces" in problems:
            raise ValidationError(_l("Braces must enclose a placeholder, like {name}."))
        unknown = [p for p in problems if p.startswith("{")]
        if unknown:
            raise ValidationError(
                _l(
                    "Unknown placeholder %(unknown)s. Use %(known)s.",
                    unknown=", ".join(unknown),
                    known=", ".join("{" + p + "}" for p in PLACEHOLDERS),
                )
            )


class SealForm(Form):
    """The seal image upload."""

    seal = FileField(
        _l("Seal image (PNG with a transparent background)"),
        validators=[FileRequired(message=_l("Choose a PNG file."))],
    )
    submit = SubmitField(_l("Upload the seal"))

    def validate_seal(self, field) -> None:
        """Refuse anything but a sane PNG of at most 512 KB before it reaches the service."""
        self.data_bytes = field.data.read(seal_image.MAX_BYTES + 1)
        try:
            seal_image.inspect(self.data_bytes)
        except seal_image.SealError as error:
            raise ValidationError(SEAL_MESSAGES[error.reason]()) from None


class IssueForm(Form):
    """Issue the certificates; before the notice period ends only when the organizer says so."""

    now = BooleanField(_l("Issue before the notice period ends (recorded in the audit trail)"))
    submit = SubmitField(_l("Issue certificates"))


class RevokeForm(Form):
    """Revoke one certificate, with the reason verification will show."""

    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), Length(max=200)])
    submit = SubmitField(_l("Revoke"))


class ReissueForm(Form):
    """Replace the certificates the results no longer bear out."""

    reason = StringField(_l("Reason shown on the revoked certificates"), validators=[Length(max=200)])
    submit = SubmitField(_l("Revoke and reissue"))


class BatchForm(Form):
    """Start building a batch file."""

    kind = HiddenField(validators=[DataRequired()])


class LookupForm(Form):
    """Fetch a certificate without an account: its number, the name on it, the ID number's end."""

    number = StringField(
        _l("Certificate number"),
        validators=[DataRequired(message=_l("Give the number.")), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    name = StringField(
        _l("Name on the certificate"),
        validators=[DataRequired(message=_l("Give your name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    id_last4 = StringField(
        _l("Last 4 characters of your ID number"),
        validators=[
            DataRequired(message=_l("Give the last 4 characters.")),
            Length(min=4, max=4, message=_l("Give exactly 4 characters.")),
        ],
        render_kw={"autocomplete": "off", "maxlength": 4, "autocapitalize": "characters"},
    )
    submit = SubmitField(_l("Download my certificate"))
