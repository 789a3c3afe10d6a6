"""A worker's request to correct their record, and an organizer's decision on a request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from comp.forms import Form
from comp.models import SKILL_GRADES, Worker
from comp.services import registration


class CorrectionForm(Form):
    """The record's identity fields as the worker says they should read, and why."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    phone = StringField(_l("Mobile phone"), validators=[DataRequired(), Length(max=20)], render_kw={"inputmode": "tel"})
    employer = SelectField(_l("Employer"), coerce=int)
    trade = StringField(_l("Trade"), validators=[Length(max=64)])
    grade = SelectField(_l("Skill grade"), coerce=int)
    reason = StringField(_l("Why (e.g. “changed employer in March”)"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Send to my union"))

    @classmethod
    def for_worker(cls, worker: Worker, formdata=None) -> CorrectionForm:
        """Return the form filled with the record as it stands."""
        form = cls(
            formdata=formdata,
            data=None
            if formdata is not None
            else {
                "name": worker.name,
                "phone": worker.phone,
                "employer": worker.employer_id or 0,
                "trade": worker.trade,
                "grade": worker.skill_grade or 0,
            },
        )
        form.employer.choices = [SelectChoice(0, "—")] + [
            SelectChoice(u.id, u.name) for u in registration.enterprises()
        ]
        form.grade.choices = [SelectChoice(0, "—")] + [
            SelectChoice(g, f"{g} · {n}") for g, n in sorted(SKILL_GRADES.items())
        ]
        return form

    def changes(self) -> dict:
        """Return the fields as the service names them."""
        return {
            "name": self.name.data,
            "phone": self.phone.data,
            "employer_id": self.employer.data or None,
            "trade": self.trade.data,
            "skill_grade": self.grade.data or None,
        }


class DecisionForm(Form):
    """Accept or reject a claim or change request, with an optional note."""

    note = StringField(_l("Note to the worker"), validators=[Length(max=200)])
    submit = SubmitField()
