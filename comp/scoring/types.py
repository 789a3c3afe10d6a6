"""Frozen value types the scoring engine takes in and hands back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from comp.scoring.frozen import FrozenMap
from comp.scoring.output import Discrepancy, EntrantResult, JudgeBias, Results, TeamResult

__all__ = [
    "AwardTier",
    "BiasPart",
    "Criterion",
    "Discrepancy",
    "Entrant",
    "EntrantResult",
    "JudgeBias",
    "MarkSummary",
    "Results",
    "Rules",
    "Scheme",
    "Stage",
    "TeamResult",
]

KINDS = ("score", "deduction")
AGGREGATIONS = ("mean", "trimmed", "median", "single")
STATUSES = ("pending", "approved", "ok", "absent", "disqualified", "withdrawn")
RULE_KINDS = ("competition", "rating")
TOTALS = ("percent", "points")  # weighted stage scores out of 100 (SPEC), or the sum of the stages' raw points
RECUSALS = ("employer", "declared")  # 回避: own employer and declared conflicts (default), or declared ones only


# ---------------------------------------------------------------- the scheme


@dataclass(frozen=True)
class Criterion:
    """One criterion (评分项); `key` is "stage.criterion", e.g. "practical.route"."""

    key: str
    name: str
    max: Decimal
    kind: str = "score"
    aggregation: str = "mean"
    step: Decimal | None = None
    expected: int | None = None  # how many marks each entrant should get; None means "at least one"
    trim: int = 1  # "trimmed": the marks dropped from each end (2 of 7 judges, say)
    low: Decimal = Decimal(0)  # the lowest mark: below 0 on a signed scale (−3…+3 grade of execution)
    worth: Decimal | None = None  # the points the top mark `max` is worth, when the scale is not points (0–3)
    places: int | None = None  # round the aggregated mark to this many decimals (half up) before it counts
    factored: bool = False  # each entrant declares a factor (a dive's degree of difficulty) the score is multiplied by

    @property
    def points(self) -> Decimal:
        """Return the points the criterion is worth: `worth`, else its top mark."""
        return self.max if self.worth is None else self.worth

    @property
    def span(self) -> Decimal:
        """Return the width of the judges' scale, top mark minus lowest (what discrepancies are measured on)."""
        return self.max - self.low

    @property
    def stage(self) -> str:
        """Return the key of the stage this criterion belongs to."""
        return self.key.partition(".")[0]


@dataclass(frozen=True)
class Stage:
    """A weighted stage (e.g. theory, practical) with its criteria."""

    key: str
    name: str
    weight: Decimal
    criteria: tuple[Criterion, ...]
    best: int | None = None  # attempts (runs, dives): only the best `best` score criteria count, summed

    @property
    def maximum(self) -> Decimal:
        """Return the stage maximum: the sum of the points its score criteria (its best k attempts) are worth."""
        points = sorted((c.points for c in self.criteria if c.kind == "score"), reverse=True)
        return sum(points[: self.best] if self.best else points, Decimal(0))


@dataclass(frozen=True)
class Scheme:
    """The stages and criteria of a competition or rating."""

    stages: tuple[Stage, ...]

    @cached_property
    def _by_key(self) -> dict[str, Criterion]:
        # Written straight into __dict__ by cached_property, so a frozen class may cache it.
        return {c.key: c for s in self.stages for c in s.criteria}

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """Return every criterion in scheme order."""
        return tuple(self._by_key.values())

    def criterion(self, key: str) -> Criterion:
        """Return the criterion with this "stage.criterion" key (KeyError if none)."""
        return self._by_key[key]

    def has_criterion(self, key: str) -> bool:
        """Tell whether a criterion with this key exists."""
        return key in self._by_key

    def stage(self, key: str) -> Stage | None:
        """Return the stage with this key, or None."""
        return next((s for s in self.stages if s.key == key), None)

    def rounded(self, places: int | None) -> Scheme:
        """Return the scheme with every criterion that sets no places of its own rounded to `places`."""
        if places is None or all(c.places is not None for c in self.criteria):
            return self
        return Scheme(
            tuple(
                replace(s, criteria=tuple(c if c.places is not None else replace(c, places=places) for c in s.criteria))
                for s in self.stages
            )
        )


# ---------------------------------------------------------------- the rules


@dataclass(frozen=True)
class AwardTier:
    """An award tier, by share of ranked entrants, by a fixed number of places, or by minimum total."""

    name: str
    share: Decimal | None = None
    min: Decimal | None = None
    count: int | None = None  # 一等奖 1 名: this many places after the tiers above


COMPETITION_TIERS = (
    AwardTier("一等奖", share=Decimal("0.10")),
    AwardTier("二等奖", share=Decimal("0.20")),
    AwardTier("三等奖", share=Decimal("0.30")),
)
RATING_TIERS = (
    AwardTier("五星", min=Decimal("90")),
    AwardTier("四星", min=Decimal("80")),
    AwardTier("三星", min=Decimal("70")),
)
DEFAULT_TIEBREAK = ("stage:practical", "time")


def default_tiers(kind: str) -> tuple[AwardTier, ...]:
    """Return the default award tiers for a competition or a rating."""
    return RATING_TIERS if kind == "rating" else COMPETITION_TIERS


@dataclass(frozen=True)
class Rules:
    """A competition's published rules; every field has the SPEC default."""

    kind: str = "competition"
    # None: the defaults for `kind` (shares for competitions, minima for ratings), put in place by __post_init__.
    award_tiers: tuple[AwardTier, ...] = None  # type: ignore[assignment]
    award_min_total: Decimal = Decimal("60")
    tiebreak: tuple[str, ...] = DEFAULT_TIEBREAK
    team_counted: int = 3
    discrepancy_share: Decimal = Decimal("0.20")
    bias_threshold: Decimal = Decimal("0.10")
    notice_days: int = 5
    recusal: str = "employer"
    criterion_places: int | None = None  # 各评分项得分保留两位小数: the places every criterion is rounded to
    total: str = "percent"  # "points": a stage is its raw points and the total their sum (diving's 708.72)

    def __post_init__(self) -> None:
        tiers = default_tiers(self.kind) if self.award_tiers is None else self.award_tiers
        object.__setattr__(self, "award_tiers", tuple(tiers))
        object.__setattr__(self, "tiebreak", tuple(self.tiebreak))

    @classmethod
    def default(cls, kind: str = "competition") -> Rules:
        """Return the default rules for a competition or a rating."""
        return cls(kind=kind)


# ---------------------------------------------------------------- the inputs


@dataclass(frozen=True)
class Entrant:
    """An entrant as scoring sees it; `team` is already the grouping key."""

    ref: str
    status: str
    time_seconds: int | None = None
    team: str = ""
    # The factors of the entrant's programme, by criterion key (a dive's degree of difficulty), declared before judging.
    factors: FrozenMap[str, Decimal] = field(default_factory=FrozenMap)
    # Attempts the entrant did not take (DNS, "did not improve"): no score, and not missing either.
    skipped: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MarkSummary:
    """The marks of one entrant on one criterion, summarised, in integer hundredths.

    Marks have at most two decimal places (rule 1), so hundredths are exact: the database
    sums them as integers and nothing here needs a Decimal or a Fraction per mark.
    `values` (sorted) is needed only for the median.
    """

    count: int
    total: int
    low: int
    high: int
    values: tuple[int, ...] | None = None
    # The marks this entrant should get when not the criterion's (a judge recused from it marks one fewer).
    expected: int | None = None

    @classmethod
    def of(cls, values: Iterable[Decimal]) -> MarkSummary:
        """Summarise raw mark values (Decimals with at most two places)."""
        ordered = tuple(sorted(hundredths(v) for v in values))
        if not ordered:
            return cls(0, 0, 0, 0, ())
        return cls(len(ordered), sum(ordered), ordered[0], ordered[-1], ordered)


def hundredths(value: Decimal) -> int:
    """Return a mark in integer hundredths, refusing finer precision."""
    scaled = Decimal(value).scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 2 decimal places")
    return int(scaled)


@dataclass(frozen=True)
class BiasPart:
    """The summed deviations of one judge over `items` (entrant, criterion) pairs."""

    judge: str
    items: int
    deviation_sum: Fraction
