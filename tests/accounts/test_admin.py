"""Account administration (/accounts): organizers within their own union's subtree, admins everywhere.

A county organizer lists and opens only the accounts below their union; another county's account
answers 404 on every page and action; they never grant the admin role nor a union outside their
subtree; every change writes an audit row naming the actor; a new account gets an activation link,
never a password; workers, judges and liaisons are refused; a post without its CSRF token is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AccountLink, AuditEvent, User, UserSession
from comp.services import ServiceError
from comp.services.accounts import admin, links
from tests.conftest import PASSWORD, csrf_token


@dataclass
class People:
    boss: User  # admin
    city: User  # organizer of the city union
    jj: User  # organizer of 晋江 (county)
    ss: User  # organizer of 石狮 (county)
    judge_jj: User
    liaison_air: User  # at an enterprise below 晋江
    worker_air: User  # no union of its own; its worker record's employer is below 晋江
    judge_ss: User
    liaison_garment: User  # at an enterprise below 石狮
    worker_garment: User


@pytest.fixture()
def people(tree, make_user, make_worker) -> People:
    w_air = make_worker("周工", employer_id=tree.aviation.id)
    w_garment = make_worker("吴工", employer_id=tree.garment.id)
    return People(
        boss=make_user("boss", "admin"),
        city=make_user("cityorg", "organizer", org_unit_id=tree.city.id),
        jj=make_user("jjorg", "organizer", org_unit_id=tree.jinjiang.id),
        ss=make_user("ssorg", "organizer", org_unit_id=tree.shishi.id),
        judge_jj=make_user("judgejj", "judge", org_unit_id=tree.jinjiang.id),
        liaison_air=make_user("liaisonair", "liaison", org_unit_id=tree.aviation.id),
        worker_air=make_user("workerair", "worker", worker_id=w_air.id),
        judge_ss=make_user("judgess", "judge", org_unit_id=tree.shishi.id),
        liaison_garment=make_user("liaisongarment", "liaison", org_unit_id=tree.garment.id),
        worker_garment=make_user("workergarment", "worker", worker_id=w_garment.id),
    )


def _login(app, username: str):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302, response.status_code
    return client


def _usernames(page: str) -> set[str]:
    """Return the usernames the account list shows (each links to its account)."""
    return set(re.findall(r'href="/accounts/\d+"><code>([^<]+)</code>', page))


def _snapshot(user_id: int) -> tuple:
    db.session.expire_all()
    u = db.session.get(User, user_id)
    return (u.display_name, u.role, u.org_unit_id, u.active, u.password_hash)


def _events(action: str, target_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.object_type == "user", AuditEvent.object_id == target_id
            )
        )
    )


def _post(client, page: str, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


# Listing --------------------------------------------------------------------------------------------------


def test_a_county_organizer_lists_only_accounts_in_their_subtree(app, people):
    client = _login(app, "jjorg")
    response = client.get("/accounts")
    assert response.status_code == 200
    assert _usernames(response.get_data(as_text=True)) == {"jjorg", "judgejj", "liaisonair", "workerair"}

    # The service says the same, and a search cannot reach beyond the subtree.
    found = {u.username for u in admin.search(people.jj, admin.Filters()).items}
    assert found == {"jjorg", "judgejj", "liaisonair", "workerair"}
    page = client.get("/accounts?q=judge").get_data(as_text=True)
    assert _usernames(page) == {"judgejj"}
    page = client.get(f"/accounts?unit={people.ss.org_unit_id}").get_data(as_text=True)
    assert _usernames(page) == set()


def test_the_other_county_sees_its_own(app, people):
    page = _login(app, "ssorg").get("/accounts").get_data(as_text=True)
    assert _usernames(page) == {"ssorg", "judgess", "liaisongarment", "workergarment"}


def test_a_city_organizer_lists_all_but_admins_and_an_admin_lists_all(app, people):
    page = _login(app, "cityorg").get("/accounts").get_data(as_text=True)
    everyone = {
        "cityorg", "jjorg", "ssorg", "judgejj", "liaisonair", "workerair", "judgess", "liaisongarment",
        "workergarment",
    }  # fmt: skip
    assert _usernames(page) == everyone
    page = _login(app, "boss").get("/accounts").get_data(as_text=True)
    assert _usernames(page) == everyone | {"boss"}


def test_an_admin_searches_by_name_role_unit_and_state(app, tree, people, make_user):
    make_user("lihua", "judge", display_name="李华", org_unit_id=tree.aviation.id)
    admin.set_active(people.boss, people.liaison_garment, False)
    admin.create(people.boss, "invitee", "新来的", "judge", tree.shishi.id)
    client = _login(app, "boss")

    def found(query: str) -> set[str]:
        response = client.get(f"/accounts?{query}")
        assert response.status_code == 200
        return _usernames(response.get_data(as_text=True))

    assert found("q=李华") == {"lihua"}  # by name
    assert found("q=LIAISON") == {"liaisonair", "liaisongarment"}  # by username, case aside
    assert found("q=nobody-is-called-this") == set()
    assert found("role=judge") == {"judgejj", "judgess", "lihua", "invitee"}
    assert found("role=liaison") == {"liaisonair", "liaisongarment"}
    # A union covers its subtree; a worker counts where their employer is.
    assert found(f"unit={tree.jinjiang.id}") == {"jjorg", "judgejj", "liaisonair", "workerair", "lihua"}
    assert found(f"unit={tree.aviation.id}") == {"liaisonair", "workerair", "lihua"}
    assert found("state=disabled") == {"liaisongarment"}
    assert found("state=invited") == {"invitee"}
    assert "liaisongarment" not in found("state=active") and "invitee" not in found("state=active")
    assert "boss" in found("state=active")
    assert found(f"role=judge&unit={tree.shishi.id}") == {"judgess", "invitee"}
    assert found(f"role=judge&unit={tree.shishi.id}&state=active") == {"judgess"}


# Another county's account ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["judge_ss", "liaison_garment", "worker_garment", "ss", "boss"])
def test_an_account_outside_the_subtree_answers_404_everywhere(app, people, who):
    target = getattr(people, who)
    before = _snapshot(target.id)
    links_before = db.session.scalar(sa.select(sa.func.count()).select_from(AccountLink))
    client = _login(app, "jjorg")
    assert client.get(f"/accounts/{target.id}").status_code == 404
    token = csrf_token(client, "/accounts")
    assert token
    edit = {"display_name": "改名", "role": "judge", "unit": people.jj.org_unit_id, "csrf_token": token}
    assert client.post(f"/accounts/{target.id}/edit", data=edit).status_code == 404
    for action in ("disable", "enable", "reset", "logout-all"):
        assert client.post(f"/accounts/{target.id}/{action}", data={"csrf_token": token}).status_code == 404, action
    assert _snapshot(target.id) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountLink)) == links_before
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.actor_id == people.jj.id))
    assert admin.get(people.jj, target.id) is None
    # A missing account answers the same.
    assert client.get("/accounts/999999").status_code == 404


def test_an_account_inside_the_subtree_opens(app, people):
    client = _login(app, "jjorg")
    for target in (people.judge_jj, people.liaison_air, people.worker_air):
        assert client.get(f"/accounts/{target.id}").status_code == 200


# What an organizer may grant ---------------------------------------------------------------------------------


def _new_form(**fields):
    return {"username": "newjudge", "display_name": "新裁判", "role": "judge", "unit": 0, "id_number": "", **fields}


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "admin", "unit": 0},
        {"role": "admin", "unit": "JJ"},
        {"role": "judge", "unit": "SS"},
        {"role": "liaison", "unit": "GARMENT"},
        {"role": "organizer", "unit": "CITY"},
    ],
)
def test_an_organizer_cannot_create_outside_their_grant(app, tree, people, fields):
    units = {"JJ": tree.jinjiang.id, "SS": tree.shishi.id, "GARMENT": tree.garment.id, "CITY": tree.city.id}
    fields = {k: units.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    client = _login(app, "jjorg")
    count = _user_count()
    response = _post(client, "/accounts/new", "/accounts/new", **_new_form(**fields))
    assert response.status_code == 422
    assert _user_count() == count
    assert db.session.scalar(sa.select(User).where(User.username == "newjudge")) is None
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.created"))


def test_the_new_account_form_offers_only_what_the_organizer_may_grant(app, tree, people):
    page = _login(app, "jjorg").get("/accounts/new").get_data(as_text=True)
    roles = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    units = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert set(re.findall(r'value="([^"]*)"', roles)) == {"organizer", "liaison", "judge", "worker"}
    assert set(re.findall(r'value="([^"]*)"', units)) == {"0", str(tree.jinjiang.id), str(tree.aviation.id)}


@pytest.mark.parametrize(
    "role, unit",
    [("judge", "SS"), ("organizer", "CITY"), ("liaison", "JJ"), ("organizer", "AIR"), ("admin", "JJ")],
)
def test_a_refused_grant_is_shown_on_the_form(app, tree, people, role, unit):
    units = {"JJ": tree.jinjiang.id, "SS": tree.shishi.id, "CITY": tree.city.id, "AIR": tree.aviation.id}
    client = _login(app, "jjorg")
    response = _post(client, "/accounts/new", "/accounts/new", **_new_form(role=role, unit=units[unit]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page or 'class="field-error"' in page
    assert 'name="username"' in page  # the form again, to correct
    assert db.session.scalar(sa.select(User).where(User.username == "newjudge")) is None


def test_the_service_refuses_the_same_grants(tree, people):
    for role, unit in (
        ("admin", None),
        ("admin", tree.jinjiang.id),
        ("judge", tree.shishi.id),
        ("organizer", tree.city.id),
    ):
        with pytest.raises(ServiceError):
            admin.create(people.jj, "sneaky", "偷偷", role, unit)
        db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.username == "sneaky")) is None
    assert "admin" not in admin.roles_for(people.jj)
    assert {n.id for n in admin.units_for(people.jj)} == {tree.jinjiang.id, tree.aviation.id}


@pytest.mark.parametrize(
    "change",
    [
        {"role": "admin", "unit": "JJ"},
        {"role": "admin", "unit": 0},
        {"role": "judge", "unit": "SS"},
        {"role": "organizer", "unit": "CITY"},
    ],
)
def test_an_organizer_cannot_edit_an_account_beyond_their_grant(app, tree, people, change):
    units = {"JJ": tree.jinjiang.id, "SS": tree.shishi.id, "CITY": tree.city.id}
    target = people.judge_jj
    before = _snapshot(target.id)
    client = _login(app, "jjorg")
    data = {"display_name": target.display_name, "role": change["role"], "unit": units.get(change["unit"], 0)}
    response = _post(client, f"/accounts/{target.id}", f"/accounts/{target.id}/edit", **data)
    assert response.status_code == 422
    assert _snapshot(target.id) == before
    assert not _events("account.changed", target.id)
    with pytest.raises(ServiceError):
        admin.update(people.jj, db.session.get(User, target.id), target.display_name, change["role"], data["unit"])
    db.session.rollback()
    assert _snapshot(target.id) == before


# Audit rows ---------------------------------------------------------------------------------------------------


def test_create_writes_an_audit_row_and_shows_a_link_not_a_password(app, tree, people):
    client = _login(app, "jjorg")
    response = _post(client, "/accounts/new", "/accounts/new", **_new_form(role="judge", unit=tree.jinjiang.id))
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "newjudge"))
    assert user is not None and user.role == "judge" and user.org_unit_id == tree.jinjiang.id
    assert response.headers["Location"] == f"/accounts/{user.id}"
    assert not user.has_password  # no password was made for the person

    created = _events("account.created", user.id)
    assert len(created) == 1 and created[0].actor_id == people.jj.id
    assert created[0].detail["role"] == "judge"
    link_events = _events("account.link_activate", user.id)
    assert len(link_events) == 1 and link_events[0].actor_id == people.jj.id

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = links.live_link(user)
    assert link is not None and link.purpose == "activate"
    assert f"{app.config['PUBLIC_BASE_URL']}/activate/{links.token(link)}" in page
    assert 'type="password"' not in page
    assert user.password_hash not in page and user.password_hash[1:] not in page


def test_edit_writes_an_audit_row(app, tree, people):
    target = people.judge_jj
    client = _login(app, "jjorg")
    data = {"display_name": "新名字", "role": "liaison", "unit": tree.aviation.id}
    response = _post(client, f"/accounts/{target.id}", f"/accounts/{target.id}/edit", **data)
    assert response.status_code == 302
    assert _snapshot(target.id)[:3] == ("新名字", "liaison", tree.aviation.id)
    (event,) = _events("account.changed", target.id)
    assert event.actor_id == people.jj.id
    assert event.detail["role"] == ["judge", "liaison"]
    assert event.detail["unit"] == [tree.jinjiang.id, tree.aviation.id]


def test_disable_and_enable_write_audit_rows(app, people):
    target = people.liaison_air
    client = _login(app, "jjorg")
    page = f"/accounts/{target.id}"
    assert _post(client, page, f"{page}/disable").status_code == 302
    assert _snapshot(target.id)[3] is False
    (event,) = _events("account.disabled", target.id)
    assert event.actor_id == people.jj.id
    assert _post(client, page, f"{page}/enable").status_code == 302
    assert _snapshot(target.id)[3] is True
    (event,) = _events("account.enabled", target.id)
    assert event.actor_id == people.jj.id


def _sessions(user_id: int) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user_id)))


def test_disabling_ends_the_accounts_sessions(app, people):
    target = people.judge_jj
    phone, laptop = _login(app, "judgejj"), _login(app, "judgejj")
    assert phone.get("/account").status_code == 200 and laptop.get("/account").status_code == 200
    assert [s.revoked_at for s in _sessions(target.id)] == [None, None]

    client = _login(app, "jjorg")
    page = f"/accounts/{target.id}"
    assert _post(client, page, f"{page}/disable").status_code == 302
    sessions = _sessions(target.id)
    assert len(sessions) == 2
    assert all(s.revoked_at is not None and s.revoked_reason == "disabled" for s in sessions)
    for browser in (phone, laptop):
        response = browser.get("/account")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    # Enabling the account again does not bring the ended sessions back: the person logs in anew.
    assert _post(client, page, f"{page}/enable").status_code == 302
    assert phone.get("/account").status_code == 302
    assert _login(app, "judgejj").get("/account").status_code == 200


def test_log_out_everywhere_ends_sessions_and_writes_an_audit_row(app, people):
    target = people.liaison_air
    browser = _login(app, "liaisonair")
    client = _login(app, "jjorg")
    page = f"/accounts/{target.id}"
    assert _post(client, page, f"{page}/logout-all").status_code == 302
    assert browser.get("/account").status_code == 302
    assert all(s.revoked_reason == "logout_all" for s in _sessions(target.id))
    (event,) = _events("account.sessions_ended", target.id)
    assert event.actor_id == people.jj.id and event.detail["count"] == 1
    assert _snapshot(target.id)[3] is True  # still enabled


def test_reset_writes_an_audit_row_and_shows_the_new_link(app, people):
    target = people.worker_air
    browser = _login(app, "workerair")
    client = _login(app, "jjorg")
    page = f"/accounts/{target.id}"
    response = _post(client, page, f"{page}/reset")
    assert response.status_code == 302
    assert browser.get("/account").status_code == 302  # the reset ended the person's session
    assert [s.revoked_reason for s in _sessions(target.id)] == ["reset"]
    db.session.expire_all()
    user = db.session.get(User, target.id)
    assert not user.has_password
    (event,) = _events("account.reset", target.id)
    assert event.actor_id == people.jj.id and event.detail["had_password"] is True
    assert event.detail["sessions_ended"] == 1
    (link_event,) = _events("account.link_reset", target.id)
    assert link_event.actor_id == people.jj.id
    shown = client.get(page).get_data(as_text=True)
    link = links.live_link(user)
    assert link is not None and link.purpose == "reset"
    assert links.url(link) in shown


def test_an_organizer_cannot_act_on_their_own_account_here(app, people):
    client = _login(app, "jjorg")
    page = f"/accounts/{people.jj.id}"
    before = _snapshot(people.jj.id)
    for action in ("disable", "reset"):
        assert _post(client, page, f"{page}/{action}").status_code == 422
    assert _snapshot(people.jj.id) == before


# Who may open the pages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["workerair", "judgejj", "liaisonair"])
def test_workers_judges_and_liaisons_are_refused(app, people, who):
    client = _login(app, who)
    target = people.judge_jj if who != "judgejj" else people.liaison_air
    before = _snapshot(target.id)
    for path in ("/accounts", "/accounts/new", f"/accounts/{target.id}", f"/accounts/sheet?id={target.id}"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/account")
    assert token
    for action in ("disable", "reset", "enable", "edit"):
        data = {"csrf_token": token, "display_name": "x", "role": "admin", "unit": 0}
        assert client.post(f"/accounts/{target.id}/{action}", data=data).status_code == 403, action
    assert _post(client, "/account", "/accounts/new", **_new_form()).status_code == 403
    assert _snapshot(target.id) == before
    assert db.session.scalar(sa.select(User).where(User.username == "newjudge")) is None


def test_anonymous_is_sent_to_login(client, people):
    response = client.get("/accounts")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# CSRF ---------------------------------------------------------------------------------------------------------


def test_posts_without_csrf_are_refused(app, tree, people):
    client = _login(app, "jjorg")
    target = people.judge_jj
    before = _snapshot(target.id)
    count = _user_count()
    for bad in ({}, {"csrf_token": "forged"}):
        response = client.post("/accounts/new", data={**_new_form(unit=tree.jinjiang.id), **bad})
        assert response.status_code == 400
        data = {"display_name": "改名", "role": "liaison", "unit": tree.aviation.id, **bad}
        assert client.post(f"/accounts/{target.id}/edit", data=data).status_code == 400
        for action in ("disable", "enable", "reset", "logout-all"):
            assert client.post(f"/accounts/{target.id}/{action}", data=bad).status_code == 400, action
    assert _user_count() == count
    assert _snapshot(target.id) == before
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.actor_id == people.jj.id))
    # The same posts with the token go through.
    assert _post(client, f"/accounts/{target.id}", f"/accounts/{target.id}/disable").status_code == 302
