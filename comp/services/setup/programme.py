"""Each entrant's declared programme: the factor a factored criterion's score is multiplied by.

A dive's degree of difficulty (3.4 for dive 5154B) or an element's base value is declared before
judging, one per entrant and factored criterion, with an optional label (what is performed, as the
sport writes it). `grid` gives the organizer's table of them; `save` checks every cell of it, then
writes every change in one transaction, bumps the competition's version and audits once. An entrant
without a factor on a factored criterion stays unranked until it is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import groupby

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from comp.converters import has_control_characters
from comp.extensions import db
from comp.models import Competition, Criterion, Entrant, ProgrammeItem, Stage, User
from comp.models.competition import FINAL_STATES
from comp.models.types import plain
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.setup import SetupError, lifecycle, parse_decimal

# Entrants that hold no place, and so declare nothing: a withdrawn or rejected registration.
NOT_COUNTING = ("withdrawn", "rejected")
LABEL_LENGTH = 16  # ProgrammeItem.label
LIMIT = Decimal(1_000_000)
THOUSANDTHS = Decimal(1000)

Cell = tuple[int, int]  # (entrant id, criterion id)
Declared = tuple[Decimal, str]  # (factor, label)


@dataclass(frozen=True)
class Grid:
    """The factored criteria in scheme order, the entrants that count and what each has declared."""

    criteria: tuple[Criterion, ...]
    entrants: tuple[Entrant, ...]
    declared: dict[Cell, Declared]
    editable: bool

    @property
    def stages(self) -> list[tuple[Stage, int]]:
        """Return each stage of the factored criteria with how many it has, in order: the table's column groups."""
        return [(stage, len(list(group))) for stage, group in groupby(self.criteria, key=lambda c: c.stage)]

    def missing(self, entrant_id: int) -> int:
        """Count the factored criteria the entrant has declared no factor for: while any, they are not ranked."""
        return sum((entrant_id, c.id) not in self.declared for c in self.criteria)

    @property
    def complete(self) -> int:
        """Count the entrants who have declared every factor."""
        return sum(not self.missing(e.id) for e in self.entrants)


class ProgrammeProblems(SetupError):
    """Refused cells: `problems` maps each input to a sentence naming entrant and criterion, `cells` to a short one."""

    def __init__(self, problems: dict[str, str], cells: dict[str, str]):
        super().__init__(problems)
        self.cells = cells


def field_name(part: str, entrant_id: int, criterion_id: int) -> str:
    """Return the name of a cell's input: part is "factor" or "label"."""
    return f"{part}-{entrant_id}-{criterion_id}"


def editable(competition: Competition) -> bool:
    """Tell whether the programme may still change: not once the scores are locked."""
    return competition.status not in FINAL_STATES


def factored_criteria(competition: Competition) -> list[Criterion]:
    """Return the competition's factored criteria in scheme order, each with its stage loaded."""
    return list(
        db.session.scalars(
            sa.select(Criterion)
            .join(Stage, Stage.id == Criterion.stage_id)
            .where(Stage.competition_id == competition.id, Criterion.factored.is_(True))
            .options(so.contains_eager(Criterion.stage))
            .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
        )
    )


def _entrants(competition: Competition) -> list[Entrant]:
    """Return the entrants that count, by number (those without one last), then ref."""
    return list(
        db.session.scalars(
            sa.select(Entrant)
            .where(Entrant.competition_id == competition.id, Entrant.status.not_in(NOT_COUNTING))
            .order_by(Entrant.number.is_(None), Entrant.number, Entrant.ref)
        )
    )


def _items(competition: Competition, criteria: list[Criterion]) -> dict[Cell, ProgrammeItem]:
    """Return the declared items of the competition's factored criteria, by cell."""
    if not criteria:
        return {}
    items = db.session.scalars(
        sa.select(ProgrammeItem)
        .join(Entrant, Entrant.id == ProgrammeItem.entrant_id)
        .where(Entrant.competition_id == competition.id, ProgrammeItem.criterion_id.in_([c.id for c in criteria]))
    )
    return {(item.entrant_id, item.criterion_id): item for item in items}


def grid(competition: Competition) -> Grid:
    """Return the organizer's programme table: factored criteria, counting entrants, their declared cells."""
    criteria = factored_criteria(competition)
    entrants = _entrants(competition) if criteria else []
    declared = {cell: (item.factor, item.label) for cell, item in _items(competition, criteria).items()}
    return Grid(tuple(criteria), tuple(entrants), declared, editable(competition))


# ---------------------------------------------------------------- checking one cell


Problem = tuple[str, str]  # (in full, for the summary above the table; short, beside the input)


def _factor_problem(text: str) -> tuple[Decimal | None, Problem | None]:
    """Return the factor the text holds (None when empty), or what is wrong with it."""
    if not text:
        return None, None
    number = parse_decimal(text)
    if number is None:
        return None, (_("the factor “%(value)s” is not a number", value=text), _("not a number"))
    if number <= 0:
        return None, (_("the factor must be greater than 0, not %(value)s", value=text), _("must be above 0"))
    if number >= LIMIT:
        return None, (
            _("the factor %(value)s is too large: it must be below 1000000", value=text),
            _("must be below 1000000"),
        )
    if number * THOUSANDTHS != (number * THOUSANDTHS).to_integral_value():
        return None, (
            _("the factor %(value)s has more than 3 decimal places", value=text),
            _("at most 3 decimals"),
        )
    return number, None


def _label_problem(label: str, factor_given: bool) -> Problem | None:
    """Return what is wrong with the label, or None."""
    if has_control_characters(label):
        return _("the label contains control characters"), _("control characters")
    if len(label) > LABEL_LENGTH:
        return (
            _("the label has %(n)s characters; at most %(limit)s", n=len(label), limit=LABEL_LENGTH),
            _("at most %(limit)s characters", limit=LABEL_LENGTH),
        )
    if label and not factor_given:
        return _("a label needs a factor: give the factor or clear the label"), _("needs a factor")
    return None


def _who(entrant: Entrant) -> str:
    return f"{entrant.number or entrant.ref} {entrant.name}"


def _what(criterion: Criterion) -> str:
    return f"{criterion.stage.name} {criterion.name}"


@dataclass
class _Checked:
    """The cells read so far: what each will hold, and the problems found."""

    wanted: dict[Cell, Declared | None]
    problems: dict[str, str]
    cells: dict[str, str]

    def refuse(self, field: str, entrant: Entrant, criterion: Criterion, problem: Problem) -> None:
        """Note a problem of one input: in full, naming entrant and criterion, for the summary; short for its cell."""
        full, self.cells[field] = problem
        self.problems[field] = _(
            "%(entrant)s · %(criterion)s: %(problem)s", entrant=_who(entrant), criterion=_what(criterion), problem=full
        )


def _check_cell(checked: _Checked, entrant: Entrant, criterion: Criterion, texts: tuple[str, str]) -> None:
    """Read one cell's factor and label into `checked`."""
    factor_text, label = ((text or "").strip() for text in texts)
    factor, factor_problem = _factor_problem(factor_text)
    label_problem = _label_problem(label, bool(factor_text))
    if factor_problem:
        checked.refuse(field_name("factor", entrant.id, criterion.id), entrant, criterion, factor_problem)
    if label_problem:
        checked.refuse(field_name("label", entrant.id, criterion.id), entrant, criterion, label_problem)
    if not (factor_problem or label_problem):
        checked.wanted[(entrant.id, criterion.id)] = None if factor is None else (factor, label)


# ---------------------------------------------------------------- saving


@dataclass(frozen=True)
class _Scope:
    """The cells a save may touch: the counting entrants and the factored criteria, in table order."""

    entrants: dict[int, Entrant]
    criteria: dict[int, Criterion]

    @classmethod
    def of(cls, competition: Competition) -> _Scope:
        """Load the competition's counting entrants and factored criteria."""
        criteria = {c.id: c for c in factored_criteria(competition)}
        return cls({e.id: e for e in _entrants(competition)} if criteria else {}, criteria)

    def order(self, cell: Cell) -> tuple[int, int]:
        """Return where the cell sits in the table (row, column), so the summary reads row by row."""
        return self._rows[cell[0]], self._columns[cell[1]]

    @cached_property
    def _rows(self) -> dict[int, int]:
        return {entrant_id: row for row, entrant_id in enumerate(self.entrants)}

    @cached_property
    def _columns(self) -> dict[int, int]:
        return {criterion_id: column for column, criterion_id in enumerate(self.criteria)}

    def names(self, cell: Cell) -> dict[str, str]:
        """Return the cell's entrant ref and criterion key, as the audit trail names them."""
        return {"entrant": self.entrants[cell[0]].ref, "criterion": self.criteria[cell[1]].path}


def _check_all(scope: _Scope, values: dict[Cell, tuple[str, str]]) -> dict[Cell, Declared | None]:
    """Return what each posted cell will hold, or refuse: a cell outside the table, else every problem at once."""
    if any(e not in scope.entrants or c not in scope.criteria for e, c in values):
        raise ServiceError(
            _("The form names an entrant or criterion outside this programme; nothing was saved. Reload the page.")
        )
    checked = _Checked({}, {}, {})
    for entrant_id, criterion_id in sorted(values, key=scope.order):
        texts = values[(entrant_id, criterion_id)]
        _check_cell(checked, scope.entrants[entrant_id], scope.criteria[criterion_id], texts)
    if checked.problems:
        raise ProgrammeProblems(checked.problems, checked.cells)
    return checked.wanted


def _as_text(declared: Declared | None) -> dict[str, str] | None:
    return None if declared is None else {"factor": plain(declared[0]), "label": declared[1]}


def _changes(competition: Competition, scope: _Scope, wanted: dict[Cell, Declared | None]) -> list[tuple]:
    """Return (cell, its item or None, old, new) for each cell whose factor or label changes."""
    items = _items(competition, list(scope.criteria.values()))
    found = []
    for cell, new in wanted.items():
        item = items.get(cell)
        old = None if item is None else (item.factor, item.label)
        if old != new:  # Decimal equality: 3.40 is 3.4
            found.append((cell, item, old, new))
    return found


def _apply(cell: Cell, item: ProgrammeItem | None, new: Declared | None) -> None:
    """Write one cell: add, change or delete its programme item."""
    if new is None:
        if item is not None:
            db.session.delete(item)
    elif item is None:
        db.session.add(ProgrammeItem(entrant_id=cell[0], criterion_id=cell[1], factor=new[0], label=new[1]))
    else:
        item.factor, item.label = new


def save(competition: Competition, actor: User | None, values: dict[Cell, tuple[str, str]]) -> int:
    """Check every (factor text, label text) cell, then write the changed ones in one transaction; return how many.

    An empty factor declares none (the cell's item is deleted). Any problem refuses the whole grid.
    """
    if not editable(competition):
        raise ServiceError(_("The programme cannot change once the scores are locked."))
    scope = _Scope.of(competition)
    changes = _changes(competition, scope, _check_all(scope, values))
    if changes:
        try:
            _write(competition, actor, scope, changes)
        except sa.exc.IntegrityError:  # another organizer declared the same cell in the meantime
            raise ServiceError(
                _("Someone else changed the programme meanwhile. Reload the page and enter your changes again.")
            ) from None
    return len(changes)


def _write(competition: Competition, actor: User | None, scope: _Scope, changes: list[tuple]) -> None:
    """Write the changed cells, bump the competition's version and audit them, in one transaction."""
    with transaction():
        for cell, item, _old, new in changes:
            _apply(cell, item, new)
        db.session.flush()
        lifecycle.touch(competition)  # a factor moves the entrant's score
        audit.record(
            "programme.saved",
            actor,
            competition,
            competition,
            changed=len(changes),
            cells=[{**scope.names(cell), "old": _as_text(old), "new": _as_text(new)} for cell, _i, old, new in changes],
        )
