"""Competition set-up: create a competition, edit its details and rules, move it along, clone it.

Every verb validates its input, owns its transaction, audits, and bumps the competition's
version; rules changes first ask the lifecycle whether they are still allowed. The verbs of
the scheme editor (stages, criteria, the preview) live in `setup_scheme`.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from comp import scoring
from comp.extensions import db
from comp.models import Competition, Criterion, Entrant, OrgUnit, Stage, User
from comp.models.competition import KINDS, LEVELS, TEAM_BY
from comp.models.people import SKILL_GRADES
from comp.permissions import can
from comp.services import ServiceError, transaction
from comp.services.common import audit, wording
from comp.services.setup import lifecycle

CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")
KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")
UNION_KINDS = ("city", "county")
DETAILS_EDITABLE = ("draft", "open", "closed")


class SetupError(ServiceError):
    """A refused set-up change; `problems` maps each offending field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise SetupError(problems)


def _add(problems: dict[str, str], field: str, message: str) -> None:
    problems[field] = f"{problems[field]} {message}" if field in problems else message


# ---------------------------------------------------------------- look-ups


def organizer_units(user: User) -> list[OrgUnit]:
    """Return the unions the user may organize for: their own and those below it."""
    units = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.kind.in_(UNION_KINDS)).order_by(OrgUnit.kind, OrgUnit.name)
    ).all()
    if user.role == "admin" or user.org_unit_id is None:
        return list(units)
    return [u for u in units if any(a.id == user.org_unit_id for a in u.lineage())]


def county_unions() -> list[OrgUnit]:
    """Return every county union, for the eligibility list."""
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "county").order_by(OrgUnit.name)))


def entrant_counts(competition: Competition) -> dict[str, int]:
    """Count the competition's entrants by status."""
    return dict(
        db.session.execute(
            sa.select(Entrant.status, sa.func.count())
            .where(Entrant.competition_id == competition.id)
            .group_by(Entrant.status)
        ).all()
    )


# ---------------------------------------------------------------- details


def _check_code(code, problems: dict[str, str]) -> None:
    if not isinstance(code, str) or not CODE.fullmatch(code):
        _add(problems, "code", _("The code is 1 to 40 letters, digits, “-” or “_”."))
    elif db.session.scalar(sa.select(Competition.id).where(Competition.code == code)) is not None:
        _add(problems, "code", _("The code “%(code)s” is already used by another competition.", code=code))


def _check_header(d: dict, problems: dict[str, str]) -> None:
    if not (d.get("name") or "").strip():
        _add(problems, "name", _("Give the competition a name."))
    if d.get("kind") not in KINDS:
        _add(problems, "kind", _("Choose competition or rating."))
    elif d["kind"] == "rating" and d.get("unit_kind") not in ("studio", "team"):
        _add(problems, "unit_kind", _("A rating rates either studios or teams: choose one."))
    if d.get("level") not in LEVELS:
        _add(problems, "level", _("Choose the level: city, county or enterprise."))
    if not isinstance(d.get("year"), int) or not 1990 <= d["year"] <= 2100:
        _add(problems, "year", _("The year must lie between 1990 and 2100."))
    if d.get("team_by", "team") not in TEAM_BY:
        _add(problems, "team_by", _("Teams are formed by team, employer or county."))
    capacity = d.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
        _add(problems, "capacity", _("The capacity must be a whole number of at least 1."))
    opens, closes = d.get("registration_opens"), d.get("registration_closes")
    if opens and closes and closes <= opens:
        _add(problems, "registration_closes", _("Registration must close after it opens."))


def _check_eligibility(e: dict, problems: dict[str, str]) -> dict:
    """Return the eligibility JSON with only the conditions set, after checking them."""
    low, high = e.get("age_min"), e.get("age_max")
    for field, age in (("age_min", low), ("age_max", high)):
        if age is not None and (not isinstance(age, int) or not 1 <= age <= 100):
            _add(problems, field, _("An age limit must lie between 1 and 100."))
    if isinstance(low, int) and isinstance(high, int) and low > high:
        _add(problems, "age_max", _("The maximum age must not be below the minimum age."))
    if e.get("min_grade") is not None and e["min_grade"] not in SKILL_GRADES:
        _add(problems, "min_grade", _("Choose a skill grade from 1 to 5."))
    counties = list(e.get("counties") or [])
    known = set(db.session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "county", OrgUnit.id.in_(counties))))
    if set(counties) - known:
        _add(problems, "counties", _("Choose counties from the list of county unions."))
    trades = [t.strip() for t in e.get("trades") or [] if t and t.strip()]
    clean = {
        "trades": list(dict.fromkeys(trades)),
        "age_min": low,
        "age_max": high,
        "min_grade": e.get("min_grade"),
        "counties": counties,
    }
    return {k: v for k, v in clean.items() if v not in (None, [])}


def _apply_details(competition: Competition, d: dict, actor: User, problems: dict[str, str]) -> None:
    """Check the details and write them onto the (new or existing) competition."""
    _check_header(d, problems)
    eligibility = _check_eligibility(d.get("eligibility") or {}, problems)
    unit = db.session.get(OrgUnit, d["organizer_unit_id"]) if d.get("organizer_unit_id") else None
    if (d.get("organizer_unit_id") and (unit is None or unit.kind not in UNION_KINDS)) or (
        unit is None and actor.role != "admin" and actor.org_unit_id is not None
    ):
        _add(problems, "organizer_unit_id", _("Choose the organizing union from the list."))
    _refuse(problems)
    for field in ("kind", "level", "year", "capacity", "registration_opens", "registration_closes"):
        setattr(competition, field, d.get(field))
    competition.name, competition.trade = d["name"].strip(), (d.get("trade") or "").strip() or None
    competition.unit_kind = d.get("unit_kind") if d["kind"] == "rating" else None
    competition.team_by, competition.eligibility = d.get("team_by") or "team", eligibility
    competition.organizer_unit, competition.organizer = unit, unit.name if unit else ""
    if not can("competition.manage", competition, actor):
        raise SetupError({"organizer_unit_id": _("You may organize only for your own union or one below it.")})


def create_competition(details: dict, actor: User) -> Competition:
    """Create a draft competition from its details; the actor must manage it."""
    problems: dict[str, str] = {}
    _check_code(details.get("code"), problems)
    competition = Competition(code=details.get("code"), status="draft", rules={}, version=1, created_by_id=actor.id)
    _apply_details(competition, details, actor, problems)
    with transaction():
        db.session.add(competition)
        db.session.flush()
        audit.record("competition.created", actor, competition, competition, code=competition.code)
    return competition


def update_details(competition: Competition, details: dict, actor: User) -> None:
    """Change a competition's details (its code stays); the kind only while it is a draft."""
    if competition.status not in DETAILS_EDITABLE:
        raise ServiceError(_("The details cannot change once the competition is running."))
    if details.get("kind") != competition.kind and competition.status != "draft":
        raise SetupError({"kind": _("The kind can change only while the competition is a draft.")})
    kind_changed = details.get("kind") != competition.kind
    with transaction():
        _apply_details(competition, details, actor, {})
        if kind_changed:  # tiers by share do not fit a rating, nor minima a competition
            competition.rules = {k: v for k, v in (competition.rules or {}).items() if k != "award_tiers"}
        lifecycle.touch(competition)
        audit.record("competition.details", actor, competition, competition, kind=competition.kind)


# ---------------------------------------------------------------- lifecycle

# Moves that undo a result need a reason, which the audit trail keeps.
REASONED = {("locked", "running"), ("published", "locked")}


def move_competition(competition: Competition, target: str, actor: User, reason: str = "") -> int | None:
    """Move the competition to `target` through the verb that owns that move; closing returns how many got numbers."""
    from comp.services import chief
    from comp.services.hall import draw

    move = (competition.status, target)
    if move == ("open", "closed"):
        return draw.close_registration(competition, actor)  # closing numbers the approved entrants
    if move == ("locked", "published"):
        lifecycle.publish(competition, actor)
    elif move == ("locked", "running"):
        chief.unlock(competition, actor, reason)
    elif move == ("published", "locked"):
        chief.amend_after_publication(competition, actor, reason)
    else:
        lifecycle.transition(competition, target, actor)
    return None


# ---------------------------------------------------------------- rules and cloning


def update_rules(competition: Competition, rules: dict, actor: User) -> None:
    """Save the rules once the scoring engine accepts them against the scheme."""
    from comp.services.results import scheme_of

    lifecycle.check_scheme_editable(competition)
    try:
        parsed = scoring.parse_rules(rules, scheme_of(competition), competition.kind)
    except scoring.RuleError as error:
        problems: dict[str, str] = {}
        for path, code, params in error.problems:
            _add(problems, path.removeprefix("rules."), wording.message(code, params))
        raise SetupError(problems) from None
    with transaction():
        competition.rules = scoring.rules_to_dict(parsed, full=False)
        lifecycle.touch(competition)
        audit.record("competition.rules", actor, competition, competition, rules=competition.rules)


def _shifted(moment: datetime | None, years: int) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year without one
        return moment.replace(year=moment.year + years, day=28)


def _copy_scheme(source: Competition) -> list[Stage]:
    return [
        Stage(
            key=s.key,
            name=s.name,
            weight=s.weight,
            best=s.best,
            position=s.position,
            criteria=[
                Criterion(
                    key=c.key,
                    name=c.name,
                    max_value=c.max_value,
                    kind=c.kind,
                    aggregation=c.aggregation,
                    step=c.step,
                    fixed_scale=c.fixed_scale,
                    trim=c.trim,
                    low_value=c.low_value,
                    worth=c.worth,
                    places=c.places,
                    factored=c.factored,
                    position=c.position,
                )
                for c in s.criteria
            ],
        )
        for s in source.stages
    ]


def clone_competition(source: Competition, code: str, year, actor: User) -> Competition:
    """Copy a competition's details, scheme, rules and eligibility into a new draft for another year."""
    problems: dict[str, str] = {}
    _check_code(code, problems)
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        _add(problems, "year", _("The year must lie between 1990 and 2100."))
    _refuse(problems)
    shift = year - source.year
    fields = ("kind", "trade", "level", "organizer", "organizer_unit_id", "capacity", "team_by", "unit_kind")
    clone = Competition(
        code=code,
        year=year,
        status="draft",
        version=1,
        created_by_id=actor.id,
        name=source.name.replace(str(source.year), str(year)),
        registration_opens=_shifted(source.registration_opens, shift),
        registration_closes=_shifted(source.registration_closes, shift),
        **{f: getattr(source, f) for f in fields},
        **{f: copy.deepcopy(getattr(source, f) or {}) for f in ("rules", "eligibility", "certificate")},
    )
    clone.stages = _copy_scheme(source)
    with transaction():
        db.session.add(clone)
        db.session.flush()
        audit.record("competition.cloned", actor, clone, clone, source=source.code)
    return clone


def parse_decimal(value) -> Decimal | None:
    """Read a decimal the way the forms send it; None when it is not a finite number."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
