"""Claims of worker records on file and correction requests (comp/services/accounts/claims.py).

Knowing a name and an ID number is no proof of being that person: signing up with the ID number
of a record on file links nothing; a claim waits for an organizer whose union holds the record's
employer, and until then the account sees none of the record's results or certificates. An
organizer of another union neither lists the claim nor can decide it (404). Rejection leaves
the account unlinked; every decision is audited. A worker's correction (/account/corrections)
waits for the organizer and changes the record only when accepted. A record that has an account
cannot be claimed again; two claims of one record: accepting one answers the other.
"""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from comp.extensions import db
from comp.models import AuditEvent, Certificate, Entrant, User, Worker, WorkerRequest
from comp.services import ServiceError, certs
from comp.services.accounts import claims
from comp.services.setup import lifecycle
from tests.conftest import PASSWORD, csrf_token, valid_id

NEW_PASSWORD = "a quiet river at dawn"
ON_FILE = valid_id(901)  # 张三 of the imported test competition


def _zh(msgid: str, **values) -> str:
    with force_locale("zh"):
        return gettext(msgid, **values)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _login(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302, response.status_code
    return client


def _signup(client, id_number: str = ON_FILE, username: str = "zhangsan", **fields):
    data = {
        "name": "张三",
        "id_number": id_number,
        "phone": "13905950001",
        "employer": "0",
        "trade": "",
        "grade": "0",
        "username": username,
        "password": NEW_PASSWORD,
        "repeat": NEW_PASSWORD,
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(fields)
    return client.post("/signup", data=data)


def _post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **(data or {})})


def _decide(client, request_id: int, verdict: str, note: str = ""):
    return _post(client, f"/accounts/requests/{request_id}/{verdict}", {"note": note})


def _fresh(model, row_id: int):
    db.session.expire_all()
    return db.session.get(model, row_id)


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _request_ids(page: str) -> set[int]:
    import re

    return {int(n) for n in re.findall(r'id="request-(\d+)"', page)}


@pytest.fixture()
def record(make_competition, tree):
    """A published competition with 张三's certificate; 张三's record is employed below 晋江 and has no account."""
    competition = make_competition()
    lifecycle.publish(competition)
    db.session.commit()
    issued = certs.issue(competition, now=True)
    entrant = db.session.scalar(
        sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.name == "张三")
    )
    worker = entrant.worker
    worker.employer_id = tree.aviation.id
    worker.phone = "13800000001"
    db.session.commit()
    assert [c.entrant_id for c in issued] == [entrant.id]
    return worker


@pytest.fixture()
def organizers(make_user, tree):
    """Organizers of 晋江 (holds the record's employer), 石狮 (does not) and the city."""
    return {
        "jj": make_user("jjorg", "organizer", org_unit_id=tree.jinjiang.id),
        "ss": make_user("ssorg", "organizer", org_unit_id=tree.shishi.id),
        "city": make_user("cityorg", "organizer", org_unit_id=tree.city.id),
    }


@pytest.fixture()
def claimed(client, record):
    """张三 signs up with the ID number on file: the account and its pending claim."""
    response = _signup(client)
    assert response.status_code == 302
    user = _user("zhangsan")
    claim = db.session.scalar(sa.select(WorkerRequest).where(WorkerRequest.user_id == user.id))
    return user, claim


def _sees_the_record(client, worker: Worker) -> dict[str, bool]:
    """What of the record the logged-in worker can see: results on home, certificates, the profile."""
    certificate = db.session.scalar(sa.select(Certificate).join(Entrant).where(Entrant.worker_id == worker.id))
    home = _text(client.get("/"))
    mine = _text(client.get("/my/certificates"))
    return {
        "home_entry": _zh("You have not entered any competition yet.") not in home,
        "home_certificate": certificate.number in home,
        "certificates": certificate.number in mine,
        "profile": client.get(f"/people/{worker.id}").status_code == 200,
        "me": client.get("/people/me").status_code == 302,
    }


# A sign-up with an ID number on file files a claim ---------------------------------------------------


def test_signing_up_with_an_id_number_on_file_files_a_claim_and_links_nothing(client, record, claimed):
    user, claim = claimed
    assert user.role == "worker" and user.worker_id is None
    assert record.user is None
    assert (claim.kind, claim.status, claim.worker_id, claim.user_id) == ("claim", "pending", record.id, user.id)
    # The claim keeps what the person said, never the ID number.
    assert claim.detail["name"] == "张三" and claim.detail["phone"] == "13905950001"
    assert ON_FILE not in repr(claim.detail)
    # No second record was made, and the one on file is untouched (the phone given is not written).
    assert db.session.scalar(sa.select(sa.func.count(Worker.id)).where(Worker.name == "张三")) == 1
    assert _fresh(Worker, record.id).phone == "13800000001"
    # Filing is audited, by the new account, about the record.
    [event] = _events("worker.claim_filed")
    assert (event.actor_id, event.object_type, event.object_id) == (user.id, "worker", record.id)
    assert event.detail["request"] == claim.id and event.detail["name_matches"] is True
    # The account page says the claim waits.
    assert "request-pending" in _text(client.get("/account"))


def test_until_accepted_the_worker_sees_none_of_the_records_results_or_certificates(app, client, record, claimed):
    assert _sees_the_record(client, record) == {
        "home_entry": False,
        "home_certificate": False,
        "certificates": False,
        "profile": False,
        "me": False,
    }
    certificate = db.session.scalar(sa.select(Certificate).join(Entrant).where(Entrant.worker_id == record.id))
    assert client.get(f"/my/certificates/{certificate.number}.pdf").status_code == 404


def test_an_organizer_whose_union_holds_the_employer_accepts_and_the_record_joins_the_account(
    app, client, record, claimed, organizers
):
    user, claim = claimed
    jj = _login(app, "jjorg")
    page = _text(jj.get("/accounts/requests"))
    assert _request_ids(page) == {claim.id}
    assert "zhangsan" in page and record.id_masked in page and ON_FILE not in page

    response = _decide(jj, claim.id, "accept", "电话核实")
    assert response.status_code == 302 and response.location.endswith("/accounts/requests")
    claim = _fresh(WorkerRequest, claim.id)
    assert (claim.status, claim.decided_by_id, claim.note) == ("accepted", organizers["jj"].id, "电话核实")
    assert claim.decided_at is not None
    assert _fresh(User, user.id).worker_id == record.id
    # The record itself is not changed by the claim.
    assert _fresh(Worker, record.id).phone == "13800000001"
    [event] = _events("worker.claim_accepted")
    assert (event.actor_id, event.object_type, event.object_id) == (organizers["jj"].id, "worker", record.id)
    assert event.detail["request"] == claim.id and event.detail["user"] == user.id

    # The worker's own browser, still logged in, now sees the record's results and certificate.
    assert _sees_the_record(client, record) == dict.fromkeys(
        ("home_entry", "home_certificate", "certificates", "profile", "me"), True
    )
    # The list no longer holds it.
    assert _request_ids(_text(jj.get("/accounts/requests"))) == set()


def test_the_city_organizer_sees_the_claim_too(app, claimed, organizers):
    _user_, claim = claimed
    assert claim.id in _request_ids(_text(_login(app, "cityorg").get("/accounts/requests")))


def test_an_organizer_of_another_county_neither_lists_nor_decides_the_claim(app, record, claimed, organizers):
    user, claim = claimed
    ss = _login(app, "ssorg")
    page = _text(ss.get("/accounts/requests"))
    assert _request_ids(page) == set()
    assert "zhangsan" not in page and _zh("No request is waiting.") in page
    for verdict in ("accept", "reject"):
        assert _decide(ss, claim.id, verdict).status_code == 404
    # A missing request answers alike.
    assert _decide(ss, claim.id + 1000, "accept").status_code == 404
    claim = _fresh(WorkerRequest, claim.id)
    assert claim.status == "pending" and claim.decided_by_id is None
    assert _fresh(User, user.id).worker_id is None
    assert _events("worker.claim_accepted") == [] and _events("worker.claim_rejected") == []
    # The service answers the same.
    assert claims.get(organizers["ss"], claim.id) is None
    assert claims.pending(organizers["ss"]) == []


@pytest.mark.parametrize("role", ["worker", "judge", "liaison"])
def test_who_is_not_an_organizer_is_refused_the_requests(app, tree, claimed, make_user, role):
    _user_, claim = claimed
    unit = {"worker": None, "judge": tree.jinjiang.id, "liaison": tree.aviation.id}[role]
    make_user("other", role, org_unit_id=unit)
    other = _login(app, "other")
    assert other.get("/accounts/requests").status_code == 403
    assert _decide(other, claim.id, "accept").status_code == 403
    assert _fresh(WorkerRequest, claim.id).status == "pending"


def test_a_decision_needs_the_csrf_token(app, claimed, organizers):
    _user_, claim = claimed
    jj = _login(app, "jjorg")
    assert jj.post(f"/accounts/requests/{claim.id}/accept", data={"note": ""}).status_code == 400
    assert _fresh(WorkerRequest, claim.id).status == "pending"


def test_rejection_leaves_the_account_unlinked_and_is_audited(app, client, record, claimed, organizers):
    user, claim = claimed
    jj = _login(app, "jjorg")
    assert _decide(jj, claim.id, "reject", "不是同一人").status_code == 302
    claim = _fresh(WorkerRequest, claim.id)
    assert (claim.status, claim.decided_by_id, claim.note) == ("rejected", organizers["jj"].id, "不是同一人")
    assert _fresh(User, user.id).worker_id is None and _fresh(Worker, record.id).user is None
    [event] = _events("worker.claim_rejected")
    assert (event.actor_id, event.object_id, event.detail["note"]) == (organizers["jj"].id, record.id, "不是同一人")
    assert not any(_sees_the_record(client, record).values())
    # A decided request cannot be decided again.
    assert claims.get(organizers["jj"], claim.id) is not None
    with pytest.raises(ServiceError):
        claims.decide(organizers["jj"], _fresh(WorkerRequest, claim.id), True)
    assert _decide(jj, claim.id, "accept").status_code == 302  # flashed, not applied
    assert _fresh(WorkerRequest, claim.id).status == "rejected"
    assert _fresh(User, user.id).worker_id is None


def test_a_record_without_employer_is_decided_city_wide_only(app, client, record, organizers):
    record.employer_id = None
    db.session.commit()
    _signup(client)
    claim = db.session.scalar(sa.select(WorkerRequest))
    assert _request_ids(_text(_login(app, "jjorg").get("/accounts/requests"))) == set()
    assert _decide(_login(app, "jjorg"), claim.id, "accept").status_code == 404
    city = _login(app, "cityorg")
    assert _request_ids(_text(city.get("/accounts/requests"))) == {claim.id}
    assert _decide(city, claim.id, "accept").status_code == 302
    assert _fresh(WorkerRequest, claim.id).status == "accepted"


# Claims of a record that has, or gets, an owner --------------------------------------------------------


def test_a_record_with_an_account_cannot_be_claimed_again(app, client, record, claimed, organizers):
    user, claim = claimed
    claims.decide(organizers["jj"], claim, True)
    before = {
        "users": db.session.scalar(sa.select(sa.func.count(User.id))),
        "requests": db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))),
    }
    other = app.test_client()
    response = _signup(other, username="impostor", phone="13905950002")
    assert response.status_code == 422
    assert _zh(
        "An account already exists for this ID number. If it is yours, ask your union "
        "for a new activation link instead of signing up again."
    ) in _text(response)
    assert _user("impostor") is None
    assert before == {
        "users": db.session.scalar(sa.select(sa.func.count(User.id))),
        "requests": db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))),
    }
    assert _fresh(User, user.id).worker_id == record.id


def test_of_two_claims_of_one_record_accepting_one_rejects_the_other(app, client, record, claimed, organizers):
    user, first = claimed
    other = app.test_client()
    assert _signup(other, username="impostor", phone="13905950002", name="张叁").status_code == 302
    impostor = _user("impostor")
    second = db.session.scalar(sa.select(WorkerRequest).where(WorkerRequest.user_id == impostor.id))
    assert second.status == "pending"
    [_, filed] = _events("worker.claim_filed")
    assert filed.detail["name_matches"] is False  # the organizer is told the names differ

    jj = _login(app, "jjorg")
    assert _request_ids(_text(jj.get("/accounts/requests"))) == {first.id, second.id}
    assert _decide(jj, first.id, "accept").status_code == 302
    second = _fresh(WorkerRequest, second.id)
    assert (second.status, second.decided_by_id, second.note) == (
        "rejected",
        organizers["jj"].id,
        "claimed by another account",
    )
    assert _fresh(User, impostor.id).worker_id is None
    assert _fresh(User, user.id).worker_id == record.id
    assert _decide(jj, second.id, "accept").status_code == 302  # already decided: nothing happens
    assert _fresh(User, impostor.id).worker_id is None


def test_a_claim_cannot_be_accepted_once_the_record_has_another_owner(record, claimed, organizers, make_user):
    _user_, claim = claimed
    make_user("owner", "worker", worker_id=record.id)  # linked meanwhile by an organizer's account creation
    with pytest.raises(ServiceError):
        claims.decide(organizers["jj"], _fresh(WorkerRequest, claim.id), True)
    db.session.rollback()
    assert _fresh(WorkerRequest, claim.id).status == "pending"
    assert _fresh(User, claim.user_id).worker_id is None


def test_complete_profile_claims_a_record_on_file_and_refuses_a_second_claim(record, make_user):
    account = make_user("nofile", "worker")
    person = claims.Person("张三", ON_FILE, "13905950009", None, "", None)
    claim = claims.complete_profile(account, person)
    assert claim is not None and (claim.kind, claim.status, claim.worker_id) == ("claim", "pending", record.id)
    assert _fresh(User, account.id).worker_id is None
    with pytest.raises(ServiceError):
        claims.complete_profile(_fresh(User, account.id), person)
    assert db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))) == 1


def test_complete_profile_with_a_new_number_makes_the_record_at_once(make_user, tree):
    account = make_user("newcomer", "worker")
    person = claims.Person("王五", valid_id(77), "13905950077", tree.aviation.id, "电工", 4)
    assert claims.complete_profile(account, person) is None
    worker = _fresh(User, account.id).worker
    assert (worker.name, worker.employer_id, worker.skill_grade) == ("王五", tree.aviation.id, 4)
    assert db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))) == 0


# Corrections -----------------------------------------------------------------------------------------


@pytest.fixture()
def owner(app, make_user, make_worker, tree):
    """A worker of 晋江翔鹭 with an account, logged in."""
    worker = make_worker("周工", employer_id=tree.aviation.id, phone="13800000002", trade="电工", skill_grade=3)
    user = make_user("zhou", "worker", worker_id=worker.id)
    return user, worker, _login(app, "zhou")


def _correction(client, worker: Worker, reason: str = "换了手机号", **changes):
    data = {
        "name": worker.name,
        "phone": worker.phone,
        "employer": str(worker.employer_id or 0),
        "trade": worker.trade or "",
        "grade": str(worker.skill_grade or 0),
        "reason": reason,
        "csrf_token": csrf_token(client, "/account"),
    }
    data.update(changes)
    return client.post("/account/corrections", data=data)


def test_a_correction_waits_for_the_organizer_and_applies_on_acceptance(app, owner, organizers):
    user, worker, client = owner
    response = _correction(client, worker, phone="13911112222", name="周新")
    assert response.status_code == 302
    change = db.session.scalar(sa.select(WorkerRequest).where(WorkerRequest.kind == "change"))
    assert change.status == "pending" and change.detail == {
        "fields": {"phone": "13911112222", "name": "周新"},
        "reason": "换了手机号",
    }
    # Nothing changes before the decision.
    assert (_fresh(Worker, worker.id).phone, _fresh(Worker, worker.id).name) == ("13800000002", "周工")
    [filed] = _events("worker.change_requested")
    assert (filed.actor_id, filed.object_id, filed.detail["fields"]) == (user.id, worker.id, ["name", "phone"])

    # Another county's organizer cannot see or decide it.
    ss = _login(app, "ssorg")
    assert _request_ids(_text(ss.get("/accounts/requests"))) == set()
    assert _decide(ss, change.id, "accept").status_code == 404
    assert _fresh(Worker, worker.id).phone == "13800000002"

    jj = _login(app, "jjorg")
    page = _text(jj.get("/accounts/requests"))
    assert _request_ids(page) == {change.id} and "13911112222" in page and "换了手机号" in page
    assert _decide(jj, change.id, "accept").status_code == 302
    worker = _fresh(Worker, worker.id)
    assert (worker.phone, worker.name) == ("13911112222", "周新")
    assert _fresh(WorkerRequest, change.id).status == "accepted"
    [changed] = _events("worker.changed")
    assert changed.actor_id == organizers["jj"].id and changed.object_id == worker.id
    assert changed.detail["phone"] == ["13800000002", "13911112222"] and changed.detail["name"] == ["周工", "周新"]
    [accepted] = _events("worker.change_accepted")
    assert accepted.actor_id == organizers["jj"].id and accepted.detail["request"] == change.id


def test_a_rejected_correction_changes_nothing(app, owner, organizers):
    _user_, worker, client = owner
    assert _correction(client, worker, phone="13911112222").status_code == 302
    change = db.session.scalar(sa.select(WorkerRequest))
    jj = _login(app, "jjorg")
    assert _decide(jj, change.id, "reject", "请带身份证来").status_code == 302
    assert _fresh(Worker, worker.id).phone == "13800000002"
    assert _fresh(WorkerRequest, change.id).status == "rejected"
    assert _events("worker.changed") == []
    [event] = _events("worker.change_rejected")
    assert event.actor_id == organizers["jj"].id and event.detail["note"] == "请带身份证来"


def test_a_new_correction_replaces_the_pending_one(owner):
    _user_, worker, client = owner
    assert _correction(client, worker, phone="13911112222").status_code == 302
    assert _correction(client, worker, phone="13933334444").status_code == 302
    rows = db.session.scalars(sa.select(WorkerRequest).order_by(WorkerRequest.id)).all()
    assert [(r.status, r.detail["fields"]) for r in rows] == [
        ("withdrawn", {"phone": "13911112222"}),
        ("pending", {"phone": "13933334444"}),
    ]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="nothing-differs"),
        pytest.param({"phone": "not a phone"}, id="bad-phone"),
        pytest.param({"reason": ""}, id="no-reason"),
        pytest.param({"employer": "999999"}, id="unknown-employer"),
    ],
)
def test_a_refused_correction_files_nothing(owner, changes):
    _user_, worker, client = owner
    response = _correction(client, worker, **changes)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))) == 0
    if not changes:
        assert _zh("Nothing differs from your record: change at least one field.") in _text(response)


def test_a_correction_needs_the_csrf_token_and_a_record(app, owner, make_user):
    _user_, worker, client = owner
    response = client.post(
        "/account/corrections",
        data={"name": worker.name, "phone": "13911112222", "employer": "0", "grade": "0", "reason": "x"},
    )
    assert response.status_code == 400
    make_user("norecord", "worker")
    norecord = _login(app, "norecord")
    assert _correction(norecord, worker, phone="13911112222").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))) == 0


def test_a_correction_outdated_by_the_time_of_the_decision_applies_only_what_still_differs(app, owner, organizers):
    """An organizer's own edit meanwhile is not overwritten with an equal value; the rest applies."""
    _user_, worker, client = owner
    assert _correction(client, worker, phone="13911112222", trade="焊工").status_code == 302
    change = db.session.scalar(sa.select(WorkerRequest))
    record = _fresh(Worker, worker.id)
    record.phone = "13911112222"
    db.session.commit()
    claims.decide(organizers["jj"], _fresh(WorkerRequest, change.id), True)
    record = _fresh(Worker, worker.id)
    assert (record.phone, record.trade) == ("13911112222", "焊工")
    [changed] = _events("worker.changed")
    assert "phone" not in changed.detail and changed.detail["trade"] == ["电工", "焊工"]
