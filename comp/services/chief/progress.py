"""Marking progress: which judge has marked which entrant on which criterion, and what is still due.

A judge is recused (回避) from an entrant of their own employer and from one they declared a
conflict with (`judging.recusal`); those cells are not due. A `single` criterion needs
one mark, whoever gives it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from comp.extensions import db
from comp.models import (
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    JudgeCriterion,
    Mark,
    NotTaken,
    SheetSignoff,
    Stage,
    User,
)
from comp.services.judging.recusal import recused_pairs

ROW_LIMIT = 200  # a console grid longer than this lists the entrants still missing marks first


@dataclass(frozen=True)
class Judge:
    """A judge on the panel."""

    id: int  # the user id, as marks refer to judges
    ref: str
    name: str
    chief: bool


@dataclass(frozen=True)
class Column:
    """One criterion as one judge marks it."""

    criterion_id: int
    criterion: str
    judge: Judge
    single: bool


@dataclass(frozen=True)
class Panel:
    """The competition's criteria, who marks each, and who may not mark whom."""

    criteria: tuple[tuple[int, str, str], ...]  # (id, "stage · criterion", aggregation)
    judges: tuple[Judge, ...]
    assigned: dict[int, tuple[Judge, ...]]
    recusals: frozenset[tuple[int, int]]  # (judge id, entrant id)
    skipped: frozenset[tuple[int, int]] = frozenset()  # (entrant id, criterion id): attempts not taken

    @property
    def columns(self) -> tuple[Column, ...]:
        """Return the grid's columns: each criterion × each judge assigned to it."""
        return tuple(
            Column(cid, label, judge, aggregation == "single")
            for cid, label, aggregation in self.criteria
            for judge in self.assigned.get(cid, ())
        )

    def recused(self, judge: Judge, entrant_id: int) -> bool:
        """Tell whether the judge may not mark this entrant."""
        return (judge.id, entrant_id) in self.recusals

    def due(self, criterion_id: int, aggregation: str, entrant_id: int) -> int:
        """Return how many marks the entrant should get on the criterion (none on an attempt not taken)."""
        if (entrant_id, criterion_id) in self.skipped:
            return 0
        free = sum(1 for j in self.assigned.get(criterion_id, ()) if not self.recused(j, entrant_id))
        return min(free, 1) if aggregation == "single" else free


@dataclass(frozen=True)
class Row:
    """One entrant's line of the grid: each cell (state, value); state marked/missing/recused/spare/skipped."""

    entrant_id: int
    ref: str
    code: str
    name: str | None
    cells: tuple[tuple[str, Decimal | None], ...]
    entered: int
    due: int
    signed: tuple[str, ...]

    @property
    def missing(self) -> int:
        """Return how many marks are still due."""
        return self.due - self.entered


@dataclass(frozen=True)
class Grid:
    """The progress grid with its totals."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    entered: int
    due: int
    hidden: int
    per_judge: tuple[tuple[Judge, int, int], ...]  # (judge, entered, due)

    @property
    def missing(self) -> int:
        """Return how many marks are still due."""
        return self.due - self.entered

    @property
    def groups(self) -> list[tuple[str, int]]:
        """Return the header over the columns: each criterion with the number of its judges."""
        spans: list[list] = []
        for column in self.columns:
            if spans and spans[-1][0] == column.criterion_id:
                spans[-1][2] += 1
            else:
                spans.append([column.criterion_id, column.criterion, 1])
        return [(label, span) for _, label, span in spans]


def load_panel(competition: Competition) -> Panel:
    """Load the criteria in scheme order, the judges and their criteria, and the recusals."""
    criteria = tuple(
        db.session.execute(
            sa.select(Criterion.id, Stage.name + " · " + Criterion.name, Criterion.aggregation)
            .join(Stage)
            .where(Stage.competition_id == competition.id)
            .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
        ).all()
    )
    judges = {
        row.id: Judge(row.id, row.ref, row.display_name, row.is_chief)
        for row in db.session.execute(
            sa.select(User.id, JudgeAssignment.ref, User.display_name, JudgeAssignment.is_chief)
            .join(User, User.id == JudgeAssignment.user_id)
            .where(JudgeAssignment.competition_id == competition.id)
            .order_by(JudgeAssignment.ref)
        )
    }
    assigned: dict[int, list[Judge]] = defaultdict(list)
    for criterion_id, user_id in db.session.execute(
        sa.select(JudgeCriterion.criterion_id, JudgeAssignment.user_id)
        .join(JudgeAssignment, JudgeAssignment.id == JudgeCriterion.assignment_id)
        .where(JudgeAssignment.competition_id == competition.id)
        .order_by(JudgeAssignment.ref)
    ):
        assigned[criterion_id].append(judges[user_id])
    return Panel(
        criteria,
        tuple(judges.values()),
        {k: tuple(v) for k, v in assigned.items()},
        frozenset(recused_pairs(competition)),
        frozenset(
            db.session.execute(
                sa.select(NotTaken.entrant_id, NotTaken.criterion_id).where(NotTaken.competition_id == competition.id)
            ).all()
        ),
    )


def _present(competition: Competition):
    """Return the checked-in entrants (status ok) by secret code."""
    return db.session.execute(
        sa.select(Entrant.id, Entrant.ref, Entrant.secret_code, Entrant.name)
        .where(Entrant.competition_id == competition.id, Entrant.status == "ok")
        .order_by(Entrant.secret_code, Entrant.ref)
    ).all()


def grid(competition: Competition, reveal: bool, panel: Panel | None = None) -> Grid:
    """Build the progress grid of the present entrants; names only when `reveal`."""
    panel = panel or load_panel(competition)
    columns = panel.columns
    marks = {
        (e, j, c): v
        for e, j, c, v in db.session.execute(
            sa.select(Mark.entrant_id, Mark.judge_id, Mark.criterion_id, Mark.value_cents).where(
                Mark.competition_id == competition.id
            )
        )
    }
    signed = defaultdict(list)
    refs = {j.id: j.ref for j in panel.judges}
    for entrant_id, judge_id in db.session.execute(
        sa.select(SheetSignoff.entrant_id, SheetSignoff.judge_id)
        .join(Entrant)
        .where(Entrant.competition_id == competition.id)
    ):
        signed[entrant_id].append(refs.get(judge_id, "?"))
    rows = [_row(panel, columns, marks, signed, entrant, reveal) for entrant in _present(competition)]
    per_judge = {j.id: [0, 0] for j in panel.judges}
    for row in rows:
        for column, (state, _) in zip(columns, row.cells):
            if state in ("marked", "missing"):
                per_judge[column.judge.id][1] += 1
                per_judge[column.judge.id][0] += state == "marked"
    shown = sorted(rows, key=lambda r: (r.missing == 0, r.code)) if len(rows) > ROW_LIMIT else rows
    return Grid(
        columns,
        tuple(shown[:ROW_LIMIT]),
        sum(r.entered for r in rows),
        sum(r.due for r in rows),
        max(0, len(rows) - ROW_LIMIT),
        tuple((j, per_judge[j.id][0], per_judge[j.id][1]) for j in panel.judges),
    )


def _row(panel: Panel, columns, marks: dict, signed: dict, entrant, reveal: bool) -> Row:
    """Build one entrant's cells and counts."""
    cells: list[tuple[str, Decimal | None]] = []
    for column in columns:
        cents = marks.get((entrant.id, column.judge.id, column.criterion_id))
        if cents is not None:
            cells.append(("marked", Decimal(cents).scaleb(-2)))
        elif (entrant.id, column.criterion_id) in panel.skipped:
            cells.append(("skipped", None))
        elif panel.recused(column.judge, entrant.id):
            cells.append(("recused", None))
        elif column.single and any(
            (entrant.id, j.id, column.criterion_id) in marks for j in panel.assigned[column.criterion_id]
        ):
            cells.append(("spare", None))  # another judge gave the single mark needed
        else:
            cells.append(("missing", None))
    entered = due = 0
    for cid, _, aggregation in panel.criteria:
        needed = panel.due(cid, aggregation, entrant.id)
        given = sum(1 for j in panel.assigned.get(cid, ()) if (entrant.id, j.id, cid) in marks)
        due, entered = due + needed, entered + min(given, needed)
    return Row(
        entrant.id,
        entrant.ref,
        entrant.secret_code or "—",
        entrant.name if reveal else None,
        tuple(cells),
        entered,
        due,
        tuple(sorted(signed.get(entrant.id, ()))),
    )


def counts(competition: Competition) -> dict[int, tuple[int, int]]:
    """Return (marks entered, marks due) for each present entrant, from counted marks only."""
    panel = load_panel(competition)
    given = defaultdict(int)
    for entrant_id, criterion_id, n in db.session.execute(
        sa.select(Mark.entrant_id, Mark.criterion_id, sa.func.count())
        .where(Mark.competition_id == competition.id)
        .group_by(Mark.entrant_id, Mark.criterion_id)
    ):
        given[(entrant_id, criterion_id)] = n
    out = {}
    for entrant in _present(competition):
        entered = due = 0
        for cid, _, aggregation in panel.criteria:
            needed = panel.due(cid, aggregation, entrant.id)
            due, entered = due + needed, entered + min(given[(entrant.id, cid)], needed)
        out[entrant.id] = (entered, due)
    return out
