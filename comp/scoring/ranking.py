"""Ranking by published total and the tie-break chain (rule 4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import groupby

from comp.scoring.types import EntrantResult, Scheme


@dataclass(frozen=True)
class TieBreak:
    """One entry of the tie-break chain: "time", "stage:KEY", "criterion:STAGE.KEY" or "attempts:STAGE".

    "attempts:STAGE" compares a best-of stage's attempts from the best down: the next-best run
    breaks a tie on the best one, then the one after it; an attempt not taken comes last.

    The chain's syntax is read here and nowhere else: the rules check it, the ranking applies
    it, the scheme editor lists and protects what it names.
    """

    kind: str  # "time", "stage", "criterion" or "attempts"
    name: str = ""

    @staticmethod
    def parse(entry: object) -> TieBreak | None:
        """Return the entry read, or None when it is not one of the three forms."""
        return _parse(entry) if isinstance(entry, str) else None

    def __str__(self) -> str:
        return self.kind if self.kind == "time" else f"{self.kind}:{self.name}"

    def exists_in(self, scheme: Scheme) -> bool:
        """Tell whether the scheme has what the entry names (time always exists)."""
        if self.kind in ("stage", "attempts"):
            stage = scheme.stage(self.name)
            return stage is not None and (self.kind == "stage" or bool(stage.best))
        return self.kind == "time" or scheme.has_criterion(self.name)

    def names(self, stage: str, criterion: str | None = None) -> bool:
        """Tell whether the entry names the stage (or one of its criteria), or the stage's criterion."""
        if criterion is not None:
            return self.kind == "criterion" and self.name == f"{stage}.{criterion}"
        return (self.kind in ("stage", "attempts") and self.name == stage) or (
            self.kind == "criterion" and self.name.startswith(f"{stage}.")
        )


@lru_cache(maxsize=1024)
def _parse(entry: str) -> TieBreak | None:
    if entry == "time":
        return TieBreak("time")
    kind, colon, name = entry.partition(":")
    if not colon or not name or kind not in ("stage", "criterion", "attempts"):
        return None
    if kind == "criterion" and name.count(".") != 1:
        return None
    return TieBreak(kind, name)


def applicable_tiebreak(tiebreak: Iterable[str], scheme: Scheme) -> tuple[str, ...]:
    """Drop the chain entries that name a stage or criterion the scheme lacks."""
    # The default chain starts with stage:practical, which many schemes do not have;
    # organizer-set chains are checked for such names by parse_rules beforehand.
    kept = []
    for entry in tiebreak:
        parsed = TieBreak.parse(entry)
        if parsed is not None and parsed.exists_in(scheme):
            kept.append(entry)
    return tuple(kept)


# One tie-break entry's part of the sort key: (missing?, seconds) for time, signed figures otherwise.
Part = tuple[int, int] | tuple[Decimal, ...]
_NOT_TAKEN = Decimal("Infinity")  # after every negated score: an attempt not taken ranks below any score


def _part(
    result: EntrantResult,
    entry: str,
    deductions: frozenset[str] = frozenset(),
    attempts: Mapping[str, tuple[str, ...]] | None = None,
) -> Part:
    parsed = _parse(entry)
    if parsed is None:
        raise ValueError(f"not a tie-break entry: {entry!r}")
    if parsed.kind == "attempts":
        keys = (attempts or {}).get(parsed.name, ())
        return tuple(sorted(-result.criteria[k] if k in result.criteria else _NOT_TAKEN for k in keys))
    if parsed.kind == "time":
        # A recorded time beats a missing one; among recorded times, shorter first.
        if result.time_seconds is None:
            return (1, 0)
        return (0, result.time_seconds)
    figures = result.stages if parsed.kind == "stage" else result.criteria
    # A deduction criterion breaks ties the other way: less deducted ranks higher.
    return (figures[parsed.name],) if parsed.name in deductions else (-figures[parsed.name],)


def ranked_total(result: EntrantResult) -> Decimal:
    """Return the published total a ranked entrant is ranked by (TypeError if it has none)."""
    if result.total is None:
        raise TypeError(f"{result.ref} has no published total to rank by")
    return result.total


def ranking_key(
    result: EntrantResult,
    chain: tuple[str, ...],
    deductions: frozenset[str] = frozenset(),
    attempts: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[Decimal | Part, ...]:
    """Return the sort key of a ranked entrant: published total, then the chain."""
    return (-ranked_total(result),) + tuple(_part(result, entry, deductions, attempts) for entry in chain)


def is_rankable(result: EntrantResult) -> bool:
    """Tell whether an entrant takes part in the ranking: status ok and all marks in."""
    return result.status == "ok" and result.complete and result.total is not None


def rank(results: Iterable[EntrantResult], tiebreak: Iterable[str], scheme: Scheme) -> dict[str, int]:
    """Return the competition rank (1, 2, 2, 4) of every rankable entrant by ref."""
    chain = applicable_tiebreak(tiebreak, scheme)
    deductions = frozenset(c.key for c in scheme.criteria if c.kind == "deduction")
    attempts = {s.key: tuple(c.key for c in s.criteria if c.kind == "score") for s in scheme.stages if s.best}
    # Sorting on (key, ref) lists tied entrants by ref.
    keyed = sorted((ranking_key(r, chain, deductions, attempts), r.ref) for r in results if is_rankable(r))
    ranks: dict[str, int] = {}
    position = 0
    for _, group in groupby(keyed, key=lambda pair: pair[0]):
        refs = [ref for _, ref in group]
        for ref in refs:
            ranks[ref] = position + 1
        position += len(refs)
    return ranks
