"""Judges' marks: who may mark what, saving a mark as a versioned upsert, and the sign-off.

A mark is saved with the version the tablet last saw; a save based on an older version is
refused with the newer value, so two tablets (or a reopened sheet) never overwrite each
other silently. Every change appends a MarkChange, which is also what tells the live board it moved
(no save writes the competition row, which every save would otherwise queue on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from sqlalchemy.engine import CursorResult

from comp import metrics, scoring
from comp.extensions import db
from comp.labels import status_label
from comp.models import (
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    JudgeCriterion,
    Mark,
    MarkChange,
    NotTaken,
    SheetSignoff,
    Stage,
    User,
    UserSession,
)
from comp.models.judging import MARK_SCALE
from comp.models.types import plain, utcnow
from comp.services import ServiceError, transaction
from comp.services.accounts import sessions
from comp.services.common import audit, wording
from comp.services.judging import tally
from comp.services.judging.recusal import is_recused, recused_given

# Digits with an optional decimal part: no sign, exponent ("1e2"), "NaN" or thousands separator.
PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
OPEN_STATES = ("draft", "open", "closed")


class MarkRefused(ServiceError):
    """A typed value the rules refuse; nothing was written."""


class StaleMark(ServiceError):
    """A save based on an old version: a newer value was saved first."""

    def __init__(self, value: Decimal | None, version: int):
        super().__init__(
            _(
                "A newer value was saved meanwhile: %(value)s (version %(version)s).",
                value=plain(value) if value is not None else "—",
                version=version,
            )
        )
        self.value = value
        self.version = version


def assignment_of(judge: User, competition: Competition) -> JudgeAssignment | None:
    """Return the judge's seat on the competition's panel, if any."""
    return db.session.scalar(
        sa.select(JudgeAssignment).where(
            JudgeAssignment.competition_id == competition.id, JudgeAssignment.user_id == judge.id
        )
    )


def judge_criteria(assignment: JudgeAssignment) -> list[Criterion]:
    """Return the criteria the judge marks, in the order of the scheme."""
    return list(
        db.session.scalars(
            sa.select(Criterion)
            .join(JudgeCriterion, JudgeCriterion.criterion_id == Criterion.id)
            .join(Criterion.stage)
            .options(so.contains_eager(Criterion.stage))  # each row's stage in the same statement
            .where(JudgeCriterion.assignment_id == assignment.id)
            .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
        )
    )


def check_can_mark(judge: User, entrant: Entrant, criterion: Criterion | None = None) -> None:
    """Raise PermissionError unless the judge sits on the panel, marks the criterion, is not recused."""
    query = sa.select(JudgeAssignment.id).where(
        JudgeAssignment.competition_id == entrant.competition_id, JudgeAssignment.user_id == judge.id
    )
    if criterion is not None:
        query = query.join(JudgeCriterion, JudgeCriterion.assignment_id == JudgeAssignment.id).where(
            JudgeCriterion.criterion_id == criterion.id
        )
    if db.session.scalar(query) is None:
        raise PermissionError("the judge is not on the panel or does not mark this criterion")
    if is_recused(judge, entrant):
        raise PermissionError("the judge is recused from this entrant")


def closed_reason(
    competition: Competition, entrant: Entrant | None = None, signoff: SheetSignoff | None = None
) -> str | None:
    """Say why marks cannot be entered now, or None when they can."""
    return _closed(competition.status, entrant.status if entrant else None, signoff is not None)


def _closed(status: str, entrant_status: str | None, signed: bool) -> str | None:
    if status in OPEN_STATES:
        return _("Marking starts when the competition is running (now: %(state)s).", state=status_label(status))
    if status != "running":
        return _("The scores are locked (%(state)s): marks can no longer change.", state=status_label(status))
    if entrant_status is not None and entrant_status != "ok":
        return _("This entrant is not checked in: there is nothing to mark.")
    if signed:
        return _("You signed this sheet. Only the chief judge can reopen it.")
    return None


def signoff_of(judge: User, entrant: Entrant) -> SheetSignoff | None:
    """Return the judge's signature on the entrant's sheet, if signed."""
    return db.session.scalar(
        sa.select(SheetSignoff).where(SheetSignoff.entrant_id == entrant.id, SheetSignoff.judge_id == judge.id)
    )


def current_mark(judge: User, entrant: Entrant, criterion: Criterion) -> Mark | None:
    """Return the judge's mark for the entrant on the criterion, if any."""
    return db.session.scalar(
        sa.select(Mark).where(
            Mark.entrant_id == entrant.id, Mark.judge_id == judge.id, Mark.criterion_id == criterion.id
        )
    )


def parse_value(criterion: Criterion, raw: str | None) -> Decimal:
    """Parse a typed mark; refuse — never clamp or round — anything the rules do not accept."""
    text = (raw or "").strip()
    if not text:
        raise MarkRefused(_("Enter a mark."))
    negative = text.startswith("-") and PLAIN_NUMBER.fullmatch(text[1:]) is not None
    if negative and criterion.low_value >= 0:
        below = wording.message("below_minimum", {"value": text, "min": plain(criterion.low_value)})
        raise MarkRefused(_("%(problem)s.", problem=below))
    if not negative and not PLAIN_NUMBER.fullmatch(text):
        raise MarkRefused(
            _("“%(value)s” is not a number: type digits and at most one decimal point, e.g. 35.5.", value=text)
        )
    try:
        return scoring.parse_mark(tally.rule(criterion.key, criterion), text)
    except scoring.MarkError as error:
        raise MarkRefused(_("%(problem)s.", problem=wording.message(error.code, error.params))) from None


@dataclass(frozen=True)
class Saved:
    """A saved mark as the tablet's answer renders it: its criterion, the mark, the judge's tally with it."""

    criterion: Criterion
    mark: Mark
    tally: tally.Tally | None = None


class _EntrantRef(NamedTuple):
    """What a save needs of the entrant: its id, and whether it is checked in."""

    id: int
    status: str


@dataclass
class _Context:
    """Everything one save checks, read in one query: the competition, the panel, the sheet, the mark.

    The entrant is its id and status; the criterion and the mark are built from the row's columns
    as plain (transient) objects, never loaded into the session: the answer is rendered from them
    and the unit of work has nothing to track.
    """

    competition_id: int
    competition_status: str
    on_panel: bool
    entrant: _EntrantRef | None
    criterion: Criterion | None
    marks_it: bool
    recused: bool
    signed: bool
    mark: Mark | None


# The columns a save reads of the criterion and the mark (the row template, the rules, the write).
_CRITERION_COLUMNS = (
    "id",
    "stage_id",
    "key",
    "name",
    "max_value",
    "kind",
    "aggregation",
    "step",
    "fixed_scale",
    "low_value",
    "worth",
    "places",
)
_MARK_COLUMNS = ("id", "value_cents", "version", "updated_at")


def _context_columns(judge_id: sa.ColumnElement[int], org_unit_id: sa.ColumnElement[int]) -> tuple:
    """Return the columns of a save's context, for the judge given as columns or bound parameters."""
    own = sa.and_(JudgeAssignment.competition_id == Competition.id, JudgeAssignment.user_id == judge_id)
    on_panel = sa.select(JudgeAssignment.id).where(own).exists()
    marks_it = (
        sa.select(JudgeCriterion.id)
        .join(JudgeAssignment, JudgeAssignment.id == JudgeCriterion.assignment_id)
        .where(own, JudgeCriterion.criterion_id == Criterion.id)
        .exists()
    )
    signed = sa.select(SheetSignoff.id).where(SheetSignoff.entrant_id == Entrant.id, SheetSignoff.judge_id == judge_id)
    return (
        Competition.id,
        Competition.status,
        on_panel,
        Entrant.id,
        Entrant.status,
        marks_it,
        recused_given(judge_id, org_unit_id),
        signed.exists(),
        *(getattr(Criterion, name) for name in _CRITERION_COLUMNS),
        *(getattr(Mark, name) for name in _MARK_COLUMNS),
    )


def _context_joins(query: sa.Select, judge_id: sa.ColumnElement[int], entrant: sa.ColumnElement[bool]) -> sa.Select:
    """Join the entrant, the criterion (of the competition) and the judge's mark to a query of `Competition`."""
    stages = sa.select(Stage.id).where(Stage.competition_id == Competition.id)
    criterion_id: sa.BindParameter[int] = sa.bindparam("criterion_id", type_=sa.Integer)
    return (
        query.outerjoin(Entrant, sa.and_(Entrant.competition_id == Competition.id, entrant))
        .outerjoin(Criterion, sa.and_(Criterion.id == criterion_id, Criterion.stage_id.in_(stages)))
        .outerjoin(
            Mark,
            sa.and_(Mark.entrant_id == Entrant.id, Mark.judge_id == judge_id, Mark.criterion_id == Criterion.id),
        )
    )


def _context_statement(competition: sa.ColumnElement[bool], entrant: sa.ColumnElement[bool]) -> sa.Select:
    """Build the one query a save reads its context with; the judge and the criterion are bound parameters."""
    judge_id: sa.BindParameter[int] = sa.bindparam("judge_id", type_=sa.Integer)
    org_unit_id: sa.BindParameter[int] = sa.bindparam("org_unit_id", type_=sa.Integer)
    query = sa.select(*_context_columns(judge_id, org_unit_id)).select_from(Competition)
    return _context_joins(query, judge_id, entrant).where(competition)


def _session_statement() -> sa.Select:
    """Build the tablet's save query: the login (a live session and its user) and the save's context, in one.

    A row for every live session: its user and, when the competition with the code exists, the context
    as `_context_statement` reads it for that user. No row: the token is no live session.
    """
    query = (
        sa.select(
            *(getattr(User, name) for name in sessions.USER_COLUMNS),
            UserSession.id,
            UserSession.last_seen_at,
            *_context_columns(User.id.expression, cast(sa.ColumnElement[int], User.org_unit_id.expression)),
        )
        .select_from(UserSession)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Competition, Competition.code == sa.bindparam("code", type_=sa.String))
    )
    entrant = Entrant.secret_code == sa.bindparam("secret", type_=sa.String)
    return _context_joins(query, User.id.expression, entrant).where(*sessions.live_conditions())


# Built once: a save is the judging day's hot path, and building the expression costs more than running it.
_BY_SECRET = _context_statement(Competition.code == sa.bindparam("code"), Entrant.secret_code == sa.bindparam("secret"))
_BY_ID = _context_statement(Competition.id == sa.bindparam("competition"), Entrant.id == sa.bindparam("entrant"))
_BY_SESSION = _session_statement()
_CRITERION_AT = 8  # where the criterion's columns start in a context's columns
_MARK_AT = _CRITERION_AT + len(_CRITERION_COLUMNS)
_LOGIN_COLUMNS = len(sessions.USER_COLUMNS) + 2  # the user, the session's id and last-seen time


def _context(judge: User, statement: sa.Select, criterion_id: int, **where: object) -> _Context | None:
    """Read the save's context (one statement, on the session's connection: no ORM loading)."""
    params = {"judge_id": judge.id, "org_unit_id": judge.org_unit_id, "criterion_id": criterion_id, **where}
    row = db.session.connection().execute(statement, params).first()
    return None if row is None else _context_of(judge.id, tuple(row))


def _context_of(judge_id: int, row: tuple) -> _Context | None:
    """Build a save's context from its columns; None when the competition is not there."""
    competition_id, status, on_panel, entrant_id, entrant_status, marks_it, recused, signed = row[:_CRITERION_AT]
    if competition_id is None:
        return None
    entrant = _EntrantRef(entrant_id, entrant_status) if entrant_id is not None else None
    criterion = mark = None
    if row[_CRITERION_AT] is not None:
        criterion = Criterion(**dict(zip(_CRITERION_COLUMNS, row[_CRITERION_AT:_MARK_AT], strict=True)))
        if row[_MARK_AT] is not None and entrant is not None:
            mark = Mark(
                competition_id=competition_id,
                entrant_id=entrant.id,
                judge_id=judge_id,
                criterion_id=criterion.id,
                **dict(zip(_MARK_COLUMNS, row[_MARK_AT:], strict=True)),
            )
    return _Context(competition_id, status, on_panel, entrant, criterion, marks_it, recused, signed, mark)


@dataclass(frozen=True)
class Opened:
    """A tablet's save as its one statement read it: the judge logged in, and the save's context (None: no
    such competition)."""

    judge: User
    context: _Context | None


def open_save(token: str | None, code: str, secret: str, criterion_id: int) -> Opened | None:
    """Read the login of the session `token` and the context of the save it asks for, in one statement.

    None when the token is no live session (the caller answers as for a visitor not logged in). The
    judge is put in the session as if the login had loaded them (`sessions.adopt`).
    """
    login = sessions.login_parameters(token)
    if login is None or token is None:
        return None
    params = {**login, "code": code, "secret": secret, "criterion_id": criterion_id}
    row = db.session.connection().execute(_BY_SESSION, params).first()
    if row is None:
        return None
    values = dict(zip(sessions.USER_COLUMNS, row, strict=False))
    session_id, seen = row[_LOGIN_COLUMNS - 2], row[_LOGIN_COLUMNS - 1]
    judge = sessions.adopt(values, token, session_id, seen, login["now"])
    return Opened(judge, _context_of(judge.id, tuple(row[_LOGIN_COLUMNS:])))


def save_opened(
    opened: Opened,
    raw_value: str | None,
    seen_version: int,
    tablet_session: str | None,
    reason: str | None = None,
) -> Saved:
    """Save the mark of a save `open_save` read: with the login, two statements on PostgreSQL, four on SQLite.

    LookupError when the competition, entrant or criterion is not there (404); PermissionError when the
    judge may not mark it (403); MarkRefused, StaleMark or ServiceError otherwise.
    """
    judge, context = opened.judge, opened.context
    if context is None:
        raise LookupError("no such competition")
    if judge.role != "judge" or not context.on_panel:
        raise PermissionError("the judge is not on the panel")
    return _save(judge, context, raw_value, seen_version, tablet_session, reason, answer=True)


def save(
    judge: User,
    code: str,
    secret: str,
    criterion_id: int,
    raw_value: str | None,
    seen_version: int,
    tablet_session: str | None,
    reason: str | None = None,
) -> Saved:
    """Save a judge's mark typed on the sheet of the entrant with this secret code, the judge given.

    The statements: the context, the versioned write with its MarkChange (one statement on
    PostgreSQL, two elsewhere), and the judge's tally of the entrant as written (read before the
    commit, so the answer needs no second connection). The tablet's save reads the login with the
    context instead (`open_save`, `save_opened`). LookupError when the competition, entrant or
    criterion is not there (404); PermissionError when the judge may not mark it (403); MarkRefused,
    StaleMark or ServiceError otherwise.
    """
    context = _context(judge, _BY_SECRET, criterion_id, code=code, secret=secret)
    if context is None:
        raise LookupError("no such competition")
    if judge.role != "judge" or not context.on_panel:
        raise PermissionError("the judge is not on the panel")
    return _save(judge, context, raw_value, seen_version, tablet_session, reason, answer=True)


def record_mark(
    judge: User,
    entrant: Entrant,
    criterion: Criterion,
    raw_value: str | None,
    seen_version: int,
    tablet_session: str | None,
    reason: str | None = None,
) -> Mark:
    """Save the judge's mark unless a newer one was saved since `seen_version`; return the mark."""
    context = _context(judge, _BY_ID, criterion.id, competition=entrant.competition_id, entrant=entrant.id)
    if context is None or not context.on_panel:
        raise PermissionError("the judge is not on the panel")
    return _save(judge, context, raw_value, seen_version, tablet_session, reason).mark


@metrics.mark_saves(stale=StaleMark, refused=(ServiceError, PermissionError, LookupError))
def _save(
    judge: User,
    context: _Context,
    raw: str | None,
    seen: int,
    source: str | None,
    reason: str | None,
    answer: bool = False,
) -> Saved:
    """Save over `seen`; with `answer`, detach what the answer renders and read the judge's tally with it."""
    entrant, criterion = context.entrant, context.criterion
    if entrant is None or criterion is None:
        raise LookupError("no such entrant or criterion in this competition")
    if not context.marks_it:
        raise PermissionError("the judge does not mark this criterion")
    if context.recused:
        raise PermissionError("the judge is recused from this entrant")
    closed = _closed(context.competition_status, entrant.status, context.signed)
    if closed:
        raise ServiceError(closed)
    cents = int(parse_value(criterion, raw) * MARK_SCALE)
    mark = context.mark
    if mark is not None and mark.version != seen:
        # An old version: a retry of this tablet's own save whose answer was lost stands as saved;
        # anything else is stale, even the same figure, and the judge sees what the server holds.
        if mark.value_cents == cents and source and _last_source(mark) == source:
            return _unchanged(context, judge, criterion, mark, answer)
        raise StaleMark(mark.value, mark.version)
    if mark is None and seen != 0:
        raise StaleMark(None, 0)
    if mark is not None and mark.value_cents == cents:
        return _unchanged(context, judge, criterion, mark, answer)  # the same value at the same version
    old = mark.value_cents if mark else None
    sheet_tally = None
    try:
        with transaction():
            change = {  # the audit row, written with the mark (see _write)
                "competition_id": context.competition_id,
                "entrant_id": entrant.id,
                "judge_id": judge.id,
                "criterion_id": criterion.id,
                "old_cents": old,
                "new_cents": cents,
                "actor_id": judge.id,
                "at": utcnow(),
                "source": source or None,
                "reason": reason,
            }
            mark, sheet_tally = _write(db.session.connection(), mark, seen, change, answer)
            if answer and sheet_tally is None:  # the answer is rendered as written, with the judge's tally
                sheet_tally = tally.read(context.competition_id, judge.id, entrant.id)
    except sa.exc.IntegrityError:
        # Another tablet saved the first mark at the same moment: its value stands.
        current = _current(judge.id, entrant.id, criterion.id)
        if current is not None and current.value_cents == cents and source and _last_source(current) == source:
            return _unchanged(context, judge, criterion, current, answer)
        raise _stale(judge.id, entrant.id, criterion.id) from None
    return Saved(criterion, mark, sheet_tally)


def _unchanged(context: _Context, judge: User, criterion: Criterion, mark: Mark, answer: bool) -> Saved:
    """Answer a save that changed nothing (the value already stands) with the mark as it is."""
    assert context.entrant is not None
    return Saved(criterion, mark, tally.read(context.competition_id, judge.id, context.entrant.id) if answer else None)


# Plain Core statements on the tables, built once: no unit of work, no ORM bookkeeping on the hot path.
# The change's values are bound as "change_<column>", and the mark's own write shares them
# ("change_new_cents" is the value written, "change_at" its time): no bound name is one of the mark's
# columns, which an UPDATE would otherwise also SET.
_MARKS = cast(sa.Table, Mark.__table__)
_CHANGES = cast(sa.Table, MarkChange.__table__)
_CHANGE_FIELDS = (
    "competition_id",
    "entrant_id",
    "judge_id",
    "criterion_id",
    "old_cents",
    "new_cents",
    "actor_id",
    "at",
    "source",
    "reason",
)
_CHANGE = sa.insert(_CHANGES).values({name: sa.bindparam(f"change_{name}") for name in _CHANGE_FIELDS})
_FIRST_MARK = (
    sa.insert(_MARKS)
    .values(
        competition_id=sa.bindparam("change_competition_id"),
        entrant_id=sa.bindparam("change_entrant_id"),
        judge_id=sa.bindparam("change_judge_id"),
        criterion_id=sa.bindparam("change_criterion_id"),
        value_cents=sa.bindparam("change_new_cents"),
        version=1,
        updated_at=sa.bindparam("change_at"),
    )
    .returning(_MARKS.c.id)
)
# The version in the WHERE clause: of two app processes saving over the same version, exactly one updates a row.
_UPDATE_MARK = (
    sa.update(_MARKS)
    .where(_MARKS.c.id == sa.bindparam("mark_id"), _MARKS.c.version == sa.bindparam("seen"))
    .values(
        value_cents=sa.bindparam("change_new_cents"),
        version=sa.bindparam("new_version"),
        updated_at=sa.bindparam("change_at"),
    )
)


def _change_insert(written: sa.CTE) -> sa.Insert:
    """Insert the MarkChange for each row the `written` CTE returns: none when the write matched no row."""
    columns = sa.select(*(sa.bindparam(f"change_{name}", type_=_CHANGES.c[name].type) for name in _CHANGE_FIELDS))
    return sa.insert(_CHANGES).from_select(_CHANGE_FIELDS, columns.select_from(written))


def _with_change(written: sa.CTE) -> sa.Insert:
    """The write and its MarkChange in one statement; the new mark's id returned (NULL after an UPDATE)."""
    return _change_insert(written).add_cte(written).returning(sa.select(written.c.id).scalar_subquery())


def _with_tally(written: sa.CTE) -> sa.Select:
    """The write, its MarkChange and the judge's tally rows in one statement.

    Each row begins with how many changes were written (0: the UPDATE matched no row at the version
    seen) and the written mark's id. The tally's rows do not see the mark written by the same statement:
    `tally.rows_tally` is told it.
    """
    changed = _change_insert(written).returning(_CHANGES.c.id).cte("changed")
    wrote = sa.select(sa.func.count()).select_from(changed).scalar_subquery()
    return tally.statement(wrote, sa.select(written.c.id).scalar_subquery()).add_cte(written, changed)


# On PostgreSQL the write, its audit row and (for the tablet's answer) the judge's tally are one
# statement: the change is inserted from the write's RETURNING (data-modifying WITHs), so a save costs
# two round trips less. SQLite has no such WITH: there they are three statements.
_FIRST_MARK_AND_CHANGE = _with_change(_FIRST_MARK.cte("written"))
_UPDATE_MARK_AND_CHANGE = _with_change(_UPDATE_MARK.returning(_MARKS.c.id).cte("written"))
_FIRST_MARK_WITH_TALLY = _with_tally(_FIRST_MARK.cte("written"))
_UPDATE_MARK_WITH_TALLY = _with_tally(_UPDATE_MARK.returning(_MARKS.c.id).cte("written"))


def _write(
    connection: sa.Connection, mark: Mark | None, seen: int, change: dict[str, Any], answer: bool = False
) -> tuple[Mark, tally.Tally | None]:
    """Insert the first mark, or update the one at version `seen`, with its MarkChange (StaleMark if not at `seen`).

    The check and the write are one step (the version in the UPDATE's WHERE). The mark returned is a
    plain object built from what was written: it is rendered, never loaded back into the session. With
    `answer`, the judge's tally as written comes with it where the same statement reads it (PostgreSQL).
    """
    bound = {f"change_{name}": value for name, value in change.items()}
    if mark is not None:
        bound |= {"mark_id": mark.id, "seen": seen, "new_version": seen + 1}
    if connection.dialect.name != "postgresql":
        return _write_apart(connection, mark, seen, change, bound), None
    sheet_tally = None
    if answer:
        params = {
            **bound,
            "tally_competition": change["competition_id"],
            "tally_judge": change["judge_id"],
            "tally_entrant": change["entrant_id"],
        }
        rows = connection.execute(_FIRST_MARK_WITH_TALLY if mark is None else _UPDATE_MARK_WITH_TALLY, params).all()
        if not rows:  # the judge left the criterion meanwhile: the transaction rolls the write back
            raise PermissionError("the judge does not mark this criterion")
        wrote, mark_id = rows[0][0], rows[0][1]
        sheet_tally = tally.rows_tally((row[2:] for row in rows), (change["criterion_id"], change["new_cents"]))
    else:
        returned = connection.execute(_FIRST_MARK_AND_CHANGE if mark is None else _UPDATE_MARK_AND_CHANGE, bound).all()
        wrote, mark_id = len(returned), returned[0][0] if returned else None  # a row for each change written
    if not wrote:
        assert mark is not None  # a first mark either inserts or fails on the unique key
        raise _stale(change["judge_id"], mark.entrant_id, mark.criterion_id)
    return _written(mark, mark_id if mark is None else mark.id, seen, change), sheet_tally


def _write_apart(connection: sa.Connection, mark: Mark | None, seen: int, change: dict[str, Any], bound: dict) -> Mark:
    """Write the mark and its MarkChange as two statements (SQLite)."""
    if mark is None:
        mark_id = connection.execute(_FIRST_MARK, bound).scalar_one()
        connection.execute(_CHANGE, bound)
        return _written(None, mark_id, seen, change)
    written = cast("CursorResult[Any]", connection.execute(_UPDATE_MARK, bound))
    if written.rowcount != 1:
        raise _stale(change["judge_id"], mark.entrant_id, mark.criterion_id)
    connection.execute(_CHANGE, bound)
    return _written(mark, mark.id, seen, change)


def _written(mark: Mark | None, mark_id: int, seen: int, change: dict[str, Any]) -> Mark:
    """Return the mark as written: the first one built, an updated one with its new value and version."""
    if mark is None:
        return Mark(
            id=mark_id,
            competition_id=change["competition_id"],
            entrant_id=change["entrant_id"],
            judge_id=change["judge_id"],
            criterion_id=change["criterion_id"],
            value_cents=change["new_cents"],
            version=1,
            updated_at=change["at"],
        )
    mark.value_cents, mark.version, mark.updated_at = change["new_cents"], seen + 1, change["at"]
    return mark


def _current(judge_id: int, entrant_id: int, criterion_id: int) -> Mark | None:
    """Return the judge's mark as the database holds it now."""
    return db.session.scalar(
        sa.select(Mark).where(
            Mark.entrant_id == entrant_id, Mark.judge_id == judge_id, Mark.criterion_id == criterion_id
        )
    )


def _stale(judge_id: int, entrant_id: int, criterion_id: int) -> StaleMark:
    """Build the refusal of a stale save from the mark as the database holds it now."""
    row = db.session.execute(
        sa.select(Mark.value_cents, Mark.version).where(
            Mark.entrant_id == entrant_id, Mark.judge_id == judge_id, Mark.criterion_id == criterion_id
        )
    ).first()
    if row is None:
        return StaleMark(None, 0)
    return StaleMark(Decimal(row.value_cents).scaleb(-2), row.version)


def _last_source(mark: Mark) -> str | None:
    """Return the tablet session that made the mark's latest change."""
    return db.session.scalar(
        sa.select(MarkChange.source)
        .where(
            MarkChange.entrant_id == mark.entrant_id,
            MarkChange.judge_id == mark.judge_id,
            MarkChange.criterion_id == mark.criterion_id,
        )
        .order_by(MarkChange.id.desc())
        .limit(1)
    )


def sign_sheet(judge: User, entrant: Entrant) -> SheetSignoff:
    """Sign the judge's finished sheet for the entrant; it is then read-only for the judge."""
    check_can_mark(judge, entrant)
    closed = closed_reason(entrant.competition, entrant, signoff_of(judge, entrant))
    if closed:
        raise ServiceError(closed)
    assignment = assignment_of(judge, entrant.competition)
    assert assignment is not None  # check_can_mark() found the judge on the panel
    criteria = judge_criteria(assignment)
    cents = dict(
        db.session.execute(
            sa.select(Mark.criterion_id, Mark.value_cents).where(
                Mark.entrant_id == entrant.id, Mark.judge_id == judge.id
            )
        ).all()
    )
    skipped = set(
        db.session.scalars(sa.select(NotTaken.criterion_id).where(NotTaken.entrant_id == entrant.id))
    )  # attempts not taken: nothing to mark
    missing = [c.name for c in criteria if c.id not in cents and c.id not in skipped]
    if missing:
        raise ServiceError(_("The sheet cannot be signed yet: no mark for %(criteria)s.", criteria=", ".join(missing)))
    try:
        with transaction():
            signoff = SheetSignoff(entrant_id=entrant.id, judge_id=judge.id)
            db.session.add(signoff)
            db.session.flush()
            audit.record(
                "sheet.signed",
                judge,
                entrant.competition,
                entrant,
                judge_id=judge.id,
                marks={c.path: plain(Decimal(cents[c.id]).scaleb(-2)) for c in criteria if c.id in cents},
            )
    except sa.exc.IntegrityError:
        raise ServiceError(_("This sheet is already signed.")) from None
    return signoff
