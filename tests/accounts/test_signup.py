"""A worker's own sign-up (/signup, comp/services/accounts/claims.py `sign_up`).

A valid form creates a worker account with its new worker record and logs it in. A bad ID
number, a weak password, a taken username or a missing CSRF token is refused and writes
nothing. The sixth sign-up from one address within an hour answers 429. The ID number is
kept encrypted (with a keyed look-up hash and a mask), never in the clear in any row.
"""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from comp.extensions import db
from comp.models import AuditEvent, User, UserSession, Worker, WorkerRequest
from comp.services import people
from tests.conftest import csrf_token, valid_id

PASSWORD = "a quiet river at dawn"


def _form(client, **fields) -> dict:
    """Return a filled sign-up form with the page's CSRF token; fields override."""
    data = {
        "name": "林晓东",
        "id_number": valid_id(11),
        "phone": "13905951001",
        "employer": "0",
        "trade": "电工",
        "grade": "0",
        "username": "linxd",
        "password": PASSWORD,
        "repeat": PASSWORD,
        "csrf_token": csrf_token(client, "/signup"),
    }
    data.update(fields)
    return data


def _zh(msgid: str, **values) -> str:
    """Return the message as the (Chinese) page shows it."""
    with force_locale("zh"):
        return gettext(msgid, **values)


def _signup(client, **fields):
    return client.post("/signup", data=_form(client, **fields))


def _counts() -> dict[str, int]:
    """Count the rows of every table, to prove a refused sign-up wrote nothing."""
    db.session.expire_all()
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _logged_in(client) -> bool:
    """Tell whether the client's session is a logged-in one (/account needs a login)."""
    return client.get("/account").status_code == 200


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


# A valid sign-up -------------------------------------------------------------------------------------


def test_a_valid_sign_up_creates_a_worker_account_and_logs_in(app, client, tree):
    assert client.get("/signup").status_code == 200
    response = _signup(client, employer=str(tree.aviation.id), grade="3")
    assert response.status_code == 302 and response.location.endswith("/")
    assert _logged_in(client)
    assert client.get("/").status_code == 200  # the worker home

    user = _user("linxd")
    assert user is not None and user.role == "worker" and user.active and user.has_password
    assert user.check_password(PASSWORD) and user.display_name == "林晓东"
    assert user.org_unit_id is None and user.last_login_at is not None
    worker = db.session.get(Worker, user.worker_id)
    assert (worker.name, worker.phone, worker.employer_id, worker.trade, worker.skill_grade) == (
        "林晓东",
        "13905951001",
        tree.aviation.id,
        "电工",
        3,
    )
    assert people.find_by_id_number(valid_id(11)).id == worker.id
    # A new record is no claim: nothing waits for an organizer.
    assert db.session.scalar(sa.select(sa.func.count(WorkerRequest.id))) == 0
    # The login is a server-side session of the new account.
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.user_id == user.id)) == 1
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == user.id)))
    assert {"account.signed_up", "worker.profile"} <= actions

    # A fresh browser logs in with the chosen password.
    other = app.test_client()
    login = other.post(
        "/login", data={"username": "linxd", "password": PASSWORD, "csrf_token": csrf_token(other, "/login")}
    )
    assert login.status_code == 302 and _logged_in(other)


def test_without_a_username_the_phone_number_is_the_username(client):
    response = _signup(client, username="")
    assert response.status_code == 302
    user = _user("13905951001")
    assert user is not None and user.role == "worker" and user.worker_id is not None


def test_a_logged_in_visitor_is_sent_home(client):
    assert _signup(client).status_code == 302
    assert client.get("/signup").status_code == 302
    counts = _counts()
    assert _signup(client, username="another", id_number=valid_id(12)).status_code == 302
    assert _counts() == counts


# Refused sign-ups write nothing -----------------------------------------------------------------------


def _bad_check_digit(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"id_number": _bad_check_digit(valid_id(11))}, id="bad-check-digit"),
        pytest.param({"id_number": "35050219900230001X"}, id="no-such-date"),
        pytest.param({"id_number": "3505021990"}, id="too-short"),
        pytest.param({"password": "short1", "repeat": "short1"}, id="password-short"),
        pytest.param({"password": "aaaaaaaaaaaa", "repeat": "aaaaaaaaaaaa"}, id="password-repeated"),
        pytest.param({"password": "0123456789", "repeat": "0123456789"}, id="password-sequential"),
        pytest.param({"password": "linxd-is-my-name", "repeat": "linxd-is-my-name"}, id="password-has-username"),
        pytest.param({"password": f"id{valid_id(11)}", "repeat": f"id{valid_id(11)}"}, id="password-has-id-number"),
        pytest.param({"password": "x13905951001y", "repeat": "x13905951001y"}, id="password-has-phone"),
        pytest.param({"repeat": "a different river"}, id="passwords-differ"),
        pytest.param({"phone": "not a phone"}, id="bad-phone"),
        pytest.param({"name": ""}, id="no-name"),
        pytest.param({"employer": "999999"}, id="unknown-employer"),
        pytest.param({"username": "has space"}, id="username-space"),
    ],
)
def test_an_invalid_form_is_refused_and_writes_nothing(client, tree, fields):
    counts = _counts()
    response = _signup(client, **fields)
    assert response.status_code == 422
    assert _counts() == counts
    assert not _logged_in(client)


def test_the_page_says_a_bad_check_digit_without_giving_the_digit_away(client):
    """The page says the number does not check out and to check every digit, never which digit would fit."""
    good = valid_id(11)
    number = _bad_check_digit(good)
    page = html.unescape(_signup(client, id_number=number).get_data(as_text=True))
    reason = _zh("the digits do not agree with the check digit: a typo may be in any digit, check them all")
    assert _zh("ID number: %(reason)s", reason=reason) in page
    assert _user("linxd") is None


def test_an_organizers_unit_is_no_employer(client, tree):
    """The employer list holds enterprises only: a county union is refused."""
    counts = _counts()
    assert _signup(client, employer=str(tree.jinjiang.id)).status_code == 422
    assert _counts() == counts


@pytest.mark.parametrize("taken", ["linxd", "LinXD"])
def test_a_taken_username_is_refused_whatever_its_case(client, make_user, taken):
    make_user(taken, "judge")
    counts = _counts()
    response = _signup(client, username="linxd")
    assert response.status_code == 422
    assert _zh("username “%(name)s” is taken", name="linxd") in html.unescape(response.get_data(as_text=True))
    assert _counts() == counts
    assert db.session.scalar(sa.select(sa.func.count(Worker.id))) == 0
    assert not _logged_in(client)


def test_a_taken_phone_username_is_refused(client):
    """Two people leaving the username empty with one phone number: the second is refused."""
    assert _signup(client, username="").status_code == 302
    other = client.application.test_client()
    counts = _counts()
    assert _signup(other, username="", id_number=valid_id(12), name="林晓西").status_code == 422
    assert _counts() == counts


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_a_post_without_a_valid_csrf_token_is_refused(client, token):
    data = _form(client)
    if token is None:
        del data["csrf_token"]
    else:
        data["csrf_token"] = token
    counts = _counts()
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert _counts() == counts
    assert not _logged_in(client)


# Rate limit ----------------------------------------------------------------------------------------------


def test_the_sixth_sign_up_from_one_address_within_an_hour_answers_429(app):
    for n in range(5):
        browser = app.test_client()
        response = _signup(browser, username=f"worker{n}", id_number=valid_id(20 + n), phone=f"1390595100{n}")
        assert response.status_code == 302, n
    sixth = app.test_client()
    counts = _counts()
    response = _signup(sixth, username="worker5", id_number=valid_id(25), phone="13905951005")
    assert response.status_code == 429
    assert _counts() == counts
    assert _user("worker5") is None

    # Another address is counted on its own.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    response = _signup(elsewhere, username="worker6", id_number=valid_id(26), phone="13905951006")
    assert response.status_code == 302
    assert _user("worker6") is not None


def test_refused_attempts_count_towards_the_limit(app):
    """Guessing with bad forms is limited too: five refused posts, then the sixth is 429 even if valid."""
    browser = app.test_client()
    for n in range(5):
        assert _signup(browser, id_number=_bad_check_digit(valid_id(30 + n))).status_code == 422
    assert _signup(browser).status_code == 429
    assert _user("linxd") is None


def test_opening_the_form_is_not_limited(app):
    browser = app.test_client()
    for _ in range(8):
        assert browser.get("/signup").status_code == 200


# The ID number at rest ---------------------------------------------------------------------------------


def _all_rows_text() -> str:
    """Return every row of every table as text."""
    parts = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_the_id_number_is_stored_encrypted_and_masked_never_in_the_clear(client, tree):
    number = valid_id(11, birth="19850723")
    assert _signup(client, id_number=number).status_code == 302
    user = _user("linxd")
    worker = db.session.get(Worker, user.worker_id)

    # The worker row: a ciphertext that decrypts to the number, a keyed hash, a mask.
    assert worker.id_cipher and number.encode() not in worker.id_cipher
    assert people.id_number(worker) == number
    assert worker.id_hash and number not in worker.id_hash and len(worker.id_hash) == 64
    assert worker.id_masked == number[:4] + "*" * 10 + number[-4:]
    # Only the birth year is kept, not the full date.
    assert worker.birth_year == 1985
    assert not hasattr(worker, "birth_date")

    # Neither the user row nor any other row holds the number, nor its birth-date digits run.
    with db.engine.connect() as conn:
        user_row = conn.execute(sa.text('SELECT * FROM "user" WHERE id = :id'), {"id": user.id}).one()
        worker_row = conn.execute(sa.text("SELECT * FROM worker WHERE id = :id"), {"id": worker.id}).one()
    for row in (user_row, worker_row):
        text = repr(tuple(row))
        assert number not in text and number[6:14] not in text
    everything = _all_rows_text()
    assert number not in everything
    assert number[6:14] not in everything  # 19850723
