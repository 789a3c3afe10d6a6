"""Fixtures of the units registry: a union tree with two counties, organizers, sheets in memory."""

from __future__ import annotations

import html
import io

import pytest
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from comp.extensions import db
from comp.models import OrgUnit, Unit
from tests.conftest import csrf_token

HEADERS = ["类型 Kind", "名称 Name", "单位 Enterprise", "车间 Workshop", "级别 Level", "成立日期 Founded"]


@pytest.fixture()
def organizer(auth, make_user, tree):
    """Log in an organizer of the city union (English pages)."""
    user = make_user("organizer", "organizer", locale="en", org_unit_id=tree.city.id)
    auth.login("organizer")
    return user


@pytest.fixture()
def county_organizer(auth, make_user, tree):
    """Log in an organizer of the Jinjiang county union (English pages): aviation is theirs, garment is not."""
    user = make_user("jinjiang", "organizer", locale="en", org_unit_id=tree.jinjiang.id)
    auth.login("jinjiang")
    return user


@pytest.fixture()
def make_unit():
    """Return a factory of units committed to the database."""

    def make(name: str, enterprise: OrgUnit, kind: str = "studio", **fields) -> Unit:
        unit = Unit(kind=kind, name=name, enterprise_id=enterprise.id, **fields)
        db.session.add(unit)
        db.session.commit()
        return unit

    return make


def text(response) -> str:
    """Return the page with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def post(client, url: str, data: dict | None = None, **kwargs):
    """Post a form with a fresh CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client, "/units"), **(data or {})}, **kwargs)


def sheet(rows: list[list], headers: list | None = None) -> bytes:
    """Return an .xlsx workbook with the header row and the rows."""
    workbook = Workbook()
    workbook.active.append(headers or HEADERS)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, filename: str = "units.xlsx"):
    """Upload a units sheet through the form."""
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(client, "/units"), "sheet": FileStorage(io.BytesIO(data), filename)}
    )
    return client.post("/units/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
