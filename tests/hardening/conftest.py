"""Fixtures of the probe's findings: an admin logged in, a competition to aim the routes at."""

from __future__ import annotations

import html

import pytest

from tests.conftest import csrf_token

HUGE = 2**63  # one past the largest signed 64-bit integer
THIRTY_DIGITS = "9" * 30


@pytest.fixture()
def admin(auth, make_user, tree):
    """Log in an admin of the city union (English pages)."""
    user = make_user("root", "admin", locale="en", org_unit_id=tree.city.id)
    auth.login("root")
    return user


@pytest.fixture()
def token(client):
    """Return a function giving the logged-in client a CSRF token."""
    return lambda: csrf_token(client, "/")


def text(response) -> str:
    """Return the page with entities decoded."""
    return html.unescape(response.get_data(as_text=True))
