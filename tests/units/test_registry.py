"""The units registry: role matrix, create/edit with bad input, members and achievements, filters, pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Achievement, AuditEvent, Unit, UnitMember
from tests.conftest import valid_id
from tests.units.conftest import post, text

PAGES = [
    "/units",
    "/units/new",
    "/units/{id}",
    "/units/{id}/edit",
    "/units/export.xlsx",
    "/units/template.xlsx",
    "/units/import",
    "/enterprises/{org}",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role,status", [("worker", 403), ("judge", 403), ("organizer", 200), ("admin", 200)])
def test_role_matrix(client, auth, make_user, tree, make_unit, path, role, status):
    unit = make_unit("翔鹭工作室", tree.aviation)
    make_user("someone", role)
    auth.login("someone")
    assert client.get(path.format(id=unit.id, org=tree.aviation.id)).status_code == status


@pytest.mark.parametrize("path", ["/units", "/units/new", "/units/1", "/enterprises/1", "/units/import"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def unit_form(tree, **fields) -> dict:
    return {
        "kind": "studio",
        "name": "翔鹭无人机创新工作室",
        "enterprise": tree.aviation.id,
        "workshop": "飞控车间",
        "leader": 0,
        "leader_id_number": "",
        "level": "city",
        "founded": "2020-05-01",
        **fields,
    }


def test_create_and_edit_a_unit_with_a_leader_by_id_number(client, organizer, tree, make_worker):
    leader = make_worker("林匠", id_number=valid_id(11), employer_id=tree.aviation.id)
    response = post(client, "/units/new", unit_form(tree, leader_id_number=valid_id(11)))
    assert response.status_code == 302
    unit = db.session.scalar(sa.select(Unit))
    assert (unit.name, unit.leader_id, unit.level, str(unit.founded)) == (
        "翔鹭无人机创新工作室",
        leader.id,
        "city",
        "2020-05-01",
    )
    response = post(client, f"/units/{unit.id}/edit", unit_form(tree, level="province", leader=leader.id))
    assert response.status_code == 302
    db.session.refresh(unit)
    assert unit.level == "province"
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["unit.created", "unit.changed"]


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"name": ""}, "This field is required."),
        ({"name": "=HYPERLINK(1)"}, "Must not begin with =, +, - or @."),
        ({"enterprise": 0}, "Choose the enterprise."),
        ({"founded": "2999-01-01"}, "The founding date is in the future."),
        ({"founded": "yesterday"}, "Not a valid date value."),
        ({"leader_id_number": "123"}, "Not a valid ID number"),
        ({"leader_id_number": valid_id(77)}, "No worker with this ID number in your unions."),
    ],
)
def test_bad_input_is_refused_with_its_message(client, organizer, tree, fields, message):
    response = post(client, "/units/new", unit_form(tree, **fields))
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 0


def test_a_duplicate_name_in_the_same_enterprise_is_refused(client, organizer, tree, make_unit):
    make_unit("翔鹭无人机创新工作室", tree.aviation)
    response = post(client, "/units/new", unit_form(tree))
    assert response.status_code == 422
    assert "already has" in text(response)


def test_members_and_achievements_are_added_and_removed_as_fragments(client, organizer, tree, make_unit, make_worker):
    unit = make_unit("翔鹭工作室", tree.aviation)
    chosen = make_worker("陈工", employer_id=tree.aviation.id, trade="无人机驾驶员", phone="13800001111")
    typed = make_worker("黄工", id_number=valid_id(55))
    hx = {"HX-Request": "true"}
    response = post(client, f"/units/{unit.id}/members", {"worker": chosen.id, "role": "骨干"}, headers=hx)
    assert response.status_code == 200 and "<html" not in text(response) and "陈工" in text(response)
    post(client, f"/units/{unit.id}/members", {"worker": 0, "id_number": valid_id(55)}, headers=hx)
    again = post(client, f"/units/{unit.id}/members", {"worker": chosen.id}, headers=hx)
    assert "陈工 is already a member." in text(again)
    empty = post(client, f"/units/{unit.id}/members", {"worker": 0}, headers=hx)
    assert "Choose a worker or type their ID number." in text(empty)
    assert {m.worker_id for m in db.session.scalars(sa.select(UnitMember))} == {chosen.id, typed.id}
    member = db.session.scalar(sa.select(UnitMember).where(UnitMember.worker_id == typed.id))
    post(client, f"/units/{unit.id}/members/{member.id}/remove", headers=hx)
    assert db.session.scalar(sa.select(sa.func.count(UnitMember.id))) == 1

    bad = post(client, f"/units/{unit.id}/achievements", {"year": "20x", "kind": "patent", "title": "x"}, headers=hx)
    assert "Not a valid integer value." in text(bad)
    post(
        client,
        f"/units/{unit.id}/achievements",
        {"year": "2025", "kind": "patent", "title": "一种无人机桨叶"},
        headers=hx,
    )
    achievement = db.session.scalar(sa.select(Achievement))
    assert (achievement.year, achievement.kind) == (2025, "patent")
    plain = post(client, f"/units/{unit.id}/achievements/{achievement.id}/remove")
    assert plain.status_code == 302  # without htmx: back to the edit page
    assert db.session.scalar(sa.select(sa.func.count(Achievement.id))) == 0
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"unit.member_added", "unit.member_removed", "unit.achievement_added", "unit.achievement_removed"} <= actions


def test_filters_combine(client, organizer, tree, make_unit):
    make_unit("晋江市级工作室", tree.aviation, level="city")
    make_unit("晋江省级工作室", tree.aviation, level="province")
    make_unit("晋江市级班组", tree.aviation, kind="team", level="city")
    make_unit("石狮市级工作室", tree.garment, level="city")
    page = text(client.get(f"/units?kind=studio&county={tree.jinjiang.id}&level=city"))
    assert "晋江市级工作室" in page
    assert not any(name in page for name in ("晋江省级工作室", "晋江市级班组", "石狮市级工作室"))
    by_enterprise = text(client.get(f"/units?enterprise={tree.garment.id}", headers={"HX-Request": "true"}))
    assert "<html" not in by_enterprise and "石狮市级工作室" in by_enterprise and "晋江市级工作室" not in by_enterprise
    assert "晋江省级工作室" in text(client.get("/units?q=省级"))
    assert "晋江省级工作室" not in text(client.get("/units?q=班组"))


def test_the_registry_pages_by_fifty(client, organizer, tree):
    db.session.add_all(Unit(kind="team", name=f"班组{n:03d}", enterprise_id=tree.aviation.id) for n in range(120))
    db.session.commit()
    first, third = text(client.get("/units")), text(client.get("/units?page=3"))
    assert "120 units" in first
    assert "班组000" in first and "班组049" in first and "班组050" not in first
    assert "班组100" in third and "班组119" in third and "班组099" not in third
    assert 'href="/units?page=3"' in first
