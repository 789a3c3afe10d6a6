"""Public verification: the page and the JSON API say valid, revoked or invalid, and count checks."""

from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.models import Verification
from comp.services import certs as certificates

FIELDS = ["number", "status", "name", "competition", "award", "issued"]


def _api(client, number, code):
    response = client.get(f"/api/v1/certificates/{number}", query_string={"c": code})
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_valid_certificate_json_is_exactly_the_spec(client, issued):
    competition, new = issued()
    certificate = new[0]
    body = _api(client, certificate.number, certificate.verify_code)
    assert list(body) == FIELDS
    assert body == {
        "number": certificate.number,
        "status": "valid",
        "name": "张*",
        "competition": competition.name,
        "award": certificate.award,
        "issued": certificate.issued_on.isoformat(),
    }


def test_names_are_masked_but_the_first_character(client, issued):
    _competition, new = issued()
    third = new[2]  # 王堃
    assert _api(client, third.number, third.verify_code)["name"] == "王*"
    third.entrant.name = "欧阳明月"
    db.session.commit()
    assert certificates.mask_name(third.entrant) == "欧***"


def test_valid_page_says_valid(client, issued):
    competition, new = issued()
    certificate = new[0]
    page = client.get(f"/verify/{certificate.number}?c={certificate.verify_code}").get_data(as_text=True)
    assert "verdict-valid" in page and "张*" in page and competition.name in page and "张三" not in page


def test_codes_are_checked_whatever_the_case_and_grouping(client, issued):
    _competition, new = issued()
    certificate = new[0]
    typed = " ".join(certificate.verify_code[i : i + 4] for i in (0, 4, 8)).lower()
    assert _api(client, certificate.number, typed)["status"] == "valid"


def test_tampered_code_or_number_is_invalid_with_no_other_field(client, issued):
    _competition, new = issued()
    first, second = new[0], new[1]
    flipped = ("2" if first.verify_code[0] != "2" else "3") + first.verify_code[1:]
    for number, code in (
        (first.number, flipped),
        (second.number, first.verify_code),
        ("C-2026-001-999", first.verify_code),
        (first.number, ""),
        (first.number, "x" * 300),
    ):
        assert _api(client, number, code) == {"number": number, "status": "invalid"}
        page = client.get(f"/verify/{number}", query_string={"c": code}).get_data(as_text=True)
        assert "verdict-invalid" in page
        for secret in ("张", first.entrant.competition.name, first.award):
            assert secret not in page.split("<main", 1)[1]


def test_api_without_code_is_invalid(client, issued):
    _competition, new = issued()
    response = client.get(f"/api/v1/certificates/{new[0].number}")
    assert response.get_json() == {"number": new[0].number, "status": "invalid"}


def test_page_without_code_asks_for_it_and_logs_nothing(client, issued):
    _competition, new = issued()
    page = client.get(f"/verify/{new[0].number}").get_data(as_text=True)
    assert 'name="c"' in page and "verdict-valid" not in page
    assert db.session.scalar(sa.select(sa.func.count(Verification.id))) == 0


def test_revoked_certificate_says_revoked_with_date_and_reason(client, issued):
    _competition, new = issued()
    certificate = new[0]
    certificates.revoke(certificate, "成绩更正")
    body = _api(client, certificate.number, certificate.verify_code)
    assert body["status"] == "revoked"
    assert (
        body["reason"] == "成绩更正" and body["revoked"] == certificates.local_date(certificate.revoked_at).isoformat()
    )
    page = client.get(f"/verify/{certificate.number}?c={certificate.verify_code}").get_data(as_text=True)
    assert "verdict-revoked" in page and "成绩更正" in page and body["revoked"] in page


def test_every_verification_is_logged_and_counted(client, issued):
    competition, new = issued()
    certificate = new[0]
    for _ in range(3):
        client.get(f"/verify/{certificate.number}?c={certificate.verify_code}")
    client.get(f"/api/v1/certificates/{certificate.number}?c={certificate.verify_code}")
    client.get(f"/api/v1/certificates/{certificate.number}?c=WRONGCODE234")
    assert certificates.verification_counts(competition)[certificate.id] == (4, 1)
    results = db.session.scalars(sa.select(Verification.result).order_by(Verification.id)).all()
    assert results == ["valid"] * 4 + ["invalid"]


def test_verification_is_rate_limited(client, issued, app):
    _competition, new = issued()
    app.config["VERIFY_LIMIT"] = "3 per minute"
    try:
        codes = [client.get(f"/api/v1/certificates/{new[0].number}?c=X").status_code for _ in range(4)]
    finally:
        app.config.pop("VERIFY_LIMIT")
    assert codes == [200, 200, 200, 429]


def test_qr_link_is_the_public_base_url(app, issued):
    _competition, new = issued()
    assert certificates.verify_url(new[0]) == (
        f"{app.config['PUBLIC_BASE_URL']}/verify/{new[0].number}?c={new[0].verify_code}"
    )
