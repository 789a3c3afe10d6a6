"""The certificate page: A4 landscape on a reportlab canvas, every glyph in the embedded CJK font.

A certificate is a Chinese official document whatever language its reader's browser
speaks, so its wording (title, body template, the labels beside the QR code) is data the
organizer may set, with Chinese defaults here, not interface text to translate.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from comp.certificates import qr
from comp.certificates.codes import grouped
from comp.certificates.fonts import cjk_font
from comp.certificates.text import Line, fit_paragraphs

# Binary streams, not ASCII85: every PDF reader takes them, files are a fifth smaller, and
# reportlab's pure-Python ASCII85 encoder costs more than drawing a certificate's text.
# The setting is process-wide; the app's other PDFs (hall lists) only get smaller for it.
rl_config.useA85 = 0

WIDTH, HEIGHT = PAGE = landscape(A4)
RED = (0.70, 0.09, 0.09)
DARK_RED = (0.52, 0.07, 0.07)
GOLD = (0.72, 0.56, 0.18)
INK = (0.08, 0.08, 0.08)
GREY = (0.35, 0.35, 0.35)

DEFAULT_TITLE = "荣誉证书"
DEFAULT_BODY = {
    "person": "{name} 同志：\n在{competition}中，\n荣获{award}（第{rank}名）。\n特发此证，以资鼓励。",
    "unit": "授予 {name}\n{honour}称号。\n特发此证，以资鼓励。",
}
NUMBER_LABEL, CODE_LABEL, SCAN_LABEL = "证书编号：", "验证码：", "扫码查验真伪"
BODY_BOX = (44 * mm, WIDTH - 44 * mm, HEIGHT - 80 * mm, 74 * mm)  # left, right, top baseline, bottom
SEAL_CENTRE, SEAL_SIZE = (WIDTH - 82 * mm, 52 * mm), 42 * mm
QR_BOX = (24 * mm, 21 * mm, 30 * mm)  # x, y, size


@dataclass(frozen=True)
class CertificatePage:
    """Everything one certificate shows: the certified facts, their code, and the design."""

    number: str
    code: str
    url: str  # the verification link the QR code carries
    issued_on: date
    values: dict = field(default_factory=dict)  # the body template's placeholders
    kind: str = "person"  # "unit" for a rated studio or team
    title: str = DEFAULT_TITLE
    body: str = ""
    issuer: str = ""
    seal: bytes | None = None


def chinese_date(day: date) -> str:
    """Write a date the way certificates do: 二〇二六年六月一日."""
    digits = "〇一二三四五六七八九"

    def small(n: int) -> str:
        tens, ones = divmod(n, 10)
        return ("" if tens < 2 else digits[tens]) + ("十" if tens else "") + (digits[ones] if ones or not tens else "")

    return "".join(digits[int(d)] for d in str(day.year)) + f"年{small(day.month)}月{small(day.day)}日"


class Sheets:
    """A PDF of certificates, one per page, written to a file or buffer when closed."""

    def __init__(self, out: str | BinaryIO, title: str = DEFAULT_TITLE):
        self.font = cjk_font()
        self.canvas = Canvas(out, pagesize=PAGE, initialFontName=self.font, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setCreator("Jiangxin")
        self.pages = 0
        self.forms: dict[tuple[str, str | bytes], str] = {}  # bytes cache their hash: one per batch

    def add(self, page: CertificatePage) -> None:
        """Draw one certificate on a new page."""
        c = self.canvas
        c.doForm(self._frame(page.title))
        self._body(page)
        self._footer(page)
        if page.seal:
            c.doForm(self._seal(page.seal))
        c.showPage()
        self.pages += 1

    def close(self) -> None:
        """Write the PDF."""
        if not self.pages:
            self.canvas.showPage()  # a PDF needs a page, even a batch with nothing in it
        self.canvas.save()

    def _frame(self, title: str) -> str:
        """Define once per PDF the border and title every page shares, and return its form name."""
        return self._form(("frame", title), lambda: draw_frame(self.canvas, self.font, title))

    def _seal(self, png: bytes) -> str:
        """Define once per PDF the seal image, and return its form name."""
        x, y = SEAL_CENTRE
        return self._form(
            ("seal", png),
            lambda: self.canvas.drawImage(
                ImageReader(io.BytesIO(png)),
                x - SEAL_SIZE / 2,
                y - SEAL_SIZE / 2,
                SEAL_SIZE,
                SEAL_SIZE,
                mask="auto",
                preserveAspectRatio=True,
            ),
        )

    def _form(self, key: tuple[str, str | bytes], draw) -> str:
        """Return the name of the form drawn by `draw` for this key, drawing it the first time."""
        name = self.forms.get(key)
        if name is None:
            name = self.forms[key] = f"{key[0]}{len(self.forms)}"
            self.canvas.beginForm(name)
            draw()
            self.canvas.endForm()
        return name

    def _body(self, page: CertificatePage) -> None:
        left, right, top, bottom = BODY_BOX
        template = page.body or DEFAULT_BODY[page.kind]
        lines, size, leading = fit_paragraphs(template, page.values, self.font, right - left, top - bottom)
        y = top
        for line in lines:
            self._line(line, left, y, size)
            y -= leading

    def _line(self, line: Line, x: float, y: float, size: float) -> None:
        c = self.canvas
        x += line.indent
        for text, emphasis, width in line.runs:
            c.setFillColorRGB(*(RED if emphasis == "award" else INK))
            c.setStrokeColorRGB(*(RED if emphasis == "award" else INK))
            c.setLineWidth(size / 28)
            c.setFont(self.font, size)
            # The font has no bold face: emphasis fills and strokes the glyph outlines.
            c.drawString(x, y, text, mode=2 if emphasis else 0)
            x += width

    def _footer(self, page: CertificatePage) -> None:
        c, font = self.canvas, self.font
        cx = SEAL_CENTRE[0]
        c.setFillColorRGB(*INK)
        c.setFont(font, 17)
        c.drawCentredString(cx, 58 * mm, page.issuer)
        c.drawCentredString(cx, 47 * mm, chinese_date(page.issued_on))
        x, y, size = QR_BOX
        qr.draw(c, page.url, x, y, size)
        c.setFillColorRGB(*GREY)
        c.setFont(font, 9.5)
        c.drawString(x + size + 3 * mm, y + 21 * mm, NUMBER_LABEL + page.number)
        c.drawString(x + size + 3 * mm, y + 14.5 * mm, CODE_LABEL + grouped(page.code))
        c.drawString(x + size + 3 * mm, y + 8 * mm, SCAN_LABEL)


def draw_frame(c: Canvas, font: str, title: str) -> None:
    """Draw the double border, its corner brackets and the title."""
    c.setStrokeColorRGB(*DARK_RED)
    c.setLineWidth(3)
    c.rect(9 * mm, 9 * mm, WIDTH - 18 * mm, HEIGHT - 18 * mm, stroke=1, fill=0)
    c.setStrokeColorRGB(*GOLD)
    c.setLineWidth(0.8)
    c.rect(12.5 * mm, 12.5 * mm, WIDTH - 25 * mm, HEIGHT - 25 * mm, stroke=1, fill=0)
    c.setLineWidth(1.6)
    c.setFillColorRGB(*GOLD)
    arm, inset = 16 * mm, 16 * mm
    for x, y, dx, dy in (
        (inset, inset, 1, 1),
        (WIDTH - inset, inset, -1, 1),
        (inset, HEIGHT - inset, 1, -1),
        (WIDTH - inset, HEIGHT - inset, -1, -1),
    ):
        c.lines([(x, y, x + dx * arm, y), (x, y, x, y + dy * arm)])
        c.rect(x + dx * 2.5 * mm - 1.2 * mm, y + dy * 2.5 * mm - 1.2 * mm, 2.4 * mm, 2.4 * mm, stroke=0, fill=1)
    c.setFillColorRGB(*RED)
    c.setStrokeColorRGB(*RED)
    c.setLineWidth(0.9)
    size = 44 if len(title) <= 6 else max(24, 44 * 6 // len(title))
    c.setFont(font, size)
    c.drawCentredString(WIDTH / 2, HEIGHT - 50 * mm, title, mode=2, charSpace=size * 0.35)
    c.setStrokeColorRGB(*GOLD)
    c.setLineWidth(1)
    c.line(WIDTH / 2 - 60 * mm, HEIGHT - 57 * mm, WIDTH / 2 + 60 * mm, HEIGHT - 57 * mm)


def render(page: CertificatePage) -> bytes:
    """Return one certificate as a PDF."""
    buffer = io.BytesIO()
    sheets = Sheets(buffer, page.title)
    sheets.add(page)
    sheets.close()
    return buffer.getvalue()
