"""Ranking by published total and the tie-break chain (rule 4)."""
from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from comp.scoring.types import EntrantResult, Scheme


def applicable_tiebreak(tiebreak: Iterable[str], scheme: Scheme) -> tuple[str, ...]:
    """Drop the chain entries that name a stage or criterion the scheme lacks."""
    # The default chain starts with stage:practical, which many schemes do not have;
    # organizer-set chains are checked for such names by parse_rules beforehand.
    kept = []
    for entry in tiebreak:
        kind, _, name = entry.partition(":")
        if entry == "time":
            kept.append(entry)
        elif kind == "stage" and scheme.stage(name) is not None:
            kept.append(entry)
        elif kind == "criterion" and scheme.has_criterion(name):
            kept.append(entry)
    return tuple(kept)


def _part(result: EntrantResult, entry: str, deductions: frozenset[str] = frozenset()) -> tuple:
    if entry == "time":
        # A recorded time beats a missing one; among recorded times, shorter first.
        if result.time_seconds is None:
            return (1, 0)
        return (0, result.time_seconds)
    kind, _, name = entry.partition(":")
    figures = result.stages if kind == "stage" else result.criteria
    # A deduction criterion breaks ties the other way: less deducted ranks higher.
    return (figures[name],) if name in deductions else (-figures[name],)


def ranking_key(result: EntrantResult, chain: tuple[str, ...], deductions: frozenset[str] = frozenset()) -> tuple:
    """Return the sort key of a ranked entrant: published total, then the chain."""
    return (-result.total,) + tuple(_part(result, entry, deductions) for entry in chain)


def is_rankable(result: EntrantResult) -> bool:
    """Tell whether an entrant takes part in the ranking: status ok and all marks in."""
    return result.status == "ok" and result.complete and result.total is not None


def rank(
    results: Iterable[EntrantResult], tiebreak: Iterable[str], scheme: Scheme
) -> dict[str, int]:
    """Return the competition rank (1, 2, 2, 4) of every rankable entrant by ref."""
    chain = applicable_tiebreak(tiebreak, scheme)
    deductions = frozenset(c.key for c in scheme.criteria if c.kind == "deduction")
    # Sorting on (key, ref) lists tied entrants by ref.
    keyed = sorted((ranking_key(r, chain, deductions), r.ref) for r in results if is_rankable(r))
    ranks: dict[str, int] = {}
    position = 0
    for _, group in groupby(keyed, key=lambda pair: pair[0]):
        refs = [ref for _, ref in group]
        for ref in refs:
            ranks[ref] = position + 1
        position += len(refs)
    return ranks
