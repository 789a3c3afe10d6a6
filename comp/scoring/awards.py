"""Awards by share of the ranked field (rule 5), by a fixed number of places, or by minimum total (rule 6).

Shares and fixed numbers both come down to cumulative cut-off places C_k: an entrant ranked at or
above C_k (and below C_k-1) gets tier k if the total reaches the award minimum. Tied entrants share
a rank, so a tie across a cut-off gives every one of them the better award; the next tier still
ends at its own cut-off, so it has that many fewer places (一等奖 1 名 with two tied first: both
一等奖, and 二等奖 3 名 then goes to places 3 and 4 only).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from comp.scoring.ranking import ranked_total
from comp.scoring.totals import round_half_up
from comp.scoring.types import AwardTier, EntrantResult, Rules

MODES = ("share", "count", "min")


def _measure(tier: AwardTier) -> str | None:
    given = [mode for mode in MODES if getattr(tier, mode) is not None]
    return given[0] if len(given) == 1 else None


def award_mode(tiers: Iterable[AwardTier]) -> str | None:
    """Return "share", "count" or "min" by what the tiers carry, None when there are no tiers."""
    modes = {_measure(t) for t in tiers}
    if not modes:
        return None
    if len(modes) == 1 and None not in modes:
        return modes.pop()
    raise ValueError("award tiers must all carry a share, all a count or all a minimum")


def share_cutoffs(ranked: int, tiers: Iterable[AwardTier]) -> tuple[int, ...]:
    """Return each tier's cumulative cut-off C_k = round_half_up(N × (share_1 + … + share_k))."""
    cutoffs, cumulative = [], Fraction(0)
    for tier in tiers:
        if tier.share is None:  # Fraction(None) would raise the same TypeError
            raise TypeError(f"the tier {tier.name} has no share")
        cumulative += Fraction(tier.share)
        cutoffs.append(int(round_half_up(ranked * cumulative, 0)))
    return tuple(cutoffs)


def count_cutoffs(tiers: Iterable[AwardTier]) -> tuple[int, ...]:
    """Return each tier's cumulative cut-off C_k = count_1 + … + count_k (places, whatever the field's size)."""
    cutoffs, cumulative = [], 0
    for tier in tiers:
        if tier.count is None:
            raise TypeError(f"the tier {tier.name} has no count")
        cumulative += tier.count
        cutoffs.append(cumulative)
    return tuple(cutoffs)


def cutoffs_for(ranked: int, tiers: tuple[AwardTier, ...]) -> tuple[int, ...]:
    """Return the cumulative cut-off places of tiers by share or by count, for `ranked` entrants."""
    return count_cutoffs(tiers) if award_mode(tiers) == "count" else share_cutoffs(ranked, tiers)


def award_by_share(
    rank: int,
    total: Decimal,
    tiers: tuple[AwardTier, ...],
    cutoffs: tuple[int, ...],
    minimum: Decimal,
) -> str | None:
    """Return the first tier whose cut-off the rank is within, if the total reaches the minimum (shares and counts)."""
    if total < minimum:
        return None
    # Tied entrants share a rank, so a tie across a cut-off gets the better award for all.
    return next((t.name for t, cut in zip(tiers, cutoffs) if rank <= cut), None)


def award_by_threshold(total: Decimal, tiers: tuple[AwardTier, ...]) -> str | None:
    """Return the first tier whose minimum the published total reaches."""
    return next((t.name for t in tiers if t.min is not None and total >= t.min), None)


def awards(results: Iterable[EntrantResult], rules: Rules) -> dict[str, str | None]:
    """Return the award of every ranked entrant by ref (None for no award)."""
    ranked = [(r, r.rank) for r in results if r.rank is not None]
    tiers = rules.award_tiers
    mode = award_mode(tiers)
    if mode is None:
        return {r.ref: None for r, _ in ranked}
    if mode == "min":
        return {r.ref: award_by_threshold(ranked_total(r), tiers) for r, _ in ranked}
    cutoffs = cutoffs_for(len(ranked), tiers)
    minimum = rules.award_min_total
    return {r.ref: award_by_share(rank, ranked_total(r), tiers, cutoffs, minimum) for r, rank in ranked}
