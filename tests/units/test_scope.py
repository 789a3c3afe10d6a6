"""The registry within the organizer's unions: another county's units are not found, its workers never chosen.

The county organizer is Jinjiang's: the aviation enterprise is theirs, the garment enterprise (Shishi) is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Achievement, AuditEvent, Unit, UnitMember, Worker
from tests.conftest import valid_id
from tests.units.conftest import post, text

NOT_FOUND = "No worker with this ID number in your unions."
MADE_UP = valid_id(999)


@dataclass
class Places:
    """A unit in each county, each with a member and an achievement, and workers of each enterprise."""

    ours: Unit
    theirs: Unit
    our_worker: Worker
    their_worker: Worker
    their_member: UnitMember
    their_achievement: Achievement
    our_member: UnitMember
    our_achievement: Achievement


@pytest.fixture()
def places(tree, make_unit, make_worker) -> Places:
    ours = make_unit("翔鹭创新工作室", tree.aviation)
    theirs = make_unit("泉港锦绣工作室", tree.garment)
    our_worker = make_worker("晋江林工", id_number=valid_id(101), employer_id=tree.aviation.id)
    their_worker = make_worker("石狮王工", id_number=valid_id(102), employer_id=tree.garment.id)
    their_member = UnitMember(unit_id=theirs.id, worker_id=make_worker("石狮陈工", employer_id=tree.garment.id).id)
    our_member = UnitMember(unit_id=ours.id, worker_id=make_worker("晋江黄工", employer_id=tree.aviation.id).id)
    their_achievement = Achievement(unit_id=theirs.id, year=2025, kind="patent", title="锦绣专利")
    our_achievement = Achievement(unit_id=ours.id, year=2025, kind="patent", title="翔鹭专利")
    db.session.add_all([their_member, our_member, their_achievement, our_achievement])
    db.session.commit()
    return Places(ours, theirs, our_worker, their_worker, their_member, their_achievement, our_member, our_achievement)


@pytest.fixture()
def stray(make_worker):
    """A worker of no employer: only city-wide users oversee them."""
    return make_worker("无单位", id_number=valid_id(103))


def state() -> tuple:
    """Return what a refused request must leave as it was: units, members, achievements, audit events."""
    return (
        sorted(db.session.execute(sa.select(Unit.id, Unit.name, Unit.enterprise_id, Unit.leader_id)).all()),
        sorted(db.session.execute(sa.select(UnitMember.unit_id, UnitMember.worker_id)).all()),
        sorted(db.session.execute(sa.select(Achievement.unit_id, Achievement.title)).all()),
        db.session.scalar(sa.select(sa.func.count(AuditEvent.id))),
    )


def alert(response) -> str:
    """Return the error message a page or fragment shows."""
    match = re.search(r'<p class="flash flash-error" role="alert">(.*?)</p>', text(response), re.DOTALL)
    return match.group(1).strip() if match else ""


def tokenless(response) -> str:
    """Return the page without its CSRF tokens, which differ from one request to the next."""
    return re.sub(r'(csrf_token"[^>]*value=|"X-CSRFToken": )"[^"]*"', "", text(response))


def unit_form(tree, **fields) -> dict:
    return {
        "kind": "studio",
        "name": "新工作室",
        "enterprise": tree.aviation.id,
        "workshop": "",
        "leader": 0,
        "leader_id_number": "",
        "level": "",
        "founded": "",
        **fields,
    }


def routes(p: Places, unit: Unit, tree) -> list[tuple[str, dict | None]]:
    """Return every page and action of one unit: (url, None for a GET or the form to post)."""
    member = p.their_member if unit is p.theirs else p.our_member
    achievement = p.their_achievement if unit is p.theirs else p.our_achievement
    other = p.their_worker if unit is p.theirs else p.our_worker
    return [
        (f"/units/{unit.id}", None),
        (f"/units/{unit.id}/edit", None),
        (f"/units/{unit.id}/edit", unit_form(tree, name="改名工作室", enterprise=unit.enterprise_id)),
        (f"/units/{unit.id}/members", {"worker": other.id, "role": "骨干"}),
        (f"/units/{unit.id}/members/{member.id}/remove", {}),
        (f"/units/{unit.id}/achievements", {"year": "2026", "kind": "method", "title": "新操作法"}),
        (f"/units/{unit.id}/achievements/{achievement.id}/remove", {}),
    ]


ROUTE_NAMES = ["profile", "edit", "save", "add member", "remove member", "add achievement", "remove achievement"]


def send(client, url: str, form: dict | None, hx: bool = False):
    headers = {"HX-Request": "true"} if hx else {}
    return client.get(url, headers=headers) if form is None else post(client, url, form, headers=headers)


@pytest.mark.parametrize("hx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("index", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_another_countys_unit_is_not_found_and_left_alone(client, county_organizer, tree, places, index, hx):
    url, form = routes(places, places.theirs, tree)[index]
    before = state()
    response = send(client, url, form, hx)
    assert response.status_code == 404
    assert state() == before
    unknown = send(client, url.replace(f"/units/{places.theirs.id}", "/units/999999"), form, hx)
    assert unknown.status_code == 404  # the same page as for no unit, but for the address it repeats
    assert tokenless(unknown) == tokenless(response).replace(f"/units/{places.theirs.id}", "/units/999999")


@pytest.mark.parametrize("index", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
def test_the_county_organizer_still_works_on_its_own_units(client, county_organizer, tree, places, index):
    url, form = routes(places, places.ours, tree)[index]
    before = state()
    response = send(client, url, form)
    assert response.status_code == (200 if form is None else 302)
    assert (state() == before) is (form is None)


@pytest.mark.parametrize("index", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
@pytest.mark.parametrize(
    "who, status", [("admin", None), ("city", None), ("worker", 403), ("judge", 403), ("anonymous", 302)]
)
def test_others_keep_their_answers(client, auth, make_user, tree, places, index, who, status):
    if who != "anonymous":
        role = "organizer" if who == "city" else who
        make_user("someone", role, org_unit_id=tree.city.id if who == "city" else None)
        auth.login("someone")
    url, form = routes(places, places.theirs, tree)[index]
    response = send(client, url, form)
    expected = status or (200 if form is None else 302)
    assert response.status_code == expected
    if who == "anonymous":
        assert "/login" in response.headers["Location"]


# --- a new unit: enterprises, leaders and re-rendered forms within the organizer's unions ---


def options(page: str, name: str) -> set[str]:
    """Return the values a select box of the page offers."""
    box = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.DOTALL).group(0)
    return set(re.findall(r'<option[^>]*value="([^"]*)"', box))


def test_the_new_form_offers_only_enterprises_in_scope(client, county_organizer, tree):
    assert options(text(client.get("/units/new")), "enterprise") == {"0", str(tree.aviation.id)}


def test_a_unit_cannot_be_made_for_another_countys_enterprise(client, county_organizer, tree, places):
    before = state()
    response = post(client, "/units/new", unit_form(tree, enterprise=tree.garment.id))
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    assert state() == before


def test_a_failed_create_never_lists_another_enterprises_workers(client, county_organizer, tree, places):
    theirs = text(post(client, "/units/new", unit_form(tree, name="", enterprise=tree.garment.id)))
    assert "石狮王工" not in theirs and "石狮陈工" not in theirs
    assert options(theirs, "leader") == {"0"}
    ours = text(post(client, "/units/new", unit_form(tree, name="")))
    assert "晋江林工" in ours  # the enterprise's own workers are listed, so the check above can fail


@pytest.mark.parametrize(
    "number", [valid_id(102), valid_id(103), MADE_UP], ids=["another county", "no employer", "made up"]
)
def test_a_leader_outside_scope_reads_like_no_worker(client, county_organizer, tree, places, stray, number):
    before = state()
    response = post(client, "/units/new", unit_form(tree, leader_id_number=number))
    assert response.status_code == 422 and alert(response) == NOT_FOUND
    assert state() == before


def test_a_leader_of_another_county_cannot_be_chosen_from_a_list(client, county_organizer, tree, places):
    before = state()
    for enterprise in (tree.aviation.id, tree.garment.id):
        form = unit_form(tree, enterprise=enterprise, leader=places.their_worker.id)
        assert post(client, "/units/new", form).status_code == 422
    assert state() == before


def test_a_leader_in_scope_is_chosen_by_id_number(client, county_organizer, tree, places):
    response = post(client, "/units/new", unit_form(tree, leader_id_number=valid_id(101)))
    assert response.status_code == 302
    made = db.session.scalar(sa.select(Unit).where(Unit.name == "新工作室"))
    assert (made.enterprise_id, made.leader_id) == (tree.aviation.id, places.our_worker.id)


def test_an_edit_cannot_move_a_unit_to_another_county(client, county_organizer, tree, places):
    before = state()
    response = post(client, f"/units/{places.ours.id}/edit", unit_form(tree, enterprise=tree.garment.id))
    assert response.status_code == 422
    assert state() == before


# --- members: by list or by ID number, only from the organizer's unions ---


@pytest.mark.parametrize("hx", [False, True], ids=["page", "htmx"])
def test_a_member_outside_scope_reads_like_no_worker(client, county_organizer, tree, places, stray, hx):
    headers = {"HX-Request": "true"} if hx else {}
    before = state()
    answers = set()
    for number in (valid_id(102), valid_id(103), MADE_UP):
        response = post(
            client,
            f"/units/{places.ours.id}/members",
            {"worker": 0, "id_number": number},
            headers=headers,
            follow_redirects=not hx,
        )
        answers.add(alert(response))
    assert answers == {NOT_FOUND}
    by_list = post(
        client,
        f"/units/{places.ours.id}/members",
        {"worker": places.their_worker.id},
        headers=headers,
        follow_redirects=not hx,
    )
    assert "Not a valid choice" in text(by_list) or not hx  # a page is sent back to the edit form
    assert state() == before


def test_a_member_in_scope_is_added_by_id_number(client, county_organizer, tree, places):
    post(
        client,
        f"/units/{places.ours.id}/members",
        {"worker": 0, "id_number": valid_id(101)},
        headers={"HX-Request": "true"},
    )
    assert (
        db.session.scalar(
            sa.select(UnitMember.id).where(
                UnitMember.unit_id == places.ours.id, UnitMember.worker_id == places.our_worker.id
            )
        )
        is not None
    )


# --- the list, its filters, the export and the enterprise pages ---


def test_the_list_holds_only_units_in_scope(client, county_organizer, tree, places):
    db.session.add(Unit(kind="team", name="无单位班组", enterprise_id=None))
    db.session.commit()
    page = text(client.get("/units"))
    assert "翔鹭创新工作室" in page and "1 unit" in page
    assert "泉港锦绣工作室" not in page and "无单位班组" not in page
    assert options(page, "county") == {"", str(tree.jinjiang.id)}
    assert options(page, "enterprise") == {"", str(tree.aviation.id)}


@pytest.mark.parametrize(
    "query",
    [
        "county={shishi}",
        "enterprise={garment}",
        "county={shishi}&enterprise={garment}",
        "county={jinjiang}&enterprise={garment}",
    ],
)
def test_a_filter_naming_another_county_shows_none_of_its_units(client, county_organizer, tree, places, query):
    url = "/units?" + query.format(shishi=tree.shishi.id, garment=tree.garment.id, jinjiang=tree.jinjiang.id)
    for headers in ({}, {"HX-Request": "true"}):
        assert "泉港锦绣工作室" not in text(client.get(url, headers=headers))


def test_the_city_organizer_still_sees_and_filters_every_county(client, organizer, tree, places):
    page = text(client.get("/units"))
    assert "翔鹭创新工作室" in page and "泉港锦绣工作室" in page
    assert options(page, "county") == {"", str(tree.jinjiang.id), str(tree.shishi.id)}
    assert "泉港锦绣工作室" in text(client.get(f"/units?county={tree.shishi.id}"))


@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "x"])
def test_a_filter_or_page_out_of_range_is_ignored(client, county_organizer, tree, places, value):
    for name in ("county", "enterprise", "page"):
        response = client.get(f"/units?{name}={value}")
        assert response.status_code == 200 and "翔鹭创新工作室" in text(response)


def test_another_countys_enterprise_page_is_not_found(client, county_organizer, tree, places):
    assert client.get(f"/enterprises/{tree.garment.id}").status_code == 404
    assert client.get(f"/enterprises/{tree.shishi.id}").status_code == 404
    page = client.get(f"/enterprises/{tree.aviation.id}")
    assert page.status_code == 200 and "翔鹭创新工作室" in text(page)


# --- the verbs check the scope themselves, whatever a view lets through ---


def test_the_verbs_refuse_what_lies_outside_the_actors_unions(tree, places, make_user):
    from comp.services import ServiceError
    from comp.services import units as service

    county = make_user("jinjiang", "organizer", org_unit_id=tree.jinjiang.id)
    fields = {
        "kind": "studio",
        "name": "新工作室",
        "enterprise_id": tree.garment.id,
        "workshop": None,
        "leader": None,
        "level": None,
        "founded": None,
    }
    before = state()
    with pytest.raises(ServiceError):
        service.save(None, fields, county)
    with pytest.raises(ServiceError):
        service.save(places.ours, {**fields, "enterprise_id": tree.aviation.id, "leader": places.their_worker}, county)
    with pytest.raises(ServiceError):
        service.add_member(places.ours, places.their_worker, "", county)
    for chosen in (
        {"worker_id": places.their_worker.id, "id_number": None},
        {"worker_id": None, "id_number": valid_id(102)},
    ):
        with pytest.raises(ServiceError):
            service.find_worker(user=county, **chosen)
    assert state() == before
    assert service.find_worker(places.their_worker.id, None, make_user("city", "organizer", org_unit_id=tree.city.id))


def test_a_leader_set_by_the_city_union_stays_when_the_county_saves(tree, places, make_user):
    from comp.services import units as service

    places.ours.leader_id = places.their_worker.id
    db.session.commit()
    county = make_user("jinjiang", "organizer", org_unit_id=tree.jinjiang.id)
    fields = {
        "kind": "studio",
        "name": "翔鹭改名工作室",
        "enterprise_id": tree.aviation.id,
        "workshop": None,
        "leader": places.their_worker,
        "level": None,
        "founded": None,
    }
    assert service.save(places.ours, fields, county).name == "翔鹭改名工作室"


@pytest.mark.parametrize("enterprise", ["99999999999999999999999", "-3", "x"])
def test_a_posted_enterprise_that_is_not_offered_lists_no_workers(client, organizer, tree, places, enterprise):
    response = post(client, "/units/new", unit_form(tree, name="", enterprise=enterprise))
    assert response.status_code == 422 and options(text(response), "leader") == {"0"}
