"""The organizer's certificates page: issuing, revoking, design and seal, batches, the bulletin."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from comp.extensions import db
from comp.models import AuditEvent, Certificate, CertificateBatch, CertificateSeal
from comp.services import certs as certificates
from comp.services.certs import batches as certificate_print
from tests.certs.conftest import seal_png
from tests.conftest import csrf_token, valid_id


def _post(client, competition, path, **data):
    token = csrf_token(client, f"/competitions/{competition.code}/certificates")
    return client.post(f"/competitions/{competition.code}/certificates{path}", data={"csrf_token": token, **data})


def _upload(client, competition, data: bytes, filename: str = "seal.png"):
    # Encoded here in memory: the test client spools a large body to a temporary file it never closes.
    token = csrf_token(client, f"/competitions/{competition.code}/certificates")
    boundary, body = encode_multipart({"csrf_token": token, "seal": FileStorage(io.BytesIO(data), filename)})
    return client.post(
        f"/competitions/{competition.code}/certificates/seal",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_page_shows_counts_and_the_issue_button(client, published, organizer):
    competition = published()
    page = client.get(f"/competitions/{competition.code}/certificates").get_data(as_text=True)
    assert f'action="/competitions/{competition.code}/certificates/issue"' in page
    response = _post(client, competition, "/issue")
    assert response.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 6
    page = client.get(f"/competitions/{competition.code}/certificates").get_data(as_text=True)
    assert f"{competition.code}-006" in page


def test_button_refused_during_notice_period_unless_waived(client, published, organizer):
    competition = published(days=1)
    _post(client, competition, "/issue")
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    _post(client, competition, "/issue", now="y")
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 6
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "certificates.issue"))
    assert event.detail["early"] is True and event.actor_id is not None


def test_revoke_from_the_list(client, issued, organizer):
    competition, new = issued()
    assert _post(client, competition, f"/{new[0].number}/revoke", reason="").status_code == 303
    assert new[0].status == "valid"
    _post(client, competition, f"/{new[0].number}/revoke", reason="重复颁发")
    db.session.refresh(new[0])
    assert new[0].status == "revoked" and new[0].revoke_reason == "重复颁发"


def test_reissue_button_replaces_stale_certificates(client, issued, organizer):
    competition, new = issued()
    new[0].entrant.name = "张叁"
    db.session.commit()
    assert "张叁" in client.get(f"/competitions/{competition.code}/certificates").get_data(as_text=True)
    _post(client, competition, "/reissue", reason="姓名更正")
    db.session.refresh(new[0])
    assert new[0].status == "revoked" and new[0].replaced_by.number == f"{competition.code}-007"


def test_design_is_saved_and_printed(client, issued, organizer):
    competition, new = issued()
    response = _post(
        client,
        competition,
        "/design",
        title="荣誉证书",
        issuer="晋江市总工会",
        date="2026-06-18",
        body="{name} 同志：\n在{year}年{competition}中荣获{award}。",
    )
    assert response.status_code == 303
    text = "".join(PdfReader(io.BytesIO(certificates.pdf(new[0]))).pages[0].extract_text().split())
    assert "晋江市总工会" in text and "2026年" + competition.name in text


def test_design_refuses_unknown_placeholders(client, published, organizer):
    competition = published()
    response = _post(
        client, competition, "/design", title="荣誉证书", issuer="泉州市总工会", body="{name} 同志：{phone}"
    )
    assert response.status_code == 422 and "{phone}" in response.get_data(as_text=True)
    response = _post(client, competition, "/design", title="荣誉证书", issuer="泉州市总工会", body="{name")
    assert response.status_code == 422
    assert competition.certificate in ({}, None)


@pytest.mark.parametrize(
    "data, name",
    [
        (b"GIF89a" + b"\0" * 100, "seal.png"),
        (b"%PDF-1.4 not an image", "seal.png"),
        (seal_png()[:200], "seal.png"),
    ],
)
def test_seal_upload_refuses_what_is_not_a_png(client, published, organizer, data, name):
    competition = published()
    response = _upload(client, competition, data, name)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(CertificateSeal.id))) == 0


def test_seal_upload_refuses_oversized_and_odd_shapes(client, published, organizer):
    competition = published()
    from PIL import Image

    noise = Image.effect_noise((1500, 1500), 100).convert("RGB")
    big = io.BytesIO()
    noise.save(big, "PNG")
    assert len(big.getvalue()) > 512 * 1024
    banner = io.BytesIO()
    Image.new("RGBA", (600, 100)).save(banner, "PNG")
    for data in (big.getvalue(), banner.getvalue(), seal_png(32)):
        response = _upload(client, competition, data)
        assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(CertificateSeal.id))) == 0


def test_seal_upload_accepts_a_png_and_prints_it(client, issued, organizer):
    competition, new = issued()
    response = _upload(client, competition, seal_png(800), "公章.png")
    assert response.status_code == 303
    seal = db.session.scalar(sa.select(CertificateSeal))
    assert (seal.width, seal.height) == (500, 500)
    assert client.get(f"/competitions/{competition.code}/certificates/seal.png").mimetype == "image/png"
    page = PdfReader(io.BytesIO(certificates.pdf(new[0]))).pages[0]
    forms = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    assert any("/XObject" in (f.get("/Resources") or {}) for f in forms), "the seal image is not on the page"
    _post(client, competition, "/seal/remove")
    assert db.session.scalar(sa.select(sa.func.count(CertificateSeal.id))) == 0


def test_bulletin_has_rank_name_employer_total_award_and_no_ids(client, issued, organizer):
    competition, _new = issued()
    response = client.get(f"/competitions/{competition.code}/certificates/bulletin.pdf")
    assert response.data.startswith(b"%PDF")
    text = "".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
    assert "张三" in text and "泉州第2公司" in text and "一等奖" in text
    for n in range(101, 111):
        assert valid_id(n) not in text and valid_id(n)[-4:] + "" not in text.replace(competition.code, "")


def test_preview_without_certificates_uses_sample_facts(client, published, organizer):
    competition = published()
    response = client.get(f"/competitions/{competition.code}/certificates/preview.pdf")
    assert response.data.startswith(b"%PDF")
    assert "张三" in "".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())


@pytest.fixture()
def batch_folder(app, tmp_path):
    app.config["CERTIFICATE_BATCH_FOLDER"] = str(tmp_path)
    yield tmp_path
    app.config.pop("CERTIFICATE_BATCH_FOLDER")


def test_batch_pdf_is_built_in_the_background_with_progress(client, issued, organizer, batch_folder):
    competition, new = issued()
    response = client.post(
        f"/competitions/{competition.code}/certificates/batches",
        data={"kind": "pdf"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token(client, "/")},
    )
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    batch = db.session.scalar(sa.select(CertificateBatch))
    db.session.refresh(batch)
    assert (batch.status, batch.done, batch.total) == ("done", 6, 6)
    fragment = client.get(
        f"/competitions/{competition.code}/certificates/batches/{batch.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "hx-trigger" not in fragment and f"/batches/{batch.id}/download" in fragment
    with client.get(f"/competitions/{competition.code}/certificates/batches/{batch.id}/download") as response:
        reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 6
    assert new[5].number in "".join(reader.pages[5].extract_text().split())
    assert [p.name for p in batch_folder.iterdir()] == [batch.filename]


def test_running_batch_fragment_polls(client, issued, organizer, batch_folder):
    competition, _new = issued()
    batch = CertificateBatch(competition_id=competition.id, kind="zip", status="running", total=6, done=2)
    db.session.add(batch)
    db.session.commit()
    fragment = client.get(
        f"/competitions/{competition.code}/certificates/batches/{batch.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' in fragment and 'value="2"' in fragment and 'max="6"' in fragment


def test_batch_zip_holds_one_pdf_per_certificate(client, issued, organizer, batch_folder):
    competition, new = issued()
    batch = certificate_print.start_batch(competition, "zip")
    db.session.refresh(batch)
    with client.get(f"/competitions/{competition.code}/certificates/batches/{batch.id}/download") as response:
        data = response.data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{c.number}.pdf" for c in new]
        assert archive.read(archive.namelist()[0]).startswith(b"%PDF")


def test_a_new_batch_replaces_the_old_file(issued, batch_folder, app):
    competition, _new = issued()
    first = certificate_print.start_batch(competition, "pdf")
    second = certificate_print.start_batch(competition, "pdf")
    db.session.expire_all()
    assert [p.name for p in batch_folder.iterdir()] == [second.filename]
    assert db.session.get(CertificateBatch, first.id).filename is None


def test_batch_with_no_certificates_is_refused(client, published, organizer, batch_folder):
    competition = published()
    response = client.post(
        f"/competitions/{competition.code}/certificates/batches",
        data={"kind": "pdf"},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token(client, "/")},
    )
    assert "flash-error" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 0
