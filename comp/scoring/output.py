"""Frozen value types the scoring engine hands back: an entrant's standing, teams, judge checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from comp.scoring.frozen import FrozenMap


@dataclass(frozen=True)
class EntrantResult:
    """One entrant's standing: published figures, exact total, rank and award."""

    ref: str
    status: str
    rank: int | None
    total: Decimal | None
    exact_total: Fraction | None
    stages: FrozenMap[str, Decimal] = field(default_factory=FrozenMap)
    award: str | None = None
    complete: bool = False
    time_seconds: int | None = None
    # Published criterion scores, for score sheets and `criterion:` tie-breaks.
    criteria: FrozenMap[str, Decimal] = field(default_factory=FrozenMap)
    team: str = ""


@dataclass(frozen=True)
class TeamResult:
    """A team's standing: the sum of its best members' published totals."""

    team: str
    rank: int
    total: Decimal
    members: tuple[str, ...]


@dataclass(frozen=True)
class Discrepancy:
    """A flagged spread of marks on one criterion for one entrant."""

    ref: str
    criterion: str
    spread: Decimal
    share: Fraction  # spread / criterion maximum


@dataclass(frozen=True)
class JudgeBias:
    """A judge's mean deviation from the other judges."""

    judge: str
    items: int
    bias: Fraction
    flagged: bool


@dataclass(frozen=True)
class Results:
    """Everything `compute` works out for one competition or rating."""

    entrants: tuple[EntrantResult, ...]
    teams: tuple[TeamResult, ...] = ()
    discrepancies: tuple[Discrepancy, ...] = ()
    judges: tuple[JudgeBias, ...] = ()
    complete: bool = True

    def entrant(self, ref: str) -> EntrantResult:
        """Return the result of the entrant with this ref (KeyError if none)."""
        for result in self.entrants:
            if result.ref == ref:
                return result
        raise KeyError(ref)
