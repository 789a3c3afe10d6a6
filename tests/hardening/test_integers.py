"""Whole numbers too large for the database in URLs, query strings and forms: a 404 or ignored, never a 500.

SQLite refuses a Python int beyond 2**63 - 1 outright; PostgreSQL overflows already beyond 2**31 - 1,
the largest value of its INTEGER id columns. Run this on both.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from comp.converters import BIGGEST, whole_number
from tests.hardening.conftest import HUGE, THIRTY_DIGITS

# What the other URL arguments are filled with, by converter class or argument name.
PLAUSIBLE = {"secret": "ABCDEF", "number": "QZ2026000001", "token": "x", "name": "entrants", "ext": "xlsx"}


def _url(rule, values: dict) -> str:
    """Return the rule's path with `values` for its integer arguments and plausible text for the others."""
    filled = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            filled[name] = values.get(name, 1)
        elif isinstance(converter, AnyConverter):
            filled[name] = min(converter.items)
        else:
            filled[name] = values.get(name, PLAUSIBLE.get(name, "x"))
    return re.sub(r"<(?:[^<>:]*:)?([a-z_]+)>", lambda m: str(filled[m[1]]), rule.rule)


def _integer_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def _status(client, rule, path: str, token: str) -> int | str:
    """Return the answer's status, or the exception the testing app let through (a 500 in production)."""
    try:
        if "GET" in rule.methods:
            return client.get(path).status_code
        return client.post(path, data={"csrf_token": token}).status_code
    except Exception as error:  # noqa: BLE001 - each route's failure is collected, not the first alone
        return repr(error)[:120]


@pytest.mark.parametrize(
    "number, expected",
    [(HUGE, {404}), (10**30, {404}), (BIGGEST + 1, {404}), (BIGGEST, None)],
    ids=["2**63", "10**30", "2**31", "2**31-1"],
)
def test_every_integer_in_a_url_is_bounded(app, client, admin, token, make_competition, number, expected):
    """Each integer argument of each rule in turn: beyond 64 bits is a missing page; the largest is no crash."""
    code = make_competition(status="published").code
    rules = _integer_rules(app)
    assert len(rules) > 30  # the walk found the routes
    form_token = token()
    wrong = []
    for rule in rules:
        for name, converter in rule._converters.items():
            if not isinstance(converter, IntegerConverter):
                continue
            path = _url(rule, {name: number, "code": code})
            status = _status(client, rule, path, form_token)
            if not isinstance(status, int) or status == 500 or (expected and status not in expected):
                wrong.append(f"{path} → {status}")
    assert not wrong, "\n".join(wrong)


def test_the_url_converter_keeps_ordinary_numbers(app, client, admin, make_competition):
    code = make_competition().code
    assert client.get(f"/competitions/{code}/honours/rules/0/delete").status_code == 405  # 0 still matches
    assert client.get("/people/00000000000000000000000001").status_code == client.get("/people/1").status_code
    assert client.get("/people/-1").status_code == 404
    assert client.get("/people/1x").status_code == 404


# The GET pages that read a whole number from the query string, with the arguments they read.
QUERY_PAGES = [
    ("/", "year"),
    ("/c/", "year"),
    ("/c/", "page"),
    ("/people", "county"),
    ("/people", "enterprise"),
    ("/people", "grade"),
    ("/people", "year"),
    ("/people", "page"),
    ("/people/export.xlsx", "county"),
    ("/people/export.xlsx", "year"),
    ("/accounts", "unit"),
    ("/accounts", "page"),
    ("/accounts/sheet", "id"),
    ("/competitions/{code}/registrations", "page"),
    ("/competitions/{code}/certificates", "page"),
    ("/competitions/{code}/edit", "n"),
    ("/competitions/{code}/preview", "n"),
    ("/competitions/{code}/checkin", "q"),
    ("/units", "county"),
    ("/units", "enterprise"),
    ("/units", "page"),
]


@pytest.mark.parametrize(
    "value", [THIRTY_DIGITS, str(HUGE), str(BIGGEST + 1), str(BIGGEST), "²", "١٢", "-5", "0", " 7 "]
)
@pytest.mark.parametrize("path, name", QUERY_PAGES, ids=[f"{p}?{n}" for p, n in QUERY_PAGES])
def test_query_string_numbers_are_bounded(client, admin, make_competition, path, name, value):
    code = make_competition(status="running").code
    response = client.get(path.format(code=code), query_string={name: value})
    assert response.status_code == 200, response.status_code


def test_a_page_beyond_the_list_shows_the_first_or_last(client, admin, make_competition):
    code = make_competition(status="running").code
    assert client.get(f"/competitions/{code}/registrations?page={THIRTY_DIGITS}").status_code == 200


# Forms whose views read ids straight from the posted values.
@pytest.mark.parametrize("value", [THIRTY_DIGITS, str(HUGE), str(BIGGEST + 1), "²"])
def test_posted_ids_are_bounded(client, admin, token, make_competition, value):
    open_code = make_competition(status="open").code
    published = make_competition(status="published").code
    form_token = token()
    answers = {
        "decide": client.post(
            f"/competitions/{open_code}/registrations/decide",
            data={"csrf_token": form_token, "ids": [value, "1"], "verdict": "approve"},
        ),
        "honours": client.post(
            f"/competitions/{published}/honours/confirm", data={"csrf_token": form_token, "entrant": [value]}
        ),
        "conflict": client.post(
            f"/competitions/{open_code}/judges/1/conflicts",
            data={"csrf_token": form_token, "entrant": value, "reason": "kin"},
        ),
    }
    assert {name: r.status_code for name, r in answers.items() if r.status_code >= 500} == {}


@pytest.mark.parametrize("value", [THIRTY_DIGITS, str(HUGE), str(BIGGEST + 1), "²"])
def test_posted_nominations_are_bounded(client, admin, token, value):
    from comp.services.setup import ratings

    campaign = ratings.create_campaign(
        {"unit_kind": "team", "year": 2026, "code": "RT-2026-TEAM", "organizer_unit_id": admin.org_unit_id}, admin
    )
    response = client.post(f"/competitions/{campaign.code}/nominations", data={"csrf_token": token(), "unit": [value]})
    assert response.status_code < 500


@pytest.mark.parametrize(
    "value, expected",
    [
        ("12", 12),
        (" 12 ", 12),
        ("0", 0),
        (str(BIGGEST), BIGGEST),
        ("000000000000000000000000012", 12),
        (str(BIGGEST + 1), None),
        (str(HUGE), None),
        (THIRTY_DIGITS, None),
        ("-1", None),
        ("+1", None),
        ("1_000", None),
        ("²", None),
        ("١٢", None),
        ("1.0", None),
        ("", None),
        (None, None),
        ("9" * 5000, None),
    ],
)
def test_whole_number(value, expected):
    assert whole_number(value) == expected


def test_the_bound_is_postgresqls_integer():
    assert BIGGEST == 2**31 - 1


def test_whole_number_bounds():
    assert whole_number("5", low=1, high=4) is None
    assert whole_number("0", low=1) is None
    assert whole_number("4", low=1, high=4) == 4
