"""The public list of published competitions and ratings: filters, one page, and the standings counts.

A fixed number of queries whatever the page holds: the page with its count, the filter
choices, and one GROUP BY over the page's standings. Unpublished competitions never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from comp.extensions import db
from comp.labels import LEVELS
from comp.models import Competition, Standing
from comp.models.competition import PUBLIC_STATES
from comp.models.types import utcnow
from comp.services.setup import lifecycle

PER_PAGE = 30
SEARCH_LENGTH = 100
TRADE_LENGTH = 64  # Competition.trade's length
YEARS = (1990, 2100)  # the years a competition may have


@dataclass(frozen=True)
class Filters:
    """What the public list is narrowed to: a name search, a year, a trade and a level."""

    q: str = ""
    year: int | None = None
    trade: str = ""
    level: str = ""

    @classmethod
    def parse(
        cls, q: str | None = "", year: str | None = "", trade: str | None = "", level: str | None = ""
    ) -> Filters:
        """Return the filters from query-string values, dropping what cannot be a filter."""
        year = (year or "").strip()
        number = int(year) if year.isascii() and year.isdigit() and len(year) == 4 else None
        return cls(
            q=_text(q, SEARCH_LENGTH),
            trade=_text(trade, TRADE_LENGTH),
            year=number if number and YEARS[0] <= number <= YEARS[1] else None,
            level=level if level in LEVELS else "",
        )

    def args(self, **extra) -> dict:
        """Return the filters as query-string arguments, leaving out the empty ones."""
        values = {"q": self.q, "year": self.year, "trade": self.trade, "level": self.level} | extra
        return {key: value for key, value in values.items() if value}


def _text(value: str | None, length: int) -> str:
    # PostgreSQL refuses NUL characters in text: a pasted one must not become a 500.
    return (value or "").replace("\x00", "").strip()[:length]


@dataclass(frozen=True)
class Row:
    """One published competition on the list, with its standings counts."""

    competition: Competition
    ranked: int
    awards: int
    in_notice: bool


@dataclass(frozen=True)
class Listing:
    """One page of the public list and the choices of its filters."""

    rows: list[Row]
    page: object  # flask_sqlalchemy Pagination: total, pages, page, iter_pages()
    years: list[int]
    trades: list[str]


def _query(filters: Filters) -> sa.Select:
    query = sa.select(Competition).where(Competition.status.in_(PUBLIC_STATES))
    if filters.q:
        query = query.where(Competition.name.icontains(filters.q, autoescape=True))
    if filters.year:
        query = query.where(Competition.year == filters.year)
    if filters.trade:
        query = query.where(Competition.trade == filters.trade)
    if filters.level:
        query = query.where(Competition.level == filters.level)
    return query.order_by(Competition.year.desc(), Competition.published_at.desc().nulls_last(), Competition.id.desc())


def counts(competition_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Map each competition id to its (ranked entrants, awards) in the published standings."""
    if not competition_ids:
        return {}
    rows = db.session.execute(
        sa.select(Standing.competition_id, sa.func.count(Standing.rank), sa.func.count(Standing.award))
        .where(Standing.competition_id.in_(competition_ids))
        .group_by(Standing.competition_id)
    )
    return {competition_id: (ranked, awards) for competition_id, ranked, awards in rows}


def in_notice(competition: Competition, now: datetime | None = None) -> bool:
    """Tell whether published results are in their notice period (no publication date: no notice period)."""
    return (
        competition.status == "published"
        and competition.published_at is not None
        and not lifecycle.notice_over(competition, now)
    )


def years() -> list[int]:
    """Return the years that have published competitions, newest first."""
    return list(
        db.session.scalars(
            sa.select(Competition.year)
            .where(Competition.status.in_(PUBLIC_STATES))
            .distinct()
            .order_by(Competition.year.desc())
        )
    )


def trades() -> list[str]:
    """Return the trades that have published competitions, by name."""
    return list(
        db.session.scalars(
            sa.select(Competition.trade)
            .where(Competition.status.in_(PUBLIC_STATES), Competition.trade.is_not(None), Competition.trade != "")
            .distinct()
            .order_by(Competition.trade)
        )
    )


def search(filters: Filters, page: int = 1, now: datetime | None = None) -> Listing:
    """Return one page (30) of the published competitions narrowed by the filters, newest first."""
    found = db.paginate(_query(filters), page=page, per_page=PER_PAGE, error_out=False, count=True)
    tally = counts([c.id for c in found.items])
    now = now or utcnow()
    rows = [Row(c, *tally.get(c.id, (0, 0)), in_notice(c, now)) for c in found.items]
    return Listing(rows, found, years(), trades())
