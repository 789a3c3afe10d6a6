"""Fixtures of the rating tests: a union tree with enterprises, studios and teams, an organizer."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from comp.extensions import db
from comp.models import OrgUnit
from comp.models.rating import Unit
from tests.setup.conftest import Browser


@pytest.fixture(autouse=True)
def english():
    """Read the services' messages in English."""
    with force_locale("en"):
        yield


@pytest.fixture()
def tree():
    """Return the city, two counties and an enterprise in each county."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    quangang = OrgUnit(kind="county", name="泉港区总工会", parent=city)
    shoes = OrgUnit(kind="enterprise", name="晋江鞋业公司", parent=jinjiang)
    petro = OrgUnit(kind="enterprise", name="泉港石化公司", parent=quangang)
    db.session.add_all([city, jinjiang, quangang, shoes, petro])
    db.session.commit()
    return {"city": city, "jinjiang": jinjiang, "quangang": quangang, "shoes": shoes, "petro": petro}


@pytest.fixture()
def units(tree):
    """Return three craftsman teams and two studios, by name."""
    rows = [
        Unit(kind="team", name="制帮班组", enterprise=tree["shoes"]),
        Unit(kind="team", name="成型班组", enterprise=tree["shoes"]),
        Unit(kind="team", name="裂解车间一班", enterprise=tree["petro"]),
        Unit(kind="studio", name="陈明创新工作室", enterprise=tree["petro"], level="city"),
        Unit(kind="studio", name="林芳劳模工作室", enterprise=tree["shoes"], level="province"),
    ]
    db.session.add_all(rows)
    db.session.commit()
    return {u.name: u for u in rows}


@pytest.fixture()
def organizer(make_user, tree):
    """Return a city-union organizer who reads English."""
    return make_user("organizer", "organizer", locale="en", org_unit_id=tree["city"].id)


@pytest.fixture()
def browser(client, auth, organizer):
    """Return the organizer's logged-in browser."""
    assert auth.login("organizer").status_code == 302
    return Browser(client)


@pytest.fixture()
def campaign(organizer, tree):
    """Return a factory of draft campaigns created from the default scheme."""
    from comp.services.setup import ratings

    def make(unit_kind: str = "team", code: str = "RT-2026-TEAM", **details):
        return ratings.create_campaign(
            {"unit_kind": unit_kind, "year": 2026, "code": code, "organizer_unit_id": tree["city"].id, **details},
            organizer,
        )

    return make
