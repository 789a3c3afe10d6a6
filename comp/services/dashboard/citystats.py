"""The city dashboard: contests held, entrants, awards and units, by year, county and trade.

A fixed handful of GROUP BY queries answers everything at city scale (hundreds of
competitions, hundreds of thousands of entrants): counts come back per competition, per
employer or per enterprise, and Python folds them into years, counties and trades with the
competitions' own rows (a few thousand at most) and the org tree read in one query.

`stats()` always counts afresh (the benchmark times it). The home page asks `current()`,
which shares each year's figures between every app process and server (the `computed` store:
Redis when configured, else the database) and counts again when a cheap fingerprint (two
small queries) moves: a competition changes state, or a registration, standing, certificate,
unit or union is added. Changes of an entrant's or a certificate's status alone show within
CACHE_SECONDS. One process counts while the others show the figures it counted last.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from comp.extensions import db
from comp.models import Certificate, Competition, Entrant, OrgUnit, Standing, Unit
from comp.orgtree import Tree
from comp.services.common import computed

# A competition counts as held once it has started; drafts and open registrations do not.
HELD = ("running", "locked", "published", "archived")
# Entrants who took part or were due to: not pending, withdrawn or rejected registrations.
COUNTED = ("approved", "ok", "absent", "disqualified")
CITY = "city"  # the key of the row of everything not under a county union
CACHE_SECONDS = 120


@dataclass
class Line:
    """One row of a breakdown (a year, a county or a trade) with its figures."""

    key: int | str | None
    label: str
    contests: int = 0
    ratings: int = 0
    entrants: int = 0
    awards: int = 0
    certificates: int = 0
    studios: int = 0
    teams: int = 0


@dataclass
class Stats:
    """The dashboard's figures for one year (or all years when `year` is None)."""

    year: int | None
    years: list[int] = field(default_factory=list)  # years with data, newest first
    contests: int = 0
    entrants: int = 0
    awards: int = 0
    certificates: int = 0
    ratings: int = 0
    rated_units: int = 0
    studios: int = 0  # the registry, whatever the year
    teams: int = 0
    by_year: list[Line] = field(default_factory=list)  # every year with data, oldest first
    by_county: list[Line] = field(default_factory=list)  # counties by name, then city level
    by_trade: list[Line] = field(default_factory=list)  # most entrants first


@dataclass(frozen=True)
class _Contest:
    year: int
    kind: str
    status: str
    trade: str | None
    organizer_unit_id: int | None

    @property
    def held(self) -> bool:
        return self.status in HELD


def stats(year: int | None = None) -> Stats:
    """Return the city's figures for the year, or for all years when it is None."""
    contests = _contests()
    tree = Tree()
    entrants, awards, certificates = _per_competition()
    result = Stats(year=year)
    chosen = {cid: c for cid, c in contests.items() if year is None or c.year == year}
    _headline(result, chosen, entrants, awards, certificates)
    result.by_year = _by_year(contests, entrants, awards, certificates)
    result.years = [line.key for line in reversed(result.by_year) if isinstance(line.key, int)]  # keyed by year
    result.by_trade = _by_trade(chosen, entrants, awards)
    result.by_county = _by_county(tree, chosen, year)
    result.studios = sum(line.studios for line in result.by_county)
    result.teams = sum(line.teams for line in result.by_county)
    result.rated_units = _rated_units(year)
    return result


def _contests() -> dict[int, _Contest]:
    """Return every competition's year, kind, status, trade and organizing union by id."""
    rows = db.session.execute(
        sa.select(
            Competition.id,
            Competition.year,
            Competition.kind,
            Competition.status,
            Competition.trade,
            Competition.organizer_unit_id,
        )
    )
    return {r.id: _Contest(r.year, r.kind, r.status, r.trade, r.organizer_unit_id) for r in rows}


def _held_competitions(query: sa.Select, year: int | None, kind: str = "competition") -> sa.Select:
    """Restrict a query joined to Competition to held ones of the kind (and year)."""
    query = query.where(Competition.kind == kind, Competition.status.in_(HELD))
    return query if year is None else query.where(Competition.year == year)


def _counted_entrants(query: sa.Select) -> sa.Select:
    """Restrict a query over Entrant to the people who count as entrants."""
    return query.where(Entrant.type == "person", Entrant.status.in_(COUNTED))


def _per_competition() -> tuple[Counter, Counter, Counter]:
    """Return entrants, awards and valid certificates counted per competition id (three queries)."""
    entrants = Counter(
        dict(
            db.session.execute(
                _held_competitions(
                    _counted_entrants(sa.select(Entrant.competition_id, sa.func.count()).join(Competition)), None
                ).group_by(Entrant.competition_id)
            ).all()
        )
    )
    awards = Counter(
        dict(
            db.session.execute(
                sa.select(Standing.competition_id, sa.func.count())
                .where(Standing.award.is_not(None))
                .group_by(Standing.competition_id)
            ).all()
        )
    )
    certificates = Counter(
        dict(
            db.session.execute(
                sa.select(Entrant.competition_id, sa.func.count())
                .select_from(Certificate)
                .join(Entrant)
                .where(Certificate.status == "valid")
                .group_by(Entrant.competition_id)
            ).all()
        )
    )
    return entrants, awards, certificates


def _headline(
    result: Stats, chosen: dict[int, _Contest], entrants: Counter, awards: Counter, certificates: Counter
) -> None:
    """Fill the headline figures from the chosen year's competitions."""
    for cid, c in chosen.items():
        if c.kind == "rating":
            result.ratings += c.held
            continue
        if c.kind != "competition":
            continue
        result.contests += c.held
        result.entrants += entrants[cid]
        result.awards += awards[cid]
        result.certificates += certificates[cid]


def _by_year(contests: dict[int, _Contest], entrants: Counter, awards: Counter, certificates: Counter) -> list[Line]:
    """Return one line per year with data, oldest first."""
    lines: dict[int, Line] = {}
    for cid, c in contests.items():
        counts = (entrants[cid], awards[cid], certificates[cid])
        if not c.held and not any(counts):
            continue
        line = lines.setdefault(c.year, Line(c.year, str(c.year)))
        if c.kind == "rating":
            line.ratings += c.held
        elif c.kind == "competition":
            line.contests += c.held
            line.entrants += counts[0]
            line.awards += counts[1]
            line.certificates += counts[2]
    return [lines[y] for y in sorted(lines)]


def _by_trade(chosen: dict[int, _Contest], entrants: Counter, awards: Counter) -> list[Line]:
    """Return one line per trade of the chosen competitions, most entrants first."""
    lines: dict[str | None, Line] = {}
    for cid, c in chosen.items():
        if c.kind != "competition" or not (c.held or entrants[cid] or awards[cid]):
            continue
        line = lines.setdefault(c.trade, Line(c.trade, c.trade or _l("No trade given")))
        line.contests += c.held
        line.entrants += entrants[cid]
        line.awards += awards[cid]
    return sorted(lines.values(), key=lambda x: (-x.entrants, -x.contests, x.key is None, x.key or ""))


def _by_county(tree: Tree, chosen: dict[int, _Contest], year: int | None) -> list[Line]:
    """Return one line per county union (by name), then the city-level line when it has figures."""
    lines = {n.id: Line(n.id, n.name) for n in tree.counties()}
    city = Line(CITY, _l("City level"))

    def line_of(unit_id: int | None) -> Line:
        county = tree.county_of(unit_id)
        return lines[county.id] if county is not None else city

    for c in chosen.values():
        if c.kind == "competition" and c.held:
            line_of(c.organizer_unit_id).contests += 1
    for employer_id, n in _per_employer(year):
        line_of(employer_id).entrants += n
    for employer_id, n in _awards_per_employer(year):
        line_of(employer_id).awards += n
    for kind, enterprise_id, n in db.session.execute(
        sa.select(Unit.kind, Unit.enterprise_id, sa.func.count()).group_by(Unit.kind, Unit.enterprise_id)
    ):
        line = line_of(enterprise_id)
        if kind == "studio":
            line.studios += n
        elif kind == "team":
            line.teams += n
    shown = list(lines.values())
    if any((city.contests, city.entrants, city.awards, city.studios, city.teams)):
        shown.append(city)
    return shown


def _per_employer(year: int | None) -> Sequence[tuple[int | None, int]]:
    """Return the counted entrants of held competitions per employer id."""
    return db.session.execute(
        _held_competitions(
            _counted_entrants(sa.select(Entrant.employer_id, sa.func.count()).join(Competition)), year
        ).group_by(Entrant.employer_id)
    ).all()


def _awards_per_employer(year: int | None) -> Sequence[tuple[int | None, int]]:
    """Return the awards of competitions (kind competition) per employer of the awarded entrant."""
    query = (
        sa.select(Entrant.employer_id, sa.func.count())
        .select_from(Standing)
        .join(Entrant, Entrant.id == Standing.entrant_id)
        .join(Competition, Competition.id == Standing.competition_id)
        .where(Standing.award.is_not(None), Competition.kind == "competition")
    )
    if year is not None:
        query = query.where(Standing.year == year)
    return db.session.execute(query.group_by(Entrant.employer_id)).all()


def _rated_units(year: int | None) -> int:
    """Return how many distinct units take part in the held ratings (of the year), as "Ratings held" counts them.

    Counted from the ratings' entrants, not from the standings publication writes: a running or
    locked rating has its units already, and the figure must not say 0 beside a rating held.
    """
    query = _held_competitions(
        sa.select(sa.func.count(sa.distinct(Entrant.unit_id))).join(Competition), year, kind="rating"
    ).where(Entrant.unit_id.is_not(None), Entrant.status.in_(COUNTED))
    return db.session.scalar(query) or 0


def current(year: int | None = None) -> Stats:
    """Return the year's figures as `stats()` does, shared by every app process and counted once per change.

    The stamp is "<fingerprint>.<period>": a new fingerprint counts again at once; within one, the
    figures are counted again at most once every CACHE_SECONDS, for changes the fingerprint misses.
    """
    digest = hashlib.sha256(repr(_fingerprint()).encode()).hexdigest()[:24]
    stamp = f"{digest}.{int(time.time() // CACHE_SECONDS)}"
    result, _built = computed.shared(
        "dashboard", f"city:{year or 'all'}", stamp, lambda: stats(year), _encode, _decode, every=CACHE_SECONDS
    )
    return result


def _encode(result: Stats) -> str:
    """Return the figures as JSON; a label the code gives (not a name from the data) is left out, to be
    read in the reader's language."""

    def line(entry: Line) -> dict[str, Any]:
        data = asdict(entry)
        if not isinstance(entry.label, str):  # "No trade given", "City level": translated when shown
            data["label"] = None
        return data

    data = asdict(result)
    for part in ("by_year", "by_county", "by_trade"):
        data[part] = [line(entry) for entry in getattr(result, part)]
    return json.dumps(data, ensure_ascii=False)


def _decode(payload: str) -> Stats:
    data = json.loads(payload)
    given = {"by_trade": _l("No trade given"), "by_county": _l("City level")}
    for part in ("by_year", "by_county", "by_trade"):
        data[part] = [Line(**{**entry, "label": entry["label"] or given.get(part, "")}) for entry in data[part]]
    return Stats(**data)


def forget() -> None:
    """Drop the shared figures of every year (tests, and after bulk changes)."""
    computed.forget("dashboard")


def _fingerprint() -> tuple:
    """Return what moves when a competition changes or rows are added (two cheap queries)."""

    def newest(column) -> sa.ScalarSelect:
        return sa.select(sa.func.max(column)).scalar_subquery()

    added = db.session.execute(
        sa.select(
            newest(Entrant.id),
            newest(Standing.id),
            newest(Certificate.id),
            newest(Unit.id),
            newest(OrgUnit.id),
            sa.select(sa.func.count()).select_from(Unit).scalar_subquery(),
        )
    ).one()
    states = db.session.execute(
        sa.select(
            Competition.id,
            Competition.status,
            Competition.year,
            Competition.kind,
            Competition.trade,
            Competition.organizer_unit_id,
        ).order_by(Competition.id)
    ).all()
    return tuple(added), tuple(tuple(r) for r in states)
