"""Forms of the set-up pages: details, clone, stage and criterion rows, rules."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from comp.forms import Form
from comp.models.people import SKILL_GRADES
from comp.models.types import plain

CODE_RULE = Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Use letters, digits, “-” and “_” only."))


def choices(pairs) -> list[SelectChoice]:
    """Return select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


KIND_CHOICES = [("competition", _l("Competition")), ("rating", _l("Rating"))]
UNIT_KIND_CHOICES = [
    ("", _l("— (competitions only)")),
    ("studio", _l("Innovation studios")),
    ("team", _l("Craftsman teams")),
]
LEVEL_CHOICES = [("city", _l("City")), ("county", _l("County")), ("enterprise", _l("Enterprise"))]
TEAM_BY_CHOICES = [("team", _l("Team")), ("employer", _l("Employer")), ("county", _l("County"))]
CRITERION_KIND_CHOICES = [("score", _l("Score")), ("deduction", _l("Deduction"))]
AGGREGATION_CHOICES = [
    ("mean", _l("Mean")),
    ("trimmed", _l("Trimmed mean")),  # said short (it sits in a table cell); the editor explains it
    # A wider trim for a larger panel (2 of 7 judges each end in diving): the form's value carries it.
    ("trimmed-2", _l("Trim %(n)s each end", n=2)),  # short like the others: it sits in a table cell too
    ("trimmed-3", _l("Trim %(n)s each end", n=3)),
    ("median", _l("Median")),
    ("single", _l("Single mark")),
]
HUNDRED = Decimal(100)


def _decimal(value) -> Decimal | None:
    """Return the stored decimal without trailing zeros, for display."""
    return None if value is None else Decimal(plain(Decimal(value)))


def _local(moment):
    return None if moment is None else to_user_timezone(moment).replace(tzinfo=None)


class DetailsForm(Form):
    """A competition's details: identity, organizer, registration window, eligibility."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), CODE_RULE])
    name = StringField(_l("Competition name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_CHOICES))
    unit_kind = SelectField(_l("Rated units"), choices=choices(UNIT_KIND_CHOICES))
    trade = StringField(_l("Trade"), validators=[Optional(), Length(max=64)])
    level = SelectField(_l("Level"), choices=choices(LEVEL_CHOICES))
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(1990, 2100)])
    organizer_unit_id = SelectField(_l("Organizing union"), coerce=int)
    registration_opens = DateTimeLocalField(_l("Registration opens"), validators=[Optional()])
    registration_closes = DateTimeLocalField(_l("Registration closes"), validators=[Optional()])
    capacity = IntegerField(_l("Capacity (entrants)"), validators=[Optional(), NumberRange(min=1)])
    trades = StringField(_l("Eligible trades (comma-separated)"), validators=[Optional(), Length(max=500)])
    age_min = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(1, 100)])
    age_max = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(1, 100)])
    min_grade = SelectField(
        _l("Minimum skill grade"),
        coerce=int,
        choices=choices(
            [(0, _l("No minimum"))]
            + [(grade, f"{grade} · {label}") for grade, label in sorted(SKILL_GRADES.items(), reverse=True)]
        ),
    )
    counties = SelectMultipleField(_l("Eligible counties (none: all)"), coerce=int)
    team_by = SelectField(_l("Team standings group by"), choices=choices(TEAM_BY_CHOICES))

    def set_choices(self, units, counties, optional: bool) -> None:
        """Offer the unions the user may organize for (none for a user above every union), and the counties."""
        self.organizer_unit_id.choices = choices([(0, "—")] * optional + [(u.id, u.name) for u in units])
        self.counties.choices = choices((u.id, u.name) for u in counties)

    def validate_unit_kind(self, field) -> None:
        if self.kind.data == "rating" and field.data not in ("studio", "team"):
            raise ValidationError(_l("A rating rates either studios or teams: choose one."))

    def validate_registration_closes(self, field) -> None:
        if field.data and self.registration_opens.data and field.data <= self.registration_opens.data:
            raise ValidationError(_l("Registration must close after it opens."))

    def validate_age_max(self, field) -> None:
        if field.data and self.age_min.data and field.data < self.age_min.data:
            raise ValidationError(_l("The maximum age must not be below the minimum age."))

    def details(self) -> dict:
        """Return the details as the set-up service takes them (times in UTC)."""
        trades = [t.strip() for t in re.split(r"[,，、;；]", self.trades.data or "") if t.strip()]
        return {
            "code": self.code.data.strip(),
            "name": self.name.data,
            "kind": self.kind.data,
            "unit_kind": self.unit_kind.data or None,
            "trade": self.trade.data,
            "level": self.level.data,
            "year": self.year.data,
            "organizer_unit_id": self.organizer_unit_id.data or None,
            "registration_opens": to_utc(self.registration_opens.data) if self.registration_opens.data else None,
            "registration_closes": to_utc(self.registration_closes.data) if self.registration_closes.data else None,
            "capacity": self.capacity.data,
            "team_by": self.team_by.data,
            "eligibility": {
                "trades": trades,
                "age_min": self.age_min.data,
                "age_max": self.age_max.data,
                "min_grade": self.min_grade.data or None,
                "counties": self.counties.data or [],
            },
        }

    @classmethod
    def of(cls, competition) -> DetailsForm:
        """Return the form filled from a competition, for editing."""
        e = competition.eligibility or {}
        return cls(
            formdata=None,
            data={
                "code": competition.code,
                "name": competition.name,
                "kind": competition.kind,
                "unit_kind": competition.unit_kind or "",
                "trade": competition.trade,
                "level": competition.level,
                "year": competition.year,
                "organizer_unit_id": competition.organizer_unit_id or 0,
                "registration_opens": _local(competition.registration_opens),
                "registration_closes": _local(competition.registration_closes),
                "capacity": competition.capacity,
                "trades": ", ".join(e.get("trades") or []),
                "age_min": e.get("age_min"),
                "age_max": e.get("age_max"),
                "min_grade": e.get("min_grade") or 0,
                "counties": e.get("counties") or [],
                "team_by": competition.team_by,
            },
        )


class CloneForm(Form):
    """The code and year of the copy."""

    code = StringField(_l("New code"), validators=[DataRequired(), Length(max=40), CODE_RULE])
    year = IntegerField(_l("New year"), validators=[InputRequired(), NumberRange(1990, 2100)])


class RowForm(Form):
    """A row of the scheme editor; htmx sends the CSRF token in a header, checked app-wide."""

    class Meta:
        csrf = False

    def values(self) -> dict:
        """Return the row's values for the set-up service."""
        return {name: field.data for name, field in self._fields.items()}


class StageForm(RowForm):
    """A stage row: key, name, weight."""

    key = StringField(_l("Key"), validators=[Optional(), Length(max=32)])
    name = StringField(_l("Stage"), validators=[DataRequired(), Length(max=64)])
    weight = DecimalField(_l("Weight"), places=None, validators=[InputRequired()], render_kw={"inputmode": "decimal"})
    # A stage of attempts (three runs): only the best this many of its score criteria count. Empty: all of them.
    best = IntegerField(
        _l("Best counted"),
        validators=[Optional()],
        render_kw={"inputmode": "numeric", "placeholder": _l("all"), "title": _l("Empty: every criterion counts.")},
    )

    @classmethod
    def of(cls, stage, prefix: str) -> StageForm:
        """Return the row filled from a stage."""
        data = {"key": stage.key, "name": stage.name, "weight": _decimal(stage.weight), "best": stage.best}
        return cls(formdata=None, prefix=prefix, data=data)


class CriterionForm(RowForm):
    """A criterion row: key, name, kind, range (lowest and maximum mark), aggregation, step, points, fixed scale."""

    key = StringField(_l("Key"), validators=[Optional(), Length(max=32)])
    name = StringField(_l("Criterion"), validators=[DataRequired(), Length(max=64)])
    kind = SelectField(_l("Kind"), choices=choices(CRITERION_KIND_CHOICES))
    max_value = DecimalField(
        _l("Maximum"), places=None, validators=[InputRequired()], render_kw={"inputmode": "decimal"}
    )
    aggregation = SelectField(_l("Aggregation"), choices=choices(AGGREGATION_CHOICES))
    step = DecimalField(_l("Step"), places=None, validators=[Optional()], render_kw={"inputmode": "decimal"})
    fixed_scale = BooleanField(_l("Fixed scale"))
    # Multiplied by each entrant's declared factor (a dive's degree of difficulty), set on the programme page.
    factored = BooleanField(_l("× factor"), render_kw={"title": _l("Multiplied by each entrant's declared factor")})
    # The judges' range starts at the lowest mark (−3 on a signed scale); the points the maximum is worth when the
    # judges mark on a scale that is not points (a 0–3 judgement worth 5 points). Empty: 0, and the maximum.
    low_value = DecimalField(_l("Lowest"), places=None, validators=[Optional()], render_kw={"placeholder": "0"})
    worth = DecimalField(
        _l("Points"),
        places=None,
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "placeholder": "=", "title": _l("Empty: the points are the maximum.")},
    )

    def values(self) -> dict:
        """Return the row's values, the trim of a trimmed mean read from its choice ("trimmed-2")."""
        values = super().values()
        aggregation, _dash, trim = (values.get("aggregation") or "").partition("-")
        values["aggregation"], values["trim"] = aggregation, int(trim) if trim.isdigit() else 1
        return values

    @classmethod
    def of(cls, criterion, prefix: str) -> CriterionForm:
        """Return the row filled from a criterion (a trim wider than the choices, as imported, is offered too)."""
        form = cls._filled(criterion, prefix)
        wanted = f"trimmed-{criterion.trim}"
        if criterion.trim > 1 and all(choice.value != wanted for choice in form.aggregation.choices):
            form.aggregation.choices = [
                *form.aggregation.choices,
                SelectChoice(wanted, _l("Trim %(n)s each end", n=criterion.trim)),
            ]
        return form

    @classmethod
    def _filled(cls, criterion, prefix: str) -> CriterionForm:
        return cls(
            formdata=None,
            prefix=prefix,
            data={
                "key": criterion.key,
                "name": criterion.name,
                "kind": criterion.kind,
                "max_value": _decimal(criterion.max_value),
                "aggregation": f"trimmed-{criterion.trim}" if criterion.trim > 1 else criterion.aggregation,
                "step": _decimal(criterion.step),
                "fixed_scale": criterion.fixed_scale,
                "factored": criterion.factored,
                "low_value": _decimal(criterion.low_value) if criterion.low_value else None,
                "worth": _decimal(criterion.worth),
            },
        )


class TierForm(PlainForm):
    """An award tier: a name and a share in per cent or a number of places (competitions), or a minimum total
    (ratings)."""

    name = StringField(_l("Award"), validators=[Length(max=32)])
    share = DecimalField(
        _l("Share %"),
        places=None,
        validators=[Optional(), NumberRange(min=0, max=100)],
        render_kw={"inputmode": "decimal"},
    )
    min = DecimalField(
        _l("Minimum total"),
        places=None,
        validators=[Optional(), NumberRange(min=0, max=100)],
        render_kw={"inputmode": "decimal"},
    )
    count = IntegerField(
        _l("Number of places"),
        validators=[Optional(), NumberRange(min=1)],
        render_kw={"inputmode": "numeric", "min": 1},
    )


MEASURES = (("share", _l("by share of ranked entrants (%)")), ("count", _l("by a fixed number of places")))
TOTALS = (
    ("percent", _l("out of 100: the stages' scores weighted")),
    ("points", _l("in points: the sum of the stages' points (weights unused)")),
)


class RulesForm(Form):
    """The rules: award tiers, award minimum, tie-break chain, team count, discrepancy share, notice days."""

    measure = SelectField(_l("Awards given"), choices=choices(MEASURES), default="share")
    tiers = FieldList(FormField(TierForm), label=_l("Award tiers"))
    award_min_total = DecimalField(
        _l("Award minimum (total)"), places=None, validators=[InputRequired(), NumberRange(0)]
    )
    total = SelectField(_l("The total is counted"), choices=choices(TOTALS), default="percent")
    tiebreak = FieldList(SelectField(validate_choice=False), label=_l("Tie-break chain"))
    team_counted = IntegerField(_l("Members counted per team"), validators=[InputRequired(), NumberRange(min=1)])
    discrepancy_share = DecimalField(
        _l("Discrepancy flag above (percent of the maximum)"),
        places=None,
        validators=[InputRequired(), NumberRange(0, 100)],
    )
    notice_days = IntegerField(_l("Notice period (days)"), validators=[InputRequired(), NumberRange(min=0)])
    # 各评分项得分保留两位小数: each criterion score rounded before it counts; empty, nothing is rounded on the way.
    criterion_places = SelectField(
        _l("Criterion marks kept to"),
        choices=choices(
            [
                ("", _l("exact (rounded only in the total)")),
                *((str(n), _l("%(n)s decimal places", n=n)) for n in (4, 3, 2, 1, 0)),
            ]
        ),
        default="",
    )
    # Off (the default, and what a form without it means): a judge marks no entrant of their own employer.
    declared_only = BooleanField(_l("Judges may mark their own employer's entrants (recuse declared conflicts only)"))

    def __init__(self, *args, kind: str = "competition", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.list_errors: dict[str, list] = {}

    def validate_award_min_total(self, field) -> None:
        # Out of 100 a minimum above 100 could never be reached; in raw points (708.72) it may be anything.
        if field.data is not None and field.data > HUNDRED and self.total.data != "points":
            raise ValidationError(_l("The total is out of 100: the award minimum is at most 100."))

    def validate_discrepancy_share(self, field) -> None:
        # The rules take a share in (0, 1]; the form asks for per cent, so it says so in per cent.
        if field.data is not None and field.data <= 0:
            raise ValidationError(_l("The discrepancy flag must be above 0 %."))

    @property
    def tier_measure(self) -> str:
        """Return what the tiers are measured by: "min" for ratings, else the share or the count chosen."""
        return "min" if self.kind == "rating" else ("count" if self.measure.data == "count" else "share")

    def validate_tiers(self, field) -> None:
        measure = self.tier_measure
        missing = [t for t in field if not (t.form.name.data or "").strip() or t.form[measure].data is None]
        if missing:
            raise ValidationError(_l("Every award tier needs a name and a figure."))
        if measure == "share":
            if any(t.form.share.data <= 0 for t in field):
                raise ValidationError(_l("Every share must be greater than 0 %."))
            total = sum((t.form.share.data for t in field), Decimal(0))
            if total > HUNDRED:
                raise ValidationError(_l("The shares add up to %(total)s %%, more than 100 %%.", total=plain(total)))

    def attach(self, problems: dict[str, str]) -> None:
        """Show each problem the rules check found next to its field."""
        for path, message in problems.items():
            self._errors_at(path).append(message)

    def _errors_at(self, path: str) -> list:
        """Return the error list a problem at this rules path belongs in."""
        match = re.fullmatch(r"(award_tiers|tiebreak)(?:\[(\d+)\])?(?:\.(\w+))?", path)
        if match is None:
            field = self._fields.get(path)
        else:
            listed, index, sub = match.groups()
            entries = (self.tiers if listed == "award_tiers" else self.tiebreak).entries
            if index is None or int(index) >= len(entries):
                return self.list_errors.setdefault(listed, [])
            field = entries[int(index)]
            if listed == "award_tiers":
                field = field.form[sub if sub in ("name", "share", "count", "min") else "name"]
        if field is None:
            return self.form_errors
        field.errors = list(field.errors)
        return field.errors

    def rules(self, keep: dict) -> dict:
        """Return the rules in the exchange format, keeping what the form does not show."""
        measure = self.tier_measure
        tiers = [{"name": (t.form.name.data or "").strip(), measure: _tier_value(t.form, measure)} for t in self.tiers]
        keep = {key: value for key, value in keep.items() if key not in ("criterion_places", "total")}  # shown here
        return {
            **keep,
            "award_tiers": tiers,
            "award_min_total": plain(self.award_min_total.data),
            "tiebreak": [entry.data for entry in self.tiebreak if entry.data],
            "team_counted": self.team_counted.data,
            "discrepancy_share": plain(self.discrepancy_share.data / HUNDRED),
            "notice_days": self.notice_days.data,
            "recusal": "declared" if self.declared_only.data else "employer",
            **({"criterion_places": int(self.criterion_places.data)} if self.criterion_places.data else {}),
            **({"total": "points"} if self.total.data == "points" else {}),
        }

    @classmethod
    def of(cls, rules) -> RulesForm:
        """Return the form filled from parsed rules (shares shown in per cent)."""
        return cls(
            formdata=None,
            kind=rules.kind,
            data={
                "measure": "count" if any(t.count is not None for t in rules.award_tiers) else "share",
                "tiers": [
                    {
                        "name": t.name,
                        "share": _decimal(t.share * HUNDRED) if t.share is not None else None,
                        "min": _decimal(t.min),
                        "count": t.count,
                    }
                    for t in rules.award_tiers
                ],
                "award_min_total": _decimal(rules.award_min_total),
                "tiebreak": list(rules.tiebreak),
                "team_counted": rules.team_counted,
                "discrepancy_share": _decimal(rules.discrepancy_share * HUNDRED),
                "notice_days": rules.notice_days,
                "declared_only": rules.recusal == "declared",
                "criterion_places": "" if rules.criterion_places is None else str(rules.criterion_places),
                "total": rules.total,
            },
        )


def _tier_value(form: TierForm, measure: str) -> str | int:
    if measure == "count":
        return form.count.data if form.count.data is not None else ""
    value = form.min.data if measure == "min" else form.share.data
    if value is None:
        return ""  # the rules check then says the tier lacks its figure
    return plain(value if measure == "min" else value / HUNDRED)
