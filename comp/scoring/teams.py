"""Team standings (团体, rule 7): the best members' published totals, summed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby

from comp.scoring.ranking import ranked_total
from comp.scoring.types import EntrantResult, TeamResult

# The sort key (best first), the team, its total and the refs of the members counted.
TeamRow = tuple[tuple[Decimal, Decimal], str, Decimal, tuple[str, ...]]


def _team_row(team: str, members: list[EntrantResult], counted: int) -> TeamRow:
    # Best first means by rank, which already orders by published total then tie-breaks.
    best = sorted(members, key=lambda r: (r.rank, r.ref))[:counted]
    totals = [ranked_total(r) for r in best]
    total = sum(totals, Decimal(0))
    return (-total, -totals[0]), team, total, tuple(r.ref for r in best)


def team_standings(results: Iterable[EntrantResult], counted: int) -> tuple[TeamResult, ...]:
    """Rank teams by the sum of their best `counted` ranked members' published totals."""
    groups: dict[str, list[EntrantResult]] = defaultdict(list)
    for result in results:
        # Unranked entrants (absent, incomplete …) add nothing; nor do entrants with no team.
        if result.rank is not None and result.team:
            groups[result.team].append(result)
    rows = sorted(_team_row(team, members, counted) for team, members in groups.items())
    standings, position = [], 0
    # Equal totals are split by the best member's total; still equal, the rank is shared.
    for _, group in groupby(rows, key=lambda row: row[0]):
        tied = list(group)
        for _, team, total, members in tied:
            standings.append(TeamResult(team, position + 1, total, members))
        position += len(tied)
    return tuple(standings)
