"""The permission entries registration adds to POLICY, case by case."""

from __future__ import annotations

import pytest

from comp.extensions import db
from comp.models import Entrant
from comp.permissions import can
from tests.conftest import valid_id


@pytest.fixture()
def user(make_user, tree):
    """Return a factory of accounts by name: unions at every level, a judge, a worker."""
    kinds = {
        "admin": ("admin", None),
        "city": ("organizer", tree.city),
        "jinjiang": ("organizer", tree.jinjiang),
        "shishi": ("organizer", tree.shishi),
        "liaison-jinjiang": ("liaison", tree.aviation),
        "liaison-shishi": ("liaison", tree.garment),
        "organizer-of-enterprise": ("organizer", tree.aviation),
        "judge": ("judge", None),
        "worker": ("worker", None),
    }

    def make(who: str, **fields):
        role, unit = kinds[who]
        return make_user(None, role, org_unit_id=unit.id if unit else None, **fields)

    return make


@pytest.mark.parametrize(
    "who, expected",
    [
        ("admin", True),
        ("city", True),
        ("jinjiang", True),
        ("shishi", False),
        ("liaison-jinjiang", True),
        ("liaison-shishi", False),
        ("organizer-of-enterprise", False),
        ("judge", False),
        ("worker", False),
    ],
)
def test_register_bulk(user, open_competition, tree, who, expected):
    competition = open_competition(organizer=tree.jinjiang)
    assert can("competition.register_bulk", competition, user(who)) is expected


@pytest.mark.parametrize("who, expected", [("worker", True), ("city", False), ("judge", False), ("admin", False)])
def test_register_self(user, open_competition, who, expected):
    assert can("competition.register_self", open_competition(), user(who)) is expected


def test_entrant_own(user, open_competition, make_worker, make_user):
    competition = open_competition()
    mine, theirs = make_worker("甲", id_number=valid_id(1)), make_worker("乙", id_number=valid_id(2))
    owner, other = user("worker", worker_id=mine.id), user("worker", worker_id=theirs.id)
    entrant = Entrant(competition_id=competition.id, ref="R0001", name="甲", worker_id=mine.id)
    db.session.add(entrant)
    db.session.commit()
    assert can("entrant.own", entrant, owner) is True
    assert can("entrant.own", entrant, other) is False
    assert can("entrant.own", entrant, user("city")) is False
    assert can("entrant.own", entrant, user("worker")) is False
