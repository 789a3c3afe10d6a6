"""The enterprise liaison (企业联络员): role `liaison`, its union an enterprise.

A liaison sees the liaison home; registers its enterprise's employees for an open competition
from a spreadsheet, where rows of another enterprise's workers are reported and not registered;
sees only its own uploads; is refused every organizer page (accounts, units, the talent pool,
competition setup, the registration queue) and another liaison's upload. A liaison account
belongs to an enterprise: no other kind of unit is accepted.
"""

from __future__ import annotations

import copy
import html
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Upload, User, Worker
from comp.models.types import utcnow
from comp.services import ServiceError, exchange
from comp.services.accounts import admin
from tests.conftest import PASSWORD, SMALL, csrf_token, valid_id
from tests.registration.conftest import sheet, upload

TRADE = SMALL["competition"]["trade"]


def _zh(msgid: str, **values) -> str:
    with force_locale("zh"):
        return gettext(msgid, **values)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _login(app, username: str):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302, response.status_code
    return client


def _post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **(data or {})})


def _row(seed: int, employer: str, name: str | None = None, id_number: str | None = None) -> list:
    return [name or f"工人{seed:03d}", id_number or valid_id(seed), f"1390000{seed:04d}", employer, TRADE, 3, ""]


def _entrants(competition) -> list[Entrant]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id).order_by(Entrant.ref))
    )


def _upload_of(user: User) -> Upload:
    db.session.expire_all()
    return db.session.scalar(sa.select(Upload).where(Upload.user_id == user.id))


@pytest.fixture()
def competition(tree):
    """A competition of the city union, open for registration now, without entrants."""
    doc = copy.deepcopy(SMALL)
    doc["competition"]["code"] = "L-2026-001"
    doc["marks"] = []
    competition = exchange.import_competition(doc)
    db.session.execute(sa.delete(Entrant).where(Entrant.competition_id == competition.id))
    competition.status = "open"
    competition.organizer_unit_id = tree.city.id
    competition.registration_opens = utcnow() - timedelta(days=1)
    competition.registration_closes = utcnow() + timedelta(days=10)
    db.session.commit()
    return competition


@pytest.fixture()
def liaisons(make_user, tree):
    """The liaison of 晋江翔鹭航空 (below 晋江) and that of 石狮锦绣服装 (below 石狮)."""
    return {
        "air": make_user("liaisonair", "liaison", org_unit_id=tree.aviation.id),
        "garment": make_user("liaisongarment", "liaison", org_unit_id=tree.garment.id),
    }


# The liaison home -------------------------------------------------------------------------------------


def test_a_liaison_sees_the_liaison_home_with_the_open_competition(app, tree, liaisons, competition):
    client = _login(app, "liaisonair")
    response = client.get("/")
    assert response.status_code == 200
    page = _text(response)
    assert (
        _zh(
            "Enterprise liaison of %(unit)s: you register this enterprise's employees from a spreadsheet; "
            "the organizer approves them.",
            unit=tree.aviation.name,
        )
        in page
    )
    assert competition.name in page
    assert f"/competitions/{competition.code}/registrations/upload" in page
    # Not the organizer's dashboard, nor a worker's.
    assert _zh("The people I registered") in page
    assert "/accounts/requests" not in page


def test_the_home_shows_nothing_open_outside_the_window(app, liaisons, competition):
    competition.registration_closes = utcnow() - timedelta(hours=1)
    db.session.commit()
    page = _text(_login(app, "liaisonair").get("/"))
    assert _zh("No competition takes registrations from you now.") in page
    assert f"/competitions/{competition.code}/registrations/upload" not in page


def test_a_competition_of_another_county_is_not_offered(app, tree, liaisons, competition):
    """A competition organized by 石狮 takes no sheets from a liaison below 晋江."""
    competition.organizer_unit_id = tree.shishi.id
    db.session.commit()
    client = _login(app, "liaisonair")
    assert f"/competitions/{competition.code}/registrations/upload" not in _text(client.get("/"))
    assert client.get(f"/competitions/{competition.code}/registrations/upload").status_code == 403
    response = upload(client, competition.code, sheet([_row(1, tree.aviation.name)]))
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Upload.id))) == 0


# The bulk upload --------------------------------------------------------------------------------------


def test_a_liaison_registers_own_employees_and_other_enterprises_rows_are_reported(app, tree, liaisons, competition):
    client = _login(app, "liaisonair")
    assert client.get(f"/competitions/{competition.code}/registrations/upload").status_code == 200
    rows = [_row(1, tree.aviation.name), _row(2, tree.garment.name), _row(3, tree.aviation.name)]
    response = upload(client, competition.code, sheet(rows))
    assert response.status_code == 302
    kept = _upload_of(liaisons["air"])
    assert {(p["row"], p["field"]) for p in kept.problems} == {(3, "employer")}  # sheet row 3: the 石狮 worker
    preview = _text(client.get(response.location))
    assert _zh("you may register only employees of %(unit)s", unit=tree.aviation.name) in preview
    assert valid_id(2) not in preview  # the ID numbers are masked in the report

    # "All rows" is refused while a row has a problem; "only the valid ones" imports two, pending.
    confirm = f"/competitions/{competition.code}/registrations/upload/{kept.token}/confirm"
    _post(client, confirm, {"mode": "all"})
    assert _entrants(competition) == []
    response = _post(client, confirm, {"mode": "valid", "approve": "y"})
    assert response.status_code == 302
    entered = _entrants(competition)
    assert [(e.name, e.status, e.employer_id, e.registered_by_id) for e in entered] == [
        ("工人001", "pending", tree.aviation.id, liaisons["air"].id),
        ("工人003", "pending", tree.aviation.id, liaisons["air"].id),
    ]
    # The 石狮 worker was not registered, nor made a record.
    assert db.session.scalar(sa.select(Worker).where(Worker.name == "工人002")) is None
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "registration.imported")).all()
    assert event.actor_id == liaisons["air"].id and event.detail["imported"] == 2 and event.detail["skipped"] == 1
    assert event.detail["status"] == "pending"

    # The home lists the upload and the people entered.
    page = _text(client.get("/"))
    assert _zh("My uploads") in page and "reg.xlsx" in page
    assert "工人001" in page and "工人003" in page and "工人002" not in page


def test_a_known_worker_of_another_enterprise_is_reported_even_under_the_liaisons_name(
    app, tree, liaisons, competition, make_worker
):
    """The record on file says where the person works: a sheet cannot move them to the liaison's enterprise."""
    other = make_worker("吴工", id_number=valid_id(55), employer_id=tree.garment.id)
    client = _login(app, "liaisonair")
    rows = [_row(1, tree.aviation.name), _row(55, tree.aviation.name, name="吴工")]
    upload(client, competition.code, sheet(rows))
    kept = _upload_of(liaisons["air"])
    assert {(p["row"], p["field"]) for p in kept.problems} == {(3, "employer")}
    _post(client, f"/competitions/{competition.code}/registrations/upload/{kept.token}/confirm", {"mode": "valid"})
    assert [e.name for e in _entrants(competition)] == ["工人001"]
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.worker_id == other.id)) == 0
    assert db.session.get(Worker, other.id).employer_id == tree.garment.id


def test_a_known_worker_of_the_liaisons_enterprise_or_of_none_is_accepted(
    app, tree, liaisons, competition, make_worker
):
    mine = make_worker("周工", id_number=valid_id(56), employer_id=tree.aviation.id)
    loose = make_worker("郑工", id_number=valid_id(57))
    client = _login(app, "liaisonair")
    rows = [_row(56, tree.aviation.name, name="周工"), _row(57, tree.aviation.name, name="郑工")]
    upload(client, competition.code, sheet(rows))
    kept = _upload_of(liaisons["air"])
    assert kept.problems == []
    _post(client, f"/competitions/{competition.code}/registrations/upload/{kept.token}/confirm", {"mode": "all"})
    assert {e.worker_id for e in _entrants(competition)} == {mine.id, loose.id}
    assert db.session.get(Worker, loose.id).employer_id == tree.aviation.id  # an unowned record gains its employer


def test_a_liaison_sees_only_its_own_uploads(app, tree, liaisons, competition, make_user):
    air = _login(app, "liaisonair")
    garment = _login(app, "liaisongarment")
    upload(air, competition.code, sheet([_row(1, tree.aviation.name)]), filename="air.xlsx")
    upload(garment, competition.code, sheet([_row(2, tree.garment.name)]), filename="garment.xlsx")
    make_user("cityorg", "organizer", org_unit_id=tree.city.id)
    city = _login(app, "cityorg")
    upload(city, competition.code, sheet([_row(3, tree.aviation.name)]), filename="city.xlsx")
    mine, theirs = _upload_of(liaisons["air"]), _upload_of(liaisons["garment"])
    assert mine is not None and theirs is not None

    home = _text(air.get("/"))
    assert "air.xlsx" in home and "garment.xlsx" not in home and "city.xlsx" not in home
    base = f"/competitions/{competition.code}/registrations/upload"
    assert air.get(f"{base}/{mine.token}").status_code == 200
    # Another liaison's (or the organizer's) upload is not found, whatever is asked of it.
    organizer_token = db.session.scalar(sa.select(Upload.token).where(Upload.filename == "city.xlsx"))
    for token in (theirs.token, organizer_token):
        assert air.get(f"{base}/{token}").status_code == 404
        assert _post(air, f"{base}/{token}/confirm", {"mode": "valid"}).status_code == 404
        assert _post(air, f"{base}/{token}/discard").status_code == 404
    assert _entrants(competition) == []
    assert db.session.scalar(sa.select(sa.func.count(Upload.id))) == 3


def test_a_liaison_at_a_union_gets_no_bulk_registration(app, tree, competition, make_user):
    """An account made liaison at a county (bypassing the admin rules) registers nobody."""
    make_user("oddliaison", "liaison", org_unit_id=tree.jinjiang.id)
    client = _login(app, "oddliaison")
    assert client.get(f"/competitions/{competition.code}/registrations/upload").status_code == 403
    assert f"/competitions/{competition.code}/registrations/upload" not in _text(client.get("/"))


# Organizer pages ------------------------------------------------------------------------------------


def test_a_liaison_is_refused_the_organizer_pages(app, tree, liaisons, competition, make_worker, make_user):
    worker = make_worker("周工", employer_id=tree.aviation.id)  # even an employee of its own enterprise
    target = make_user("judgejj", "judge", org_unit_id=tree.jinjiang.id)
    client = _login(app, "liaisonair")
    code = competition.code
    pages = [
        "/accounts",
        "/accounts/new",
        f"/accounts/{target.id}",
        f"/accounts/{liaisons['garment'].id}",
        "/accounts/requests",
        "/accounts/import",
        "/units",
        "/units/new",
        "/units/import",
        f"/enterprises/{tree.aviation.id}",
        "/people",
        "/people/export.xlsx",
        f"/people/{worker.id}",
        "/competitions/new",
        f"/competitions/{code}",
        f"/competitions/{code}/edit",
        f"/competitions/{code}/details",
        f"/competitions/{code}/clone",
        f"/competitions/{code}/honours",
        f"/competitions/{code}/registrations",
        f"/competitions/{code}/registrations.xlsx",
        f"/competitions/{code}/entrants.xlsx",
    ]
    answers = {path: client.get(path).status_code for path in pages}
    assert {path: code_ for path, code_ in answers.items() if code_ not in (403, 404)} == {}

    before = (competition.status, db.session.scalar(sa.select(sa.func.count(AuditEvent.id))))
    posts = [
        (f"/competitions/{code}/transition", {"target": "closed"}),
        (f"/accounts/{target.id}/disable", {}),
        (f"/accounts/{target.id}/reset", {}),
        ("/accounts/new", {"username": "sneaky", "display_name": "x", "role": "judge", "unit": tree.aviation.id}),
    ]
    for path, data in posts:
        assert _post(client, path, data).status_code in (403, 404), path
    db.session.expire_all()
    assert (competition.status, db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))) == before
    assert db.session.get(User, target.id).active
    assert db.session.scalar(sa.select(User).where(User.username == "sneaky")) is None


# Creating a liaison --------------------------------------------------------------------------------


@pytest.fixture()
def boss(make_user):
    return make_user("boss", "admin")


@pytest.mark.parametrize("unit", [None, "city", "jinjiang"])
def test_a_liaison_cannot_be_created_at_anything_but_an_enterprise(tree, boss, make_user, unit):
    unit_id = getattr(tree, unit).id if unit else None
    jj = make_user("jjorg", "organizer", org_unit_id=tree.jinjiang.id)
    for actor in (boss, jj):
        if actor is jj and unit == "city":
            continue  # outside 晋江's grant anyway
        with pytest.raises(ServiceError):
            admin.create(actor, f"li-{actor.username}", "联络员", "liaison", unit_id)
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.role == "liaison")) == 0


def test_a_liaison_is_created_at_an_enterprise(tree, boss):
    user, _link = admin.create(boss, "li", "联络员", "liaison", tree.aviation.id)
    assert (user.role, user.org_unit_id) == ("liaison", tree.aviation.id)


def test_the_account_form_refuses_a_liaison_at_a_union(app, tree, boss):
    client = _login(app, "boss")

    def create(unit: int):
        return _post(
            client, "/accounts/new", {"username": "li", "display_name": "联络员", "role": "liaison", "unit": unit}
        )

    for unit in (0, tree.jinjiang.id, tree.city.id):
        assert create(unit).status_code == 422, unit
    assert db.session.scalar(sa.select(User).where(User.username == "li")) is None
    with force_locale("zh"):
        role, kinds = str(admin.ROLE_LABELS["liaison"]), admin._kinds_text(admin.UNIT_KINDS["liaison"])
    refusal = _zh(
        "A %(role)s belongs to %(kinds)s, not to “%(unit)s”.", role=role, kinds=kinds, unit=tree.jinjiang.name
    )
    assert refusal in _text(create(tree.jinjiang.id))
    assert create(tree.aviation.id).status_code == 302
    assert db.session.scalar(sa.select(User.org_unit_id).where(User.username == "li")) == tree.aviation.id


def test_an_account_cannot_be_moved_to_liaison_at_a_union(tree, boss, make_user):
    judge = make_user("judgejj", "judge", org_unit_id=tree.jinjiang.id)
    with pytest.raises(ServiceError):
        admin.update(boss, judge, "王裁判", "liaison", tree.jinjiang.id)
    with pytest.raises(ServiceError):
        admin.update(boss, judge, "王裁判", "liaison", None)
    db.session.expire_all()
    assert (db.session.get(User, judge.id).role, db.session.get(User, judge.id).org_unit_id) == (
        "judge",
        tree.jinjiang.id,
    )
    admin.update(boss, judge, "王裁判", "liaison", tree.aviation.id)
    db.session.expire_all()
    assert db.session.get(User, judge.id).role == "liaison"
