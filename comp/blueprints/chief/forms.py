"""Forms of the chief judge's console; each one posts one action and says what is missing."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from comp.forms import Form
from comp.services.results.objections import RULING_MAX


class ActionForm(Form):
    """A button with nothing to fill in (lock, publish): only the CSRF token."""


class ReviewForm(Form):
    """Confirm a flagged discrepancy or ask its judges to re-mark, with a note."""

    entrant_id = IntegerField(validators=[InputRequired()])
    criterion_id = IntegerField(validators=[InputRequired()])
    action = StringField(
        validators=[AnyOf(["confirm", "remark"], message=_l("Choose to confirm the marks or to ask for a re-mark."))]
    )
    note = StringField(
        _l("Note"),
        validators=[
            DataRequired(message=_l("Write a note: why the marks stand, or what the judges should look at again.")),
            Length(max=200),
        ],
    )


class ReopenForm(Form):
    """Reopen one judge's signed sheet of one entrant, with the reason."""

    judge = IntegerField(_l("Judge"), validators=[InputRequired(message=_l("Choose the judge."))])
    code = StringField(
        _l("Secret code"), validators=[DataRequired(message=_l("Give the entrant's secret code.")), Length(max=16)]
    )
    reason = StringField(
        _l("Reason"), validators=[DataRequired(message=_l("Give the reason for reopening the sheet.")), Length(max=200)]
    )


class NotTakenForm(Form):
    """Record that an entrant did not take an attempt (a run): by secret code, the attempt, DNS or DNI."""

    code = StringField(
        _l("Secret code"), validators=[DataRequired(message=_l("Give the entrant's secret code.")), Length(max=16)]
    )
    attempt = IntegerField(_l("Attempt"), validators=[InputRequired(message=_l("Choose the attempt."))])
    reason = StringField(
        _l("Why"),
        validators=[AnyOf(["DNS", "DNI"], message=_l("Choose DNS (did not start) or DNI (did not improve)."))],
    )


class RecheckDrawForm(Form):
    """Draw the re-check sample: the second marker, the share of the other entrants, the tolerance, a seed."""

    marker = IntegerField(_l("Second marker"), validators=[InputRequired(message=_l("Choose the second marker."))])
    share = DecimalField(
        _l("Share of the other entrants (per cent)"),
        places=None,
        default=Decimal(15),
        validators=[InputRequired(), NumberRange(0, 100)],
    )
    tolerance = DecimalField(
        _l("Tolerance (per cent of the criterion's range)"),
        places=None,
        default=Decimal(10),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    seed = StringField(_l("Seed (empty: drawn at random and recorded)"), validators=[Optional(), Length(max=32)])


class RulingRecheckForm(Form):
    """The chief judge's ruling on a re-check difference."""

    action = StringField(
        validators=[
            AnyOf(
                ["keep", "second", "third"],
                message=_l("Choose to keep the panel's mark, to take the second one, or to ask a third marker."),
            )
        ]
    )
    third_marker = IntegerField(validators=[Optional()])
    note = StringField(
        _l("Why"),
        validators=[DataRequired(message=_l("Write why: the ruling is kept with the scores.")), Length(max=200)],
    )


class ReasonForm(Form):
    """An action that needs a reason in the audit trail (unlock, amend)."""

    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), Length(max=200)])


class RulingForm(Form):
    """The chief judge's ruling on an objection."""

    status = StringField(
        _l("Ruling"),
        validators=[AnyOf(["upheld", "dismissed"], message=_l("Choose whether the objection is upheld or dismissed."))],
    )
    ruling = TextAreaField(
        _l("Reasons"),
        validators=[DataRequired(message=_l("Write the ruling: what was checked and why.")), Length(max=RULING_MAX)],
    )
