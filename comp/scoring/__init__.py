"""Pure scoring engine: marks in, published results out (standard library only).

The flow of `compute`: marks are summarised per (entrant, criterion) → criterion scores
(rule 1, exact Fractions) → stage scores and the total from the *exact* stage scores
(rules 2-3) → published figures, rounded once, half up, to 2 places → ranks on the
published figures (rule 4) → awards (5-6) → teams (7); discrepancies (8) and judge bias
(9) are computed beside it.
"""

from comp.scoring.awards import (
    award_by_share,
    award_by_threshold,
    award_mode,
    awards,
    count_cutoffs,
    cutoffs_for,
    share_cutoffs,
)
from comp.scoring.consistency import (
    BiasSums,
    LockBlocker,
    bias_parts,
    discrepancies,
    discrepancy,
    judge_bias,
    lock_blockers,
)
from comp.scoring.document import results_document
from comp.scoring.engine import compute, entrant_result
from comp.scoring.frozen import FrozenMap
from comp.scoring.marks import MarkError, aggregate, check_mark, mark_ratio, parse_mark
from comp.scoring.problems import Problem, ProblemsError
from comp.scoring.ranking import TieBreak, applicable_tiebreak, rank, ranking_key
from comp.scoring.recheck import differs, draw_sample, sample_size
from comp.scoring.rules import RuleError, check_scheme, parse_rules, rules_to_dict
from comp.scoring.teams import team_standings
from comp.scoring.totals import (
    criterion_scores,
    plan,
    publish,
    round_half_up,
    stage_score,
    stage_scores,
    total,
)
from comp.scoring.types import (
    AwardTier,
    BiasPart,
    Criterion,
    Discrepancy,
    Entrant,
    EntrantResult,
    JudgeBias,
    MarkSummary,
    Results,
    Rules,
    Scheme,
    Stage,
    TeamResult,
)

__all__ = [
    "AwardTier",
    "BiasPart",
    "BiasSums",
    "LockBlocker",
    "Criterion",
    "Discrepancy",
    "Entrant",
    "EntrantResult",
    "FrozenMap",
    "JudgeBias",
    "MarkError",
    "Problem",
    "ProblemsError",
    "MarkSummary",
    "Results",
    "RuleError",
    "Rules",
    "Scheme",
    "Stage",
    "TeamResult",
    "TieBreak",
    "aggregate",
    "applicable_tiebreak",
    "award_by_share",
    "award_by_threshold",
    "award_mode",
    "count_cutoffs",
    "cutoffs_for",
    "awards",
    "bias_parts",
    "lock_blockers",
    "mark_ratio",
    "check_mark",
    "check_scheme",
    "compute",
    "criterion_scores",
    "discrepancies",
    "discrepancy",
    "differs",
    "draw_sample",
    "entrant_result",
    "judge_bias",
    "parse_mark",
    "parse_rules",
    "plan",
    "publish",
    "rank",
    "ranking_key",
    "results_document",
    "round_half_up",
    "rules_to_dict",
    "sample_size",
    "share_cutoffs",
    "stage_score",
    "stage_scores",
    "team_standings",
    "total",
]
