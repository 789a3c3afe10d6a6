"""Control characters are refused in every text field of every form, and in the cells of a registration sheet.

PostgreSQL refuses a NUL in text outright (a 500), and a name of NUL bytes or escape codes is no name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, FormField, IntegerField, StringField, TextAreaField
from wtforms import Form as PlainForm

import comp.blueprints
from comp.extensions import db
from comp.forms import Form
from comp.models import Objection
from comp.services.setup import lifecycle
from tests.hardening.conftest import text

MESSAGE = "contains control characters"


def _form_classes() -> list[type]:
    """Return every FlaskForm subclass defined in the blueprints, importing each of their modules."""
    for module in pkgutil.walk_packages(comp.blueprints.__path__, "comp.blueprints."):
        importlib.import_module(module.name)
    found = set()
    pending = list(FlaskForm.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("comp.blueprints."):
            found.add(cls)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


FORMS = _form_classes()


def test_the_walk_finds_the_forms():
    assert len(FORMS) > 40
    assert any(c.__name__ == "ObjectionForm" for c in FORMS)


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_form_derives_from_the_base(form_class):
    assert issubclass(form_class, Form)


# --- the base class ---


class Tier(PlainForm):
    name = StringField()


class Sample(Form):
    class Meta:
        csrf = False

    name = StringField()
    note = TextAreaField()
    count = IntegerField()
    tiers = FieldList(FormField(Tier), min_entries=1)


@pytest.fixture()
def english(app):
    """Word the messages in English for the whole test (the default is Chinese)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def _validate(app, **data) -> Sample:
    with app.test_request_context(method="POST", data=data):
        form = Sample(formdata=MultiDict(data))
        form.validate()
        return form


@pytest.mark.parametrize("value", ["\x00\x00\x00", "张\x00三", "\x1b[31m红", "a\x7fb", "\x85x", "li\tsi", "li\nsi"])
def test_a_control_character_in_a_line_is_refused(app, english, value):
    form = _validate(app, name=value)
    assert [str(e) for e in form.name.errors] == [MESSAGE]


@pytest.mark.parametrize("value", ["张三", "Zhang San", "王 五", "👷 工匠", "\u3000张三"])
def test_ordinary_text_passes(app, value):
    form = _validate(app, name=value, note="第一行\r\n第二行\t缩进", count="3")
    assert form.errors == {}


@pytest.mark.parametrize("value", ["\x00", "ok\x0bno", "\x1b"])
def test_a_text_area_keeps_tabs_and_line_breaks_only(app, english, value):
    assert [str(e) for e in _validate(app, note=value).note.errors] == [MESSAGE]


def test_a_nested_field_is_checked(app, english):
    form = _validate(app, **{"tiers-0-name": "一等奖\x00"})
    assert [str(e) for e in form.tiers.entries[0].form.name.errors] == [MESSAGE]
    assert not form.errors == {}


@pytest.mark.parametrize("value", [str(2**31), str(2**63), "9" * 30])
def test_a_whole_number_beyond_the_database_is_refused(app, english, value):
    form = _validate(app, count=value)
    assert form.count.errors and "too large" in str(form.count.errors[0])


def test_the_messages_are_chinese_by_default(app):
    form = _validate(app, name="张\x00三", count=str(2**31))
    assert [str(e) for e in form.name.errors] == ["含有控制字符"]
    assert "太大" in str(form.count.errors[0])


# --- the objection that the probe lodged ---


@pytest.fixture()
def noticed(make_competition):
    """Return a competition just published: its notice period takes objections."""
    competition = make_competition(status="locked")
    lifecycle.publish(competition)
    db.session.commit()
    return competition


@pytest.mark.parametrize(
    "field, value",
    [("name", "\x00\x00\x00\x00"), ("name", "张\x00三"), ("contact", "13800000000\x00"), ("text", "成绩有误\x00")],
)
def test_an_objection_with_nul_bytes_is_refused(client, noticed, field, value):
    from tests.conftest import csrf_token

    data = {
        "name": "张三",
        "contact": "13800000000",
        "text": "成绩有误",
        field: value,
        "csrf_token": csrf_token(client, f"/c/{noticed.code}/results"),
    }
    response = client.post(f"/c/{noticed.code}/objections", data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "control characters" in text(response).lower() or "控制字符" in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Objection)) == 0


def test_a_plain_objection_is_still_lodged(client, noticed):
    from tests.conftest import csrf_token

    data = {
        "name": "张三",
        "contact": "13800000000",
        "text": "第一行\r\n第二行",
        "csrf_token": csrf_token(client, f"/c/{noticed.code}/results"),
    }
    assert client.post(f"/c/{noticed.code}/objections", data=data).status_code == 303
    assert "第二行" in db.session.scalar(sa.select(Objection.text))


# --- the rows of a registration sheet ---


@pytest.mark.parametrize("key", ["name", "employer", "trade", "team"])
@pytest.mark.parametrize("value", ["\x00", "张\x00三", "晋江\x1b翔鹭", "a\tb", "x\x7f"])
def test_a_control_character_in_a_sheet_cell_is_a_problem_of_its_row(make_user, tree, make_competition, key, value):
    from flask_babel import force_locale

    from comp.services.registration.rows import check_rows

    competition = make_competition(status="open")
    organizer = make_user("city", "organizer", org_unit_id=tree.city.id)
    row = {
        "row": 7,
        "name": "张三",
        "id": "",
        "phone": "13800000000",
        "employer": tree.aviation.name,
        "trade": "无人机驾驶员",
        "grade": "3",
        "team": "",
        key: value,
    }
    with force_locale("en"):
        report = check_rows(competition, organizer, [row])
    assert any(p["row"] == 7 and p["field"] == key and p["message"] == MESSAGE for p in report), report


def test_a_clean_sheet_row_has_no_such_problem(make_user, tree, make_competition):
    from comp.services.registration.rows import check_rows

    competition = make_competition(status="open")
    organizer = make_user("city", "organizer", org_unit_id=tree.city.id)
    row = {
        "row": 7,
        "name": "张三",
        "id": "",
        "phone": "13800000000",
        "employer": tree.aviation.name,
        "trade": "无人机驾驶员",
        "grade": "3",
        "team": "飞鹰队",
    }
    report = check_rows(competition, organizer, [row])
    assert [p["field"] for p in report] == ["id_number"]  # only the ID left out on purpose


def test_base_is_a_flask_form():
    assert issubclass(Form, FlaskForm) and inspect.isclass(Form)
