"""The honours pipeline (以赛促升): what a competition's published results earn, confirmed by the organizer.

A competition's `outcomes` (validated by `comp.scoring.outcomes`) say which places or awards
earn honour recommendations and skill-grade promotions. Once the results are published,
`candidates` lists who qualifies (tied ranks included); `confirm` writes the honours and
new grades into the workers' records, audited, and remembers each grant so confirming
again adds nothing; `export` gives the confirmed list to the human-resources bureau with
full ID numbers, audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from comp.extensions import db
from comp.models import SKILL_GRADES, Competition, Entrant, Honour, OutcomeGrant, Standing, User, Worker
from comp.models.competition import PUBLIC_STATES
from comp.models.types import utcnow
from comp.orgtree import Tree
from comp.scoring import outcomes as pipeline
from comp.services import ServiceError, people, transaction
from comp.services.common import audit, sheets, wording

STANDARD_HONOURS = ("技术能手", "五一劳动奖章", "泉州工匠", "劳动模范", "工人先锋号", "青年岗位能手")


class OutcomeProblems(ServiceError):
    """The outcomes are not valid; `problems` maps each path to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems.items()))
        self.problems = problems


def _translate(error: pipeline.OutcomeError) -> dict[str, str]:
    """Word the engine's problem codes in the user's language, by path."""
    return {path: wording.message(code, params) for path, code, params in error.problems}


def rules(competition: Competition) -> tuple[pipeline.OutcomeRule, ...]:
    """Return the competition's outcome rules (OutcomeProblems if what is stored is invalid)."""
    try:
        return pipeline.parse_outcomes(competition.outcomes or {})
    except pipeline.OutcomeError as error:
        raise OutcomeProblems(_translate(error)) from None


def set_rules(competition: Competition, data: dict, actor: User | None = None) -> None:
    """Validate and store the competition's outcome rules, audited."""
    try:
        parsed = pipeline.parse_outcomes(data)
    except pipeline.OutcomeError as error:
        raise OutcomeProblems(_translate(error)) from None
    stored = {"rules": [pipeline.rule_to_dict(rule) for rule in parsed]} if parsed else {}
    with transaction():
        previous = competition.outcomes or {}
        competition.outcomes = stored
        audit.record("outcomes.updated", actor, competition, competition, previous=previous, outcomes=stored)


def add_rule(competition: Competition, rule: dict, actor: User | None = None) -> None:
    """Append one rule to the competition's outcomes."""
    current = list((competition.outcomes or {}).get("rules", []))
    try:
        set_rules(competition, {"rules": current + [rule]}, actor)
    except OutcomeProblems as error:
        prefix = f"outcomes.rules[{len(current)}]"
        raise OutcomeProblems(
            {path.replace(prefix, "rule", 1): message for path, message in error.problems.items()}
        ) from None


def remove_rule(competition: Competition, index: int, actor: User | None = None) -> None:
    """Remove the rule at `index` from the competition's outcomes."""
    current = list((competition.outcomes or {}).get("rules", []))
    if not 0 <= index < len(current):
        raise ServiceError(_("There is no such rule."))
    del current[index]
    set_rules(competition, {"rules": current}, actor)


def describe(rule: pipeline.OutcomeRule) -> dict[str, str]:
    """Return who a rule applies to and what it earns, in the user's language."""
    if rule.award is not None:
        who = _("Award “%(award)s”", award=rule.award)
    elif rule.first == rule.last:
        who = _("Place %(n)s", n=rule.first)
    else:
        who = _("Places %(first)s–%(last)s", first=rule.first, last=rule.last)
    earns = [_("Recommended for %(title)s", title="、".join(rule.honours))] if rule.honours else []
    if rule.promote:
        earns.append(_("Promotion by %(n)s skill grade(s)", n=rule.promote))
    if rule.grade is not None:
        earns.append(_("Skill grade raised to at least %(grade)s", grade=SKILL_GRADES[rule.grade]))
    return {"who": who, "earns": " · ".join(earns)}


@dataclass
class Candidate:
    """One qualifying worker: what they earn and which parts are already confirmed."""

    standing: Standing
    entrant: Entrant
    worker: Worker
    county: str
    honours: tuple[str, ...]
    grade_to: int | None
    grade_unknown: bool
    granted: dict[tuple[str, str], OutcomeGrant] = field(default_factory=dict)

    @property
    def pending(self) -> list[tuple[str, str]]:
        """Return the (kind, title) grants still to confirm."""
        wanted = [("honour", title) for title in self.honours]
        if self.grade_to is not None:
            wanted.append(("grade", "grade"))
        return [item for item in wanted if item not in self.granted]

    @property
    def actionable(self) -> bool:
        """Tell whether the worker earned anything that can be confirmed."""
        return bool(self.honours) or self.grade_to is not None

    @property
    def confirmed(self) -> bool:
        """Tell whether everything the worker earned has been confirmed."""
        return not self.pending


def _require_published(competition: Competition) -> None:
    if competition.status not in PUBLIC_STATES:
        raise ServiceError(
            _("The honours list is drawn from published results; %(code)s is not published yet.", code=competition.code)
        )


def candidates(competition: Competition) -> list[Candidate]:
    """Return who qualifies under the competition's rules, best rank first (ties share a rank)."""
    _require_published(competition)
    outcome_rules = rules(competition)
    rows = db.session.execute(
        sa.select(Standing, Entrant, Worker)
        .join(Entrant, Entrant.id == Standing.entrant_id)
        .join(Worker, Worker.id == Standing.worker_id)
        .where(Standing.competition_id == competition.id, Standing.rank.is_not(None))
        .options(joinedload(Worker.employer))  # the list and the export name each employer
        .order_by(Standing.rank, Entrant.ref)
    ).all()
    grants: dict[int, dict] = {}
    for grant in db.session.scalars(sa.select(OutcomeGrant).where(OutcomeGrant.competition_id == competition.id)):
        grants.setdefault(grant.worker_id, {})[(grant.kind, grant.title)] = grant
    # Keyed by what pipeline.earned gives back: the Placed key, here the entrant id.
    by_entrant: dict[object, tuple[Standing, Entrant, Worker]] = {
        standing.entrant_id: (standing, entrant, worker) for standing, entrant, worker in rows
    }
    placed = [
        pipeline.Placed(standing.entrant_id, standing.rank, standing.award, _grade_before(worker, grants))
        for standing, entrant, worker in rows
    ]
    tree = Tree()
    result = []
    for earned in pipeline.earned(outcome_rules, placed):
        standing, entrant, worker = by_entrant[earned.key]
        county = tree.county_of(worker.employer_id)
        result.append(
            Candidate(
                standing,
                entrant,
                worker,
                county.name if county else "",
                earned.honours,
                earned.grade_to,
                earned.grade_unknown,
                grants.get(worker.id, {}),
            )
        )
    return result


def _grade_before(worker: Worker, grants: dict[int, dict]) -> int | None:
    """Return the grade to judge the worker by: before this competition's promotion, once granted."""
    granted = grants.get(worker.id, {}).get(("grade", "grade"))
    return granted.grade_from if granted is not None else worker.skill_grade


def confirm(competition: Competition, entrant_ids: Iterable[int], actor: User | None = None) -> int:
    """Write what the chosen candidates earned into their records; return the grants added.

    Confirming again adds nothing: each (worker, honour) and promotion is granted once per
    competition. An honour the worker already holds for that year is not duplicated, and a
    promotion never lowers a grade the worker has reached meanwhile.
    """
    chosen = set(entrant_ids)
    added = 0
    with transaction():
        for candidate in candidates(competition):
            if candidate.entrant.id not in chosen:
                continue
            added += _grant(competition, candidate, actor)
    return added


def _grant(competition: Competition, candidate: Candidate, actor: User | None) -> int:
    """Grant one candidate's pending honours and promotion, audited."""
    worker, now, added = candidate.worker, utcnow(), 0
    for kind, title in candidate.pending:
        grant = OutcomeGrant(
            competition_id=competition.id,
            entrant_id=candidate.entrant.id,
            worker_id=worker.id,
            kind=kind,
            title=title,
            rank=candidate.standing.rank,
            confirmed_at=now,
            confirmed_by_id=getattr(actor, "id", None),
        )
        if kind == "honour":
            _recommend(competition, worker, title)
        else:
            assert candidate.grade_to is not None  # a promotion is pending only with the grade it moves to
            grant.grade_from, grant.grade_to = worker.skill_grade, candidate.grade_to
            if worker.skill_grade is None or candidate.grade_to < worker.skill_grade:
                worker.skill_grade = candidate.grade_to
        db.session.add(grant)
        db.session.flush()
        audit.record(
            f"outcome.{kind}_granted",
            actor,
            competition,
            worker,
            title=title,
            rank=candidate.standing.rank,
            grade_from=grant.grade_from,
            grade_to=grant.grade_to,
        )
        added += 1
    return added


def _recommend(competition: Competition, worker: Worker, title: str) -> None:
    """Put the worker forward for an honour, unless they already hold it for that year."""
    exists = db.session.scalar(
        sa.select(Honour.id).where(
            Honour.worker_id == worker.id, Honour.title == title, Honour.year == competition.year
        )
    )
    if exists is None:
        db.session.add(
            Honour(
                worker_id=worker.id,
                title=title,
                year=competition.year,
                issuer=competition.organizer,
                status="recommended",
                competition_id=competition.id,
            )
        )


EXPORT_HEADERS = (
    _l("No."),
    _l("Name"),
    _l("ID number"),
    _l("Gender"),
    _l("Employer"),
    _l("County"),
    _l("Trade"),
    _l("Rank"),
    _l("Award"),
    _l("Total"),
    _l("Honours recommended"),
    _l("Skill grade before"),
    _l("Skill grade now"),
    _l("Confirmed"),
)


def _grade_name(grade: int | None) -> str:
    return SKILL_GRADES.get(grade, "") if grade is not None else ""


def export(competition: Competition, actor: User | None = None) -> bytes:
    """Return the confirmed list as .xlsx with full ID numbers, for the HR bureau; audited."""
    _require_published(competition)
    rows: list[list] = []
    for candidate in candidates(competition):
        granted = candidate.granted
        if not granted:
            continue
        worker, grade = candidate.worker, granted.get(("grade", "grade"))
        honours = "、".join(title for kind, title in granted if kind == "honour")
        moment = max(g.confirmed_at for g in granted.values())
        rows.append(
            [
                len(rows) + 1,
                worker.name,
                people.id_number(worker) or "",
                worker.gender or "",
                worker.employer.name if worker.employer else "",
                candidate.county,
                worker.trade or "",
                candidate.standing.rank,
                candidate.standing.award or "",
                format(candidate.standing.total, "f") if candidate.standing.total is not None else "",
                honours,
                _grade_name(grade.grade_from) if grade else "",
                _grade_name(grade.grade_to) if grade else "",
                format_datetime(moment, "yyyy-MM-dd HH:mm"),
            ]
        )
    data = sheets.write_xlsx([str(h) for h in EXPORT_HEADERS], rows, title=competition.code)
    with transaction():
        audit.record("outcome.exported_full", actor, competition, competition, count=len(rows))
    return data
