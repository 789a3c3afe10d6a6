"""A judge's view of the marking: the entrants to mark by secret code, and the score sheets.

Reading only; saving marks and signing sheets is comp.services.marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from comp.extensions import db
from comp.models import (
    AuditEvent,
    Competition,
    Criterion,
    Entrant,
    Mark,
    SheetSignoff,
    Stage,
    User,
)
from comp.models.types import plain
from comp.services.judging import recusal
from comp.services.judging.marks import (
    assignment_of,
    check_can_mark,
    closed_reason,
    current_mark,
    judge_criteria,
    signoff_of,
)


@dataclass(frozen=True)
class SheetRow:
    """One criterion of a judge's sheet, the judge's mark if any, and why it is read-only."""

    criterion: Criterion
    mark: Mark | None
    closed: str | None = None

    @property
    def value(self) -> Decimal | None:
        """Return the saved value."""
        return self.mark.value if self.mark else None

    @property
    def text(self) -> str:
        """Return the saved value as the judge would type it ("35.5"), or ""."""
        return plain(self.mark.value) if self.mark else ""

    @property
    def version(self) -> int:
        """Return the saved version, 0 when nothing is saved yet."""
        return self.mark.version if self.mark else 0

    @property
    def scale(self) -> list[str]:
        """Return the values a fixed-scale criterion offers as buttons, 0 to max by step."""
        step = self.criterion.step or Decimal(1)
        return [plain(step * i) for i in range(int(self.criterion.max_value // step) + 1)]


@dataclass(frozen=True)
class Sheet:
    """A judge's score sheet for one entrant, and why it is read-only, if it is."""

    competition: Competition
    entrant: Entrant
    rows: list[SheetRow]
    signoff: SheetSignoff | None
    closed: str | None
    reopened: str | None = None  # the chief judge's reason, while a reopened sheet is unsigned

    @property
    def complete(self) -> bool:
        """Tell whether every criterion of the judge has a mark."""
        return all(r.mark is not None for r in self.rows)

    @property
    def stages(self) -> list[tuple[Stage, list[SheetRow], Decimal, Decimal]]:
        """Return (stage, rows, points, maximum) per stage: score marks minus deductions."""
        out: dict[int, tuple[Stage, list[SheetRow]]] = {}
        for row in self.rows:
            out.setdefault(row.criterion.stage_id, (row.criterion.stage, []))[1].append(row)
        return [
            (
                stage,
                rows,
                _points(rows),
                sum((r.criterion.max_value for r in rows if r.criterion.kind == "score"), Decimal(0)),
            )
            for stage, rows in out.values()
        ]

    @property
    def total(self) -> tuple[Decimal, Decimal]:
        """Return the running total of the judge's marks and its maximum."""
        stages = self.stages
        return sum((s[2] for s in stages), Decimal(0)), sum((s[3] for s in stages), Decimal(0))


def _points(rows: list[SheetRow]) -> Decimal:
    sign = {"score": 1, "deduction": -1}
    return sum((sign[r.criterion.kind] * r.value for r in rows if r.value is not None), Decimal(0))


@dataclass(frozen=True)
class Progress:
    """An entrant on a judge's list: secret code only, marks given / due, signed or not."""

    entrant_id: int
    secret_code: str
    marked: int
    due: int
    signed: bool


def find_entrant(competition: Competition, secret_code: str) -> Entrant | None:
    """Return the competition's entrant with this secret code."""
    return db.session.scalar(
        sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.secret_code == secret_code)
    )


def find_criterion(competition: Competition, criterion_id: int) -> Criterion | None:
    """Return the competition's criterion with this id."""
    return db.session.scalar(
        sa.select(Criterion).join(Stage).where(Criterion.id == criterion_id, Stage.competition_id == competition.id)
    )


def progress(judge: User, competition: Competition, criteria: list[Criterion], prefix: str = "") -> list[Progress]:
    """List the checked-in entrants the judge marks (not recused), by secret code, with progress."""
    query = (
        sa.select(Entrant.id, Entrant.secret_code)
        .where(
            Entrant.competition_id == competition.id,
            Entrant.status == "ok",
            Entrant.secret_code.is_not(None),
            recusal.markable_by(judge),
        )
        .order_by(Entrant.secret_code)
    )
    if prefix:
        query = query.where(Entrant.secret_code.startswith(prefix.upper(), autoescape=True))
    counts = dict(
        db.session.execute(
            sa.select(Mark.entrant_id, sa.func.count())
            .where(
                Mark.competition_id == competition.id,
                Mark.judge_id == judge.id,
                Mark.criterion_id.in_([c.id for c in criteria]),
            )
            .group_by(Mark.entrant_id)
        ).all()
    )
    signed = set(
        db.session.scalars(
            sa.select(SheetSignoff.entrant_id)
            .join(Entrant)
            .where(Entrant.competition_id == competition.id, SheetSignoff.judge_id == judge.id)
        )
    )
    return [
        Progress(i, code, counts.get(i, 0), len(criteria), i in signed)
        for i, code in db.session.execute(query)
        if code is not None  # as the query asks: this tells the type
    ]


def overview(judge: User, competition: Competition, prefix: str = "") -> dict:
    """Return the judge's criteria and entrants in a competition, and why marking is closed."""
    assignment = assignment_of(judge, competition)
    if assignment is None:
        raise PermissionError("the user is not on this competition's panel")
    criteria = judge_criteria(assignment)
    return {
        "competition": competition,
        "assignment": assignment,
        "criteria": criteria,
        "entrants": progress(judge, competition, criteria, prefix),
        "closed": closed_reason(competition),
    }


def load_sheet(judge: User, entrant: Entrant) -> Sheet:
    """Return the judge's sheet for the entrant; PermissionError when they may not mark it."""
    check_can_mark(judge, entrant)
    assignment = assignment_of(judge, entrant.competition)
    assert assignment is not None  # check_can_mark() found the judge on the panel
    criteria = judge_criteria(assignment)
    marks = {
        m.criterion_id: m
        for m in db.session.scalars(
            sa.select(Mark).where(
                Mark.entrant_id == entrant.id,
                Mark.judge_id == judge.id,
                Mark.criterion_id.in_([c.id for c in criteria]),
            )
        )
    }
    signoff = signoff_of(judge, entrant)
    closed = closed_reason(entrant.competition, entrant, signoff)
    rows = [SheetRow(c, marks.get(c.id), closed) for c in criteria]
    reopened = None if signoff else reopen_reason(entrant, assignment.ref)
    return Sheet(entrant.competition, entrant, rows, signoff, closed, reopened)


def reopen_reason(entrant: Entrant, judge_ref: str) -> str | None:
    """Return why the chief judge last reopened this judge's sheet of the entrant, if they did."""
    # The chief's service audits "sheet.reopened" with the entrant's and the judge's refs;
    # the judge's changes afterwards carry this reason into their MarkChange rows.
    for detail in db.session.scalars(
        sa.select(AuditEvent.detail)
        .where(AuditEvent.competition_id == entrant.competition_id, AuditEvent.action == "sheet.reopened")
        .order_by(AuditEvent.id.desc())
    ):
        if detail.get("entrant") == entrant.ref and detail.get("judge") == judge_ref:
            return detail.get("reason") or None
    return None


def load_row(judge: User, entrant: Entrant, criterion: Criterion) -> SheetRow:
    """Return one row of the judge's sheet; PermissionError when they may not mark it."""
    check_can_mark(judge, entrant, criterion)
    return SheetRow(
        criterion,
        current_mark(judge, entrant, criterion),
        closed_reason(entrant.competition, entrant, signoff_of(judge, entrant)),
    )
