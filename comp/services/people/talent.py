"""The talent pool (人才库): workers found by name, trade, place, grade, honour, award and year.

A page costs a fixed number of queries at any city size: the org tree, the select boxes' choices,
a count, the page's workers, then the honours and the standings of those workers. Every filter is
SQL over indexed columns (subqueries on standings and honours); published results are read from
Standing, never recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.sql.elements import SQLCoreOperations

from comp.converters import whole_number
from comp.extensions import db
from comp.models import SKILL_GRADES, Competition, Honour, OrgUnit, Standing, User, Worker
from comp.models.competition import PUBLIC_STATES
from comp.orgtree import Node, Tree
from comp.permissions import scope
from comp.scoring.types import COMPETITION_TIERS, RATING_TIERS
from comp.services import transaction
from comp.services.common import audit, xlsx_stream
from comp.services.registration import grade_label

PER_PAGE = 50
EXPORT_CHUNK = 1000
MANY = 20_000  # matching workers above which a sort by awards or honours counts everyone's in one pass
MAX_TEXT = 64
YEARS = (1949, 2100)
SORTS = ("name", "grade", "employer", "awards", "honours")
# Best first: the default tiers; an award named otherwise ranks after them.
AWARD_ORDER = {tier.name: i for i, tier in enumerate(COMPETITION_TIERS + RATING_TIERS)}
HEADERS = (
    "姓名 Name",
    "身份证号(脱敏) ID number (masked)",
    "单位 Employer",
    "县(市、区) County",
    "工种 Trade",
    "技能等级 Skill grade",
    "荣誉 Honours",
    "获奖次数 Awards",
    "最好奖项 Best award",
)


def _text(args: Mapping, name: str, problems: list[str]) -> str:
    value = "".join(c for c in str(args.get(name) or "") if c.isprintable()).strip()
    if len(value) > MAX_TEXT:
        problems.append(_("A search text is limited to %(count)s characters; the rest was ignored.", count=MAX_TEXT))
    return value[:MAX_TEXT]


def _number(args: Mapping, name: str, low: int, high: int, problems: list[str], message: str) -> int | None:
    raw = str(args.get(name) or "").strip()
    if not raw:
        return None
    number = whole_number(raw, low, high)
    if number is None:
        problems.append(message)
    return number


@dataclass(frozen=True)
class Filters:
    """What the pool is narrowed to (every filter ANDed) and how it is sorted."""

    q: str = ""
    trade: str = ""
    county: int | None = None
    enterprise: int | None = None
    grade: int | None = None
    honour: str = ""
    award: str = ""
    year: int | None = None
    sort: str = "name"
    desc: bool = False

    @classmethod
    def parse(cls, args: Mapping) -> tuple[Filters, list[str]]:
        """Read filters from a query string; return them with a message for each value ignored."""
        problems: list[str] = []
        unit = _("That county or enterprise does not exist; the filter was ignored.")
        sort = str(args.get("sort") or "name")
        if sort not in SORTS:
            problems.append(_("Unknown sort order; the list is sorted by name."))
            sort = "name"
        direction = str(args.get("dir") or "asc")
        if direction not in ("asc", "desc"):
            problems.append(_("The sort direction is “asc” or “desc”; ascending was used."))
        return cls(
            q=_text(args, "q", problems),
            trade=_text(args, "trade", problems),
            county=_number(args, "county", 1, 2**31 - 1, problems, unit),
            enterprise=_number(args, "enterprise", 1, 2**31 - 1, problems, unit),
            grade=_number(
                args,
                "grade",
                1,
                5,
                problems,
                _("The skill grade is a number from 1 to 5; the grade filter was ignored."),
            ),
            honour=_text(args, "honour", problems),
            award=_text(args, "award", problems),
            year=_number(
                args,
                "year",
                *YEARS,
                problems,
                _(
                    "The year must be between %(low)s and %(high)s; the year filter was ignored.",
                    low=YEARS[0],
                    high=YEARS[1],
                ),
            ),
            sort=sort,
            desc=direction == "desc",
        ), problems

    def args(self, **changes) -> dict:
        """Return the query string of these filters (with changes), leaving out what is unset."""
        values = {**asdict(self), **changes}
        values["dir"] = "desc" if values.pop("desc") else None
        values["sort"] = None if values["sort"] == "name" else values["sort"]
        return {k: v for k, v in values.items() if v not in (None, "")}

    def active(self) -> bool:
        """Tell whether any filter (not the sort) narrows the pool."""
        return any(v not in (None, "") for k, v in asdict(self).items() if k not in ("sort", "desc"))


def page_number(args: Mapping, problems: list[str]) -> int:
    """Read the page number from a query string; a bad one is page 1, with a message."""
    return _number(args, "page", 1, 10**6, problems, _("Page numbers start at 1; the first page is shown.")) or 1


@dataclass(frozen=True)
class Options:
    """The choices of the filter form's select boxes."""

    trades: list[str]
    honours: list[str]
    awards: list[str]
    years: list[int]
    counties: list[Node]
    enterprises: list[Node]
    grades: dict[int, str] = field(default_factory=lambda: {g: grade_label(g) for g in sorted(SKILL_GRADES)})


@dataclass(frozen=True)
class Prepared:
    """A request's checked filters and page, the messages about what was ignored, the choices offered."""

    filters: Filters
    page: int
    problems: list[str]
    tree: Tree
    choices: Options | None


def _distinct(column, *where) -> list:
    return list(db.session.scalars(sa.select(column).where(column.is_not(None), *where).distinct().order_by(column)))


def _skip_distinct(column) -> list:
    """Return an indexed column's distinct values, one index seek per value (a loose index scan).

    A plain DISTINCT reads every row: 45 ms over 400,000 standings on PostgreSQL, on every page view.
    """
    values = sa.select(sa.func.min(column).label("v")).cte("skip", recursive=True)
    following = sa.select(sa.func.min(column)).where(column > values.c.v).scalar_subquery()
    values = values.union_all(sa.select(following).where(values.c.v.is_not(None)))
    return list(db.session.scalars(sa.select(values.c.v).where(values.c.v.is_not(None)).order_by(values.c.v)))


def places(user: User, county: int | None, tree: Tree) -> tuple[list[Node], list[Node]]:
    """Return the counties in the user's scope, and its enterprises (of the county, when it is one of them)."""
    allowed = scope(user, tree)
    counties = [c for c in tree.counties() if allowed is None or tree.subtree(c.id) & allowed]
    under = county if county in {c.id for c in counties} else None
    return counties, [e for e in tree.enterprises(under=under) if allowed is None or e.id in allowed]


def options(user: User, county: int | None = None, tree: Tree | None = None) -> Options:
    """Return the select boxes' choices; places are those in the user's scope, enterprises those of the county."""
    counties, enterprises = places(user, county, tree or Tree())
    years = set(_distinct(Competition.year, Competition.status.in_(PUBLIC_STATES))) | set(_distinct(Honour.year))
    return Options(
        trades=_skip_distinct(Worker.trade),
        honours=_skip_distinct(Honour.title),
        awards=_skip_distinct(Standing.award),
        years=sorted(years, reverse=True),
        counties=counties,
        enterprises=enterprises,
    )


def prepare(args: Mapping, user: User, choices: bool = True) -> Prepared:
    """Check a query string's filters and page against the user's scope; keep a message per value ignored."""
    filters, problems = Filters.parse(args)
    page = page_number(args, problems)
    tree = Tree()
    counties, enterprises = places(user, filters.county, tree)
    if filters.county is not None and filters.county not in {c.id for c in counties}:
        filters = replace(filters, county=None)
        problems.append(_("That county is not one you can search; the county filter was ignored."))
    if filters.enterprise is not None and filters.enterprise not in {e.id for e in enterprises}:
        filters = replace(filters, enterprise=None)
        problems.append(
            _(
                "That enterprise is not among the choices (is it in the chosen county?); "
                "the enterprise filter was ignored."
            )
        )
    return Prepared(filters, page, problems, tree, options(user, filters.county, tree) if choices else None)


@dataclass(frozen=True)
class Row:
    """One worker as the pool lists it."""

    id: int
    name: str
    id_masked: str | None
    employer: str | None
    county: str | None
    trade: str | None
    grade: int | None
    honours: tuple  # (worker_id, title, year, status) rows, the latest first
    awards: int
    best_award: str | None

    @property
    def grade_label(self) -> str:
        """Return the skill grade as the app writes it ("三级/高级工 (3)"), or a dash."""
        return grade_label(self.grade)

    def honour_titles(self) -> str:
        """Return the honours as one line of text: title and year, recommendations marked."""
        return "、".join(
            f"{h.title} {h.year}" + (" (推荐 recommended)" if h.status == "recommended" else "") for h in self.honours
        )


@dataclass(frozen=True)
class Page:
    """One page of the pool and where it lies in the whole."""

    rows: list[Row]
    total: int
    page: int
    pages: int

    def links(self, around: int = 2) -> list[int | None]:
        """Return the page numbers to link: the ends and those near this page, None for a gap."""
        near = range(max(1, self.page - around), min(self.pages, self.page + around) + 1)
        shown = sorted({1, self.pages, *near})
        out: list[int | None] = []
        for n in shown:
            if out and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


def _in_year(column, year: int | None) -> list:
    return [] if year is None else [column == year]


def _conditions(filters: Filters, user: User, tree: Tree) -> list:
    """Return the WHERE clauses of the filters, the user's scope included."""
    allowed = scope(user, tree)
    for unit in (filters.county, filters.enterprise):
        if unit is not None:
            below = tree.subtree(unit)
            allowed = below if allowed is None else allowed & below
    where: list[sa.ColumnElement[bool]] = [] if allowed is None else [Worker.employer_id.in_(sorted(allowed))]
    if filters.q:
        where.append(Worker.name.contains(filters.q, autoescape=True))
    if filters.trade:
        where.append(Worker.trade == filters.trade)
    if filters.grade is not None:
        where.append(Worker.skill_grade == filters.grade)
    # An award or honour is selective and indexed by (award|title, year): IN reads those few rows once,
    # where SQLite would run an EXISTS probe for every worker (PostgreSQL makes both a semi-join).
    if filters.honour:
        where.append(
            Worker.id.in_(
                sa.select(Honour.worker_id).where(Honour.title == filters.honour, *_in_year(Honour.year, filters.year))
            )
        )
    if filters.award:
        where.append(
            Worker.id.in_(
                sa.select(Standing.worker_id).where(
                    Standing.award == filters.award, *_in_year(Standing.year, filters.year)
                )
            )
        )
    if filters.year is not None and not (filters.honour or filters.award):
        # A year alone matches most workers: a probe of the covering (worker_id, year) index is cheaper.
        where.append(sa.exists().where(Standing.worker_id == Worker.id, Standing.year == filters.year))
    return where


def _count_key(worker_id, counted, total: int | None):
    """Return each worker's number of rows (of worker_id's table, where counted) as an ORDER BY key, and its join."""
    if total is not None and total <= MANY:
        # A few thousand workers: count each one's rows through the index on worker_id.
        return sa.select(sa.func.count()).where(worker_id == Worker.id, counted).scalar_subquery(), None
    # Most of the city: one grouped pass. Grouping by worker_id + 0 keeps SQLite from walking the
    # (worker_id, year) index and fetching every row out of order (4x slower); the CAST gives the
    # column back the integer affinity SQLite needs to index the grouped rows for the join.
    key = sa.cast(worker_id + sa.literal_column("0"), sa.Integer).label("worker_id")
    counts = sa.select(key, sa.func.count().label("n")).where(counted).group_by(key).subquery()
    return sa.func.coalesce(counts.c.n, 0), counts


def _listing(filters: Filters, where: list, total: int | None = None) -> sa.Select:
    """Return the ordered SELECT of the matching workers' own columns (total: how many match, if known)."""
    query = sa.select(
        Worker.id, Worker.name, Worker.id_masked, Worker.employer_id, Worker.trade, Worker.skill_grade
    ).where(*where)
    key: SQLCoreOperations[Any]
    if filters.sort == "employer":
        query = query.outerjoin(OrgUnit, OrgUnit.id == Worker.employer_id)
        key = OrgUnit.name
    elif filters.sort in ("awards", "honours"):
        key, counts = (
            _count_key(Standing.worker_id, Standing.award.is_not(None), total)
            if filters.sort == "awards"
            else _count_key(Honour.worker_id, sa.true(), total)
        )
        if counts is not None:
            query = query.outerjoin(counts, counts.c.worker_id == Worker.id)
    else:
        key = Worker.skill_grade if filters.sort == "grade" else Worker.name
    ordered = key.desc() if filters.desc else key.asc()
    return query.order_by(ordered.nulls_last(), Worker.name, Worker.id)


def _rows(workers: Sequence[Any], tree: Tree) -> list[Row]:
    """Return the listed workers with their honours and awards, in two queries."""
    ids = [w.id for w in workers]
    honours: dict[int, list] = {}
    for honour in db.session.execute(
        sa.select(Honour.worker_id, Honour.title, Honour.year, Honour.status)
        .where(Honour.worker_id.in_(ids))
        .order_by(Honour.year.desc(), Honour.title, Honour.id)
    ):
        honours.setdefault(honour.worker_id, []).append(honour)
    awards: dict[int, list] = {}
    for standing in db.session.execute(
        sa.select(Standing.worker_id, Standing.award, Standing.rank, Standing.year).where(
            Standing.worker_id.in_(ids), Standing.award.is_not(None)
        )
    ):
        awards.setdefault(standing.worker_id, []).append(standing)
    rows = []
    for w in workers:
        won = awards.get(w.id, [])
        best = min(
            won, key=lambda s: (AWARD_ORDER.get(s.award, len(AWARD_ORDER)), s.rank or 10**9, -s.year), default=None
        )
        employer, county = tree.nodes.get(w.employer_id), tree.county_of(w.employer_id)
        rows.append(
            Row(
                id=w.id,
                name=w.name,
                id_masked=w.id_masked,
                employer=employer.name if employer else None,
                county=county.name if county else None,
                trade=w.trade,
                grade=w.skill_grade,
                honours=tuple(honours.get(w.id, ())),
                awards=len(won),
                best_award=best and best.award,
            )
        )
    return rows


def search(filters: Filters, user: User, page: int = 1, per_page: int = PER_PAGE, tree: Tree | None = None) -> Page:
    """Return one page of the workers the filters match in the user's scope (a page past the end is the last)."""
    tree, per_page = tree or Tree(), max(per_page, 1)
    where = _conditions(filters, user, tree)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Worker).where(*where))
    assert total is not None  # COUNT without GROUP BY always gives one row
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    workers = db.session.execute(_listing(filters, where, total).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows=_rows(workers, tree) if workers else [], total=total, page=page, pages=pages)


def count(filters: Filters, user: User, tree: Tree | None = None) -> int:
    """Return how many workers the filters match in the user's scope."""
    where = _conditions(filters, user, tree or Tree())
    return db.session.scalar(sa.select(sa.func.count()).select_from(Worker).where(*where)) or 0


def export(
    filters: Filters,
    user: User,
    tree: Tree | None = None,
    progress: Callable[[int], None] | None = None,
    audited: bool = True,
) -> tuple[int, Iterator[bytes]]:
    """Audit the export of the matching workers (masked ID numbers); return the count and the .xlsx bytes to stream.

    The workers are read at once (so the audit names the count); honours and awards are
    read a chunk at a time while the sheet streams out, and `progress` is told how many rows
    are written after each chunk. An export job (comp.services.exports) audits when it is asked
    for, and passes `audited=False`.
    """
    tree = tree or Tree()
    workers = db.session.execute(_listing(filters, _conditions(filters, user, tree))).all()
    if audited:
        with transaction():
            audit.record("talent.export", user, None, None, filters=filters.args(), rows=len(workers))

    def rows() -> Iterator[tuple]:
        for start in range(0, len(workers), EXPORT_CHUNK):
            for row in _rows(workers[start : start + EXPORT_CHUNK], tree):
                yield (
                    row.name,
                    row.id_masked or "",
                    row.employer or "",
                    row.county or "",
                    row.trade or "",
                    row.grade_label if row.grade else "",
                    row.honour_titles(),
                    row.awards,
                    row.best_award or "",
                )
            if progress is not None:
                progress(min(start + EXPORT_CHUNK, len(workers)))

    return len(workers), xlsx_stream.stream([str(h) for h in HEADERS], rows(), "人才库 Talent pool")
