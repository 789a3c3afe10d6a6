"""Workers registering themselves: the window, capacity, one entry per person, eligibility, withdrawal."""

from __future__ import annotations

import html
from datetime import UTC
from zoneinfo import ZoneInfo

import flask_babel
import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Worker
from comp.services import registration
from tests.conftest import valid_id
from tests.registration.conftest import TRADE, login, post


def entrants(competition) -> list[Entrant]:
    """Return the competition's entrants by ref."""
    return db.session.scalars(
        sa.select(Entrant).where(Entrant.competition_id == competition.id).order_by(Entrant.ref)
    ).all()


def text(response) -> str:
    """Return the page with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def register(client, competition):
    """Press the Register button."""
    return post(client, f"/competitions/{competition.code}/register")


def test_worker_registers_and_is_pending(client, auth, open_competition, make_worker_account, tree):
    competition = open_competition(capacity=10)
    user = make_worker_account("w1", 1)
    version = competition.version
    login(auth, "w1")
    page = client.get(f"/competitions/{competition.code}/register")
    assert page.status_code == 200 and 'id="register"' in text(page)
    response = register(client, competition)
    assert response.status_code == 302 and response.location.endswith("/")
    [entrant] = entrants(competition)
    assert (entrant.ref, entrant.status, entrant.type, entrant.name) == ("R0001", "pending", "person", "黄志鹏")
    assert entrant.worker_id == user.worker_id and entrant.employer_id == tree.aviation.id
    assert entrant.registered_by_id == user.id
    db.session.refresh(competition)
    assert competition.version == version + 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "registration.created"))
    assert event.object_id == entrant.id and event.actor_id == user.id
    home = text(client.get("/"))
    assert "R0001" in home and "Pending approval" in home


def test_refs_follow_on(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    for n in (1, 2):
        make_worker_account(f"w{n}", n, name=f"工人{n}")
        login(auth, f"w{n}")
        register(client, competition)
        auth.logout()
    assert [e.ref for e in entrants(competition)] == ["R0001", "R0002"]


@pytest.mark.parametrize(
    "opens, closes, expected",
    [
        (2, 10, "Registration opens on"),
        (-10, -2, "Registration closed on"),
    ],
)
def test_closed_window_is_refused_with_its_dates(
    client, auth, open_competition, make_worker_account, opens, closes, expected
):
    competition = open_competition(opens_in_days=opens, closes_in_days=closes)
    make_worker_account("w1", 1)
    login(auth, "w1")
    response = register(client, competition)
    assert response.status_code == 422
    page = text(response)
    assert expected in page
    # Stored in UTC, shown in Beijing time (UTC+8): after 16:00 UTC that is the next day.
    shown = competition.registration_opens.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert shown.strftime("%Y-%m-%d") in page
    assert entrants(competition) == []


@pytest.mark.parametrize("status", ["closed", "running"])  # a draft is not found: tests/hardening/test_drafts.py
def test_registration_needs_the_open_state(client, auth, open_competition, make_worker_account, status):
    competition = open_competition(status=status)
    make_worker_account("w1", 1)
    login(auth, "w1")
    response = register(client, competition)
    assert response.status_code == 422 and "Registration is not open" in text(response)
    assert entrants(competition) == []


def test_full_capacity_is_refused(client, auth, open_competition, make_worker_account):
    competition = open_competition(capacity=1)
    make_worker_account("w1", 1, name="甲")
    make_worker_account("w2", 2, name="乙")
    login(auth, "w1")
    register(client, competition)
    auth.logout()
    login(auth, "w2")
    response = register(client, competition)
    assert response.status_code == 422
    assert "The competition is full: all 1 places are taken." in text(response)
    assert len(entrants(competition)) == 1


def test_rejected_and_withdrawn_free_their_place(client, auth, open_competition, make_worker_account):
    competition = open_competition(capacity=1)
    make_worker_account("w1", 1, name="甲")
    make_worker_account("w2", 2, name="乙")
    login(auth, "w1")
    register(client, competition)
    [first] = entrants(competition)
    first.status = "rejected"
    db.session.commit()
    auth.logout()
    login(auth, "w2")
    assert register(client, competition).status_code == 302


def test_registering_twice_is_refused(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    register(client, competition)
    assert "You are registered as R0001" in text(client.get(f"/competitions/{competition.code}/register"))
    response = register(client, competition)
    assert response.status_code == 422
    assert "This person is already registered for the competition (R0001, Pending approval)." in text(response)
    assert len(entrants(competition)) == 1


def test_same_id_number_cannot_serve_two_accounts(client, auth, open_competition, make_worker_account, make_user, tree):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    register(client, competition)
    auth.logout()
    make_user("w2", "worker", locale="en")
    login(auth, "w2")
    response = post(
        client,
        f"/competitions/{competition.code}/register/profile",
        {
            "name": "黄志鹏",
            "id_number": valid_id(1),
            "phone": "13900000000",
            "employer": tree.aviation.id,
            "trade": TRADE,
            "grade": 3,
        },
    )
    assert response.status_code == 422
    assert "An account already exists for this ID number" in text(response)
    assert len(entrants(competition)) == 1


def test_an_unclaimed_record_is_claimed_and_its_entry_counts(
    client, auth, open_competition, make_worker, make_user, tree
):
    """A person entered by a sheet, who then opens an account, claims the record; the union confirms it;
    then they find their entry and cannot enter twice. Until then the record is neither linked nor changed."""
    from comp.services.accounts import claims

    competition = open_competition()
    worker = make_worker(
        "林小红", id_number=valid_id(7), employer_id=tree.aviation.id, trade=TRADE, skill_grade=2, phone="13800000000"
    )
    db.session.add(
        Entrant(competition_id=competition.id, ref="R0001", name=worker.name, worker_id=worker.id, status="approved")
    )
    db.session.commit()
    account = make_user("w2", "worker", locale="en")
    login(auth, "w2")
    response = post(
        client,
        f"/competitions/{competition.code}/register/profile",
        {
            "name": "林小红",
            "id_number": valid_id(7),
            "phone": "13900000000",
            "employer": tree.garment.id,
            "trade": "另一个工种",
            "grade": 4,
        },
    )
    assert response.status_code == 302
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert "Your claim is waiting" in page
    db.session.expire_all()
    assert account.worker_id is None  # a name and an ID number are not proof
    assert (worker.phone, worker.employer_id, worker.trade, worker.skill_grade) == (
        "13800000000",
        tree.aviation.id,
        TRADE,
        2,
    )  # nothing of the record was overwritten
    claims.decide(make_user("boss", "organizer", org_unit_id=tree.city.id), claims.pending_claim(account), True)
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert "You are registered as R0001" in page and "Approved" in page
    response = register(client, competition)
    assert "already registered" in text(response)
    assert len(entrants(competition)) == 1


@pytest.mark.parametrize(
    "eligibility, fields, expected",
    [
        ({"min_grade": 2}, {}, "skill grade 三级/高级工 (3) is below the required 二级/技师 (2)"),
        ({"age_min": 40}, {}, "is below the minimum age of 40"),
        ({"age_max": 30}, {}, "is above the maximum age of 30"),
        ({"trades": ["评茶师"]}, {}, "trade “无人机驾驶员” is not one of this competition's trades (评茶师)"),
        ({"counties": "shishi"}, {}, "is not in an eligible county (石狮市总工会)"),
        ({"min_grade": 3}, {"skill_grade": None}, "skill grade — is below the required"),
    ],
)
def test_ineligible_workers_are_told_which_condition(
    client, auth, open_competition, make_worker_account, tree, eligibility, fields, expected
):
    if eligibility.get("counties") == "shishi":
        eligibility = {"counties": [tree.shishi.id]}
    competition = open_competition(eligibility=eligibility)
    make_worker_account("w1", 1, **fields)
    login(auth, "w1")
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert "You cannot register" in page and expected in page
    response = register(client, competition)
    assert response.status_code == 422 and expected in text(response)
    assert entrants(competition) == []


def test_eligible_worker_passes_every_condition(client, auth, open_competition, make_worker_account, tree):
    competition = open_competition(
        eligibility={"trades": [TRADE], "age_min": 18, "age_max": 60, "min_grade": 3, "counties": [tree.jinjiang.id]}
    )
    make_worker_account("w1", 1)
    login(auth, "w1")
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert "Skill grade 三级/高级工 (3) or higher" in page and "Employer in: 晋江市总工会" in page
    assert register(client, competition).status_code == 302


def test_account_without_worker_gives_its_details_first(client, auth, open_competition, make_user, tree):
    competition = open_competition()
    user = make_user("w1", "worker", locale="en")
    login(auth, "w1")
    page = text(client.get(f"/competitions/{competition.code}/register"))
    assert "Your details" in page and 'id="register"' not in page
    assert register(client, competition).status_code == 422
    workers = db.session.scalar(sa.select(sa.func.count(Worker.id)))
    bad = valid_id(3)[:-1] + ("0" if valid_id(3)[-1] != "0" else "1")
    response = post(
        client,
        f"/competitions/{competition.code}/register/profile",
        {
            "name": "陈工",
            "id_number": bad,
            "phone": "13900000000",
            "employer": tree.aviation.id,
            "trade": TRADE,
            "grade": 3,
        },
    )
    assert response.status_code == 422 and "check them all" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Worker.id))) == workers
    response = post(
        client,
        f"/competitions/{competition.code}/register/profile",
        {
            "name": "陈工",
            "id_number": valid_id(3),
            "phone": "13900000000",
            "employer": tree.aviation.id,
            "trade": TRADE,
            "grade": 3,
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.worker.id_masked == valid_id(3)[:4] + "*" * 10 + valid_id(3)[-4:]
    assert user.worker.employer_id == tree.aviation.id and user.worker.skill_grade == 3
    assert user.display_name == "陈工"  # the header shows the name she gave, not "w1"
    assert register(client, competition).status_code == 302


def test_the_skill_grade_starts_at_not_known(client, auth, open_competition, make_user, tree):
    """The first grade is the highest (一级): a worker who skips the field must not claim it."""
    competition = open_competition()
    user = make_user("w1", "worker", locale="en")
    login(auth, "w1")
    page = client.get(f"/competitions/{competition.code}/register").get_data(as_text=True)
    select = page[page.index('name="grade"') :]
    assert select[select.index("<option") :].startswith('<option value="0">Not known</option>')
    details = {"name": "陈工", "id_number": valid_id(3), "phone": "13900000000", "employer": tree.aviation.id}
    response = post(
        client, f"/competitions/{competition.code}/register/profile", {**details, "trade": TRADE, "grade": 0}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.worker.skill_grade is None


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("name", '=HYPERLINK("http://x")', "Must not begin with"),
        ("phone", "call me", "This is not a phone number."),
        ("employer", "0", "This field is required."),
    ],
)
def test_profile_form_refuses_bad_fields(client, auth, open_competition, make_user, tree, field, value, expected):
    competition = open_competition()
    make_user("w1", "worker", locale="en")
    login(auth, "w1")
    data = {
        "name": "陈工",
        "id_number": valid_id(3),
        "phone": "13900000000",
        "employer": tree.aviation.id,
        "trade": TRADE,
        "grade": 3,
        field: value,
    }
    response = post(client, f"/competitions/{competition.code}/register/profile", data)
    assert response.status_code == 422 and expected in text(response)


def test_worker_withdraws_and_may_register_again(client, auth, open_competition, make_worker_account):
    competition = open_competition(capacity=5)
    make_worker_account("w1", 1)
    login(auth, "w1")
    register(client, competition)
    [entrant] = entrants(competition)
    home = text(client.get("/"))
    assert f'data-confirm="Withdraw from {competition.name}? Your place goes to someone else."' in home
    response = post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/withdraw")
    assert response.status_code == 302
    db.session.refresh(entrant)
    assert entrant.status == "withdrawn"
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "registration.withdrawn"))
    assert "Withdrawn" in text(client.get("/"))
    assert register(client, competition).status_code == 302
    db.session.refresh(entrant)
    assert (entrant.ref, entrant.status) == ("R0001", "pending")


def test_withdrawal_is_refused_once_checked_in(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    register(client, competition)
    [entrant] = entrants(competition)
    entrant.status = "ok"
    db.session.commit()
    post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/withdraw")
    db.session.refresh(entrant)
    assert entrant.status == "ok"


def test_a_worker_cannot_touch_or_see_another_workers_registration(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    make_worker_account("w1", 1, name="甲某")
    make_worker_account("w2", 2, name="乙某")
    login(auth, "w1")
    register(client, competition)
    [entrant] = entrants(competition)
    auth.logout()
    login(auth, "w2")
    response = post(client, f"/competitions/{competition.code}/registrations/{entrant.id}/withdraw")
    assert response.status_code == 403
    home = text(client.get("/"))
    assert "R0001" not in home and "甲某" not in home
    db.session.refresh(entrant)
    assert entrant.status == "pending"


def test_home_lists_open_competitions_with_a_register_button(client, auth, open_competition, make_worker_account):
    shown = open_competition()
    hidden = open_competition(opens_in_days=3)
    make_worker_account("w1", 1)
    login(auth, "w1")
    home = text(client.get("/"))
    assert f"/competitions/{shown.code}/register" in home
    assert f"/competitions/{hidden.code}/register" not in home


def test_worker_sees_rejection_reason_on_home(client, auth, open_competition, make_worker_account):
    competition = open_competition()
    make_worker_account("w1", 1)
    login(auth, "w1")
    register(client, competition)
    [entrant] = entrants(competition)
    entrant.status, entrant.status_reason = "rejected", "资格证书未上传"
    db.session.commit()
    home = text(client.get("/"))
    assert "Rejected" in home and "资格证书未上传" in home


@pytest.mark.parametrize("role", ["organizer", "judge"])
def test_only_workers_register_themselves(client, auth, open_competition, make_user, role):
    competition = open_competition()
    make_user("someone", role)
    login(auth, "someone")
    assert client.get(f"/competitions/{competition.code}/register").status_code == 403


def test_ratings_take_no_personal_registrations(open_competition):
    competition = open_competition()
    competition.kind = "rating"
    with flask_babel.force_locale("en"):
        assert registration.window_problem(competition) == "A rating takes no personal registrations."


def test_profile_employer_must_be_an_enterprise(make_user, tree):
    user = make_user("w1", "worker", locale="en")
    with flask_babel.force_locale("en"), pytest.raises(registration.ServiceError, match="Choose your employer"):
        registration.create_profile(user, "陈工", valid_id(3), "13900000000", tree.jinjiang.id, TRADE, 3)
