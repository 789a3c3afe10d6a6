"""Checks on the judges: discrepancies between marks (rule 8) and judge bias (rule 9)."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

from comp.scoring.types import BiasPart, Criterion, Discrepancy, JudgeBias, MarkSummary, Scheme


def discrepancy(
    ref: str, criterion: Criterion, summary: MarkSummary, share: Decimal
) -> Discrepancy | None:
    """Return the discrepancy when the marks' spread exceeds `share` of the maximum."""
    if summary.count < 2:
        return None
    spread = Decimal(summary.high - summary.low).scaleb(-2)
    if spread <= share * criterion.max:
        return None
    return Discrepancy(ref, criterion.key, spread, Fraction(spread) / Fraction(criterion.max))


def discrepancies(
    scheme: Scheme,
    summaries: Mapping[tuple[str, str], MarkSummary],
    share: Decimal,
    refs: Iterable[str] | None = None,
) -> tuple[Discrepancy, ...]:
    """Return the flagged discrepancies, by ref then criterion key, optionally only for `refs`."""
    wanted = None if refs is None else set(refs)
    # The limit per criterion once, so the common case (no flag) is one subtraction.
    limits = {c.key: (c, share * c.max * 100) for c in scheme.criteria}  # in hundredths
    found = []
    for (ref, key), summary in summaries.items():
        criterion, limit = limits.get(key, (None, None))
        if criterion is None or summary.count < 2 or summary.high - summary.low <= limit:
            continue
        if wanted is None or ref in wanted:
            found.append(discrepancy(ref, criterion, summary, share))
    return tuple(sorted(found, key=lambda d: (d.ref, d.criterion)))


def bias_parts(
    marks: Iterable[tuple[str, str, str, Decimal]], scheme: Scheme
) -> list[BiasPart]:
    """Sum each judge's deviations from the others; marks are (judge, entrant, criterion, value)."""
    groups: dict[tuple[str, str], list[tuple[str, Fraction]]] = defaultdict(list)
    for judge, entrant, key, value in marks:
        if not scheme.has_criterion(key):
            raise ValueError(f"a mark names the unknown criterion {key!r}")
        groups[(entrant, key)].append((judge, Fraction(value)))
    sums: dict[str, Fraction] = defaultdict(Fraction)
    items: Counter[str] = Counter()
    for (_, key), group in groups.items():
        # With fewer than 3 marks "the other judges" are one judge: no basis for a bias.
        if len(group) < 3:
            continue
        maximum, count = Fraction(scheme.criterion(key).max), len(group)
        everyone = sum(value for _, value in group)
        for judge, value in group:
            # (value − (everyone − value) / (count − 1)) / max, over one denominator.
            sums[judge] += (count * value - everyone) / ((count - 1) * maximum)
            items[judge] += 1
    return [BiasPart(judge, items[judge], sums[judge]) for judge in sorted(items)]


def judge_bias(parts: Iterable[BiasPart], threshold: Decimal) -> tuple[JudgeBias, ...]:
    """Return every judge's mean deviation, flagged past `threshold`, sorted by judge ref."""
    sums: dict[str, Fraction] = defaultdict(Fraction)
    items: Counter[str] = Counter()
    for part in parts:
        sums[part.judge] += Fraction(part.deviation_sum)
        items[part.judge] += part.items
    result = []
    for judge in sorted(items):
        if items[judge] > 0:
            bias = sums[judge] / items[judge]
            result.append(JudgeBias(judge, items[judge], bias, abs(bias) > Fraction(threshold)))
    return tuple(result)
