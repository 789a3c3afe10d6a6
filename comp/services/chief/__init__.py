"""The chief judge's verbs: review discrepancies, ask for re-marks, reopen sheets, lock, reveal names.

Before the lock everything here speaks of entrants by secret code only (SPEC rule 10).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from comp import scoring
from comp.extensions import db
from comp.labels import status_label
from comp.models import (
    AuditEvent,
    Competition,
    Criterion,
    DiscrepancyReview,
    Entrant,
    JudgeAssignment,
    Mark,
    MarkChange,
    RemarkRequest,
    SheetSignoff,
    Stage,
    User,
)
from comp.models.competition import FINAL_STATES
from comp.models.types import utcnow
from comp.services import ServiceError, results, transaction
from comp.services.chief import attempts as chief_attempts
from comp.services.chief import progress as chief_progress
from comp.services.chief import recheck as chief_recheck
from comp.services.common import audit
from comp.services.judging import scoresheets
from comp.services.results import objections
from comp.services.setup import lifecycle

LISTED = 20  # entrants named in one refusal; the rest are counted
HISTORY = 200  # re-mark requests the console lists, newest first


@dataclass(frozen=True)
class Flag:
    """A flagged discrepancy with every judge's mark side by side, and the chief's review of it."""

    entrant_id: int
    criterion_id: int
    code: str
    name: str | None
    criterion: str
    maximum: Decimal
    spread: Decimal
    marks: tuple[tuple[str, Decimal], ...]
    state: str  # open, remark (re-mark requested), changed (marks moved since confirmed), confirmed
    note: str | None
    low: Decimal = Decimal(0)  # the lowest mark: the spread is measured on low…maximum (a signed scale, −3…+3)

    @property
    def key(self) -> str:
        """Return the flag's key in forms and page anchors."""
        return f"{self.entrant_id}-{self.criterion_id}"

    @property
    def is_open(self) -> bool:
        """Tell whether the flag still blocks the lock."""
        return self.state != "confirmed"


@dataclass(frozen=True)
class RemarkEntry:
    """One re-mark request in the console's history: who asked which judge, why, and the answer.

    `state` is "pending", "remarked" (the judge changed the mark), "kept" (the judge said the mark
    stands) or "withdrawn" (a later review of the chief made it moot); `answered_at` is when.
    """

    id: int
    entrant_id: int
    criterion_id: int
    code: str
    name: str | None
    criterion: str
    judge: str  # the judge's ref
    asked_by: str
    note: str
    asked_at: datetime
    old: Decimal | None
    new: Decimal | None  # the mark now, once answered
    state: str
    answered_at: datetime | None


@dataclass(frozen=True)
class Console:
    """Everything the chief judge's console shows."""

    competition: Competition
    revealed: bool
    grid: chief_progress.Grid
    flags: tuple[Flag, ...]
    bias: tuple[dict, ...]
    rules: scoring.Rules
    blockers: tuple[str, ...]
    judges: tuple[chief_progress.Judge, ...]
    objections: tuple
    can_amend: bool
    remarks: tuple[RemarkEntry, ...] = ()
    attempts: tuple[chief_attempts.Attempt, ...] = ()  # of the stages where only the best count
    skipped: tuple[chief_attempts.Skipped, ...] = ()  # the attempts recorded as not taken
    recheck: chief_recheck.Review | None = None  # the re-check sample (复核), once drawn

    @property
    def open_flags(self) -> int:
        """Count the discrepancies that still block the lock."""
        return sum(1 for f in self.flags if f.is_open)

    def waiting(self, flag: Flag) -> list[str]:
        """Return the refs of the judges whose re-mark of the flagged marks is still awaited."""
        return sorted(
            {
                r.judge
                for r in self.remarks
                if r.state == "pending" and (r.entrant_id, r.criterion_id) == (flag.entrant_id, flag.criterion_id)
            }
        )


def console(competition: Competition, viewer) -> Console:
    """Gather the console: progress, discrepancies, bias, lock blockers; reveal names once locked."""
    revealed = competition.status in FINAL_STATES
    if revealed:
        reveal_names(competition, viewer)
    panel = chief_progress.load_panel(competition)
    loaded, outcome = results.compute(competition)
    entrants = _entrants(competition)
    flags = _flags(competition, loaded, outcome, entrants, revealed)
    names = {j.ref: j.name for j in panel.judges}
    judges = results.document_from(competition, loaded, outcome)["judges"]
    bias = tuple(dict(j, name=names.get(j["ref"], "")) for j in judges)
    blockers = () if revealed else _blockers(outcome, flags, entrants) + tuple(chief_recheck.blockers(competition))
    return Console(
        competition,
        revealed,
        chief_progress.grid(competition, revealed, panel),
        flags,
        bias,
        loaded.rules,
        blockers,
        panel.judges,
        tuple(objections.for_competition(competition)),
        can_amend(competition),
        remark_history(competition, revealed),
        chief_attempts.attempts_of(competition),
        chief_attempts.recorded(competition, revealed),
        chief_recheck.review(competition, revealed),
    )


def stamp_of(competition: Competition) -> str:
    """Return the console's stamp (one query): the results' stamp and the competition's audit trail.

    The results' stamp (`results.stamp_of`) moves with every mark and every change of the
    competition's version; the audit trail adds what the console shows besides the figures
    (reviews, re-mark answers, sign-offs, reopened sheets, objections). A poll holding the
    current stamp is answered 204.
    """
    changes, last = results.stamp_columns()
    own = AuditEvent.competition_id == Competition.id
    count = sa.select(sa.func.count(AuditEvent.id)).where(own).scalar_subquery()
    latest = sa.select(sa.func.max(AuditEvent.id)).where(own).scalar_subquery()
    version, change_count, last_change, audited, last_event = db.session.execute(
        sa.select(Competition.version, changes, last, count, latest).where(Competition.id == competition.id)
    ).one()
    return f"{results.stamp(version, change_count, last_change)}.{audited}.{last_event or 0}"


def remark_history(competition: Competition, revealed: bool = False) -> tuple[RemarkEntry, ...]:
    """Return the competition's re-mark requests, newest first, with each judge's answer (one query)."""
    remarked_at = scoresheets.changes_since_asked(sa.func.min(MarkChange.at)).scalar_subquery()
    asker = sa.orm.aliased(User)
    rows = db.session.execute(
        sa.select(
            RemarkRequest,
            Entrant.secret_code,
            Entrant.name,
            Stage.name.label("stage"),
            Criterion.name.label("criterion"),
            JudgeAssignment.ref,
            asker.display_name.label("asker"),
            Mark.value_cents,
            remarked_at.label("remarked_at"),
        )
        .join(Entrant, Entrant.id == RemarkRequest.entrant_id)
        .join(Criterion, Criterion.id == RemarkRequest.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .outerjoin(
            JudgeAssignment,
            sa.and_(
                JudgeAssignment.competition_id == RemarkRequest.competition_id,
                JudgeAssignment.user_id == RemarkRequest.judge_id,
            ),
        )
        .outerjoin(asker, asker.id == RemarkRequest.asked_by_id)
        .outerjoin(
            Mark,
            sa.and_(
                Mark.entrant_id == RemarkRequest.entrant_id,
                Mark.judge_id == RemarkRequest.judge_id,
                Mark.criterion_id == RemarkRequest.criterion_id,
            ),
        )
        .where(RemarkRequest.competition_id == competition.id)
        .order_by(RemarkRequest.asked_at.desc(), RemarkRequest.id.desc())
        .limit(HISTORY)
    ).all()
    return tuple(_remark_entry(row, revealed) for row in rows)


def _remark_entry(row, revealed: bool) -> RemarkEntry:
    request: RemarkRequest = row.RemarkRequest
    # A change by the judge answers the request unless the judge or the chief answered it first.
    if request.answer and (row.remarked_at is None or request.answered_at <= row.remarked_at):
        state, answered_at = request.answer, request.answered_at
    elif row.remarked_at is not None:
        state, answered_at = "remarked", row.remarked_at
    else:
        state, answered_at = "pending", None
    current = None if row.value_cents is None else Decimal(row.value_cents).scaleb(-2)
    return RemarkEntry(
        request.id,
        request.entrant_id,
        request.criterion_id,
        row.secret_code or "—",
        row.name if revealed else None,
        f"{row.stage} · {row.criterion}",
        row.ref or "?",
        row.asker or "",
        request.note,
        request.asked_at,
        None if request.old_cents is None else Decimal(request.old_cents).scaleb(-2),
        current if state != "pending" else None,
        state,
        answered_at,
    )


def _entrants(competition: Competition) -> dict[str, Entrant]:
    """Return the competition's entrants by ref."""
    return {e.ref: e for e in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id))}


def _flags(competition, loaded, outcome, entrants: dict[str, Entrant], revealed: bool) -> tuple[Flag, ...]:
    """Return the flagged discrepancies with their marks and review state."""
    if not outcome.discrepancies:
        return ()
    criterion_ids = {key: cid for cid, key in loaded.criterion_keys.items()}
    marks = _marks_side_by_side(
        competition, {(entrants[d.ref].id, criterion_ids[d.criterion]) for d in outcome.discrepancies}
    )
    reviews = {
        (r.entrant_id, r.criterion_id): r
        for r in db.session.scalars(
            sa.select(DiscrepancyReview).where(DiscrepancyReview.competition_id == competition.id)
        )
    }
    still_open = {(d.ref, d.criterion) for d in results.open_discrepancies(competition, outcome)}
    flags = []
    for d in outcome.discrepancies:
        entrant, criterion = entrants[d.ref], loaded.scheme.criterion(d.criterion)
        key = (entrant.id, criterion_ids[d.criterion])
        review = reviews.get(key)
        state = "open" if review is None else review.state
        if state == "confirmed" and (d.ref, d.criterion) in still_open:
            state = "changed"
        flags.append(
            Flag(
                *key,
                entrant.secret_code or "—",
                entrant.name if revealed else None,
                _criterion_label(loaded.scheme, criterion),
                criterion.max,
                d.spread,
                tuple(marks[key]),
                state,
                review.note if review else None,
                criterion.low,
            )
        )
    return tuple(sorted(flags, key=lambda f: (not f.is_open, f.code, f.criterion)))


def _marks_side_by_side(competition: Competition, pairs: set[tuple[int, int]]) -> dict:
    """Return every judge's mark, by judge ref, for each (entrant id, criterion id) pair."""
    marks = defaultdict(list)
    for entrant_id, criterion_id, ref, cents in db.session.execute(
        sa.select(Mark.entrant_id, Mark.criterion_id, JudgeAssignment.ref, Mark.value_cents)
        .outerjoin(
            JudgeAssignment,
            sa.and_(JudgeAssignment.user_id == Mark.judge_id, JudgeAssignment.competition_id == Mark.competition_id),
        )
        .where(
            Mark.competition_id == competition.id,
            Mark.entrant_id.in_(sorted({e for e, _c in pairs})),
            Mark.criterion_id.in_(sorted({c for _e, c in pairs})),
        )
        .order_by(JudgeAssignment.ref)
    ):
        if (entrant_id, criterion_id) in pairs:
            marks[(entrant_id, criterion_id)].append((ref or "?", Decimal(cents).scaleb(-2)))
    return marks


def _criterion_label(scheme: scoring.Scheme, criterion: scoring.Criterion) -> str:
    stage = scheme.stage(criterion.stage)
    return f"{stage.name} · {criterion.name}" if stage else criterion.name


def _blockers(outcome: scoring.Results, flags: tuple[Flag, ...], entrants: dict[str, Entrant]) -> tuple[str, ...]:
    """Say, by secret code, what keeps the scores from being locked (the engine decides what does)."""
    problems = []
    for blocker in scoring.lock_blockers(outcome, [f"{f.code} {f.criterion}" for f in flags if f.is_open]):
        if blocker.code == "marks-missing":
            missing = sorted(entrants[ref].secret_code or ref for ref in blocker.items)
            more = _(" and %(count)d more", count=len(missing) - LISTED) if len(missing) > LISTED else ""
            problems.append(_("Marks are missing for %(codes)s%(more)s.", codes=", ".join(missing[:LISTED]), more=more))
        else:
            problems.append(_("Discrepancies are open for %(items)s.", items=", ".join(blocker.items[:LISTED])))
    return tuple(problems)


def lock_blockers(competition: Competition) -> tuple[str, ...]:
    """Return, by secret code, what keeps the scores from being locked (a re-check under way included)."""
    loaded, outcome = results.compute(competition)
    entrants = _entrants(competition)
    blockers = _blockers(outcome, _flags(competition, loaded, outcome, entrants, False), entrants)
    return blockers + tuple(chief_recheck.blockers(competition))


def lock(competition: Competition, actor) -> None:
    """Lock the scores, refused while marks are missing or discrepancies are open, saying which."""
    if competition.status == "running":
        problems = lock_blockers(competition)
        if problems:
            raise ServiceError(_("The scores cannot be locked: %(problems)s", problems=" ".join(problems)))
    lifecycle.transition(competition, "locked", actor)


def reveal_names(competition: Competition, actor) -> None:
    """Audit, once per lock, that the names behind the secret codes are shown."""
    if competition.status not in FINAL_STATES:
        raise ServiceError(_("Names are revealed only after the scores are locked."))
    query = sa.select(AuditEvent.id).where(
        AuditEvent.competition_id == competition.id, AuditEvent.action == "names.revealed"
    )
    if competition.locked_at is not None:
        query = query.where(AuditEvent.at >= competition.locked_at)
    if db.session.scalar(query.limit(1)) is None:
        with transaction():
            audit.record("names.revealed", actor, competition, competition)


def _require_running(competition: Competition) -> None:
    if competition.status != "running":
        raise ServiceError(
            _(
                "Marks can be reviewed only while the competition is running; it is “%(state)s”.",
                state=status_label(competition.status),
            )
        )


def _entrant_and_criterion(competition: Competition, entrant_id: int, criterion_id: int):
    entrant = db.session.get(Entrant, entrant_id)
    criterion = db.session.scalar(
        sa.select(Criterion).join(Stage).where(Criterion.id == criterion_id, Stage.competition_id == competition.id)
    )
    if entrant is None or entrant.competition_id != competition.id or criterion is None:
        raise ServiceError(_("No such entrant or criterion in this competition."))
    return entrant, criterion


def review_discrepancy(
    competition: Competition, actor, entrant_id: int, criterion_id: int, action: str, note: str
) -> DiscrepancyReview:
    """Confirm a flagged spread as it stands, or ask its judges to re-mark (reopening their sheets)."""
    _require_running(competition)
    if action not in ("confirm", "remark"):
        raise ServiceError(_("Choose to confirm the marks or to ask for a re-mark."))
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write a note: why the marks stand, or what the judges should look at again."))
    entrant, criterion = _entrant_and_criterion(competition, entrant_id, criterion_id)
    given = dict(
        db.session.execute(
            sa.select(Mark.judge_id, Mark.value_cents).where(
                Mark.entrant_id == entrant.id, Mark.criterion_id == criterion.id
            )
        ).all()
    )
    judge_ids = sorted(given)
    outcome = results.compute(competition)[1]  # the engine's own flag, so the review sees what the lock sees
    flag = next((d for d in outcome.discrepancies if (d.ref, d.criterion) == (entrant.ref, criterion.path)), None)
    if flag is None:
        raise ServiceError(
            _(
                "The marks of %(code)s on %(criterion)s are no longer flagged.",
                code=entrant.secret_code,
                criterion=criterion.name,
            )
        )
    with transaction():
        review = db.session.scalar(
            sa.select(DiscrepancyReview).where(
                DiscrepancyReview.entrant_id == entrant.id, DiscrepancyReview.criterion_id == criterion.id
            )
        )
        if review is None:
            review = DiscrepancyReview(competition_id=competition.id, entrant_id=entrant.id, criterion_id=criterion.id)
            db.session.add(review)
        review.state = "confirmed" if action == "confirm" else "remark"
        review.spread_cents, review.note, review.by_id, review.at = int(flag.spread * 100), note, actor.id, utcnow()
        reopened = _reopen(competition, actor, entrant, judge_ids, note) if action != "confirm" else []
        db.session.flush()
        withdrawn = _withdraw_remarks(entrant, criterion, review.at)
        asked = _ask_remarks(competition, actor, review, given) if action != "confirm" else []
        audit.record(
            f"discrepancy.{review.state}",
            actor,
            competition,
            review,
            entrant=entrant.ref,
            criterion=criterion.path,
            spread=str(flag.spread),
            note=note,
            reopened=reopened,
            asked=asked,
            withdrawn=withdrawn,
        )
    return review


def _withdraw_remarks(entrant: Entrant, criterion: Criterion, at) -> int:
    """Close the re-mark requests still waiting on these marks: the chief's new review replaces them."""
    waiting = db.session.scalars(
        sa.select(RemarkRequest).where(
            RemarkRequest.entrant_id == entrant.id,
            RemarkRequest.criterion_id == criterion.id,
            scoresheets.pending(),
        )
    ).all()
    for request in waiting:
        request.answered_at, request.answer = at, "withdrawn"
    return len(waiting)


def _ask_remarks(competition: Competition, actor, review: DiscrepancyReview, given: dict[int, int]) -> list[str]:
    """Ask each judge who marked the flagged criterion to look at the mark again; return their refs.

    The highest MarkChange id now is kept with each request: the judge's next change of the mark
    (a MarkChange above it) answers the request, so saving a mark writes nothing here.
    """
    after = db.session.scalar(sa.select(sa.func.max(MarkChange.id)).where(MarkChange.competition_id == competition.id))
    refs = dict(
        db.session.execute(
            sa.select(JudgeAssignment.user_id, JudgeAssignment.ref).where(
                JudgeAssignment.competition_id == competition.id
            )
        ).all()
    )
    for judge_id, cents in sorted(given.items()):
        db.session.add(
            RemarkRequest(
                competition_id=competition.id,
                entrant_id=review.entrant_id,
                criterion_id=review.criterion_id,
                judge_id=judge_id,
                review_id=review.id,
                note=review.note or "",
                asked_by_id=getattr(actor, "id", None),
                asked_at=review.at,
                old_cents=cents,
                after_change_id=after or 0,
            )
        )
    return sorted(refs.get(j, "?") for j in given)


def _reopen(competition: Competition, actor, entrant: Entrant, judge_ids, reason: str) -> list[str]:
    """Delete the judges' sign-offs of the entrant's sheet and audit each; return the judges' refs."""
    refs = dict(
        db.session.execute(
            sa.select(JudgeAssignment.user_id, JudgeAssignment.ref).where(
                JudgeAssignment.competition_id == competition.id
            )
        ).all()
    )
    signoffs = db.session.scalars(
        sa.select(SheetSignoff).where(SheetSignoff.entrant_id == entrant.id, SheetSignoff.judge_id.in_(list(judge_ids)))
    ).all()
    for signoff in signoffs:
        audit.record(
            "sheet.reopened",
            actor,
            competition,
            signoff,
            entrant=entrant.ref,
            judge=refs.get(signoff.judge_id),
            reason=reason,
            signed_at=signoff.signed_at.isoformat(),
        )
        db.session.delete(signoff)
    return sorted(refs.get(s.judge_id, "?") for s in signoffs)


def reopen_sheet(competition: Competition, actor, judge_id: int, code: str, reason: str) -> None:
    """Reopen one judge's signed sheet of one entrant (by secret code), with the reason audited."""
    _require_running(competition)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for reopening the sheet."))
    entrant = db.session.scalar(
        sa.select(Entrant).where(
            Entrant.competition_id == competition.id, Entrant.secret_code == (code or "").strip().upper()
        )
    )
    if entrant is None:
        raise ServiceError(_("No entrant has the secret code “%(code)s”.", code=code))
    with transaction():
        if not _reopen(competition, actor, entrant, [judge_id], reason):
            raise ServiceError(
                _("That judge has not signed the sheet of %(code)s: it is open already.", code=entrant.secret_code)
            )


def unlock(competition: Competition, actor, reason: str) -> None:
    """Reopen locked scores for corrections, with the reason audited."""
    if not (reason or "").strip():
        raise ServiceError(_("Give the reason for unlocking the scores."))
    lifecycle.transition(competition, "running", actor, reason=reason.strip())


def publish(competition: Competition, actor) -> None:
    """Publish the locked results and start the notice period."""
    lifecycle.publish(competition, actor)


def can_amend(competition: Competition) -> bool:
    """Tell whether published results may go back to locked for a correction."""
    return competition.status == "published" and "locked" in lifecycle.NEXT.get("published", ())


def amend_after_publication(competition: Competition, actor, reason: str) -> None:
    """Take published results back to locked (e.g. an upheld objection), with the reason audited."""
    if not (reason or "").strip():
        raise ServiceError(_("Give the reason for amending the published results."))
    lifecycle.transition(competition, "locked", actor, reason=reason.strip(), amend=True)
