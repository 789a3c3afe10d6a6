"""The whole computation: from entrants and mark summaries to published results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from comp.scoring.awards import awards
from comp.scoring.consistency import discrepancies, judge_bias
from comp.scoring.frozen import FrozenMap
from comp.scoring.ranking import rank
from comp.scoring.teams import team_standings
from comp.scoring.totals import Ratio, StagePlan, criterion_ratios, plan, publish_ratio, stage_ratio, total_ratio
from comp.scoring.types import (
    BiasPart,
    Criterion,
    Entrant,
    EntrantResult,
    MarkSummary,
    Results,
    Rules,
    Scheme,
    TeamResult,
)


def entrant_result(
    entrant: Entrant,
    scheme: Scheme,
    summaries: Mapping[tuple[str, str], MarkSummary],
    prepared: tuple[tuple[StagePlan, ...], Ratio] | None = None,
    criteria: tuple[Criterion, ...] | None = None,
) -> EntrantResult:
    """Work out one entrant's published figures, before ranking and awards."""
    # Absent, disqualified, withdrawn or not yet checked-in entrants have no result.
    if entrant.status != "ok":
        return EntrantResult(
            entrant.ref, entrant.status, None, None, None, time_seconds=entrant.time_seconds, team=entrant.team
        )
    stages, weights = prepared or plan(scheme)
    scores = criterion_ratios(scheme, entrant.ref, summaries, criteria, entrant.factors)
    skipped = entrant.skipped
    stage_values = {s.key: value for s in stages if (value := stage_ratio(s, scores, skipped)) is not None}
    exact = total_ratio(stages, weights, stage_values)
    return EntrantResult(
        entrant.ref,
        entrant.status,
        None,
        total=None if exact is None else publish_ratio(exact),
        exact_total=None if exact is None else Fraction(*exact),
        stages=FrozenMap((key, publish_ratio(value)) for key, value in stage_values.items()),
        complete=exact is not None,
        time_seconds=entrant.time_seconds,
        criteria=FrozenMap((key, publish_ratio(value)) for key, value in scores.items()),
        team=entrant.team,
    )


def _placed(result: EntrantResult, rank: int | None, award: str | None) -> EntrantResult:
    # A direct constructor call: dataclasses.replace costs three times as much per entrant.
    return EntrantResult(
        result.ref,
        result.status,
        rank,
        result.total,
        result.exact_total,
        result.stages,
        award,
        result.complete,
        result.time_seconds,
        result.criteria,
        result.team,
    )


def _listing_order(result: EntrantResult) -> tuple[int, int, str]:
    # Ranked first by rank (ties by ref), then the unranked by ref.
    if result.rank is None:
        return (1, 0, result.ref)
    return (0, result.rank, result.ref)


def _unique(entrants: Iterable[Entrant]) -> tuple[Entrant, ...]:
    entrants = tuple(entrants)
    refs = [e.ref for e in entrants]
    if len(set(refs)) != len(refs):
        duplicated = sorted({ref for ref in refs if refs.count(ref) > 1})
        raise ValueError(f"entrant refs appear more than once: {', '.join(duplicated)}")
    return entrants


def compute(
    scheme: Scheme,
    rules: Rules,
    entrants: Iterable[Entrant],
    summaries: Mapping[tuple[str, str], MarkSummary],
    bias: Iterable[BiasPart] = (),
) -> Results:
    """Compute ranks, awards, teams and judge checks; summaries are keyed (ref, criterion key)."""
    entrants = _unique(entrants)
    scheme = scheme.rounded(rules.criterion_places)
    prepared = plan(scheme, rules.total == "points")
    criteria = scheme.criteria
    provisional = [entrant_result(e, scheme, summaries, prepared, criteria) for e in entrants]
    ranks = rank(provisional, rules.tiebreak, scheme)
    prizes = awards([_placed(r, ranks[r.ref], None) for r in provisional if r.ref in ranks], rules)
    final = sorted((_placed(r, ranks.get(r.ref), prizes.get(r.ref)) for r in provisional), key=_listing_order)
    teams: tuple[TeamResult, ...] = ()
    if rules.kind == "competition":
        teams = team_standings(final, rules.team_counted)
    # Only entrants who competed can hold up locking with a discrepancy.
    competing = [e.ref for e in entrants if e.status == "ok"]
    return Results(
        entrants=tuple(final),
        teams=teams,
        discrepancies=discrepancies(scheme, summaries, rules.discrepancy_share, competing),
        judges=judge_bias(bias, rules.bias_threshold),
        complete=all(r.complete for r in final if r.status == "ok"),
    )
