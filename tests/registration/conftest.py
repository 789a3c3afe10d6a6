"""Fixtures of registration: a union tree, open competitions, worker accounts, sheets in memory."""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from comp.extensions import db
from comp.models import Entrant, OrgUnit, User
from comp.models.types import utcnow
from comp.services import exchange
from tests.conftest import SMALL, csrf_token, valid_id

HEADERS = [
    "姓名 Name",
    "身份证号 ID number",
    "手机 Phone",
    "单位 Employer",
    "工种 Trade",
    "技能等级 Grade (1-5)",
    "队名 Team",
]
TRADE = "无人机驾驶员"


@dataclass
class Tree:
    """The union tree of the tests: a city, two counties, an enterprise in each."""

    city: OrgUnit
    jinjiang: OrgUnit
    shishi: OrgUnit
    aviation: OrgUnit  # 晋江
    garment: OrgUnit  # 石狮


@pytest.fixture()
def tree() -> Tree:
    """Create the union tree."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    aviation = OrgUnit(kind="enterprise", name="晋江翔鹭航空科技有限公司", parent=jinjiang)
    garment = OrgUnit(kind="enterprise", name="石狮市锦绣服装有限公司", parent=shishi)
    db.session.add_all([city, jinjiang, shishi, aviation, garment])
    db.session.commit()
    return Tree(city, jinjiang, shishi, aviation, garment)


@pytest.fixture()
def open_competition(tree):
    """Return a factory of competitions open for registration now, without entrants."""
    count = iter(range(1, 1000))

    def make(capacity=None, eligibility=None, opens_in_days=-1, closes_in_days=10, status="open", organizer=None):
        doc = copy.deepcopy(SMALL)
        doc["competition"]["code"] = f"R-2026-{next(count):03d}"
        doc["marks"] = []
        competition = exchange.import_competition(doc)
        # The exchange import cannot take an empty entrant list, so the imported two leave here.
        db.session.execute(sa.delete(Entrant).where(Entrant.competition_id == competition.id))
        competition.status = status
        competition.organizer_unit_id = (organizer or tree.city).id
        now = utcnow()
        competition.registration_opens = now + timedelta(days=opens_in_days)
        competition.registration_closes = now + timedelta(days=closes_in_days)
        competition.capacity = capacity
        competition.eligibility = eligibility or {}
        db.session.commit()
        return competition

    return make


@pytest.fixture()
def make_worker_account(make_user, make_worker, tree):
    """Return a factory of worker accounts linked to a worker of 晋江翔鹭 (grade 3, the UAV trade)."""

    def make(username: str, seed: int, name: str = "黄志鹏", birth: str = "19900101", **fields):
        values = {"employer_id": tree.aviation.id, "trade": TRADE, "skill_grade": 3, "phone": "13800000000"}
        values.update(fields)
        worker = make_worker(name, id_number=valid_id(seed, birth=birth), **values)
        user = make_user(username, "worker", locale="en")
        user.worker_id = worker.id
        db.session.commit()
        return user

    return make


def login(auth, username: str) -> None:
    """Log in and check it worked."""
    assert auth.login(username).status_code == 302


def token(client) -> str:
    """Return the CSRF token of the logged-in session."""
    return csrf_token(client, "/")


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token."""
    return client.post(url, data={"csrf_token": token(client), **(data or {})}, **kwargs)


def sheet(rows: list[list], headers: list | None = None) -> bytes:
    """Return an .xlsx workbook built in memory: a header row, then the rows.

    A string "=…" becomes a formula cell; "'=…" becomes a text cell beginning with "=".
    """
    book = Workbook()
    ws = book.active
    ws.append(HEADERS if headers is None else headers)
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("'="):
                cell.value = cell.value[1:]
                cell.data_type = "s"  # text that looks like a formula, as a hostile file would carry it
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def person(
    seed: int,
    name: str | None = None,
    employer: str = "晋江翔鹭航空科技有限公司",
    trade: str = TRADE,
    grade=3,
    team: str = "",
    id_number: str | None = None,
    birth: str = "19900101",
) -> list:
    """Return one sheet row of a valid person."""
    return [
        f"工人{seed:03d}" if name is None else name,
        id_number or valid_id(seed, birth=birth),
        f"1390000{seed:04d}",
        employer,
        trade,
        grade,
        team,
    ]


def upload(client, code: str, data: bytes, filename: str = "reg.xlsx", follow: bool = False):
    """Upload a registration sheet."""
    # Encoded here in memory: the test client spools a large body to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": token(client), "sheet": FileStorage(io.BytesIO(data), filename)})
    return client.post(
        f"/competitions/{code}/registrations/upload",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow_redirects=follow,
    )


def table_counts() -> dict[str, int]:
    """Count the rows of every table, to prove a refused action wrote nothing.

    `computed` is left out: it holds caches (the city dashboard a page shows on the way), not data.
    """
    return {
        t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in db.metadata.sorted_tables
        if t.name != "computed"
    }


def organizer_of(make_user, unit: OrgUnit, username: str = "organizer") -> User:
    """Create an organizer account of a union unit, or a liaison of an enterprise, reading English."""
    role = "liaison" if unit.kind == "enterprise" else "organizer"
    return make_user(username, role, locale="en", org_unit_id=unit.id)
