"""Checks on the judges: discrepancies between marks (rule 8) and judge bias (rule 9)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from comp.scoring.types import BiasPart, Criterion, Discrepancy, JudgeBias, MarkSummary, Results, Scheme


def discrepancy(ref: str, criterion: Criterion, summary: MarkSummary, share: Decimal) -> Discrepancy | None:
    """Return the discrepancy when the marks' spread exceeds `share` of the scale (top mark minus lowest)."""
    if summary.count < 2:
        return None
    spread = Decimal(summary.high - summary.low).scaleb(-2)
    if spread <= share * criterion.span:
        return None
    return Discrepancy(ref, criterion.key, spread, Fraction(spread) / Fraction(criterion.span))


def discrepancies(
    scheme: Scheme,
    summaries: Mapping[tuple[str, str], MarkSummary],
    share: Decimal,
    refs: Iterable[str] | None = None,
) -> tuple[Discrepancy, ...]:
    """Return the flagged discrepancies, by ref then criterion key, optionally only for `refs`."""
    wanted = None if refs is None else set(refs)
    # The limit per criterion once, so the common case (no flag) is one subtraction.
    limits = {c.key: (c, share * c.span * 100) for c in scheme.criteria}  # in hundredths
    found = []
    for (ref, key), summary in summaries.items():
        if key not in limits:
            continue
        criterion, limit = limits[key]
        if summary.count < 2 or summary.high - summary.low <= limit:
            continue
        if wanted is None or ref in wanted:
            flagged = discrepancy(ref, criterion, summary, share)
            if flagged is not None:
                found.append(flagged)
    return tuple(sorted(found, key=lambda d: (d.ref, d.criterion)))


class BiasSums:
    """Each judge's summed deviation from the other judges (rule 9), built one group of marks at a time.

    A group is the marks of one entrant on one criterion. For a mark v among n marks summing to S,
    (v − mean of the others) / max is (n·v − S) / ((n − 1)·max): the numerators are summed per judge
    and denominator, so marks given as integers (hundredths, with `unit=100`) stay integers until
    `parts()` divides once.
    """

    def __init__(self, unit: int = 1) -> None:
        self._unit = unit
        self._numerators: dict[tuple[str, int], Fraction | int] = {}
        self._items: Counter[str] = Counter()
        # A competition has few (count, maximum) pairs and many groups: each denominator is made once
        # and numerators are keyed by its index (hashing a Fraction per mark costs more than the sum).
        self._slots: dict[tuple[int, Decimal | int], int] = {}
        self._denominators: list[Fraction] = []

    def add(self, maximum: Decimal | int, marks: Sequence[tuple[str, int | Fraction]]) -> None:
        """Add one group's (judge, value) marks on a criterion out of `maximum`."""
        count = len(marks)
        if count < 3:  # with fewer, "the other judges" are one judge: no basis for a bias
            return
        everyone = sum(value for _judge, value in marks)
        slot = self._slots.get((count, maximum))
        if slot is None:
            slot = self._slots[(count, maximum)] = len(self._denominators)
            self._denominators.append(self._unit * (count - 1) * Fraction(maximum))
        numerators, items = self._numerators, self._items
        for judge, value in marks:
            key = (judge, slot)
            numerators[key] = numerators.get(key, 0) + count * value - everyone
            items[judge] += 1

    def parts(self) -> list[BiasPart]:
        """Return one part per judge, sorted by judge ref."""
        sums: dict[str, Fraction] = defaultdict(Fraction)
        for (judge, slot), numerator in self._numerators.items():
            sums[judge] += Fraction(numerator) / self._denominators[slot]
        return [BiasPart(judge, self._items[judge], sums[judge]) for judge in sorted(self._items)]


def bias_parts(marks: Iterable[tuple[str, str, str, Decimal]], scheme: Scheme) -> list[BiasPart]:
    """Sum each judge's deviations from the others; marks are (judge, entrant, criterion, value)."""
    groups: dict[tuple[str, str], list[tuple[str, Fraction | int]]] = defaultdict(list)
    for judge, entrant, key, value in marks:
        if not scheme.has_criterion(key):
            raise ValueError(f"a mark names the unknown criterion {key!r}")
        groups[(entrant, key)].append((judge, Fraction(value)))
    sums = BiasSums()
    for (_entrant, key), group in groups.items():
        sums.add(scheme.criterion(key).span, group)
    return sums.parts()


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


@dataclass(frozen=True)
class LockBlocker:
    """Why the scores cannot be locked yet: a code and the items it concerns, for the caller to word."""

    code: str  # "marks-missing": items are entrant refs; "discrepancies-open": the caller's open flags
    items: tuple[str, ...]


def lock_blockers(results: Results, open_discrepancies: Iterable[str] = ()) -> tuple[LockBlocker, ...]:
    """Return what keeps the scores from being locked: entrants still due marks, unconfirmed discrepancies."""
    # Which discrepancies the chief judge has confirmed is the caller's record: every one passed blocks.
    blockers = []
    missing = tuple(sorted(r.ref for r in results.entrants if r.status == "ok" and not r.complete))
    if missing:
        blockers.append(LockBlocker("marks-missing", missing))
    flags = tuple(open_discrepancies)
    if flags:
        blockers.append(LockBlocker("discrepancies-open", flags))
    return tuple(blockers)
