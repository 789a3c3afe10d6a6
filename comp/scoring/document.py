"""The results document of the SPEC (`competition results --json`, the results API)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from comp.scoring.totals import round_half_up
from comp.scoring.types import EntrantResult, Results


def _fixed(value: Decimal | Fraction | None, places: int = 2) -> str | None:
    # Published figures always show their places ("86.00", "-0.010"), never an exponent.
    if value is None:
        return None
    return str(round_half_up(Fraction(value), places))


def _entrant(result: EntrantResult, names: Mapping[str, str]) -> dict[str, object]:
    return {
        "ref": result.ref,
        "name": names.get(result.ref),
        "rank": result.rank,
        # None unless the entrant is ok and has every mark; stages hold only complete ones.
        "total": _fixed(result.total),
        "stages": {key: _fixed(value) for key, value in result.stages.items()},
        "award": result.award,
        "status": result.status,
        "complete": result.complete,
    }


def results_document(code: str, name: str, results: Results, names: Mapping[str, str]) -> dict[str, object]:
    """Return the results document, ready for json.dumps; `names` maps entrant refs to names."""
    return {
        "competition": {"code": code, "name": name},
        "complete": results.complete,
        "results": [_entrant(r, names) for r in results.entrants],
        "teams": [
            {"team": t.team, "rank": t.rank, "total": _fixed(t.total), "members": list(t.members)}
            for t in results.teams
        ],
        "discrepancies": [
            {"ref": d.ref, "criterion": d.criterion, "spread": _fixed(d.spread)} for d in results.discrepancies
        ],
        "judges": [{"ref": j.judge, "bias": _fixed(j.bias, 3), "flagged": j.flagged} for j in results.judges],
    }
