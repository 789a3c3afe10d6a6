"""Issuing, numbering, codes, revoking and reissuing; the command line."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from comp.certificates import codes
from comp.extensions import db
from comp.models import AuditEvent, Certificate, Entrant, Mark
from comp.services import ServiceError, exchange
from comp.services import certs as certificates
from comp.services import results as results_service
from comp.services.setup import lifecycle


def _awarded_refs(competition) -> list[str]:
    return [r["ref"] for r in results_service.document(competition)["results"] if r["award"]]


def test_one_certificate_per_award_winner_numbered_by_rank(issued):
    competition, new = issued(10)
    doc = results_service.document(competition)
    winners = [(r["ref"], r["award"], r["rank"]) for r in doc["results"] if r["award"]]
    assert len(winners) == 6
    assert [(c.entrant.ref, c.award, c.rank) for c in new] == winners
    assert [c.number for c in new] == [f"{competition.code}-{n:03d}" for n in range(1, 7)]
    assert all(c.status == "valid" and c.issued_on for c in new)


def test_code_is_a_keyed_hash_of_number_and_facts(issued, app):
    _competition, new = issued()
    certificate = new[0]
    code = certificate.verify_code
    assert len(code) == codes.LENGTH and set(code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    key = codes.derive_key(app.config["CERT_KEY"])
    assert codes.verification_code(key, certificates.facts(certificate)) == code
    for change in ({"name": "张四"}, {"award": "特等奖"}, {"rank": 5}, {"number": certificate.number[:-1] + "9"}):
        facts = certificates.facts(certificate).__class__(**{**certificates.facts(certificate).__dict__, **change})
        assert codes.verification_code(key, facts) != code
    assert codes.verification_code(codes.derive_key("another secret"), certificates.facts(certificate)) != code


def test_rotating_the_secret_key_keeps_printed_codes_valid(issued, app, client, monkeypatch):
    """Codes are keyed by CERT_KEY alone: a new SECRET_KEY (sessions, CSRF) voids no printed QR code."""
    _competition, new = issued()
    certificate = new[0]
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-rotated-session-secret")
    answer = client.get(f"/api/v1/certificates/{certificate.number}?c={certificate.verify_code}").get_json()
    assert answer["status"] == "valid"
    monkeypatch.setitem(app.config, "CERT_KEY", "another certificate key")
    answer = client.get(f"/api/v1/certificates/{certificate.number}?c={certificate.verify_code}").get_json()
    assert answer["status"] == "invalid"


def test_issuing_twice_issues_nothing_new(issued):
    competition, new = issued()
    assert len(new) == 6
    assert certificates.issue(competition) == []
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 6


def test_refused_before_publication(make_competition):
    competition = make_competition()
    with pytest.raises(ServiceError):
        certificates.issue(competition, now=True)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_refused_during_the_notice_period_unless_now_which_is_audited(published):
    competition = published(days=1)
    with pytest.raises(ServiceError) as refused:
        certificates.issue(competition)
    assert f"{certificates.local_time(lifecycle.notice_ends(competition)):%Y-%m-%d %H:%M}" in str(refused.value)
    assert certificates.issue(competition, now=True)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "certificates.issue"))
    assert event.detail["early"] is True and event.detail["count"] == 6


def test_after_the_notice_period_the_audit_says_not_early(issued):
    issued()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "certificates.issue"))
    assert event.detail["early"] is False


def test_revoke_needs_a_reason_and_happens_once(issued):
    _competition, new = issued()
    certificate = new[0]
    for reason in ("", "   "):
        with pytest.raises(ServiceError):
            certificates.revoke(certificate, reason)
    certificates.revoke(certificate, "错误颁发")
    assert certificate.status == "revoked" and certificate.revoke_reason == "错误颁发" and certificate.revoked_at
    with pytest.raises(ServiceError):
        certificates.revoke(certificate, "again")


def test_revoked_holder_gets_a_new_certificate_on_the_next_issue(issued):
    competition, new = issued()
    certificates.revoke(new[0], "印错")
    again = certificates.issue(competition)
    assert [(c.entrant_id, c.number) for c in again] == [(new[0].entrant_id, f"{competition.code}-007")]


def test_reissue_after_a_results_change(issued):
    competition, new = issued()
    assert certificates.stale(competition) == []
    # A correction after publication: the sixth-placed entrant's theory mark drops, ranks move.
    sixth = new[-1].entrant
    mark = db.session.scalar(
        sa.select(Mark)
        .join(Entrant)
        .where(Entrant.id == sixth.id, Mark.value_cents > 5000)
        .order_by(Mark.value_cents.desc())
        .limit(1)
    )
    mark.value_cents -= 3000
    lifecycle.touch(competition)
    db.session.commit()
    outdated = certificates.stale(competition)
    assert outdated, "the change moved no award or rank"
    replaced = certificates.reissue(competition, reason="成绩更正")
    for old in outdated:
        assert old.status == "revoked" and old.revoke_reason == "成绩更正"
    assert all(old.replaced_by in replaced for old in outdated if old.replaced_by)
    assert certificates.stale(competition) == []
    certificates.issue(competition)  # a new award winner, if any, gets theirs by the ordinary issue
    valid = certificates.certificates(competition, "valid")
    assert sorted(c.entrant.ref for c in valid) == sorted(_awarded_refs(competition))
    numbers = [c.number for c in certificates.certificates(competition)]
    assert len(numbers) == len(set(numbers))


def test_reissue_never_issues_a_first_certificate(published):
    competition = published(days=1)
    assert certificates.reissue(competition) == []
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_a_corrected_name_makes_the_certificate_stale(issued):
    competition, new = issued()
    new[0].entrant.name = "张叁"
    db.session.commit()
    assert certificates.stale(competition) == [new[0]]


def test_cli_issue_prints_one_line_per_new_certificate(runner, published):
    competition = published()
    result = runner.invoke(args=["certificate", "issue", competition.code])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert len(lines) == 6
    for number, ref, code in lines:
        certificate = certificates.get(number)
        assert certificate.entrant.ref == ref and certificate.verify_code == code
    again = runner.invoke(args=["certificate", "issue", competition.code])
    assert again.exit_code == 0 and again.output == ""


def test_cli_issue_refused_during_the_notice_period_unless_now(runner, published):
    competition = published(days=2)
    refused = runner.invoke(args=["certificate", "issue", competition.code])
    assert refused.exit_code == 1
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    allowed = runner.invoke(args=["certificate", "issue", competition.code, "--now"])
    assert allowed.exit_code == 0 and len(allowed.output.splitlines()) == 6
    assert db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "certificates.issue"))["early"]


def test_cli_unknown_competition(runner):
    result = runner.invoke(args=["certificate", "issue", "NOPE"])
    assert result.exit_code == 1


def test_cli_pdf_writes_the_certificate(runner, issued, tmp_path):
    _competition, new = issued()
    out = tmp_path / "c.pdf"
    result = runner.invoke(args=["certificate", "pdf", new[0].number, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(args=["certificate", "pdf", "NOPE-001", "--out", str(out)])
    assert missing.exit_code == 1


def test_rated_units_get_their_tier_certificate(client):
    data = json.loads((Path(__file__).parents[1] / "scoring" / "data" / "rating.json").read_text(encoding="utf-8"))
    rating = exchange.import_competition(data)
    lifecycle.publish(rating)
    rating.published_at -= timedelta(days=6)
    db.session.commit()
    new = certificates.issue(rating)
    assert [(c.entrant.ref, c.award) for c in new] == [
        ("T6", "五星"),
        ("T5", "四星"),
        ("T4", "四星"),
        ("T3", "三星"),
        ("T2", "三星"),
    ]
    text = "".join(PdfReader(io.BytesIO(certificates.pdf(new[0]))).pages[0].extract_text().split())
    assert "授予泉港石化第6班组" in text and "五星级“六型”工匠班组称号" in text
    # A unit's name is not personal data: verification shows it in full.
    body = client.get(f"/api/v1/certificates/{new[0].number}?c={new[0].verify_code}").get_json()
    assert body["name"] == "泉港石化第6班组" and body["award"] == "五星"
