"""Who may see what: a routes × roles matrix, the union tree, and every POLICY entry of `can`."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from comp.extensions import db
from comp.models import OrgUnit, User
from comp.permissions import POLICY, can
from comp.services.exchange import judge_username

ROLES = ("anonymous", "worker", "judge", "organizer", "admin")
LOGIN = "login"  # expected answer: a redirect to the login page


@pytest.fixture()
def as_role(client, auth, make_user):
    """Return a function logging the client in with a fresh user of the role (or not at all)."""

    def login(role: str, **fields):
        if role != "anonymous":
            make_user(f"{role}-x", role, **fields)
            assert auth.login(f"{role}-x").status_code == 302
        return client

    return login


def _check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:300]


def _panel_judge(competition):
    username = judge_username(competition.code, "J2")
    return db.session.scalar(db.select(User).where(User.username == username))


MATRIX = [
    # (route, competition status, {role: expected})
    ("/", None, dict(anonymous=LOGIN, worker=200, judge=200, organizer=200, admin=200)),
    ("/competitions/{code}/results", "locked", dict(anonymous=LOGIN, worker=403, judge=403, organizer=200, admin=200)),
    ("/competitions/{code}/results", "published", dict(anonymous=200, worker=200, judge=200, organizer=200, admin=200)),
    (
        "/api/v1/competitions/{code}/results",
        "locked",
        dict(anonymous=404, worker=404, judge=404, organizer=200, admin=200),
    ),
    (
        "/api/v1/competitions/{code}/results",
        "published",
        dict(anonymous=200, worker=200, judge=200, organizer=200, admin=200),
    ),
    ("/competitions/NO-SUCH/results", None, dict(anonymous=404, worker=404, judge=404, organizer=404, admin=404)),
    (
        "/api/v1/competitions/NO-SUCH/results",
        None,
        dict(anonymous=404, worker=404, judge=404, organizer=404, admin=404),
    ),
]
CASES = [
    pytest.param(route, status, role, table[role], id=f"{route}-{status}-{role}")
    for route, status, table in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize("route, status, role, expected", CASES)
def test_route_matrix(as_role, make_competition, route, status, role, expected):
    code = make_competition(status=status).code if status else None
    client = as_role(role)
    _check(client.get(route.format(code=code)), expected)


def test_api_answers_json_even_when_refused(client, make_competition):
    code = make_competition(status="locked").code
    response = client.get(f"/api/v1/competitions/{code}/results")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize("status, expected", [("locked", 403), ("published", 200)])
def test_a_panel_judge_sees_results_only_once_published(client, auth, make_competition, status, expected):
    competition = make_competition(status=status)
    judge = _panel_judge(competition)
    judge.set_password("panel pass 1")
    db.session.commit()
    assert auth.login(judge.username, "panel pass 1").status_code == 302
    assert client.get(f"/competitions/{competition.code}/results").status_code == expected


# --- the union tree: a county organizer manages its own county's competitions only ---


@pytest.fixture()
def tree():
    """Create 泉州 city → 晋江, 石狮 counties → an enterprise in 晋江; return them by short name."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    firm = OrgUnit(kind="enterprise", name="晋江某鞋业公司", parent=jinjiang)
    db.session.add_all([city, jinjiang, shishi, firm])
    db.session.commit()
    return {"city": city, "jinjiang": jinjiang, "shishi": shishi, "firm": firm}


@pytest.mark.parametrize(
    "organizer_of, competition_of, manages",
    [
        ("city", "city", True),
        ("city", "shishi", True),
        ("city", "firm", True),
        ("jinjiang", "jinjiang", True),
        ("jinjiang", "firm", True),
        ("jinjiang", "shishi", False),
        ("jinjiang", "city", False),
        ("shishi", "jinjiang", False),
        ("firm", "jinjiang", False),
    ],
)
def test_organizer_manages_own_unit_and_those_below(
    tree, make_user, make_competition, organizer_of, competition_of, manages
):
    user = make_user("org", "organizer", org_unit_id=tree[organizer_of].id)
    competition = make_competition(status="locked")
    competition.organizer_unit_id = tree[competition_of].id
    db.session.commit()
    assert can("competition.manage", competition, user) is manages
    assert can("competition.results", competition, user) is manages


def test_import_resolves_the_organizing_union(tree, make_competition):
    competition = make_competition(organizer="石狮市总工会")
    assert competition.organizer_unit_id == tree["shishi"].id


@pytest.mark.parametrize(
    "organizer_of, page, api",
    [
        ("jinjiang", 403, 404),
        ("city", 200, 200),
        ("shishi", 200, 200),
    ],
)
def test_county_organizer_pages(tree, as_role, make_competition, organizer_of, page, api):
    competition = make_competition(status="locked", organizer="石狮市总工会")
    client = as_role("organizer", org_unit_id=tree[organizer_of].id)
    assert client.get(f"/competitions/{competition.code}/results").status_code == page
    assert client.get(f"/api/v1/competitions/{competition.code}/results").status_code == api
    home = client.get("/").get_data(as_text=True)
    assert (competition.code in home) is (page == 200)


# --- can() for every POLICY entry ---

# (action, who, object, expected); who is a role, "anonymous", "inactive-<role>" or "panel-judge";
# object is None, "draft" / "locked" / "published" / "archived" (a competition in that state).
CAN = [
    ("organizer.home", "admin", None, True),
    ("organizer.home", "organizer", None, True),
    ("organizer.home", "judge", None, False),
    ("organizer.home", "worker", None, False),
    ("organizer.home", "anonymous", None, False),
    ("organizer.home", "inactive-organizer", None, False),
    ("judge.home", "judge", None, True),
    ("judge.home", "organizer", None, False),
    ("judge.home", "admin", None, False),
    ("judge.home", "worker", None, False),
    ("judge.home", "anonymous", None, False),
    ("worker.home", "worker", None, True),
    ("worker.home", "judge", None, False),
    ("worker.home", "organizer", None, False),
    ("worker.home", "anonymous", None, False),
    ("worker.home", "inactive-worker", None, False),
    ("liaison.home", "liaison", None, True),
    ("liaison.home", "organizer", None, False),
    ("liaison.home", "worker", None, False),
    ("liaison.home", "anonymous", None, False),
    ("liaison.home", "inactive-liaison", None, False),
    ("accounts.admin", "admin", None, True),
    ("accounts.admin", "organizer", None, True),
    ("accounts.admin", "liaison", None, False),
    ("accounts.admin", "judge", None, False),
    ("accounts.admin", "worker", None, False),
    ("accounts.admin", "anonymous", None, False),
    ("accounts.admin", "inactive-organizer", None, False),
    ("competition.manage", "admin", "locked", True),
    ("competition.manage", "organizer", "draft", True),
    ("competition.manage", "organizer", "published", True),
    ("competition.manage", "panel-judge", "locked", False),
    ("competition.manage", "judge", "locked", False),
    ("competition.manage", "worker", "published", False),
    ("competition.manage", "anonymous", "published", False),
    ("competition.manage", "inactive-admin", "locked", False),
    ("competition.results", "organizer", "draft", True),
    ("competition.results", "admin", "locked", True),
    ("competition.results", "worker", "locked", False),
    ("competition.results", "judge", "locked", False),
    ("competition.results", "panel-judge", "locked", False),
    ("competition.results", "anonymous", "locked", False),
    ("competition.results", "anonymous", "draft", False),
    ("competition.results", "worker", "published", True),
    ("competition.results", "judge", "archived", True),
    ("competition.results", "anonymous", "published", True),
    ("competition.results", "anonymous", "archived", True),
    ("competition.results", "inactive-organizer", "locked", False),
    ("competition.results", "inactive-worker", "published", True),  # treated as anonymous
    ("competition.judge", "panel-judge", "running", True),
    ("competition.judge", "judge", "running", False),
    ("competition.judge", "organizer", "running", False),
    ("competition.judge", "admin", "running", False),
    ("competition.judge", "anonymous", "running", False),
    ("competition.chief", "chief-judge", "running", True),
    ("competition.chief", "panel-judge", "running", False),
    ("competition.chief", "judge", "running", False),
    ("competition.chief", "organizer", "running", False),
    ("competition.chief", "admin", "running", False),
    ("competition.chief", "anonymous", "running", False),
    ("competition.create", "admin", None, True),
    ("competition.create", "organizer", None, True),
    ("competition.create", "judge", None, False),
    ("competition.create", "worker", None, False),
    ("competition.create", "anonymous", None, False),
    ("competition.register_self", "worker", "open", True),
    ("competition.register_self", "organizer", "open", False),
    ("competition.register_self", "judge", "open", False),
    ("competition.register_self", "anonymous", "open", False),
    ("competition.register_bulk", "organizer", "open", True),
    ("competition.register_bulk", "admin", "open", True),
    ("competition.register_bulk", "worker", "open", False),
    ("competition.register_bulk", "judge", "open", False),
    ("competition.register_bulk", "anonymous", "open", False),
    ("talent.search", "admin", None, True),
    ("talent.search", "organizer", None, True),
    ("talent.search", "judge", None, False),
    ("talent.search", "worker", None, False),
    ("talent.search", "anonymous", None, False),
    ("talent.search", "inactive-organizer", None, False),
]


def test_every_policy_entry_is_tested():
    # These take an entrant or a worker, not a competition: the tests below cover them.
    assert {action for action, *_ in CAN} | {
        "entrant.own",
        "worker.profile",
        "worker.manage",
        "account.manage",
        "unit.manage",
    } == set(POLICY)


@pytest.mark.parametrize(
    "actor, target_role, target_unit, expected",
    [
        ("admin", "admin", None, True),
        ("admin", "organizer", "jinjiang", True),
        ("city", "organizer", "jinjiang", True),
        ("city", "judge", None, True),  # a judge of no union: the city union's to look after
        ("city", "admin", None, False),  # an organizer never touches an admin
        ("jinjiang", "organizer", "jinjiang", True),
        ("jinjiang", "liaison", "firm", True),
        ("jinjiang", "organizer", "city", False),  # never a union above one's own
        ("jinjiang", "judge", "shishi", False),
        ("jinjiang", "judge", None, False),
        ("firm-liaison", "liaison", "firm", False),
        ("judge", "judge", "jinjiang", False),
    ],
)
def test_account_manage(tree, make_user, actor, target_role, target_unit, expected):
    actors = {
        "admin": ("admin", None),
        "city": ("organizer", "city"),
        "jinjiang": ("organizer", "jinjiang"),
        "firm-liaison": ("liaison", "firm"),
        "judge": ("judge", "jinjiang"),
    }
    role, unit = actors[actor]
    user = make_user("actor", role, org_unit_id=tree[unit].id if unit else None)
    target = make_user("target", target_role, org_unit_id=tree[target_unit].id if target_unit else None)
    assert can("account.manage", target, user) is expected


@pytest.mark.parametrize(
    "who, unit, enterprise, expected",
    [
        ("admin", None, "firm", True),
        ("admin", None, None, True),
        ("organizer", None, "firm", True),  # no unit: city level
        ("organizer", "city", "firm", True),
        ("organizer", "city", None, True),  # a unit of no enterprise: city level only
        ("organizer", "jinjiang", "firm", True),  # the county above the enterprise
        ("organizer", "firm", "firm", True),  # the enterprise's own union
        ("organizer", "jinjiang", None, False),
        ("organizer", "shishi", "firm", False),  # another county
        ("inactive-organizer", "jinjiang", "firm", False),
        ("inactive-admin", None, "firm", False),
        ("liaison", "firm", "firm", False),
        ("judge", "jinjiang", "firm", False),
        ("worker", None, "firm", False),
    ],
)
def test_unit_manage(tree, make_user, who, unit, enterprise, expected):
    from comp.models import Unit

    studio = Unit(kind="studio", name="创新工作室", enterprise_id=tree[enterprise].id if enterprise else None)
    db.session.add(studio)
    db.session.commit()
    user = make_user(
        "someone",
        who.removeprefix("inactive-"),
        active=not who.startswith("inactive-"),
        org_unit_id=tree[unit].id if unit else None,
    )
    assert can("unit.manage", studio, user) is expected
    assert can("unit.manage", studio, AnonymousUserMixin()) is False


def test_a_worker_account_belongs_where_its_worker_works(tree, make_user, make_worker):
    worker = make_worker("郑工", employer_id=tree["firm"].id)
    target = make_user("target", "worker", worker_id=worker.id)
    assert can("account.manage", target, make_user("a", "organizer", org_unit_id=tree["jinjiang"].id)) is True
    assert can("account.manage", target, make_user("b", "organizer", org_unit_id=tree["shishi"].id)) is False


def test_entrant_own(make_user, make_worker, make_competition):
    from comp.models import Entrant

    competition = make_competition()
    entrant = db.session.scalar(db.select(Entrant).where(Entrant.competition_id == competition.id))
    owner = make_user("owner", "worker", worker_id=entrant.worker_id)
    other = make_user("other", "worker", worker_id=make_worker("王五").id)
    organizer = make_user("boss", "organizer")
    assert can("entrant.own", entrant, owner) is True
    assert can("entrant.own", entrant, other) is False
    assert can("entrant.own", entrant, organizer) is False


@pytest.mark.parametrize("action, who, state, expected", CAN, ids=lambda v: str(v))
def test_can(make_user, make_competition, action, who, state, expected):
    competition = make_competition(status=state) if state else None
    if who == "anonymous":
        user = AnonymousUserMixin()
    elif who == "panel-judge":
        user = _panel_judge(competition)
    elif who == "chief-judge":
        user = db.session.scalar(db.select(User).where(User.username == judge_username(competition.code, "J1")))
    else:
        active = not who.startswith("inactive-")
        user = make_user("someone", who.removeprefix("inactive-"), active=active)
    assert can(action, competition, user) is expected


def test_can_uses_the_current_user(app, make_user, make_competition):
    from flask_login import login_user

    competition = make_competition(status="locked")
    organizer = make_user("boss", "organizer")
    with app.test_request_context("/"):
        assert can("competition.results", competition) is False
        login_user(organizer)
        assert can("competition.results", competition) is True


@pytest.mark.parametrize(
    "who, unit, employer, profile, manage",
    [
        ("own", None, "firm", True, False),
        ("other-worker", None, "firm", False, False),
        ("judge", None, "firm", False, False),
        ("organizer", None, "firm", True, True),  # no unit: city level
        ("organizer", "city", "firm", True, True),
        ("organizer", "jinjiang", "firm", True, True),  # the county above the employer
        ("organizer", "shishi", "firm", False, False),  # another county
        ("organizer", "firm", "firm", True, True),  # the enterprise's own liaison
        ("organizer", "jinjiang", None, False, False),  # a worker of no employer: city level only
        ("admin", None, "firm", True, True),
        ("inactive-organizer", None, "firm", False, False),
    ],
)
def test_worker_profile_and_manage(tree, make_user, make_worker, who, unit, employer, profile, manage):
    worker = make_worker("陈工", employer_id=tree[employer].id if employer else None)
    if who == "own":
        user = make_user("me", "worker", worker_id=worker.id)
    elif who == "other-worker":
        user = make_user("you", "worker", worker_id=make_worker("王五").id)
    else:
        role = who.removeprefix("inactive-")
        user = make_user(
            "someone", role, active=not who.startswith("inactive-"), org_unit_id=tree[unit].id if unit else None
        )
    assert can("worker.profile", worker, user) is profile
    assert can("worker.manage", worker, user) is manage
    assert can("worker.profile", worker, AnonymousUserMixin()) is False
