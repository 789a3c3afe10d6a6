"""Rating campaigns (评定): a yearly rating of studios or craftsman teams from a default scheme, and its nominations.

A campaign is a competition of kind `rating`; once created from its default scheme through
the set-up services it is edited, judged, locked and published like any competition. Its
entrants are the nominated units, each snapshotting the unit's name and enterprise so the
panel's recusal by employer applies to them.
"""

from __future__ import annotations

from typing import TypedDict

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.models import Competition, Entrant, JudgeConflict, OrgUnit, User
from comp.models.rating import Unit
from comp.services import ServiceError, setup, transaction
from comp.services.common import audit
from comp.services.common.refs import in_ref_order, last_number
from comp.services.setup import lifecycle
from comp.services.setup import scheme as setup_scheme


class _DefaultScheme(TypedDict):
    """A rating's default scheme: its one stage and the criteria under it."""

    stage: dict[str, str]
    criteria: list[dict[str, str]]


# The default schemes: one review stage, each criterion a share of 100, trimmed (a panel of 3 or more).
SCHEMES: dict[str, _DefaultScheme] = {
    "team": {
        "stage": {"key": "review", "name": "综合评审", "weight": "1"},
        "criteria": [
            {"key": "learning", "name": "学习型", "max_value": "20"},
            {"key": "safety", "name": "安全型", "max_value": "20"},
            {"key": "clean", "name": "清洁型", "max_value": "15"},
            {"key": "saving", "name": "节约型", "max_value": "15"},
            {"key": "innovation", "name": "创新型", "max_value": "15"},
            {"key": "harmony", "name": "和谐型", "max_value": "15"},
        ],
    },
    "studio": {
        "stage": {"key": "review", "name": "综合评审", "weight": "1"},
        "criteria": [
            {"key": "leadership", "name": "带头人作用", "max_value": "20"},
            {"key": "results", "name": "创新成果", "max_value": "30"},
            {"key": "training", "name": "人才培养", "max_value": "20"},
            {"key": "application", "name": "推广应用价值", "max_value": "20"},
            {"key": "organisation", "name": "组织管理", "max_value": "10"},
        ],
    },
}
DEFAULT_TIERS = [{"name": "五星", "min": "90"}, {"name": "四星", "min": "80"}, {"name": "三星", "min": "70"}]
TITLES = {"team": "“六型”工匠班组评定", "studio": "劳模工匠创新工作室评定"}
NOMINATING = ("draft", "open", "closed")  # nominations stay open until the panel starts scoring
UNIT_PREFIX = "U"  # the nominations' refs: U0001, U0002 …
LIMIT = 60


def default_name(unit_kind: str, year: int, organizer: OrgUnit | None) -> str:
    """Return the usual title of a campaign, e.g. 2026年度泉州市“六型”工匠班组评定."""
    place = organizer.name.removesuffix("总工会") if organizer else "泉州市"
    return f"{year}年度{place}{TITLES[unit_kind]}"


def create_campaign(details: dict, actor: User) -> Competition:
    """Create a draft rating of studios or teams with the default scheme and threshold tiers."""
    unit_kind = details.get("unit_kind")
    if unit_kind not in SCHEMES:
        raise setup.SetupError({"unit_kind": _("A rating rates either studios or teams: choose one.")})
    organizer = db.session.get(OrgUnit, details["organizer_unit_id"]) if details.get("organizer_unit_id") else None
    year = details.get("year")
    name = (details.get("name") or "").strip() or (
        default_name(unit_kind, year, organizer) if isinstance(year, int) else ""
    )
    level = "county" if organizer is not None and organizer.kind == "county" else "city"
    campaign = setup.create_competition(
        {**details, "name": name, "kind": "rating", "level": level, "team_by": "team"}, actor
    )
    scheme = SCHEMES[unit_kind]
    stage = setup_scheme.add_stage(campaign, scheme["stage"], actor)
    for criterion in scheme["criteria"]:
        setup_scheme.add_criterion(stage, {"kind": "score", "aggregation": "trimmed", **criterion}, actor)
    # No tie-break: a rating has no completion time, and the default chain's practical stage is not
    # in its scheme; equal totals share a tier and a rank.
    setup.update_rules(campaign, {"award_tiers": DEFAULT_TIERS, "tiebreak": []}, actor)
    return campaign


# ---------------------------------------------------------------- nominations


def check_rating(competition: Competition) -> None:
    """Refuse anything but a rating of studios or teams."""
    if competition.kind != "rating":
        raise ServiceError(_("Only a rating of studios or teams takes nominations."))
    if competition.unit_kind not in SCHEMES:
        raise ServiceError(
            _("This rating came from an exchange file, which does not say whether it rates studios or teams.")
        )


def nominations(competition: Competition) -> list[Entrant]:
    """Return the campaign's nominated units, by ref."""
    rows = db.session.scalars(
        sa.select(Entrant)
        .where(Entrant.competition_id == competition.id)
        .options(sa.orm.selectinload(Entrant.employer))
    )
    return in_ref_order(rows, UNIT_PREFIX)


def _within(unit: Unit, union: OrgUnit | None) -> bool:
    """Tell whether the unit's enterprise lies under the organizing union."""
    if union is None or union.kind == "city":
        return True
    return unit.enterprise is not None and any(u.id == union.id for u in unit.enterprise.lineage())


def candidates(competition: Competition, query: str = "") -> tuple[list[Unit], int]:
    """Return the units of the campaign's kind not yet nominated, matching the query by name or enterprise.

    Also return how many match in all, since only the first LIMIT are listed.
    """
    nominated = sa.select(Entrant.unit_id).where(Entrant.competition_id == competition.id, Entrant.unit_id.is_not(None))
    select = (
        sa.select(Unit)
        .outerjoin(OrgUnit, OrgUnit.id == Unit.enterprise_id)
        .where(Unit.kind == competition.unit_kind, Unit.id.not_in(nominated))
        .options(sa.orm.selectinload(Unit.enterprise))
        .order_by(OrgUnit.name, Unit.name, Unit.id)
    )
    query = (query or "").strip()
    if query:
        select = select.where(
            sa.or_(Unit.name.contains(query, autoescape=True), OrgUnit.name.contains(query, autoescape=True))
        )
    units = [u for u in db.session.scalars(select) if _within(u, competition.organizer_unit)]
    return units[:LIMIT], len(units)


def _check_nominating(competition: Competition) -> None:
    check_rating(competition)
    if competition.status not in NOMINATING:
        raise ServiceError(_("Nominations close once the rating is running."))


def nominate(competition: Competition, unit_ids: list[int], actor: User) -> list[Entrant]:
    """Nominate units of the campaign's kind: each becomes an approved entrant with the next ref U0001…"""
    _check_nominating(competition)
    wanted = list(dict.fromkeys(unit_ids))
    if not wanted:
        raise ServiceError(_("Choose at least one unit to nominate."))
    units = [_candidate(competition, i) for i in wanted]
    last = last_number((e.ref for e in nominations(competition)), UNIT_PREFIX)
    with transaction():
        made = [
            _entrant(competition, unit, f"{UNIT_PREFIX}{last + n:04d}", actor) for n, unit in enumerate(units, start=1)
        ]
        db.session.flush()
        lifecycle.touch(competition)
        audit.record(
            "rating.nominated",
            actor,
            competition,
            competition,
            units=[{"ref": e.ref, "unit": e.unit_id, "name": e.name} for e in made],
        )
        if competition.status == "closed":  # registration already numbered the others
            from comp.services.hall import draw

            draw.assign_numbers(competition, actor)
    return made


def _candidate(competition: Competition, unit_id: int) -> Unit:
    """Return the unit if it may be nominated to this campaign, else refuse saying why."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.kind != competition.unit_kind or not _within(unit, competition.organizer_unit):
        raise ServiceError(_("Choose units from the list."))
    if (
        db.session.scalar(
            sa.select(Entrant.id).where(Entrant.competition_id == competition.id, Entrant.unit_id == unit.id)
        )
        is not None
    ):
        raise ServiceError(_("%(name)s is already nominated.", name=unit.name))
    return unit


def _entrant(competition: Competition, unit: Unit, ref: str, actor: User) -> Entrant:
    entrant = Entrant(
        competition_id=competition.id,
        ref=ref,
        type=unit.kind,
        unit_id=unit.id,
        name=unit.name,
        employer_id=unit.enterprise_id,
        team="",
        status="approved",
        registered_by_id=actor.id,
    )
    db.session.add(entrant)
    return entrant


def remove_nomination(competition: Competition, entrant_id: int, actor: User) -> None:
    """Take a unit off the campaign before the panel starts scoring."""
    _check_nominating(competition)
    entrant = db.session.get(Entrant, entrant_id)
    if entrant is None or entrant.competition_id != competition.id:
        raise ServiceError(_("This unit is not nominated to the rating."))
    with transaction():
        audit.record(
            "rating.nomination_removed",
            actor,
            competition,
            entrant,
            ref=entrant.ref,
            unit=entrant.unit_id,
            name=entrant.name,
        )
        # Recusals recorded against the unit go with it; marks cannot exist before the rating runs.
        db.session.execute(sa.delete(JudgeConflict).where(JudgeConflict.entrant_id == entrant.id))
        db.session.delete(entrant)
        lifecycle.touch(competition)
