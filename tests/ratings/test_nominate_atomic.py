"""A nomination after closing is numbered in the same transaction: a failure leaves no unnumbered unit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant
from comp.services.hall import draw
from comp.services.setup import lifecycle, ratings


def test_a_failure_while_numbering_a_late_nomination_leaves_nothing(campaign, units, organizer, monkeypatch):
    rating = campaign("team")
    ratings.nominate(rating, [units["制帮班组"].id], organizer)
    lifecycle.transition(rating, "open", organizer)
    draw.close_registration(rating, organizer)

    def failed(competition, actor):
        raise RuntimeError("injected")

    monkeypatch.setattr(draw, "_number", failed)
    with pytest.raises(RuntimeError):
        ratings.nominate(rating, [units["成型班组"].id], organizer)
    db.session.expire_all()
    with db.engine.connect() as other:
        refs = list(other.scalars(sa.select(Entrant.ref).where(Entrant.competition_id == rating.id)))
    assert refs == ["U0001"]
