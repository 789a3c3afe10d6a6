"""The password policy: what it refuses and why, what it accepts, and every way a password is set.

The policy (comp/services/accounts/passwords.py): 10 to 128 characters; not the username nor
containing it; not containing the person's ID or phone number; not on the shipped list of common
passwords; not a run of one or two characters, nor of consecutive ones. The same policy holds on the
change-password page and on the command line; the hashes are Werkzeug's.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.security import check_password_hash

from comp.extensions import db
from comp.models import AuditEvent, User, UserSession
from comp.services import ServiceError, accounts
from comp.services.accounts import passwords
from tests.conftest import PASSWORD, csrf_token, valid_id

ID = valid_id(19)  # an 18-character ID number, ending in X
PHONE = "13800138000"

# A fragment of each reason as the English catalogue words it.
REASONS = {
    "short": "Use at least 10 characters",
    "long": "Use at most 128 characters",
    "username": "must not contain the username",
    "personal": "must not contain your ID number or phone number",
    "common": "list of common passwords",
    "simple": "too simple",
}


def reasons(password: str, username: str = "", personal: tuple[str, ...] = ()) -> set[str]:
    """Return the keys of REASONS the policy gives for the password; fail on a reason not in REASONS."""
    with force_locale("en"):
        found = passwords.problems(password, username, personal)
    keys = {key for key, text in REASONS.items() if any(text in problem for problem in found)}
    assert len(keys) == len(found), found
    return keys


REFUSED = [
    # password, username, personal, reasons
    ("", "", (), {"short"}),
    ("abc12345", "", (), {"short"}),
    ("a9$kLm2Qz", "", (), {"short"}),  # one character short
    ("短密码也不行", "", (), {"short"}),
    (("correct horse battery staple " * 5)[:129], "", (), {"long"}),
    ("zhangwei88", "zhangwei88", (), {"username"}),
    ("ZhangWei88", "zhangwei88", (), {"username"}),
    ("ZHANGWEI88", "zhangwei88", (), {"username"}),
    ("zhangwei88", "ZhangWei88", (), {"username"}),
    ("zhangwei88", "  zhangwei88 ", (), {"username"}),
    ("i am zhangwei88, hi", "zhangwei88", (), {"username"}),
    ("my-Chen-password", "chen", (), {"username"}),
    ("zhangwei", "zhangwei", (), {"short", "username"}),
    ("woaini1314", "", (), {"common"}),
    ("WoAiNi1314", "", (), {"common"}),
    ("woaini1314520", "", (), {"common"}),
    ("5201314520", "", (), {"common"}),
    ("iloveyou1314", "", (), {"common"}),
    ("zhang123456", "", (), {"common"}),
    ("qwertyuiop", "", (), {"common"}),
    ("1qaz2wsx3edc", "", (), {"common"}),
    ("password123", "", (), {"common"}),
    ("1234567890", "", (), {"common"}),  # sequential too, but the list says it first
    ("9876543210", "", (), {"common"}),
    ("aaaaaaaaaa", "", (), {"common"}),  # repeated too, likewise
    ("AAAAAaaaaa", "", (), {"common"}),
    ("bbbbbbbbbbbb", "", (), {"simple"}),
    ("ababababab", "", (), {"simple"}),
    ("ABABABABAB", "", (), {"simple"}),
    ("一二一二一二一二一二", "", (), {"simple"}),
    ("abcdefghij", "", (), {"simple"}),
    ("ABCDEFGHIJ", "", (), {"simple"}),
    ("bcdefghijk", "", (), {"simple"}),
    ("klmnopqrst", "", (), {"simple"}),
    ("jihgfedcba", "", (), {"simple"}),
    (f"tel{PHONE}!", "", (ID, PHONE), {"personal"}),
    (f"id {ID}", "", (ID, PHONE), {"personal"}),
    (f"id {ID.lower()}", "", (ID.upper(), PHONE), {"personal"}),
    (ID, "", (ID, ""), {"personal"}),
]

ACCEPTED = [
    # password, username, personal
    (PASSWORD, "chen", ()),
    ("春眠不觉晓处处闻啼鸟", "", ()),  # ten Chinese characters
    ("k9#Lm2@qZx", "", ()),  # exactly ten
    ("Tr0ub4dour&3", "zhangwei88", ()),
    (("x7 correct horse battery staple " * 5)[:128], "", ()),  # exactly 128
    ("abcdefghik", "", ()),  # the run breaks once
    ("1234567890x", "", ()),
    ("my number is secret", "chen", (ID, PHONE)),
]


@pytest.mark.parametrize("password, username, personal, expected", REFUSED)
def test_refused_passwords_and_the_reason(password, username, personal, expected):
    assert reasons(password, username, personal) == expected
    with pytest.raises(ServiceError):
        passwords.check(password, username, personal)


@pytest.mark.parametrize("password, username, personal", ACCEPTED)
def test_accepted_passwords(password, username, personal):
    assert passwords.problems(password, username, personal) == []
    passwords.check(password, username, personal)  # does not raise


def test_a_refusal_names_every_problem():
    with force_locale("en"), pytest.raises(ServiceError) as refused:
        passwords.check("zhangwei", "zhangwei")
    assert REASONS["short"] in str(refused.value) and REASONS["username"] in str(refused.value)


COMMON = sorted(passwords.common_passwords())


def test_the_common_list_is_lower_case_and_has_the_chinese_patterns():
    """The policy lowers the password before looking it up: an upper-case entry could never match."""
    assert len(COMMON) > 1000
    assert all(entry == entry.lower() and entry == entry.strip() for entry in COMMON)
    assert {"woaini1314", "5201314520", "iloveyou1314", "zhang123456", "1234567890"} <= set(COMMON)


def test_every_common_password_is_refused_in_any_case():
    for entry in COMMON:
        for variant in (entry, entry.upper(), entry.title()):
            assert reasons(variant) & {"common", "short"}, variant


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=passwords.MIN_LENGTH - 1), st.text(max_size=12))
def test_any_password_shorter_than_ten_is_refused(password, username):
    assert "short" in reasons(password, username)
    with pytest.raises(ServiceError):
        passwords.check(password, username)


def _case_variants(entry: str):
    return st.lists(st.booleans(), min_size=len(entry), max_size=len(entry)).map(
        lambda flags: "".join(c.upper() if flag else c for c, flag in zip(entry, flags))
    )


LIKELY = st.one_of(
    st.text(max_size=140),
    st.sampled_from(COMMON).flatmap(_case_variants),
    st.builds(lambda c, n: c * n, st.characters(blacklist_categories=("Cs",)), st.integers(10, 20)),
    st.builds(lambda s, n: "".join(chr(ord(s) + i) for i in range(n)), st.sampled_from("0aA"), st.integers(10, 26)),
)


@settings(max_examples=300, deadline=None)
@given(LIKELY, st.text(max_size=12))
def test_an_accepted_password_breaks_no_rule(password, username):
    if passwords.problems(password, username):
        return
    lowered, name = password.lower(), username.strip().lower()
    assert passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH
    assert lowered not in passwords.common_passwords()
    assert not name or (lowered != name and (len(name) < 3 or name not in lowered))
    assert len(set(lowered)) > 2
    steps = {ord(b) - ord(a) for a, b in pairwise(lowered)}
    assert steps not in ({1}, {-1})


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(COMMON).flatmap(_case_variants))
def test_a_common_password_in_any_mix_of_cases_is_refused(password):
    assert reasons(password) & {"common", "short"}


# Hashes -----------------------------------------------------------------------------------------


def _hash(user_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(User.password_hash).where(User.id == user_id))


def test_hashes_are_werkzeug_salted_hashes(make_user):
    one, two = make_user("chen"), make_user("wang")
    first, second = _hash(one.id), _hash(two.id)
    assert PASSWORD not in first
    assert first.split(":")[0] in ("scrypt", "pbkdf2")
    assert check_password_hash(first, PASSWORD) and check_password_hash(second, PASSWORD)
    assert not check_password_hash(first, PASSWORD + "x")
    assert first != second  # salted: the same password gives two hashes


def test_new_user_applies_the_policy():
    with pytest.raises(ServiceError):
        accounts.create_user("zhangwei88", "worker", "ZhangWei88")
    with pytest.raises(ServiceError):
        accounts.create_user("chen", "worker", "woaini1314")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_an_invited_account_has_a_hash_no_password_matches():
    user = accounts.create_user("lin", "organizer")
    stored = _hash(user.id)
    assert stored.startswith("!")
    for guess in ("", stored, stored[1:], PASSWORD):
        assert not check_password_hash(stored, guess)
        assert accounts.authenticate("lin", guess) is None


# The change-password page -----------------------------------------------------------------------


def _login(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client, "/login")}
    )
    return client, response.status_code


def _change(client, current: str, new: str, repeat: str | None = None):
    token = csrf_token(client, "/account/password")
    return client.post(
        "/account/password",
        data={"current": current, "password": new, "repeat": new if repeat is None else repeat, "csrf_token": token},
    )


def _zh(msgid: str, **values) -> str:
    with force_locale("zh"):
        return str(escape(gettext(msgid, **values)))


def _unchanged(app, user: User, before: str, other) -> None:
    """Nothing changed: the same hash, the old password logs in, the other session lives, no audit row."""
    assert _hash(user.id) == before
    assert _login(app, user.username, PASSWORD)[1] == 302
    assert other.get("/account").status_code == 200
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "account.password_changed")
        )
        == 0
    )


def test_the_page_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_wrong_current_password_changes_nothing(app, make_user):
    user = make_user("chen", "organizer")
    before = _hash(user.id)
    client, _ = _login(app, "chen")
    other, _ = _login(app, "chen")
    response = _change(client, "not my password", "a brand new sentence")
    assert response.status_code == 422
    assert _zh("The current password is not correct.") in response.get_data(as_text=True)
    _unchanged(app, user, before, other)
    assert _login(app, "chen", "a brand new sentence")[1] == 401


@pytest.mark.parametrize("current", ["", " "])
def test_the_current_password_is_required(app, make_user, current):
    user = make_user("chen", "organizer")
    before = _hash(user.id)
    client, _ = _login(app, "chen")
    other, _ = _login(app, "chen")
    assert _change(client, current, "a brand new sentence").status_code == 422
    _unchanged(app, user, before, other)


def test_the_two_new_passwords_must_match(app, make_user):
    user = make_user("chen", "organizer")
    before = _hash(user.id)
    client, _ = _login(app, "chen")
    other, _ = _login(app, "chen")
    assert _change(client, PASSWORD, "a brand new sentence", "a brand new sentencE").status_code == 422
    _unchanged(app, user, before, other)


def test_the_form_needs_its_csrf_token(app, make_user):
    user = make_user("chen", "organizer")
    before = _hash(user.id)
    client, _ = _login(app, "chen")
    other, _ = _login(app, "chen")
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "a brand new sentence", "repeat": "a brand new sentence"},
    )
    assert response.status_code == 400
    _unchanged(app, user, before, other)


@pytest.mark.parametrize(
    "new", ["short pw", "zhangwei88", "ZhangWei88!", "woaini1314", "WOAINI1314", "abcdefghij", "bbbbbbbbbbbb", PASSWORD]
)
def test_the_policy_applies_to_the_new_password(app, make_user, new):
    user = make_user("zhangwei88", "organizer")
    before = _hash(user.id)
    client, _ = _login(app, "zhangwei88")
    other, _ = _login(app, "zhangwei88")
    response = _change(client, PASSWORD, new)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if new == PASSWORD:
        assert _zh("The new password must differ from the current one.") in page
    else:
        with force_locale("zh"):
            expected = passwords.problems(new, "zhangwei88")
        assert expected
        assert all(str(escape(problem)) in page for problem in expected), expected
    _unchanged(app, user, before, other)


def test_a_changed_password_logs_in_and_the_old_one_does_not(app, make_user):
    user = make_user("chen", "organizer")
    client, _ = _login(app, "chen")
    response = _change(client, PASSWORD, "a brand new sentence")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    stored = _hash(user.id)
    assert check_password_hash(stored, "a brand new sentence")
    assert not check_password_hash(stored, PASSWORD)
    assert _login(app, "chen", PASSWORD)[1] == 401
    assert _login(app, "CHEN", "a brand new sentence")[1] == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).password_changed_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.password_changed"))
    assert event is not None and event.object_id == user.id
    assert "a brand new sentence" not in str(event.detail)


def _worker_account(make_worker, make_user):
    worker = make_worker(phone=PHONE, id_number=ID)
    return make_user("gong", "worker", worker_id=worker.id)


@pytest.mark.parametrize("new", [f"tel {PHONE}!", f"my id {ID}", f"my id {ID.lower()}"])
def test_a_worker_may_not_choose_their_phone_or_id_number(app, make_worker, make_user, new):
    """The policy says "nor the person's ID or phone number" for every way a password is set."""
    user = _worker_account(make_worker, make_user)
    before = _hash(user.id)
    client, _ = _login(app, "gong")
    other, _ = _login(app, "gong")
    response = _change(client, PASSWORD, new)
    assert response.status_code == 422
    assert _zh("The password must not contain your ID number or phone number.") in response.get_data(as_text=True)
    _unchanged(app, user, before, other)


def test_a_reset_link_refuses_the_workers_phone_number(app, make_worker, make_user):
    from comp.services import transaction
    from comp.services.accounts import links

    user = _worker_account(make_worker, make_user)
    before = _hash(user.id)
    with transaction():
        link = links.issue(user, "reset", None)
    path = f"/activate/{links.token(link)}"
    client = app.test_client()
    new = f"tel {PHONE}!"
    response = client.post(path, data={"password": new, "repeat": new, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 422
    assert _zh("The password must not contain your ID number or phone number.") in response.get_data(as_text=True)
    assert _hash(user.id) == before
    good = "a brand new sentence"
    response = client.post(path, data={"password": good, "repeat": good, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302  # the link still works for an acceptable password
    assert check_password_hash(_hash(user.id), good)


# The command line -------------------------------------------------------------------------------


def _cli_problems(password: str, username: str) -> list[str]:
    with force_locale("zh"):  # the command line speaks the default language
        found = passwords.problems(password, username)
    assert found
    return found


@pytest.mark.parametrize(
    "name, password",
    [
        ("chen", "short pw"),
        ("zhangwei88", "ZhangWei88"),
        ("chen", "woaini1314"),
        ("chen", "WoAiNi1314"),
        ("chen", "abcdefghij"),
        ("chen", "bbbbbbbbbbbb"),
        ("chen", "1234567890"),
    ],
)
def test_user_create_refuses_a_weak_password(runner, name, password):
    result = runner.invoke(args=["user", "create", name, "--role", "organizer", "--password", password])
    assert result.exit_code == 1, result.output
    assert all(problem in result.output for problem in _cli_problems(password, name)), result.output
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_user_create_stores_a_werkzeug_hash(app, runner):
    result = runner.invoke(args=["user", "create", "chen", "--role", "organizer", "--password", "a brand new sentence"])
    assert result.exit_code == 0, result.output
    user = accounts.find_user("chen")
    assert check_password_hash(_hash(user.id), "a brand new sentence")
    assert _login(app, "chen", "a brand new sentence")[1] == 302


@pytest.mark.parametrize("password", ["short pw", "chen-chen-chen", "woaini1314", "abcdefghij", "bbbbbbbbbbbb"])
def test_user_set_password_refuses_a_weak_password(app, runner, make_user, password):
    user = make_user("chen", "organizer")
    before = _hash(user.id)
    client, _ = _login(app, "chen")
    result = runner.invoke(args=["user", "set-password", "chen", "--password", password])
    assert result.exit_code == 1, result.output
    assert all(problem in result.output for problem in _cli_problems(password, "chen")), result.output
    assert _hash(user.id) == before
    assert client.get("/account").status_code == 200  # its sessions did not end
    assert _login(app, "chen", PASSWORD)[1] == 302


def test_user_set_password_refuses_the_workers_phone_number(app, runner, make_worker, make_user):
    user = _worker_account(make_worker, make_user)
    before = _hash(user.id)
    result = runner.invoke(args=["user", "set-password", "gong", "--password", f"tel {PHONE}!"])
    assert result.exit_code == 1, result.output
    assert _hash(user.id) == before


def test_user_set_password_stores_a_werkzeug_hash_and_ends_the_sessions(app, runner, make_user):
    user = make_user("chen", "organizer")
    client, _ = _login(app, "chen")
    result = runner.invoke(args=["user", "set-password", "chen", "--password", "a brand new sentence"])
    assert result.exit_code == 0, result.output
    stored = _hash(user.id)
    assert check_password_hash(stored, "a brand new sentence") and not check_password_hash(stored, PASSWORD)
    assert client.get("/account").status_code == 302
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        )
        == 0
    )
    assert _login(app, "chen", "a brand new sentence")[1] == 302
