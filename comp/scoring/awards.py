"""Awards by share of the ranked field (rule 5) or by minimum total (rule 6)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from comp.scoring.ranking import ranked_total
from comp.scoring.totals import round_half_up
from comp.scoring.types import AwardTier, EntrantResult, Rules


def award_mode(tiers: Iterable[AwardTier]) -> str | None:
    """Return "share" or "min" by what the tiers carry, None when there are no tiers."""
    tiers = tuple(tiers)
    if not tiers:
        return None
    if all(t.share is not None and t.min is None for t in tiers):
        return "share"
    if all(t.min is not None and t.share is None for t in tiers):
        return "min"
    raise ValueError("award tiers must all carry a share or all carry a minimum")


def share_cutoffs(ranked: int, tiers: Iterable[AwardTier]) -> tuple[int, ...]:
    """Return each tier's cumulative cut-off C_k = round_half_up(N × (share_1 + … + share_k))."""
    cutoffs, cumulative = [], Fraction(0)
    for tier in tiers:
        if tier.share is None:  # Fraction(None) would raise the same TypeError
            raise TypeError(f"the tier {tier.name} has no share")
        cumulative += Fraction(tier.share)
        cutoffs.append(int(round_half_up(ranked * cumulative, 0)))
    return tuple(cutoffs)


def award_by_share(
    rank: int,
    total: Decimal,
    tiers: tuple[AwardTier, ...],
    cutoffs: tuple[int, ...],
    minimum: Decimal,
) -> str | None:
    """Return the first tier whose cut-off the rank is within, if the total reaches the minimum."""
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
    cutoffs = share_cutoffs(len(ranked), tiers)
    minimum = rules.award_min_total
    return {r.ref: award_by_share(rank, ranked_total(r), tiers, cutoffs, minimum) for r, rank in ranked}
