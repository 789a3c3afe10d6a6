"""The judging panel: judge accounts, their criteria, the one chief judge, and recusal (回避)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from comp.converters import whole_number
from comp.extensions import db
from comp.models import (
    AccountLink,
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    JudgeConflict,
    JudgeCriterion,
    Mark,
    OrgUnit,
    Stage,
    User,
)
from comp.services import ServiceError, accounts, transaction
from comp.services.accounts import links
from comp.services.common import audit
from comp.services.common.refs import in_ref_order, last_number
from comp.services.judging.recusal import recused_pairs
from comp.services.setup import lifecycle

EDITABLE = ("draft", "open", "closed", "running")  # a judge may still fall ill on the day
MARKED = ("pending", "approved", "ok")  # entrants a judge on a criterion would mark
SAME_EMPLOYER = "same employer"  # stored as the reason of an automatic recusal; shown through reason_label


def reason_label(reason: str) -> str:
    """Return why a judge must not mark an entrant, in the user's language (a declared reason as typed)."""
    return _("same employer") if reason == SAME_EMPLOYER else reason


JUDGE_PREFIX = "J"  # the panel's refs: J1, J2 …


def _check_editable(competition: Competition) -> None:
    if competition.status not in EDITABLE:
        raise ServiceError(_("The panel cannot change once the scores are locked."))


def panel(competition: Competition) -> list[JudgeAssignment]:
    """Return the competition's judges in the order of their refs (J1, J2 … J10)."""
    rows = db.session.scalars(
        sa.select(JudgeAssignment)
        .where(JudgeAssignment.competition_id == competition.id)
        .options(sa.orm.selectinload(JudgeAssignment.user))
    )
    return in_ref_order(rows, JUDGE_PREFIX)


@dataclass(frozen=True)
class PanelRow:
    """One judge on the panel as the organizer's page shows them."""

    assignment: JudgeAssignment
    criterion_ids: frozenset[int]
    conflicts: list[tuple[Entrant, str]]


def overview(competition: Competition) -> list[PanelRow]:
    """Return every judge on the panel with their criteria and the entrants they must not mark."""
    return [PanelRow(a, frozenset(jc.criterion_id for jc in a.criteria), conflicts_for(a)) for a in panel(competition)]


def employers() -> Sequence[OrgUnit]:
    """Return the unions and enterprises a judge can work for."""
    return db.session.scalars(
        sa.select(OrgUnit)
        .where(OrgUnit.kind.in_(("city", "county", "enterprise")))
        .order_by(OrgUnit.kind, OrgUnit.name)
    ).all()


def candidates(competition: Competition) -> Sequence[User]:
    """Return the active judge accounts not yet on the competition's panel."""
    on_panel = sa.select(JudgeAssignment.user_id).where(JudgeAssignment.competition_id == competition.id)
    return db.session.scalars(
        sa.select(User)
        .options(so.joinedload(User.org_unit))
        .where(User.role == "judge", User.active, User.id.not_in(on_panel))
        .order_by(User.display_name, User.id)
    ).all()


def _join(competition: Competition, user: User, actor) -> JudgeAssignment:
    refs = db.session.scalars(sa.select(JudgeAssignment.ref).where(JudgeAssignment.competition_id == competition.id))
    ref = f"{JUDGE_PREFIX}{last_number(refs, JUDGE_PREFIX) + 1}"
    assignment = JudgeAssignment(competition_id=competition.id, user_id=user.id, ref=ref)
    db.session.add(assignment)
    db.session.flush()
    audit.record("judge.assigned", actor, competition, assignment, ref=ref, user=user.username)
    return assignment


def add_judge(
    competition: Competition, username: str, display_name: str, org_unit_id: int | None, actor=None
) -> tuple[JudgeAssignment, AccountLink]:
    """Create a judge account and put it on the panel; return the assignment and the account's activation link.

    No password is made up: the judge sets their own through the one-time link (72 hours).
    """
    _check_editable(competition)
    with transaction():
        user = accounts.new_user(
            username,
            "judge",
            None,
            display_name=(display_name or "").strip() or None,
            org_unit_id=org_unit_id,
            created_by_id=actor.id if actor else None,
        )
        db.session.flush()
        audit.record("judge.account_created", actor, competition, user, username=user.username)
        link = links.issue(user, "activate", actor)
        assignment = _join(competition, user, actor)
    return assignment, link


def assign_existing(competition: Competition, user_id: int, actor=None) -> JudgeAssignment:
    """Put an existing judge account on the panel."""
    _check_editable(competition)
    user = db.session.get(User, user_id)
    if user is None or user.role != "judge" or not user.active:
        raise ServiceError(_("Choose an active judge account."))
    if user in [a.user for a in panel(competition)]:
        raise ServiceError(_("%(name)s is already on the panel.", name=user.display_name))
    with transaction():
        return _join(competition, user, actor)


def set_chief(assignment: JudgeAssignment, actor=None) -> None:
    """Name this judge the chief judge (裁判长); the previous chief becomes an ordinary judge."""
    competition = assignment.competition
    _check_editable(competition)
    with transaction():
        previous = db.session.scalars(
            sa.select(JudgeAssignment).where(
                JudgeAssignment.competition_id == competition.id,
                JudgeAssignment.is_chief,
                JudgeAssignment.id != assignment.id,
            )
        ).all()
        for other in previous:
            other.is_chief = False
        db.session.flush()  # the one-chief index must see the old chief go before the new one comes
        assignment.is_chief = True
        audit.record(
            "judge.chief", actor, competition, assignment, ref=assignment.ref, previous=[p.ref for p in previous]
        )


def conflicts_for(assignment: JudgeAssignment) -> list[tuple[Entrant, str]]:
    """Return the entrants this judge must not mark, each with why: same employer or a declared conflict."""
    employer = assignment.user.org_unit_id
    declared = dict(
        db.session.execute(
            sa.select(JudgeConflict.entrant_id, JudgeConflict.reason).where(
                JudgeConflict.judge_id == assignment.user_id
            )
        ).all()
    )
    entrants = db.session.scalars(
        sa.select(Entrant)
        .where(
            Entrant.competition_id == assignment.competition_id,
            Entrant.status.in_(MARKED),
            sa.or_(
                Entrant.id.in_(list(declared)),
                sa.and_(Entrant.employer_id.is_not(None), Entrant.employer_id == employer),
            ),
        )
        .order_by(Entrant.number.is_(None), Entrant.number, Entrant.ref)
    ).all()
    return [(e, declared.get(e.id) or SAME_EMPLOYER) for e in entrants]


def entrant_label(entrant: Entrant) -> str:
    """Return how an entrant is named in a message: number, else ref, and name."""
    return f"{entrant.number or entrant.ref} {entrant.name}"


def assign_criteria(assignment: JudgeAssignment, criterion_ids: list[int], actor=None, recuse: bool = False) -> None:
    """Set the criteria a judge marks; refuse while the judge has conflicts unless recused from them."""
    competition = assignment.competition
    _check_editable(competition)
    wanted = set(criterion_ids)
    own = set(db.session.scalars(sa.select(Criterion.id).join(Stage).where(Stage.competition_id == competition.id)))
    if wanted - own:
        raise ServiceError(_("Choose criteria of this competition."))
    conflicts = conflicts_for(assignment) if wanted else []
    if conflicts and not recuse:
        named = [_("%(entrant)s (%(reason)s)", entrant=entrant_label(e), reason=reason_label(r)) for e, r in conflicts]
        raise ServiceError(
            _(
                "%(ref)s would mark entrants they must not mark: %(entrants)s. Recuse the judge "
                "from them to assign these criteria.",
                ref=assignment.ref,
                entrants="; ".join(named),
            )
        )
    with transaction():
        current = {jc.criterion_id: jc for jc in assignment.criteria}
        for cid in current.keys() - wanted:
            assignment.criteria.remove(current[cid])
        assignment.criteria.extend(JudgeCriterion(criterion_id=cid) for cid in sorted(wanted - current.keys()))
        recorded = _record_recusals(assignment, conflicts, actor) if conflicts else []
        lifecycle.touch(competition)
        audit.record(
            "judge.criteria",
            actor,
            competition,
            assignment,
            ref=assignment.ref,
            criteria=sorted(wanted),
            recused=recorded,
        )


def _record_recusals(assignment: JudgeAssignment, conflicts: list[tuple[Entrant, str]], actor) -> list[str]:
    """Store a conflict for each same-employer entrant, so every judging sheet can leave them out."""
    have = set(
        db.session.scalars(sa.select(JudgeConflict.entrant_id).where(JudgeConflict.judge_id == assignment.user_id))
    )
    refs = []
    for entrant, reason in conflicts:
        if entrant.id not in have:
            db.session.add(JudgeConflict(judge_id=assignment.user_id, entrant_id=entrant.id, reason=reason))
        refs.append(entrant.ref)
    audit.record("judge.recused", actor, assignment.competition, assignment, ref=assignment.ref, entrants=refs)
    return refs


def find_entrant(competition: Competition, key: str) -> Entrant | None:
    """Return the entrant with this contestant number or ref."""
    key = (key or "").strip()
    number = whole_number(key)
    match = Entrant.number == number if number is not None else Entrant.ref == key
    return db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, match))


def declare_conflict(assignment: JudgeAssignment, entrant_key: str, reason: str, actor=None) -> JudgeConflict:
    """Record a conflict of interest a judge declared with an entrant (by number or ref)."""
    competition = assignment.competition
    _check_editable(competition)
    entrant = find_entrant(competition, entrant_key)
    if entrant is None:
        raise ServiceError(_("No entrant has the number or ref “%(key)s”.", key=entrant_key))
    if not (reason or "").strip():
        raise ServiceError(_("Say why the judge must not mark this entrant."))
    if db.session.scalar(
        sa.select(JudgeConflict.id).where(
            JudgeConflict.judge_id == assignment.user_id, JudgeConflict.entrant_id == entrant.id
        )
    ):
        raise ServiceError(_("This conflict is already recorded."))
    with transaction():
        conflict = JudgeConflict(judge_id=assignment.user_id, entrant_id=entrant.id, reason=reason.strip()[:200])
        db.session.add(conflict)
        db.session.flush()
        lifecycle.touch(competition)
        audit.record(
            "judge.conflict",
            actor,
            competition,
            conflict,
            ref=assignment.ref,
            entrant=entrant.ref,
            reason=conflict.reason,
        )
    return conflict


def remove_judge(assignment: JudgeAssignment, actor=None) -> None:
    """Take a judge off the panel, unless they have already given marks."""
    competition = assignment.competition
    _check_editable(competition)
    if db.session.scalar(
        sa.select(Mark.id).where(Mark.competition_id == competition.id, Mark.judge_id == assignment.user_id).limit(1)
    ):
        raise ServiceError(_("%(ref)s has given marks and stays on the panel.", ref=assignment.ref))
    with transaction():
        audit.record("judge.removed", actor, competition, assignment, ref=assignment.ref, user=assignment.user.username)
        db.session.delete(assignment)
        lifecycle.touch(competition)


def recused(competition: Competition) -> set[tuple[int, int]]:
    """Return the (judge user id, entrant id) pairs the judging sheets leave out."""
    return recused_pairs(competition)
