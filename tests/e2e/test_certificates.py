"""Certificates in the browser: the organizer issues and prints them all, a phone verifies one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comp.extensions import db
from comp.services import certs as certificates
from comp.services import exchange
from comp.services.certs import batches as certificate_print
from comp.services.setup import lifecycle
from tests.certs.conftest import competition_doc, rasterize, seal_png
from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, screenshot

pytestmark = pytest.mark.e2e


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _published(make_competition, entrants: int | None = None):
    """Import a competition, publish it, and move its publication 6 days back: the notice is over."""
    if entrants:  # a fuller field than make_competition's two, so the list has rows to look at
        competition = exchange.import_competition(competition_doc("E2E-2026-CERT", entrants))
    else:
        competition = make_competition()
    lifecycle.publish(competition)
    competition.published_at -= timedelta(days=6)
    db.session.commit()
    return competition


@pytest.fixture()
def batch_folder(app, tmp_path):
    app.config["CERTIFICATE_BATCH_FOLDER"] = str(tmp_path)
    yield tmp_path
    app.config.pop("CERTIFICATE_BATCH_FOLDER")


def test_organizer_issues_certificates_and_downloads_them_all(
    page, live_server, make_user, make_competition, batch_folder, tmp_path
):
    competition = _published(make_competition, entrants=12)
    certificate_print.save_seal(competition, seal_png())
    make_user("organizer1", "organizer")
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{competition.code}/certificates")
    page.click("form.cert-issue button[type=submit]")
    page.locator(f"#cert-{competition.code}-001").wait_for()

    page.click("#batch-pdf button[type=submit]")
    download_link = page.locator("#batch-pdf a[download]")
    download_link.wait_for(timeout=30000)
    with page.expect_download() as info:
        download_link.click()
    path = tmp_path / "all.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert page.locator("#batch-pdf progress").count() == 0
    first = page.locator(f"#cert-{competition.code}-001")
    first.locator("summary").click()
    first.locator("input[name=reason]").fill("颁发有误")
    first.locator("button[type=submit]").click()
    page.locator(f"#cert-{competition.code}-001 .cert-revoked").wait_for()
    screenshot(page, "certificates-organizer")


def test_phone_opens_the_qr_link_and_sees_valid(page, live_server, make_competition):
    competition = _published(make_competition)
    certificate = certificates.issue(competition)[0]
    page.goto(f"{live_server}/verify/{certificate.number}?c={certificate.verify_code}")
    verdict = page.locator("article.verdict-valid")
    assert verdict.is_visible()
    assert "张*" in verdict.inner_text()
    screenshot(page, "certificates-verify-valid")
    page.goto(
        f"{live_server}/verify/{certificate.number}?c=2{certificate.verify_code[1:]}"
        if certificate.verify_code[0] != "2"
        else f"{live_server}/verify/{certificate.number}?c=3{certificate.verify_code[1:]}"
    )
    assert page.locator("article.verdict-invalid").is_visible()
    assert "张" not in page.locator("main").inner_text()
    screenshot(page, "certificates-verify-invalid")


def test_worker_sees_and_downloads_their_certificate(page, live_server, make_user, make_competition):
    competition = _published(make_competition)
    certificate = certificates.issue(competition)[0]
    make_user("worker1", "worker", worker_id=certificate.entrant.worker_id)
    _login(page, live_server, "worker1")
    page.goto(f"{live_server}/my/certificates")
    with page.expect_download() as info:
        page.click(f"#cert-{certificate.number} a[download]")
    assert info.value.suggested_filename == f"{certificate.number}.pdf"
    screenshot(page, "certificates-mine")
    page.goto(f"{live_server}/certificates/lookup")
    screenshot(page, "certificates-lookup")


def test_certificate_page_renders_for_the_eye(make_competition):
    """Render page 1 of a certificate to test-artifacts/ to look at: border, title, seal, QR, text."""
    competition = _published(make_competition)
    certificate_print.save_seal(competition, seal_png())
    certificate = certificates.issue(competition)[0]
    ARTIFACTS.mkdir(exist_ok=True)
    image = rasterize(certificates.pdf(certificate), ARTIFACTS, dpi=110, name="certificate-page1")
    assert image.stat().st_size > 10000
