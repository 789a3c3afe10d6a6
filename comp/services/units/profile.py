"""What a unit's profile and an enterprise's page show: members, rating history, results, a trend chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Competition, Entrant, OrgUnit, Unit, User
from comp.models.competition import FINAL_STATES, PUBLIC_STATES
from comp.permissions import scope
from comp.services import results

CHART_W, CHART_H, PAD, LEFT = 480, 170, 26, 40


@dataclass(frozen=True)
class Standing:
    """One entry's outcome in one competition, read from its results document."""

    competition: Competition
    name: str
    rank: int | None
    total: str | None
    award: str | None


def _standings(entries: list[tuple[Entrant, Competition]]) -> list[Standing]:
    """Read each entrant's row from its competition's results document, computed once per competition."""
    documents: dict[int, dict[str, dict]] = {}
    found = []
    for entrant, competition in entries:
        if competition.id not in documents:
            documents[competition.id] = {r["ref"]: r for r in results.document(competition)["results"]}
        row = documents[competition.id].get(entrant.ref, {})
        found.append(Standing(competition, entrant.name, row.get("rank"), row.get("total"), row.get("award")))
    return found


def rating_history(unit: Unit) -> list[Standing]:
    """Return the unit's outcome in every locked or published rating, by year."""
    entries = db.session.execute(
        sa.select(Entrant, Competition)
        .join(Competition, Entrant.competition_id == Competition.id)
        .where(Entrant.unit_id == unit.id, Competition.kind == "rating", Competition.status.in_(FINAL_STATES))
        .order_by(Competition.year, Competition.code)
    ).all()
    return _standings(list(entries))


def _floor(points: list[tuple[int, Decimal]]) -> int:
    """Return the chart's lowest value: 60, or the lowest total rounded down to tens."""
    lowest = min(total for _year, total in points)
    return int(max(min(Decimal(60), lowest // 10 * 10), Decimal(0)))


def trend(history: list[Standing]) -> dict | None:
    """Return the points of an SVG line chart of the totals by year, or None without totals."""
    points = [(s.competition.year, Decimal(s.total)) for s in history if s.total is not None]
    if not points:
        return None
    floor = _floor(points)
    left, width, height = Decimal(LEFT), Decimal(CHART_W - LEFT - PAD), Decimal(CHART_H - 2 * PAD)
    step = width / (len(points) - 1) if len(points) > 1 else Decimal(0)
    marks = []
    for index, (year, total) in enumerate(points):
        x = left + (step * index if len(points) > 1 else width / 2)
        y = PAD + height * (100 - min(max(total, Decimal(floor)), Decimal(100))) / (100 - floor)
        marks.append(
            {"x": f"{x:.1f}", "y": f"{y:.1f}", "label_y": f"{y - 9:.1f}", "year": year, "total": f"{total:.2f}"}
        )
    return {
        "width": CHART_W,
        "height": CHART_H,
        "left": LEFT,
        "top": PAD,
        "bottom": CHART_H - PAD,
        "right": CHART_W - PAD,
        "floor": floor,
        "line": " ".join(f"{m['x']},{m['y']}" for m in marks),
        "points": marks,
    }


def members(unit: Unit) -> list[dict]:
    """Return the members to show: name, trade and role — never ID numbers or phones."""
    return sorted(
        ({"id": m.id, "name": m.worker.name, "trade": m.worker.trade, "role": m.role} for m in unit.members),
        key=lambda m: m["name"],
    )


def achievements_by_year(unit: Unit) -> list[tuple[int, list]]:
    """Return the unit's achievements grouped by year, newest first."""
    years: dict[int, list] = {}
    for item in sorted(unit.achievements, key=lambda a: (-a.year, a.kind, a.title)):
        years.setdefault(item.year, []).append(item)
    return list(years.items())


def enterprise(org_id: int, user: User) -> OrgUnit | None:
    """Return the enterprise with this id, if it is one of the user's unions' enterprises."""
    org = db.session.get(OrgUnit, org_id)
    if org is None or org.kind != "enterprise":
        return None
    allowed = scope(user)
    return org if allowed is None or org.id in allowed else None


def enterprise_units(org: OrgUnit) -> list[Unit]:
    """Return the enterprise's studios and teams."""
    return list(db.session.scalars(sa.select(Unit).where(Unit.enterprise_id == org.id).order_by(Unit.kind, Unit.name)))


def worker_results(org: OrgUnit) -> list[Standing]:
    """Return the results of the enterprise's workers in published competitions, newest first."""
    entries = db.session.execute(
        sa.select(Entrant, Competition)
        .join(Competition, Entrant.competition_id == Competition.id)
        .where(
            Entrant.employer_id == org.id,
            Entrant.worker_id.is_not(None),
            Competition.kind == "competition",
            Competition.status.in_(PUBLIC_STATES),
        )
        .order_by(Competition.year.desc(), Competition.code, Entrant.ref)
    ).all()
    order = {c.id: n for n, (_e, c) in enumerate(entries)}  # newest competition first, then by rank
    return sorted(_standings(list(entries)), key=lambda s: (order[s.competition.id], s.rank is None, s.rank or 0))
