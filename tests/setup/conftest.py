"""Fixtures of the set-up tests: a logged-in organizer, htmx posts, a union tree."""

from __future__ import annotations

import pytest

from comp.extensions import db
from comp.models import OrgUnit
from tests.conftest import csrf_token


class Browser:
    """A logged-in test client that posts forms and htmx requests with the CSRF token."""

    def __init__(self, client):
        self.client = client
        self._token = None

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.client, "/")
        return self._token

    def get(self, url: str, htmx: bool = False, **kwargs):
        """GET a page, or its fragment when `htmx`."""
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, **kwargs)

    def post(self, url: str, data: dict | None = None, htmx: bool = False, **kwargs):
        """POST a form with the CSRF token, as htmx or as a plain form."""
        headers = {"X-CSRFToken": self.token}
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)


@pytest.fixture()
def tree():
    """Return a union tree: the city, two counties (晋江, 石狮) and an enterprise in 晋江."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    firm = OrgUnit(kind="enterprise", name="晋江某公司", parent=jinjiang)
    db.session.add_all([city, jinjiang, shishi, firm])
    db.session.commit()
    return {"city": city, "jinjiang": jinjiang, "shishi": shishi, "firm": firm}


@pytest.fixture()
def organizer(make_user, tree):
    """Return a city-union organizer who reads English."""
    return make_user("organizer", "organizer", locale="en", org_unit_id=tree["city"].id)


@pytest.fixture()
def browser(client, auth, organizer):
    """Return the organizer's logged-in browser."""
    assert auth.login("organizer").status_code == 302
    return Browser(client)
