"""Fixtures: one migrated database per run, emptied between tests; factories; an auth helper.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import settings

from comp import create_app
from comp.config import test_config
from comp.extensions import db, limiter
from comp.idcard import check_digit
from comp.models import OrgUnit

# No property test is timed: a loaded CI machine (2 cores, a browser and a database beside the suite) would make
# hypothesis's 200 ms deadline fail at random, and speed is measured by `make bench`, never asserted in a test.
settings.register_profile("jiangxin", deadline=None)
settings.load_profile("jiangxin")

PASSWORD = "correct horse 42"


def valid_id(seed: int, birth: str = "19900101", region: str = "350502") -> str:
    """Return a valid 18-character ID number, distinct for each seed."""
    first17 = f"{region}{birth}{seed % 1000:03d}"
    return first17 + check_digit(first17)


@pytest.fixture(scope="session")
def database_url():
    """Return the test database: TEST_DATABASE_URL, else a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'test.db'}"


class FreshGClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as it does in production.

    The autouse fixture keeps an app context pushed for the test's own database work, and
    a request inside it would otherwise inherit `g` (Flask-Login's cached user, Flask-Babel's
    cached locale) from the requests before it.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    """Create the app once and bring the database schema up by running the migrations."""
    app = create_app(test_config(database_url))
    app.test_client_class = FreshGClient
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request, app):
    """Give every test an empty database, fresh rate limits and an app context."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        limiter.reset()


@pytest.fixture()
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture()
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        """Post the login form, fetching a CSRF token first when CSRF is on."""
        token = csrf_token(self._client, "/login")
        return self._client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def logout(self):
        """Post the logout form."""
        return self._client.post("/logout", data={"csrf_token": csrf_token(self._client, "/")})


def csrf_token(client, path: str) -> str:
    """Fetch a page and return the CSRF token its forms carry."""
    import re

    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'"X-CSRFToken": "([^"]+)"', page)
    return match.group(1) if match else ""


@pytest.fixture()
def auth(client):
    """Return the login helper."""
    return AuthActions(client)


@pytest.fixture()
def make_user():
    """Return a factory of users; the password is tests.conftest.PASSWORD."""
    from comp.services import accounts

    def make(username: str | None = None, role: str = "worker", password: str = PASSWORD, **fields):
        make.count += 1
        return accounts.create_user(username or f"{role}{make.count}", role, password, **fields)

    make.count = 0
    return make


@pytest.fixture()
def make_worker():
    """Return a factory of workers with valid, distinct ID numbers."""
    from comp.models import Worker
    from comp.services import people

    def make(name: str = "张三", id_number: str | None = None, **fields):
        make.count += 1
        worker = Worker(name=name, **fields)
        people.set_id_number(worker, id_number or valid_id(make.count))
        db.session.add(worker)
        db.session.commit()
        return worker

    make.count = 0
    return make


SMALL = {
    "format": "jiangxin.competition/1",
    "competition": {
        "code": "T-2026-UAV",
        "name": "2026年测试无人机竞赛",
        "kind": "competition",
        "trade": "无人机驾驶员",
        "level": "city",
        "year": 2026,
        "organizer": "泉州市总工会",
        "rules": {},
    },
    "stages": [
        {
            "key": "theory",
            "name": "理论知识",
            "weight": "30",
            "criteria": [{"key": "exam", "name": "理论考试", "max": "100", "aggregation": "single"}],
        },
        {
            "key": "practical",
            "name": "实际操作",
            "weight": "70",
            "criteria": [
                {"key": "route", "name": "航线飞行", "max": "40", "aggregation": "trimmed"},
                {"key": "safety", "name": "安全操作", "max": "10", "aggregation": "mean"},
            ],
        },
    ],
    "entrants": [
        {
            "ref": "E1",
            "name": "张三",
            "id_number": valid_id(901),
            "employer": "晋江无人机公司",
            "team": "",
            "status": "ok",
            "time_seconds": 600,
        },
        {
            "ref": "E2",
            "name": "李四",
            "id_number": valid_id(902),
            "employer": "石狮无人机公司",
            "team": "",
            "status": "ok",
            "time_seconds": 700,
        },
    ],
    "judges": [
        {"ref": "J1", "name": "王裁判", "employer": "评审单位", "chief": True},
        {"ref": "J2", "name": "陈裁判", "employer": "评审单位", "chief": False},
        {"ref": "J3", "name": "林裁判", "employer": "评审单位", "chief": False},
    ],
    "marks": [
        {"entrant": "E1", "judge": "J1", "criterion": "theory.exam", "value": "90"},
        {"entrant": "E2", "judge": "J1", "criterion": "theory.exam", "value": "80"},
    ]
    + [
        {"entrant": e, "judge": j, "criterion": "practical.route", "value": v}
        for e, vals in (("E1", ("35", "36", "37")), ("E2", ("30", "31.5", "33")))
        for j, v in zip(("J1", "J2", "J3"), vals)
    ]
    + [
        {"entrant": e, "judge": "J2", "criterion": "practical.safety", "value": v}
        for e, v in (("E1", "9"), ("E2", "8"))
    ],
}


@pytest.fixture()
def exchange_doc():
    """Return a fresh copy of a small, complete competition in the exchange format."""
    return copy.deepcopy(SMALL)


@pytest.fixture()
def make_competition(exchange_doc):
    """Return a factory importing a competition (override header fields; status after import)."""
    from comp.services import exchange

    def make(status: str | None = None, **header):
        make.count += 1
        doc = copy.deepcopy(SMALL)
        doc["competition"].update({"code": f"T-2026-{make.count:03d}"}, **header)
        competition = exchange.import_competition(doc)
        if status:
            competition.status = status
            if status in ("published", "archived"):
                from comp.services.results import standings

                standings.snapshot(competition)  # what publishing writes
            db.session.commit()
        return competition

    make.count = 0
    return make


@dataclass
class Tree:
    """The city union, two counties, an enterprise in each."""

    city: OrgUnit
    jinjiang: OrgUnit
    shishi: OrgUnit
    aviation: OrgUnit
    garment: OrgUnit


@pytest.fixture()
def tree() -> Tree:
    """Create the union tree; the city union is the one that organizes the imported test competitions."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    aviation = OrgUnit(kind="enterprise", name="晋江翔鹭航空", parent=jinjiang)
    garment = OrgUnit(kind="enterprise", name="石狮锦绣服装", parent=shishi)
    db.session.add_all([city, jinjiang, shishi, aviation, garment])
    db.session.commit()
    return Tree(city, jinjiang, shishi, aviation, garment)
