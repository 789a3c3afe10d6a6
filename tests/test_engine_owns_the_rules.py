"""The app computes every rule through the engine: its figures equal the engine's on the same marks."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from comp import scoring
from comp.extensions import db
from comp.models import Mark
from comp.services import results


def _marks_as_the_engine_takes_them(competition, loaded):
    rows = db.session.execute(
        sa.select(Mark.judge_id, Mark.entrant_id, Mark.criterion_id, Mark.value_cents).where(
            Mark.competition_id == competition.id
        )
    ).all()
    return [
        (loaded.judge_refs[j], loaded.entrant_refs[e], loaded.criterion_keys[c], Decimal(v).scaleb(-2))
        for j, e, c, v in rows
    ]


def test_judge_bias_in_the_app_is_the_engines(make_competition):
    competition = make_competition(status="running")
    loaded = results.load(competition)
    _summaries, parts = results.read_marks(competition, loaded)
    marks = _marks_as_the_engine_takes_them(competition, loaded)
    assert len(marks) >= 10
    expected = scoring.bias_parts(marks, loaded.scheme)
    assert parts == expected
    assert any(part.deviation_sum != 0 for part in parts)
    threshold = loaded.rules.bias_threshold
    assert scoring.judge_bias(parts, threshold) == scoring.judge_bias(expected, threshold)
