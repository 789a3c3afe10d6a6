"""Re-check sampling (复核抽样): which entrants are re-marked, drawn from a seed, and when a second mark differs.

Pure and replayable: the same seed, zone, pool and share always give the same sample, so anyone
can draw it again and compare, as with the lot draw.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


def sample_size(share: Decimal, pool: int) -> int:
    """Return how many of `pool` entrants outside the award zone are drawn: share × pool, rounded up."""
    if not 0 <= share <= 1:
        raise ValueError(f"the share {share} is not between 0 and 1")
    wanted = Fraction(share) * pool
    return -(-wanted.numerator // wanted.denominator)  # the ceiling, exact


def draw_sample(seed: str, zone: Sequence[str], pool: Sequence[str], share: Decimal) -> tuple[str, ...]:
    """Return the sampled refs: every ref of the award zone, then `share` of the pool drawn from the seed."""
    rng = random.Random(seed)
    ordered = sorted(pool)
    drawn = rng.sample(ordered, sample_size(share, len(ordered)))
    return tuple(sorted(zone)) + tuple(sorted(drawn))


def differs(first: Fraction | Decimal, second: Decimal, span: Decimal, tolerance: Decimal) -> bool:
    """Tell whether a second mark lies further from the panel's mark than the tolerance (a share of the range)."""
    return abs(Fraction(second) - Fraction(first)) > Fraction(tolerance) * Fraction(span)
