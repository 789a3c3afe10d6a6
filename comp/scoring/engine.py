"""The whole computation: from entrants and mark summaries to published results."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from comp.scoring.awards import awards
from comp.scoring.consistency import discrepancies, judge_bias
from comp.scoring.ranking import rank
from comp.scoring.teams import team_standings
from comp.scoring.totals import criterion_scores, publish, stage_scores, total
from comp.scoring.types import (
    BiasPart, Entrant, EntrantResult, FrozenMap, MarkSummary, Results, Rules, Scheme,
)


def entrant_result(
    entrant: Entrant, scheme: Scheme, summaries: Mapping[tuple[str, str], MarkSummary]
) -> EntrantResult:
    """Work out one entrant's published figures, before ranking and awards."""
    base = EntrantResult(
        entrant.ref, entrant.status, None, None, None,
        time_seconds=entrant.time_seconds, team=entrant.team,
    )
    # Absent, disqualified, withdrawn or not yet checked-in entrants have no result.
    if entrant.status != "ok":
        return base
    scores = criterion_scores(scheme, entrant.ref, summaries)
    stages = stage_scores(scheme, scores)
    exact = total(scheme, stages)
    return replace(
        base,
        total=None if exact is None else publish(exact),
        exact_total=exact,
        stages=FrozenMap((key, publish(value)) for key, value in stages.items()),
        complete=exact is not None,
        criteria=FrozenMap((key, publish(value)) for key, value in scores.items()),
    )


def _listing_order(result: EntrantResult) -> tuple:
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
    provisional = [entrant_result(e, scheme, summaries) for e in entrants]
    ranks = rank(provisional, rules.tiebreak, scheme)
    ranked = [replace(r, rank=ranks.get(r.ref)) for r in provisional]
    prizes = awards(ranked, rules)
    final = sorted((replace(r, award=prizes.get(r.ref)) for r in ranked), key=_listing_order)
    teams = ()
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
