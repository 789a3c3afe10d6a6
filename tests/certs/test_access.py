"""Who gets which certificate: the worker their own, anyone with number+name+ID end, organizers theirs."""

from __future__ import annotations

import pytest

from comp.extensions import db
from comp.models import OrgUnit
from tests.conftest import csrf_token, valid_id


def test_worker_lists_and_downloads_their_own(client, issued, worker_login):
    _competition, new = issued()
    worker_login(new[0].entrant)
    page = client.get("/my/certificates").get_data(as_text=True)
    assert new[0].number in page and new[1].number not in page
    response = client.get(f"/my/certificates/{new[0].number}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"


def test_worker_cannot_fetch_anothers_certificate(client, issued, worker_login):
    _competition, new = issued()
    worker_login(new[0].entrant)
    assert client.get(f"/my/certificates/{new[1].number}.pdf").status_code == 404
    assert client.get("/my/certificates/NOPE-001.pdf").status_code == 404


def test_revoked_certificate_is_listed_not_downloadable(client, issued, worker_login):
    from comp.services import certs as certificates

    _competition, new = issued()
    certificates.revoke(new[0], "印错")
    worker_login(new[0].entrant)
    assert "印错" in client.get("/my/certificates").get_data(as_text=True)
    assert client.get(f"/my/certificates/{new[0].number}.pdf").status_code == 404


def test_my_certificates_needs_a_worker_login(client, make_user, auth):
    assert client.get("/my/certificates").status_code == 302
    make_user("judge1", "judge")
    auth.login("judge1")
    assert client.get("/my/certificates").status_code == 403


def _lookup(client, number, name, last4):
    return client.post(
        "/certificates/lookup",
        data={
            "number": number,
            "name": name,
            "id_last4": last4,
            "csrf_token": csrf_token(client, "/certificates/lookup"),
        },
    )


def test_lookup_without_account_with_number_name_and_id_end(client, issued):
    _competition, new = issued()
    certificate = new[0]  # E1 张三, ID valid_id(101)
    response = _lookup(client, certificate.number, " 张三 ", valid_id(101)[-4:].lower())
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("change", ["name", "last4", "number"])
def test_lookup_refuses_a_wrong_detail_without_saying_which(client, issued, change):
    _competition, new = issued()
    details = {"number": new[0].number, "name": "张三", "last4": valid_id(101)[-4:]}
    details[change] = {"name": "李四", "last4": valid_id(102)[-4:], "number": new[1].number}[change]
    response = _lookup(client, details["number"], details["name"], details["last4"])
    assert response.status_code == 422
    assert b"%PDF" not in response.data[:10]
    assert 'class="flash flash-error" role="alert"' in response.get_data(as_text=True)


def test_lookup_is_rate_limited(client, issued):
    _competition, new = issued()
    statuses = [_lookup(client, new[0].number, "张三", "0000").status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    # The limit holds for the right details too, and the form itself still shows.
    assert _lookup(client, new[0].number, "张三", valid_id(101)[-4:]).status_code == 429
    assert client.get("/certificates/lookup").status_code == 200


ORGANIZER_PAGES = [
    "/competitions/{code}/certificates",
    "/competitions/{code}/certificates/bulletin.pdf",
    "/competitions/{code}/certificates/preview.pdf",
    "/competitions/{code}/certificates/{number}.pdf",
]


@pytest.mark.parametrize(
    "who, expected",
    [
        ("admin", 200),
        ("organizer", 200),
        ("county-organizer", 200),
        ("other-county-organizer", 403),
        ("judge", 403),
        ("worker", 403),
        (None, 302),
    ],
)
def test_role_matrix_of_the_organizer_pages(client, issued, make_user, auth, who, expected):
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    db.session.add_all([city, jinjiang, shishi])
    db.session.commit()
    competition, new = issued()
    competition.organizer_unit_id = jinjiang.id
    db.session.commit()
    if who:
        role = who.split("-")[-1] if "organizer" in who else who
        unit = {"county-organizer": jinjiang, "other-county-organizer": shishi}.get(who)
        make_user("u1", role, org_unit_id=unit.id if unit else None)
        auth.login("u1")
    for path in ORGANIZER_PAGES:
        response = client.get(path.format(code=competition.code, number=new[0].number))
        assert response.status_code == expected, (path, response.status_code)
    post = client.post(
        f"/competitions/{competition.code}/certificates/issue", data={"csrf_token": csrf_token(client, "/")}
    )
    assert post.status_code == (303 if expected == 200 else expected)


def test_a_certificate_of_another_competition_is_not_found_on_this_one(client, issued, organizer):
    first, _ = issued()
    _second, other = issued()
    assert client.get(f"/competitions/{first.code}/certificates/{other[0].number}.pdf").status_code == 404
