"""HSTS on every answer over HTTPS; no-store on every answer to a logged-in user and on every download."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from comp import config as settings
from comp import create_app
from comp.extensions import db
from comp.models import (
    Answer,
    CertificateBatch,
    Entrant,
    Exam,
    JudgeAssignment,
    Question,
    QuestionBank,
    QuestionVersion,
    Sitting,
)
from comp.models.types import utcnow
from comp.services import certs as certificates
from comp.services.certs import batches as certificate_print
from comp.services.setup import lifecycle
from tests.certs.conftest import seal_png
from tests.conftest import FreshGClient, csrf_token

HSTS = "max-age=31536000; includeSubDomains"


def _no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


# --- Strict-Transport-Security ---


@pytest.mark.parametrize("path", ["/login", "/c/", "/nowhere", "/static/css/app.css"])
def test_hsts_over_https(client, path):
    with client.get(path, base_url="https://jiangxin.example.org") as response:
        assert response.headers.get("Strict-Transport-Security") == HSTS


def test_hsts_for_a_logged_in_user_over_https(client, auth, make_user):
    make_user("li", "worker")
    auth.login("li")
    response = client.get("/", base_url="https://localhost")  # the test client's host, where the cookie is
    assert response.status_code == 200
    assert response.headers.get("Strict-Transport-Security") == HSTS


@pytest.mark.parametrize("path", ["/login", "/c/", "/nowhere"])
def test_no_hsts_over_plain_http(client, path):
    assert "Strict-Transport-Security" not in client.get(path).headers


def test_a_forwarded_proto_is_ignored_without_proxy_fix(client):
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers


@pytest.fixture()
def behind_proxy(app):
    """Return a client of the app as deployed behind a TLS-terminating proxy (PROXY_FIX=1)."""
    proxied = create_app({**settings.test_config(app.config["SQLALCHEMY_DATABASE_URI"]), "PROXY_FIX": True})
    proxied.test_client_class = FreshGClient
    with proxied.app_context():
        yield proxied.test_client()
        db.session.remove()


def test_hsts_behind_the_proxy(behind_proxy):
    response = behind_proxy.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert response.headers.get("Strict-Transport-Security") == HSTS
    assert "Strict-Transport-Security" not in behind_proxy.get("/login").headers


# --- Cache-Control ---


@pytest.fixture()
def issued(tree, make_competition):
    """Return a published competition past its notice period, its certificates issued."""
    competition = make_competition(status="locked")
    lifecycle.publish(competition)
    competition.published_at -= timedelta(days=6)
    db.session.commit()
    certificates.issue(competition)
    return competition


@pytest.fixture()
def batch_folder(app, tmp_path):
    app.config["CERTIFICATE_BATCH_FOLDER"] = str(tmp_path)
    yield tmp_path
    app.config.pop("CERTIFICATE_BATCH_FOLDER")


# Every download, by endpoint: the path (from the competition's code) and who fetches it.
EXPORTS = {
    "registration.export": [
        "/competitions/{code}/entrants.xlsx?full=1",
        "/competitions/{code}/entrants.xlsx",
        "/competitions/{code}/registrations.xlsx",
    ],
    "registration.template": ["/competitions/{code}/registrations/template.xlsx"],
    "results.export": ["/competitions/{code}/results.xlsx"],
    "setup.export_honours": ["/competitions/{code}/honours.xlsx"],
    "hall.download": [
        "/competitions/{code}/lists/signin.pdf",
        "/competitions/{code}/lists/signin.xlsx",
        "/competitions/{code}/lists/workstations.pdf",
        "/competitions/{code}/lists/codes.pdf",
    ],
    "certs.certificate_pdf": ["/competitions/{code}/certificates/{number}.pdf"],
    "certs.preview": ["/competitions/{code}/certificates/preview.pdf"],
    "certs.bulletin": ["/competitions/{code}/certificates/bulletin.pdf"],
    "certs.seal_image": ["/competitions/{code}/certificates/seal.png"],
    "certs.batch_download": ["/competitions/{code}/certificates/batches/{batch}/download"],
    "people.pool_export": ["/people/export.xlsx", "/people/export.xlsx?q=张"],
    "accounts.template": ["/accounts/import/template.xlsx?role=judge", "/accounts/import/template.xlsx?role=liaison"],
    "units.export": ["/units/export.xlsx"],
    "units.template": ["/units/template.xlsx"],
    "certs.my_pdf": ["/my/certificates/{number}.pdf"],  # the worker's own
    "exams.bank_template": ["/banks/template.xlsx"],
    "exams.bank_export_xlsx": ["/banks/{bank}/export.xlsx"],
    "exams.bank_export_gift": ["/banks/{bank}/export.gift"],
    "exams.exam_analysis_xlsx": ["/competitions/{code}/exam/analysis.xlsx"],
}


def _exam_with_a_sitting(competition) -> int:
    """Give the competition a theory exam from a one-question bank, sat once by E1; return the bank's id."""
    question = Question(code="Q1")
    question.versions.append(
        QuestionVersion(kind="single", stem="起飞前检查什么？", options=["电池", "云台"], answer="A")
    )
    bank = QuestionBank(name="题库", trade="无人机驾驶员", questions=[question])
    db.session.add(bank)
    db.session.flush()
    theory = next(c for stage in competition.stages for c in stage.criteria if c.key == "exam")
    marker = db.session.scalar(sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id))
    entrant = db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == "E1"))
    now = utcnow()
    exam = Exam(
        competition_id=competition.id,
        criterion_id=theory.id,
        marker_id=marker.user_id,
        bank_id=bank.id,
        code="CACHEEX1",
        title="理论机考",
        status="closed",
        blueprint={"sections": [{"kind": "single", "count": 1, "points": "100"}]},
        seed="cache",
        opens_at=now - timedelta(hours=2),
        closes_at=now - timedelta(hours=1),
        duration_minutes=60,
        corrections={},
    )
    db.session.add(exam)
    db.session.flush()
    sitting = Sitting(
        exam_id=exam.id,
        entrant_id=entrant.id,
        paper=[{"v": question.versions[0].id, "p": "100", "o": [0, 1]}],
        started_at=now - timedelta(hours=2),
        deadline=now - timedelta(hours=1),
        device="cache-device",
        finished_at=now - timedelta(hours=1),
        finished_by="candidate",
        points="100",
        score_cents=10000,
        graded_at=now - timedelta(hours=1),
    )
    db.session.add(sitting)
    db.session.flush()
    db.session.add(Answer(sitting_id=sitting.id, position=0, response="A"))
    db.session.commit()
    return bank.id


def test_every_download_is_listed(app):
    """A new download route fails here until it is added to EXPORTS (and so checked for no-store)."""
    downloads = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in ("static", "main.favicon")  # the icon redirects to a static file
        and (re.search(r"\.(?:[a-z]+|<[a-z]+>)$", rule.rule) or rule.rule.endswith("/download"))
    }
    assert downloads == set(EXPORTS)


def test_every_download_is_not_stored(client, auth, make_user, tree, issued, batch_folder):
    make_user("root", "admin", locale="en", org_unit_id=tree.city.id)
    auth.login("root")
    # Encoded here in memory: the test client spools a large body to a temporary file it never closes.
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(client, "/"), "seal": FileStorage(io.BytesIO(seal_png()), "seal.png")}
    )
    assert (
        client.post(
            f"/competitions/{issued.code}/certificates/seal",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        ).status_code
        == 303
    )
    batch = certificate_print.start_batch(issued, "pdf")
    certificate = certificates.certificates(issued, "valid")[0]
    values = {
        "code": issued.code,
        "number": certificate.number,
        "batch": batch.id,
        "bank": _exam_with_a_sitting(issued),
    }
    fetched = []
    for endpoint, paths in EXPORTS.items():
        if endpoint == "certs.my_pdf":
            continue
        for path in paths:
            with client.get(path.format(**values)) as response:
                fetched.append((path, response.status_code, _no_store(response), "Cookie" in response.vary))
    assert [f for f in fetched if f[1:] != (200, True, True)] == []
    auth.logout()
    entrant = db.session.get(Entrant, certificate.entrant_id)
    make_user("owner", "worker", worker_id=entrant.worker_id)
    auth.login("owner")
    with client.get(EXPORTS["certs.my_pdf"][0].format(**values)) as response:
        assert response.status_code == 200 and _no_store(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CertificateBatch)) == 1


@pytest.mark.parametrize(
    "role, paths",
    [
        (
            "worker",
            ["/", "/account", "/people/me", "/my/certificates", "/c/", "/competitions/{code}/results", "/nowhere"],
        ),
        ("judge", ["/", "/account"]),
        ("liaison", ["/", "/registrations/bulk"]),
        (
            "organizer",
            [
                "/",
                "/people",
                "/accounts",
                "/accounts/new",
                "/units",
                "/competitions/{code}",
                "/competitions/{code}/registrations",
                "/competitions/{code}/certificates",
                "/competitions/{code}/judges",
                "/competitions/{code}/honours",
                "/competitions/{code}/results",
                "/competitions/new",
            ],
        ),
    ],
)
def test_pages_for_a_logged_in_user_are_not_stored(client, auth, make_user, tree, issued, role, paths):
    unit = {"liaison": tree.aviation, "organizer": tree.city}.get(role)
    make_user(role, role, org_unit_id=unit.id if unit else None)
    auth.login(role)
    for path in paths:
        response = client.get(path.format(code=issued.code))
        assert response.status_code in (200, 404), path
        assert response.headers.get("Cache-Control") == "no-store", path
        assert "Cookie" in response.vary, path


def test_public_pages_and_files_keep_their_caching(client, auth, make_user, issued):
    for path in ("/c/", f"/c/{issued.code}/results", "/login", f"/competitions/{issued.code}/results"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not _no_store(response), path
    make_user("li", "worker")
    auth.login("li")
    with client.get("/static/css/app.css") as response:  # a logged-in user's static file: cached as usual
        assert response.status_code == 200 and not _no_store(response)


def test_static_files_do_not_load_the_user(app, client, auth, make_user, monkeypatch):
    make_user("li", "worker")
    auth.login("li")
    from comp.services.accounts import sessions

    loads = []
    original = sessions.load
    monkeypatch.setattr(sessions, "load", lambda token: loads.append(token) or original(token))
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
    assert loads == []
    client.get("/")
    assert loads  # the spy works: a page does load the user
