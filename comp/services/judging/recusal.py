"""Recusal (回避): the one rule for which entrants a judge must not mark.

A judge never marks an entrant they declared a conflict with, nor, under the default rule
(`recusal: "employer"`), one from their own employer; a competition whose rules say
`recusal: "declared"` (a national panel judging its own athletes) keeps only the declared
conflicts. The rule is written here once, in the three shapes its callers need: for one pair (a mark save),
as a condition on entrants for one judge (the judge's list), and as every pair of a competition
(results, the chief's progress grid, the judges panel).
"""

from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant, JudgeAssignment, JudgeConflict, User
from comp.models.competition import Competition


def by_employer(competition: Competition) -> bool:
    """Tell whether the competition's rules recuse judges from their own employer's entrants (the default)."""
    return (competition.rules or {}).get("recusal", "employer") == "employer"


def _employer_rule() -> sa.ColumnElement[bool]:
    """The same as `by_employer`, as a condition on the `Competition` row of a statement."""
    return sa.func.coalesce(Competition.rules["recusal"].as_string(), "employer") == "employer"


def is_recused(judge: User, entrant: Entrant) -> bool:
    """Tell whether the judge must not mark the entrant."""
    same_employer = judge.org_unit_id is not None and judge.org_unit_id == entrant.employer_id
    if same_employer and by_employer(entrant.competition):
        return True
    return (
        db.session.scalar(
            sa.select(JudgeConflict.id).where(
                JudgeConflict.judge_id == judge.id, JudgeConflict.entrant_id == entrant.id
            )
        )
        is not None
    )


def markable_by(judge: User, competition: Competition) -> sa.ColumnElement[bool]:
    """Return the condition on `Entrant` rows of the competition that the judge may mark (is not recused from)."""
    declared = sa.select(JudgeConflict.entrant_id).where(JudgeConflict.judge_id == judge.id)
    condition: sa.ColumnElement[bool] = Entrant.id.not_in(declared)
    if judge.org_unit_id is not None and by_employer(competition):
        condition = sa.and_(condition, sa.or_(Entrant.employer_id.is_(None), Entrant.employer_id != judge.org_unit_id))
    return condition


def recused_given(judge_id: sa.ColumnElement[int], org_unit_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """Return the condition on `Entrant` rows that a judge must not mark, the judge given as parameters.

    The same rule as `markable_by`, for a statement built once and run with the judge's id and
    employer bound (the mark save builds it once per process); the statement's `Competition` row
    says whether the employer counts.
    """
    declared = sa.select(JudgeConflict.id).where(
        JudgeConflict.judge_id == judge_id, JudgeConflict.entrant_id == Entrant.id
    )
    same_employer = sa.and_(org_unit_id.is_not(None), Entrant.employer_id == org_unit_id, _employer_rule())
    return sa.or_(same_employer, declared.exists())


def markable_given(
    judge_id: sa.ColumnElement[int], org_unit_id: sa.ColumnElement[int], by_employer: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    """Return the condition on `Entrant` rows that a judge may mark, the judge and the rule given as parameters.

    The same rule as `markable_by`, for a statement built once (the next entrant of every sheet page).
    """
    declared = sa.select(JudgeConflict.id).where(
        JudgeConflict.judge_id == judge_id, JudgeConflict.entrant_id == Entrant.id
    )
    other_employer = sa.or_(
        ~by_employer, org_unit_id.is_(None), Entrant.employer_id.is_(None), Entrant.employer_id != org_unit_id
    )
    return sa.and_(~declared.exists(), other_employer)


def recused_pairs(competition: Competition) -> set[tuple[int, int]]:
    """Return the (judge user id, entrant id) pairs of the competition where the judge must not mark."""
    declared = db.session.execute(
        sa.select(JudgeConflict.judge_id, JudgeConflict.entrant_id)
        .join(Entrant)
        .where(Entrant.competition_id == competition.id)
    ).all()
    if not by_employer(competition):
        return {(judge, entrant) for judge, entrant in declared}
    same_employer = db.session.execute(
        sa.select(JudgeAssignment.user_id, Entrant.id)
        .join(User, User.id == JudgeAssignment.user_id)
        .join(
            Entrant,
            sa.and_(Entrant.competition_id == JudgeAssignment.competition_id, Entrant.employer_id == User.org_unit_id),
        )
        .where(JudgeAssignment.competition_id == competition.id)
    ).all()
    return {(judge, entrant) for judge, entrant in declared} | {(judge, entrant) for judge, entrant in same_employer}
