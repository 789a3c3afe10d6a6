"""A judge's view of the marking: the entrants to mark by secret code, the score sheets, re-mark requests.

Reading, and one verb that writes no mark: the judge's answer "my mark stands" to the chief
judge's re-mark request (`keep_mark`). Saving marks and signing sheets is comp.services.judging.marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from comp.extensions import db
from comp.models import (
    AuditEvent,
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    JudgeCriterion,
    Mark,
    MarkChange,
    NotTaken,
    RemarkRequest,
    SheetSignoff,
    Stage,
    User,
    UserSession,
)
from comp.models.types import plain, utcnow
from comp.services import ServiceError, transaction
from comp.services.accounts import sessions
from comp.services.common import audit
from comp.services.judging import recusal
from comp.services.judging.marks import (
    assignment_of,
    check_can_mark,
    closed_reason,
    current_mark,
    judge_criteria,
    signoff_of,
)
from comp.services.judging.tally import Tally, in_points, judge_tally, points_of, signed_points


@dataclass(frozen=True)
class PendingRemark:
    """A re-mark request the judge has not answered yet: by secret code only (judges never see names)."""

    id: int
    entrant_id: int
    secret_code: str
    criterion_id: int
    criterion: str  # "stage · criterion"
    note: str
    asked_at: datetime


@dataclass(frozen=True)
class SheetRow:
    """One criterion of a judge's sheet, the judge's mark if any, why it is read-only, and a re-mark request.

    A row rendered from a save carries no request: re-marking answers it (see `remarked`).
    """

    criterion: Criterion
    mark: Mark | None
    closed: str | None = None
    remark: PendingRemark | None = None
    not_taken: str | None = None  # DNS or DNI: an attempt the chief recorded as not taken, nothing to mark

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
        """Return the values a fixed-scale criterion offers as buttons, its lowest mark to its top by step."""
        step, low = self.criterion.step or Decimal(1), self.criterion.low_value
        return [plain(low + step * i) for i in range(int((self.criterion.max_value - low) // step) + 1)]


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
        """Tell whether every criterion of the judge has a mark (an attempt not taken needs none)."""
        return all(r.mark is not None or r.not_taken for r in self.rows)

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
                sum((points_of(r.criterion) for r in rows if r.criterion.kind == "score"), Decimal(0)),
            )
            for stage, rows in out.values()
        ]

    @cached_property
    def tally(self) -> Tally:
        """Return the judge's own marks scored as the rules score them: stages and total out of 100."""
        # An attempt not taken is left out, as the save's tally statement leaves it out.
        return judge_tally(
            [(row.criterion.stage, row.criterion, row.value) for row in self.rows if row.mark or not row.not_taken],
            in_points(self.competition.rules),
        )


def _points(rows: list[SheetRow]) -> Decimal:
    return signed_points((r.criterion, r.value) for r in rows)


@dataclass(frozen=True)
class Progress:
    """An entrant on a judge's list: secret code only, marks given / due, signed or not."""

    entrant_id: int
    secret_code: str
    marked: int
    due: int
    signed: bool


def find_entrant(competition: Competition, secret_code: str) -> Entrant | None:
    """Return the competition's entrant with this secret code, its `competition` set to the one given."""
    entrant = db.session.scalar(
        sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.secret_code == secret_code)
    )
    if entrant is not None:
        # Held by the entrant: the session's identity map holds objects weakly, and the caller may not.
        set_committed_value(entrant, "competition", competition)
    return entrant


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
            recusal.markable_by(judge, competition),
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
    # Attempts not taken are not due (none, unless the competition has stages where only the best count).
    skipped = dict(
        db.session.execute(
            sa.select(NotTaken.entrant_id, sa.func.count())
            .where(NotTaken.competition_id == competition.id, NotTaken.criterion_id.in_([c.id for c in criteria]))
            .group_by(NotTaken.entrant_id)
        ).all()
    )
    return [
        Progress(i, code, counts.get(i, 0), len(criteria) - skipped.get(i, 0), i in signed)
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
        "remarks": pending_remarks(judge, competition),
    }


def _next_statement() -> sa.Select:
    """Build the query of the entrant after one on a judge's list: the first unfinished sheet, else the next one."""
    judge_id = sa.bindparam("judge_id", type_=sa.Integer)
    marked = (
        sa.select(sa.func.count(Mark.id))
        .where(
            Mark.entrant_id == Entrant.id,
            Mark.judge_id == judge_id,
            Mark.criterion_id.in_(sa.bindparam("criteria", expanding=True)),
        )
        .scalar_subquery()
    )
    skipped = (
        sa.select(sa.func.count(NotTaken.id))
        .where(
            NotTaken.entrant_id == Entrant.id,
            NotTaken.criterion_id.in_(sa.bindparam("criteria", expanding=True)),
        )
        .scalar_subquery()
    )
    signed = sa.select(SheetSignoff.id).where(SheetSignoff.entrant_id == Entrant.id, SheetSignoff.judge_id == judge_id)
    later = (
        sa.select(Entrant.secret_code)
        .where(
            Entrant.competition_id == sa.bindparam("competition_id", type_=sa.Integer),
            Entrant.status == "ok",
            Entrant.secret_code > sa.bindparam("after", type_=sa.String),
            recusal.markable_given(
                judge_id,
                sa.bindparam("org_unit_id", type_=sa.Integer),
                sa.bindparam("by_employer", type_=sa.Boolean),
            ),
        )
        .order_by(Entrant.secret_code)
        .limit(1)
    )
    # In code order the first unfinished sheet is usually the very next one: the scan stops there. Both
    # candidates are read in one statement, the unfinished one first.
    unfinished = later.where(~signed.exists(), marked + skipped < sa.bindparam("due", type_=sa.Integer)).subquery()
    following = later.subquery()
    either = sa.union_all(
        sa.select(unfinished.c.secret_code, sa.literal(0).label("choice")),
        sa.select(following.c.secret_code, sa.literal(1).label("choice")),
    ).subquery()
    return sa.select(either.c.secret_code).order_by(either.c.choice).limit(1)


_NEXT = _next_statement()  # built once, as the sheet page asks on every entrant


def next_entrant(judge: User, entrant: Entrant, criteria: list[Criterion] | None = None) -> str | None:
    """Return the secret code of the entrant after this one on the judge's list, None on the last.

    The first one after it whose sheet is neither complete nor signed, else simply the next (one
    statement when the judge's `criteria` are given, as the sheet has them).
    """
    if entrant.secret_code is None:
        return None
    if criteria is None:
        assignment = assignment_of(judge, entrant.competition)
        if assignment is None:
            return None
        criteria = judge_criteria(assignment)
    params = {
        "judge_id": judge.id,
        "org_unit_id": judge.org_unit_id,
        "by_employer": recusal.by_employer(entrant.competition),
        "competition_id": entrant.competition_id,
        "after": entrant.secret_code,
        "criteria": [c.id for c in criteria],
        "due": len(criteria),
    }
    return db.session.scalar(_NEXT, params)


def load_sheet(judge: User, entrant: Entrant, remarks: bool = True) -> Sheet:
    """Return the judge's sheet for the entrant; PermissionError when they may not mark it.

    `remarks=False` leaves out the re-mark requests (the tally, refreshed after every save, shows none).
    """
    assignment = assignment_of(judge, entrant.competition)
    if assignment is None:
        raise PermissionError("the judge is not on the panel")
    if recusal.is_recused(judge, entrant):
        raise PermissionError("the judge is recused from this entrant")
    return _sheet(judge, entrant.competition, assignment, entrant, signoff_of(judge, entrant), remarks, True)


def _open_statement(judged: bool = False) -> sa.Select:
    """Build the one query the sheet page reads its context with: competition, seat, entrant, recusal, signature.

    The judge is bound ("judge_id", "org_unit_id"); or, `judged`, read with the context: a row of the live
    session ("token_hash", "now") with its user and the context for them (as marks.open_save reads a save).
    """
    judge_id: sa.ColumnElement[int] = User.id.expression if judged else sa.bindparam("judge_id", type_=sa.Integer)
    org_unit_id: sa.ColumnElement[int] = (
        User.org_unit_id.expression if judged else sa.bindparam("org_unit_id", type_=sa.Integer)  # type: ignore[assignment]
    )
    reopened = sa.select(AuditEvent.id).where(
        AuditEvent.competition_id == Competition.id, AuditEvent.action == "sheet.reopened"
    )
    context = (
        Competition,
        JudgeAssignment,
        Entrant,
        recusal.recused_given(judge_id, org_unit_id),
        SheetSignoff,
        reopened.exists(),
    )
    code = Competition.code == sa.bindparam("code", type_=sa.String)
    query: sa.Select
    if judged:
        query = (
            sa.select(User, UserSession.id, UserSession.last_seen_at, *context)
            .select_from(UserSession)
            .join(User, User.id == UserSession.user_id)
            .outerjoin(Competition, code)
            .where(*sessions.live_conditions())
        )
    else:
        query = sa.select(*context).select_from(Competition).where(code)
    return (
        query.outerjoin(
            JudgeAssignment,
            sa.and_(JudgeAssignment.competition_id == Competition.id, JudgeAssignment.user_id == judge_id),
        )
        .outerjoin(
            Entrant, sa.and_(Entrant.competition_id == Competition.id, Entrant.secret_code == sa.bindparam("secret"))
        )
        .outerjoin(SheetSignoff, sa.and_(SheetSignoff.entrant_id == Entrant.id, SheetSignoff.judge_id == judge_id))
    )


_OPEN = _open_statement()  # built once: the sheet page is the judging day's second most frequent request
_OPEN_JUDGED = _open_statement(judged=True)


def open_sheet(judge: User, code: str, secret: str, remarks: bool = True) -> Sheet:
    """Return the judge's sheet of the entrant with this secret code, reading its context in one statement.

    LookupError when the competition (or a draft, which judges do not see) or the entrant is not there (404);
    PermissionError when the user does not judge it or is recused from the entrant (403): the checks of
    `competition_for(code, "competition.judge")`, `find_entrant` and `load_sheet`, in that order.
    """
    params = {"judge_id": judge.id, "org_unit_id": judge.org_unit_id, "code": code, "secret": secret}
    row = db.session.execute(_OPEN, params).first()
    if row is None:
        raise LookupError("no such competition")
    return _opened(judge, tuple(row), remarks)


@dataclass(frozen=True)
class JudgedSheet:
    """The sheet page as read with its login: the session's user, and the sheet or why there is none."""

    user: User
    sheet: Sheet | None
    refused: type[Exception] | None  # LookupError (404) or PermissionError (403) when a judge gets no sheet


def open_judged(token: str | None, code: str, secret: str, remarks: bool = True) -> JudgedSheet | None:
    """Read the login of the session `token` with the sheet's context, in one statement (the sheet page).

    None when the token is no live session. A user who is not a judge gets neither a sheet nor a refusal:
    the caller takes the checks every page makes (`load_sheet`).
    """
    login = sessions.login_parameters(token)
    if login is None or token is None:
        return None
    row = db.session.execute(_OPEN_JUDGED, {**login, "code": code, "secret": secret}).first()
    if row is None:
        return None
    user, session_id, seen, *context = row
    user.session_token = token
    sessions.touch(session_id, seen, login["now"])
    if user.role != "judge":
        return JudgedSheet(user, None, None)
    try:
        return JudgedSheet(user, _opened(user, tuple(context), remarks), None)
    except LookupError:
        return JudgedSheet(user, None, LookupError)
    except PermissionError:
        return JudgedSheet(user, None, PermissionError)


def _opened(judge: User, row: tuple, remarks: bool) -> Sheet:
    """Check the sheet's context as `open_sheet` reads it, and build the sheet."""
    competition, assignment, entrant, recused, signoff, reopened = row
    if competition is None or competition.status == "draft":
        raise LookupError("no such competition")
    if judge.role != "judge" or assignment is None:
        raise PermissionError("the judge is not on the panel")
    if entrant is None:
        raise LookupError("no such entrant")
    if recused:
        raise PermissionError("the judge is recused from this entrant")
    set_committed_value(entrant, "competition", competition)  # held by the entrant, as find_entrant does
    return _sheet(judge, competition, assignment, entrant, signoff, remarks, reopened)


_ROWS = (  # the judge's criteria, each with its stage, the judge's mark of the entrant, and a run not taken
    sa.select(Criterion, Mark, NotTaken.reason)
    .join(JudgeCriterion, JudgeCriterion.criterion_id == Criterion.id)
    .join(Criterion.stage)
    .outerjoin(
        Mark,
        sa.and_(
            Mark.criterion_id == Criterion.id,
            Mark.entrant_id == sa.bindparam("entrant_id", type_=sa.Integer),
            Mark.judge_id == sa.bindparam("judge_id", type_=sa.Integer),
        ),
    )
    .outerjoin(
        NotTaken,
        sa.and_(
            NotTaken.criterion_id == Criterion.id,
            NotTaken.entrant_id == sa.bindparam("entrant_id", type_=sa.Integer),
        ),
    )
    .options(so.contains_eager(Criterion.stage))
    .where(JudgeCriterion.assignment_id == sa.bindparam("assignment_id", type_=sa.Integer))
    .order_by(Stage.position, Stage.id, Criterion.position, Criterion.id)
)


def _sheet(
    judge: User,
    competition: Competition,
    assignment: JudgeAssignment,
    entrant: Entrant,
    signoff: SheetSignoff | None,
    remarks: bool,
    reopened: bool,
) -> Sheet:
    """Build the sheet: the judge's criteria with their marks (one statement), re-mark requests, why it is closed."""
    params = {"entrant_id": entrant.id, "judge_id": judge.id, "assignment_id": assignment.id}
    rows_read = db.session.execute(_ROWS, params).all()
    closed = closed_reason(competition, entrant, signoff)
    asked = {r.criterion_id: r for r in pending_remarks(judge, competition, entrant)} if remarks else {}
    rows = [
        SheetRow(criterion, mark, closed or _not_taken_reason(skipped, mark), asked.get(criterion.id), skipped)
        for criterion, mark, skipped in rows_read
    ]
    # Only a sheet the chief reopened has a reason to show, and only when some sheet of the competition was.
    why = reopen_reason(entrant, assignment.ref) if reopened and signoff is None else None
    return Sheet(competition, entrant, rows, signoff, closed, why)


def _not_taken_reason(skipped: str | None, mark: Mark | None) -> str | None:
    """Say why an attempt not taken is not marked (a marked one stays open: the chief sees the conflict)."""
    if skipped is None or mark is not None:
        return None
    if skipped == "DNS":
        return _("Not taken: the entrant did not start this attempt (DNS).")
    return _("Not taken: the entrant did not improve on this attempt (DNI).")


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
    asked = pending_remarks(judge, entrant.competition, entrant, criterion)
    return SheetRow(
        criterion,
        current_mark(judge, entrant, criterion),
        closed_reason(entrant.competition, entrant, signoff_of(judge, entrant)),
        asked[0] if asked else None,
    )


# ---------------------------------------------------------------- re-mark requests


def changes_since_asked(column: sa.ColumnElement[Any] | so.QueryableAttribute[Any]) -> sa.Select:
    """Select `column` over the judge's changes of the mark a RemarkRequest row asks about, made since.

    Derived from the marks' own history, so a save writes nothing for it: the MarkChanges of the
    judge's for the entrant and criterion, later than the highest change when the chief asked.
    """
    return sa.select(column).where(
        MarkChange.competition_id == RemarkRequest.competition_id,
        MarkChange.id > RemarkRequest.after_change_id,
        MarkChange.judge_id == RemarkRequest.judge_id,
        MarkChange.entrant_id == RemarkRequest.entrant_id,
        MarkChange.criterion_id == RemarkRequest.criterion_id,
    )


def remarked() -> sa.Exists:
    """Tell, for a RemarkRequest row, whether the judge has changed the mark since it was asked."""
    return changes_since_asked(MarkChange.id).exists()


def pending() -> sa.ColumnElement[bool]:
    """Tell, for a RemarkRequest row, whether the judge has neither re-marked nor answered."""
    return sa.and_(RemarkRequest.answered_at.is_(None), ~remarked())


def _remarks_statement(by_entrant: bool, by_criterion: bool) -> sa.Select:
    """Build the query of a judge's waiting re-mark requests; competition, judge and the filters are parameters."""
    query = (
        sa.select(
            RemarkRequest.id,
            RemarkRequest.entrant_id,
            Entrant.secret_code,
            RemarkRequest.criterion_id,
            Stage.name.label("stage"),
            Criterion.name,
            RemarkRequest.note,
            RemarkRequest.asked_at,
        )
        .join(Entrant, Entrant.id == RemarkRequest.entrant_id)
        .join(Criterion, Criterion.id == RemarkRequest.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .where(
            RemarkRequest.competition_id == sa.bindparam("competition_id", type_=sa.Integer),
            RemarkRequest.judge_id == sa.bindparam("judge_id", type_=sa.Integer),
            pending(),
        )
        .order_by(RemarkRequest.asked_at, RemarkRequest.id)
    )
    if by_entrant:
        query = query.where(RemarkRequest.entrant_id == sa.bindparam("entrant_id", type_=sa.Integer))
    if by_criterion:
        query = query.where(RemarkRequest.criterion_id == sa.bindparam("criterion_id", type_=sa.Integer))
    return query


# Built once: every sheet page asks, and building the statement costs more than running it.
_REMARKS = {(e, c): _remarks_statement(e, c) for e in (False, True) for c in (False, True)}


def pending_remarks(
    judge: User, competition: Competition, entrant: Entrant | None = None, criterion: Criterion | None = None
) -> list[PendingRemark]:
    """Return the re-mark requests waiting for the judge (one query), oldest first; none unless running."""
    if competition.status != "running":
        return []
    params = {"competition_id": competition.id, "judge_id": judge.id}
    if entrant is not None:
        params["entrant_id"] = entrant.id
    if criterion is not None:
        params["criterion_id"] = criterion.id
    seen: set[tuple[int, int]] = set()
    out = []
    for row in db.session.execute(_REMARKS[(entrant is not None, criterion is not None)], params):
        if (row.entrant_id, row.criterion_id) in seen:
            continue  # asked twice about one mark: one answer serves both
        seen.add((row.entrant_id, row.criterion_id))
        code, label = row.secret_code or "—", f"{row.stage} · {row.name}"
        out.append(PendingRemark(row.id, row.entrant_id, code, row.criterion_id, label, row.note, row.asked_at))
    return out


def keep_mark(judge: User, entrant: Entrant, criterion: Criterion, seen_version: int) -> Mark:
    """Answer the chief judge's re-mark request with "my mark stands": the mark is not changed.

    The judge confirms the mark they see (`seen_version`); if it has changed meanwhile the change
    itself answered the request. Allowed while the competition runs, even on a sheet signed again.
    """
    check_can_mark(judge, entrant, criterion)
    closed = closed_reason(entrant.competition, entrant)
    if closed:
        raise ServiceError(closed)
    mark = current_mark(judge, entrant, criterion)
    requests = db.session.scalars(
        sa.select(RemarkRequest).where(
            RemarkRequest.judge_id == judge.id,
            RemarkRequest.entrant_id == entrant.id,
            RemarkRequest.criterion_id == criterion.id,
            pending(),
        )
    ).all()
    if not requests or mark is None:
        raise ServiceError(_("No re-mark request is waiting for this mark."))
    if mark.version != seen_version:
        raise ServiceError(_("Your mark has changed meanwhile: it is %(value)s now.", value=plain(mark.value)))
    ref = db.session.scalar(
        sa.select(JudgeAssignment.ref).where(
            JudgeAssignment.competition_id == entrant.competition_id, JudgeAssignment.user_id == judge.id
        )
    )
    now = utcnow()
    with transaction():
        for request in requests:
            request.answered_at, request.answer = now, "kept"
            audit.record(
                "remark.kept",
                judge,
                entrant.competition,
                request,
                entrant=entrant.ref,
                criterion=criterion.path,
                judge=ref,
                mark=plain(mark.value),
            )
    return mark
