"""The certificate PDF: text, embedded fonts, the QR code, rare name characters."""

from __future__ import annotations

import io
from datetime import date

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from comp.certificates import layout, qr
from comp.certificates.fonts import cjk_font
from comp.services import certs as certificates
from comp.services.certs import batches as certificate_print
from tests.certs.conftest import rasterize, seal_png

RARE = "堃喆珺昇玥犇燚彧"
BASE14 = {"Helvetica", "Times-Roman", "Courier", "Symbol", "ZapfDingbats"}


def _fonts(reader: PdfReader):
    """Yield every font dictionary the pages and their form XObjects use."""
    seen = set()

    def walk(resources):
        resources = resources.get_object() if resources is not None else {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            if id(font) not in seen:
                seen.add(id(font))
                yield font
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                yield from walk(xobject.get("/Resources"))

    for page in reader.pages:
        yield from walk(page.get("/Resources"))


def _embedded(font) -> bool:
    if font.get("/Subtype") == "/Type0":
        return all(_embedded(d.get_object()) for d in font["/DescendantFonts"])
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else {}
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_certificate_pdf_shows_name_award_and_number(issued):
    competition, new = issued()
    certificate = new[0]
    data = certificates.pdf(certificate)
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    compact = "".join(text.split())
    assert certificate.entrant.name in compact
    assert certificate.award in compact
    assert certificate.number in compact
    assert competition.name in compact
    assert certificate.verify_code[:4] in compact


def test_every_font_is_embedded_and_none_is_base14(issued):
    competition, new = issued()
    certificate_print.save_seal(competition, seal_png())
    for data in (certificates.pdf(new[0]), certificate_print.bulletin_pdf(competition)):
        reader = PdfReader(io.BytesIO(data))
        fonts = list(_fonts(reader))
        assert fonts, "the PDF references no font at all"
        for font in fonts:
            assert _embedded(font), font
            assert str(font.get("/BaseFont", "")).lstrip("/").split("+")[-1] not in BASE14
        assert b"/Helvetica" not in data


def test_qr_code_decodes_to_the_verify_link(issued, tmp_path, app):
    _competition, new = issued()
    certificate = new[0]
    image = Image.open(rasterize(certificates.pdf(certificate), tmp_path, dpi=150))
    decoded = [result.text for result in zxingcpp.read_barcodes(image)]
    assert decoded == [f"{app.config['PUBLIC_BASE_URL']}/verify/{certificate.number}?c={certificate.verify_code}"]


@pytest.mark.parametrize(
    "text",
    [
        "http://testserver/verify/C-2026-001-001?c=ABCDEFGHJKMN",
        "https://zhengshu.qzgh.example.cn/verify/QZ-2026-UAV-123?c=23456789ABCD",
        "x" * 150,
    ],
)
def test_qr_symbols_decode_whatever_mask_wins(text, tmp_path):
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=cjk_font())
    qr.draw(canvas, text, 50, 50, 120)
    canvas.showPage()
    canvas.save()
    image = Image.open(rasterize(buffer.getvalue(), tmp_path, dpi=120))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [text]


def test_the_font_has_the_rare_name_characters():
    face = pdfmetrics.getFont(cjk_font()).face
    missing = [c for c in RARE + "荣誉证书〇" if ord(c) not in face.charToGlyph]
    assert missing == []


def test_rare_name_characters_render_and_extract(tmp_path):
    page = layout.CertificatePage(
        number="T-001",
        code="ABCDEFGHJKMN",
        url="http://testserver/verify/T-001?c=X",
        issued_on=date(2026, 6, 1),
        values={"name": RARE, "competition": "测试竞赛", "award": "一等奖", "rank": 1},
    )
    data = layout.render(page)
    text = "".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert RARE in text
    # Drawn, not blank boxes: the name's area has ink.
    image = Image.open(rasterize(data, tmp_path, dpi=60)).convert("L")
    assert image.getextrema()[0] < 100


def test_unit_certificate_reads_the_tier_and_unit_kind(app):
    values = {"name": "泉港石化第1班组", "award": "五星", "honour": "五星级" + certificates.UNIT_TITLES["team"]}
    data = layout.render(
        layout.CertificatePage(
            number="P-001",
            code="ABCDEFGHJKMN",
            url="http://t/v",
            issued_on=date(2026, 6, 1),
            values=values,
            kind="unit",
        )
    )
    text = "".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "授予泉港石化第1班组" in text
    assert "五星级“六型”工匠班组称号" in text


@pytest.mark.parametrize(
    "day, text",
    [
        ((2026, 6, 1), "二〇二六年六月一日"),
        ((2026, 10, 20), "二〇二六年十月二十日"),
        ((2025, 12, 31), "二〇二五年十二月三十一日"),
        ((2030, 11, 15), "二〇三〇年十一月十五日"),
    ],
)
def test_chinese_date(day, text):
    assert layout.chinese_date(date(*day)) == text
