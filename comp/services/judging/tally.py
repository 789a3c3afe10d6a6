"""A judge's tally of one entrant: their own marks scored as the rules score them.

Shown under the score sheet and answered with every saved mark: the save reads it in the same
transaction, in one statement (`read`), so the tablet needs no second request to see its totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

import sqlalchemy as sa

from comp import scoring
from comp.extensions import db
from comp.models import Competition, Criterion, JudgeAssignment, JudgeCriterion, Mark, NotTaken, Stage


class StageLike(Protocol):
    """What the tally needs of a stage (a `Stage`, or a row the save read)."""

    @property
    def id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def weight(self) -> Decimal: ...
    @property
    def best(self) -> int | None: ...


class CriterionLike(Protocol):
    """What the tally needs of a criterion (a `Criterion`, or a row the save read)."""

    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def max_value(self) -> Decimal: ...
    @property
    def kind(self) -> str: ...
    @property
    def aggregation(self) -> str: ...
    @property
    def step(self) -> Decimal | None: ...
    @property
    def low_value(self) -> Decimal: ...
    @property
    def worth(self) -> Decimal | None: ...
    @property
    def places(self) -> int | None: ...


def rule(key: str, criterion: CriterionLike, expected: int | None = None, trim: int = 1) -> scoring.Criterion:
    """Return the engine's criterion for a stored one (its key "stage.criterion" given)."""
    return scoring.Criterion(
        key,
        criterion.name,
        criterion.max_value,
        criterion.kind,
        criterion.aggregation,
        criterion.step,
        expected,
        trim,
        low=criterion.low_value,
        worth=criterion.worth,
        places=criterion.places,
    )


def points_of(criterion: CriterionLike) -> Decimal:
    """Return the points a criterion is worth: `worth` on a scale that is not points, else its top mark."""
    return criterion.max_value if criterion.worth is None else criterion.worth


def worth_of(criterion: CriterionLike, value: Decimal) -> Fraction:
    """Return the exact points one mark is worth (a judgement of 2 on 0–3 worth 5 points: 10/3)."""
    if criterion.worth is None:
        return Fraction(value)
    return Fraction(value) * Fraction(criterion.worth) / Fraction(criterion.max_value)


def signed_points(rows: Iterable[tuple[CriterionLike, Decimal | None]]) -> Decimal:
    """Return the points of the marks given, deductions subtracted, published to 2 places."""
    sign = {"score": 1, "deduction": -1}
    exact = sum((sign[c.kind] * worth_of(c, v) for c, v in rows if v is not None), Fraction(0))
    return scoring.publish(exact)


@dataclass(frozen=True)
class StageRow:
    """A stage as the save's tally statement reads it."""

    id: int
    key: str
    name: str
    weight: Decimal
    best: int | None = None


@dataclass(frozen=True)
class CriterionRow:
    """A criterion as the save's tally statement reads it."""

    key: str
    name: str
    max_value: Decimal
    kind: str
    aggregation: str
    step: Decimal | None
    low_value: Decimal
    worth: Decimal | None
    places: int | None


@dataclass(frozen=True)
class StageTally:
    """One stage of the judge's tally: raw points, and the stage score out of 100 once all are marked."""

    stage: StageLike
    points: Decimal
    maximum: Decimal
    score: Decimal | None  # None while a criterion of the judge is unmarked, or the stage has no score criteria
    counts: bool  # whether the stage counts in the judge's total (it has score criteria to divide by)


@dataclass(frozen=True)
class Tally:
    """The judge's tally: each stage out of 100, the weighted total out of 100 (None until complete), raw points."""

    stages: tuple[StageTally, ...]
    total: Decimal | None
    points: Decimal  # the judge's marks summed, deductions subtracted
    maximum: Decimal  # the most the judge's score criteria can give
    complete: bool  # every criterion of the judge has a mark
    in_points: bool = False  # the rules total raw points (rules.total "points"): no figure is out of 100


Line = tuple[StageLike, CriterionLike, "Decimal | None"]  # a criterion the judge marks, in scheme order, and the mark


def judge_tally(lines: list[Line], in_points: bool = False) -> Tally:
    """Score one judge's marks with the engine, as if the judge's criteria were the whole scheme.

    Each stage keeps its weight and holds the criteria this judge marks; the engine aggregates the
    single marks, scores each stage out of 100, weights the exact stage scores and publishes the
    figures rounded half up to 2 places, as the results do. A stage where the judge marks only
    deductions has nothing to divide by: it shows raw points and does not count in the total.
    """
    grouped: dict[int, tuple[StageLike, list[tuple[CriterionLike, Decimal | None]]]] = {}
    for stage, criterion, value in lines:
        grouped.setdefault(stage.id, (stage, []))[1].append((criterion, value))
    scheme_stages, summaries, shown = [], {}, []
    for stage, rows in grouped.values():
        points = signed_points(_counted(rows, stage.best))
        tops = sorted((points_of(c) for c, _v in rows if c.kind == "score"), reverse=True)
        maximum = sum(tops[: stage.best] if stage.best else tops, Decimal(0))
        shown.append((stage, points, maximum))
        if maximum <= 0:
            continue
        criteria = []
        for c, value in rows:
            key = f"{stage.key}.{c.key}"
            criteria.append(rule(key, c))
            if value is not None:
                summaries[("sheet", key)] = scoring.MarkSummary.of([value])
        scheme_stages.append(scoring.Stage(stage.key, stage.name, stage.weight, tuple(criteria), stage.best))
    scored: scoring.EntrantResult | None = None
    if scheme_stages and any(s.weight > 0 for s in scheme_stages):
        scheme = scoring.Scheme(tuple(scheme_stages))
        prepared = scoring.plan(scheme, in_points)
        scored = scoring.entrant_result(scoring.Entrant("sheet", "ok"), scheme, summaries, prepared)
    figures = scored.stages if scored else {}
    return Tally(
        tuple(StageTally(s, p, m, figures.get(s.key), m > 0) for s, p, m in shown),
        scored.total if scored else None,
        sum((p for _s, p, _m in shown), Decimal(0)),
        sum((m for _s, _p, m in shown), Decimal(0)),
        all(v is not None for _s, _c, v in lines),
        in_points,
    )


def _counted(rows: list[tuple[CriterionLike, Decimal | None]], best: int | None) -> list:
    """Return the rows whose points count: in a stage of attempts only the best `best` marked ones, deductions all."""
    if not best:
        return rows
    marked = sorted(
        ((c, v) for c, v in rows if c.kind == "score" and v is not None), key=lambda r: worth_of(*r), reverse=True
    )
    return marked[:best] + [(c, v) for c, v in rows if c.kind != "score"]


def statement(*before: sa.ColumnElement) -> sa.Select:
    """Build the tally's query, one row per criterion of the judge; `before` are columns read ahead of them.

    Bound parameters: "tally_competition", "tally_judge" and "tally_entrant" (no column's name: the statement
    can follow a data-modifying WITH whose UPDATE would take such a name for a column to SET). `rows_tally`
    scores its rows.
    """
    judge_id: sa.BindParameter[int] = sa.bindparam("tally_judge", type_=sa.Integer)
    return (
        sa.select(
            *before,
            Criterion.id,
            Competition.rules,
            Stage.id,
            Stage.key,
            Stage.name,
            Stage.weight,
            Stage.best,
            Criterion.key,
            Criterion.name,
            Criterion.max_value,
            Criterion.kind,
            Criterion.aggregation,
            Criterion.step,
            Criterion.low_value,
            Criterion.worth,
            Criterion.places,
            Mark.value_cents,
            NotTaken.id,
        )
        .select_from(JudgeAssignment)
        .join(Competition, Competition.id == JudgeAssignment.competition_id)
        .join(JudgeCriterion, JudgeCriterion.assignment_id == JudgeAssignment.id)
        .join(Criterion, Criterion.id == JudgeCriterion.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .outerjoin(
            Mark,
            sa.and_(
                Mark.entrant_id == sa.bindparam("tally_entrant", type_=sa.Integer),
                Mark.judge_id == judge_id,
                Mark.criterion_id == Criterion.id,
            ),
        )
        .outerjoin(
            NotTaken,
            sa.and_(
                NotTaken.entrant_id == sa.bindparam("tally_entrant", type_=sa.Integer),
                NotTaken.criterion_id == Criterion.id,
            ),
        )
        .where(JudgeAssignment.competition_id == sa.bindparam("tally_competition", type_=sa.Integer))
        .where(JudgeAssignment.user_id == judge_id)
        .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
    )


_READ = statement()  # built once: the save's hot path


def read(competition_id: int, judge_id: int, entrant_id: int) -> Tally:
    """Read and score the judge's marks of the entrant as the session sees them now (one statement)."""
    params = {"tally_competition": competition_id, "tally_judge": judge_id, "tally_entrant": entrant_id}
    return rows_tally(db.session.connection().execute(_READ, params))  # columns only: no ORM loading


def rows_tally(rows: Iterable[Sequence], written: tuple[int, int] | None = None) -> Tally:
    """Score the rows of `statement` (from its own columns on); `written` is a (criterion id, cents) that
    stands for what the rows hold of that criterion (a mark written by the same statement, unseen by it)."""
    stages: dict[int, StageRow] = {}
    lines: list[Line] = []
    rules: dict | None = None
    for criterion_id, read_rules, sid, skey, sname, weight, best, *criterion, cents, skipped in rows:
        rules = read_rules  # the competition's, the same on every row
        if written is not None and criterion_id == written[0]:
            cents = written[1]
        if skipped is not None and cents is None:
            continue  # an attempt not taken: nothing to mark, nothing to wait for
        stage = stages.get(sid) or stages.setdefault(sid, StageRow(sid, skey, sname, weight, best))
        value = None if cents is None else Decimal(cents).scaleb(-2)
        lines.append((stage, CriterionRow(*criterion), value))
    return judge_tally(lines, in_points(rules))


def in_points(rules: dict | None) -> bool:
    """Tell whether a competition's rules total raw points rather than a weighted score out of 100."""
    return (rules or {}).get("total") == "points"
