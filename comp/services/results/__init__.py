"""Load a competition's marks in a fixed number of queries and compute its results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

import sqlalchemy as sa

from comp import scoring
from comp.extensions import db
from comp.models import (
    Competition,
    Criterion,
    DiscrepancyReview,
    Entrant,
    JudgeAssignment,
    JudgeCriterion,
    Mark,
    MarkChange,
    NotTaken,
    OrgUnit,
    ProgrammeItem,
    RecheckItem,
    RecheckSample,
    Stage,
)
from comp.models.competition import FINAL_STATES
from comp.services.common import computed
from comp.services.judging.recusal import recused_pairs


@dataclass(frozen=True)
class Loaded:
    """A competition converted to scoring types, with the database ids needed to map back."""

    scheme: scoring.Scheme
    rules: scoring.Rules
    entrants: tuple[scoring.Entrant, ...]
    names: dict[str, str]
    criterion_keys: dict[int, str]
    entrant_refs: dict[int, str]
    judge_refs: dict[int, str]


def scheme_of(competition: Competition, expected: dict[int, int] | None = None) -> scoring.Scheme:
    """Build the scoring scheme from the competition's stages and criteria."""
    expected = expected or {}
    stages = db.session.scalars(
        sa.select(Stage)
        .where(Stage.competition_id == competition.id)
        .order_by(Stage.position, Stage.id)
        .options(sa.orm.selectinload(Stage.criteria))
    ).all()
    return scoring.Scheme(
        tuple(
            scoring.Stage(
                s.key,
                s.name,
                s.weight,
                tuple(
                    scoring.Criterion(
                        f"{s.key}.{c.key}",
                        c.name,
                        c.max_value,
                        c.kind,
                        c.aggregation,
                        c.step,
                        # Several judges may share a single criterion, one mark per entrant.
                        None if c.aggregation == "single" else expected.get(c.id),
                        c.trim,
                        low=c.low_value,
                        worth=c.worth,
                        places=c.places,
                        factored=c.factored,
                    )
                    for c in s.criteria
                ),
                s.best,
            )
            for s in stages
        )
    )


def rules_of(competition: Competition, scheme: scoring.Scheme) -> scoring.Rules:
    """Return the competition's validated rules."""
    return scoring.parse_rules(competition.rules or {}, scheme, competition.kind)


def expected_marks(competition: Competition) -> dict[int, int]:
    """Count the judges assigned to each criterion: the marks each entrant should receive."""
    rows = db.session.execute(
        sa.select(JudgeCriterion.criterion_id, sa.func.count())
        .join(JudgeAssignment, JudgeAssignment.id == JudgeCriterion.assignment_id)
        .where(JudgeAssignment.competition_id == competition.id)
        .group_by(JudgeCriterion.criterion_id)
    ).all()
    return dict(rows)


def _group_keys(competition: Competition) -> dict[int, str]:
    """Map org-unit ids to the team label used when teams are formed by employer or county."""
    units = {u.id: u for u in db.session.scalars(sa.select(OrgUnit))}
    if competition.team_by == "county":

        def county(uid):
            node = units.get(uid)
            while node is not None and node.kind != "county":
                node = units.get(node.parent_id)
            return node.name if node else ""

        return {uid: county(uid) for uid in units}
    return {uid: u.name for uid, u in units.items()}


def load(competition: Competition) -> Loaded:
    """Convert the competition's scheme, rules and entrants to scoring types."""
    scheme = scheme_of(competition, expected_marks(competition))
    criterion_keys = dict(
        db.session.execute(
            sa.select(Criterion.id, Stage.key + "." + Criterion.key)
            .join(Stage)
            .where(Stage.competition_id == competition.id)
        ).all()
    )
    groups = _group_keys(competition)
    rows = db.session.execute(
        sa.select(
            Entrant.id,
            Entrant.ref,
            Entrant.name,
            Entrant.status,
            Entrant.time_seconds,
            Entrant.team,
            Entrant.employer_id,
        ).where(Entrant.competition_id == competition.id)
    ).all()
    by_team = competition.team_by == "team"
    factors = programme_factors(competition, criterion_keys)
    skipped = not_taken(competition, criterion_keys)
    entrants = tuple(
        scoring.Entrant(
            r.ref,
            r.status,
            r.time_seconds,
            (r.team if by_team and r.team else groups.get(r.employer_id, "")),
            factors.get(r.id, _NO_FACTORS),
            skipped.get(r.id, frozenset()),
        )
        for r in rows
    )
    judge_refs = dict(
        db.session.execute(
            sa.select(JudgeAssignment.user_id, JudgeAssignment.ref).where(
                JudgeAssignment.competition_id == competition.id
            )
        ).all()
    )
    return Loaded(
        scheme,
        rules_of(competition, scheme),
        entrants,
        {r.ref: r.name for r in rows},
        criterion_keys,
        {r.id: r.ref for r in rows},
        judge_refs,
    )


_NO_FACTORS: scoring.FrozenMap = scoring.FrozenMap()


def programme_factors(competition: Competition, criterion_keys: dict[int, str]) -> dict[int, scoring.FrozenMap]:
    """Return each entrant's declared factors (a dive's degree of difficulty) by criterion key, one query."""
    found: dict[int, dict[str, object]] = {}
    for entrant_id, criterion_id, factor in db.session.execute(
        sa.select(ProgrammeItem.entrant_id, ProgrammeItem.criterion_id, ProgrammeItem.factor)
        .join(Entrant, Entrant.id == ProgrammeItem.entrant_id)
        .where(Entrant.competition_id == competition.id)
    ).all():
        found.setdefault(entrant_id, {})[criterion_keys[criterion_id]] = factor
    return {entrant_id: scoring.FrozenMap(items) for entrant_id, items in found.items()}


def not_taken(competition: Competition, criterion_keys: dict[int, str]) -> dict[int, frozenset[str]]:
    """Return the attempts each entrant did not take, by criterion key, one query."""
    found: dict[int, set[str]] = {}
    for entrant_id, criterion_id in db.session.execute(
        sa.select(NotTaken.entrant_id, NotTaken.criterion_id).where(NotTaken.competition_id == competition.id)
    ).all():
        found.setdefault(entrant_id, set()).add(criterion_keys[criterion_id])
    return {entrant_id: frozenset(keys) for entrant_id, keys in found.items()}


def _recused_expected(competition: Competition) -> dict[tuple[int, int], int]:
    """Count, for each (entrant, criterion) touched by a recusal, the marks it should get."""
    recused = recused_pairs(competition)
    if not recused:
        return {}
    panel: dict[int, set[int]] = {}
    for criterion_id, judge_id in db.session.execute(
        sa.select(JudgeCriterion.criterion_id, JudgeAssignment.user_id)
        .join(JudgeAssignment, JudgeAssignment.id == JudgeCriterion.assignment_id)
        .where(JudgeAssignment.competition_id == competition.id)
    ).all():
        panel.setdefault(criterion_id, set()).add(judge_id)
    by_entrant: dict[int, set[int]] = {}
    for judge_id, entrant_id in recused:
        by_entrant.setdefault(entrant_id, set()).add(judge_id)
    return {
        (entrant_id, criterion_id): len(judges - away)
        for entrant_id, away in by_entrant.items()
        for criterion_id, judges in panel.items()
        if judges & away
    }


def read_marks(competition: Competition, loaded: Loaded) -> tuple[dict, list[scoring.BiasPart]]:
    """Read the marks once, in index order, into per-criterion summaries and judge-bias sums.

    Marks are integer hundredths, so counts, sums and bounds stay integers; the engine's
    `BiasSums` keeps the bias exact (rule 9).
    """
    rows = db.session.execute(
        sa.select(Mark.criterion_id, Mark.entrant_id, Mark.judge_id, Mark.value_cents)
        .where(Mark.competition_id == competition.id)
        .order_by(Mark.criterion_id, Mark.entrant_id)
    ).all()
    expected = _recused_expected(competition)
    criteria = {cid: loaded.scheme.criterion(key) for cid, key in loaded.criterion_keys.items()}
    refs, keys, judges = loaded.entrant_refs, loaded.criterion_keys, loaded.judge_refs
    summaries = {}
    bias = scoring.BiasSums(unit=100)
    for (criterion_id, entrant_id), group in groupby(rows, key=itemgetter(0, 1)):
        marks = [(judges.get(row[2], str(row[2])), row[3]) for row in group]
        cents = [value for _judge, value in marks]
        criterion = criteria[criterion_id]
        summaries[(refs[entrant_id], keys[criterion_id])] = scoring.MarkSummary(
            len(cents),
            sum(cents),
            min(cents),
            max(cents),
            tuple(sorted(cents)) if criterion.aggregation == "median" or criterion.trim > 1 else None,
            expected.get((entrant_id, criterion_id)),
        )
        bias.add(criterion.span, marks)
    return summaries, bias.parts()


def compute(competition: Competition) -> tuple[Loaded, scoring.Results]:
    """Compute the competition's results from the database."""
    loaded = load(competition)
    summaries, bias = read_marks(competition, loaded)
    _apply_rulings(competition, loaded, summaries)
    return loaded, scoring.compute(loaded.scheme, loaded.rules, loaded.entrants, summaries, bias)


def _apply_rulings(competition: Competition, loaded: Loaded, summaries: dict) -> None:
    """Put a re-check's second mark in place of the panel's where the chief judge took it (复核改判)."""
    for entrant_id, criterion_id, cents in db.session.execute(
        sa.select(RecheckItem.entrant_id, RecheckItem.criterion_id, RecheckItem.second_cents)
        .join(RecheckSample)
        .where(
            RecheckSample.competition_id == competition.id,
            RecheckItem.state == "second",
            RecheckItem.second_cents.is_not(None),
        )
    ).all():
        assert cents is not None  # as the query asks: a second mark is taken only once given
        # One mark, expected alone: the criterion's aggregation of it is the mark itself.
        summaries[(loaded.entrant_refs[entrant_id], loaded.criterion_keys[criterion_id])] = scoring.MarkSummary(
            1, cents, cents, cents, (cents,), 1
        )


def stamp_columns() -> tuple[sa.ScalarSelect, sa.ScalarSelect]:
    """Return the columns that, with `Competition.version`, stamp what the results are computed from.

    A saved mark adds a MarkChange row and does not write the competition's row (which every
    save would then queue on); every other change that can move a result bumps the version
    (lifecycle.touch). Counting the changes as well as taking the last id catches a change
    whose transaction commits after a later one's.
    """
    changes = sa.select(sa.func.count(MarkChange.id)).where(MarkChange.competition_id == Competition.id)
    last = sa.select(sa.func.max(MarkChange.id)).where(MarkChange.competition_id == Competition.id)
    return changes.scalar_subquery(), last.scalar_subquery()


def stamp(version: int, changes: int, last: int | None) -> str:
    """Write a stamp from the competition's version and its mark changes."""
    return f"{version}.{changes}.{last or 0}"


def stamp_of(competition: Competition) -> str:
    """Return the competition's stamp as the database holds it now (one query)."""
    changes, last = stamp_columns()
    row = db.session.execute(
        sa.select(Competition.version, changes, last).where(Competition.id == competition.id)
    ).one()
    return stamp(*row)


def document(competition: Competition) -> dict:
    """Return the SPEC results document, computed once per stamp and shared by every app process.

    A running competition's document is rebuilt at most once a second however many ask; a
    locked or published one once per version.
    """
    # Final scores change only with the version, which is part of the stamp: no waiting then.
    every = 0.0 if competition.status in FINAL_STATES else 1.0
    doc, _stamp = computed.shared(
        "results",
        competition.id,
        stamp_of(competition),
        lambda: document_from(competition, *compute(competition)),
        lambda value: json.dumps(value, ensure_ascii=False),
        json.loads,
        every,
    )
    return doc


def document_from(competition: Competition, loaded: Loaded, results: scoring.Results) -> dict:
    """Return the results document of already computed results."""
    return scoring.results_document(competition.code, competition.name, results, loaded.names)


def open_discrepancies(competition: Competition, outcome: scoring.Results) -> list[scoring.Discrepancy]:
    """Return the flagged discrepancies the chief judge has not confirmed for the marks as they are."""
    if not outcome.discrepancies:
        return []
    entrant_ids = {
        ref: id_
        for id_, ref in db.session.execute(
            sa.select(Entrant.id, Entrant.ref).where(Entrant.competition_id == competition.id)
        ).all()
    }
    keys = dict(
        db.session.execute(
            sa.select(Stage.key + "." + Criterion.key, Criterion.id)
            .join(Stage)
            .where(Stage.competition_id == competition.id)
        ).all()
    )
    confirmed = {
        (e, c): spread
        for e, c, spread in db.session.execute(
            sa.select(
                DiscrepancyReview.entrant_id, DiscrepancyReview.criterion_id, DiscrepancyReview.spread_cents
            ).where(DiscrepancyReview.competition_id == competition.id, DiscrepancyReview.state == "confirmed")
        ).all()
    }
    # A confirmation holds only for the spread it saw: a changed mark reopens the flag.
    return [
        d
        for d in outcome.discrepancies
        if confirmed.get((entrant_ids[d.ref], keys[d.criterion])) != int(d.spread * 100)
    ]


def get_competition(code: str) -> Competition | None:
    """Return the competition with this code, if any."""
    return db.session.scalar(sa.select(Competition).where(Competition.code == code))
