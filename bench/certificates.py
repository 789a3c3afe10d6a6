"""Benchmark 3: certificates per second, one PDF each and 1,000 as the pages of one PDF.

Each figure stands beside its floor: reportlab drawing the same page (same font, same
strings at the same places, the same QR symbol and seal) straight onto a canvas, outside
the app: no database, no verification code, no template, no line setting. Times are the
process's CPU seconds: the targets are per core, and on a busy machine wall-clock time
would count other processes' work too; the wall-clock figures are printed under the table.
"""

from __future__ import annotations

import gc
import io
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from bench import Row
from bench.context import Context

BATCH = 1000
SINGLES = 100
MEMORY_PAGES = 200
RUNS = 5
TARGET_RATE = 60  # certificates a second per core, in a batch
TARGET_SHARE = 0.9  # of the floor's rate


def certificates_time(ctx: Context) -> list[Row]:
    """Time issuing, one PDF per certificate and a 1,000-page PDF, each beside its floor."""
    from comp.extensions import db
    from comp.models import Certificate
    from comp.services import certs as certificates
    from comp.services.certs import batches as certificate_print

    competition = ctx.competition()
    issued, issue_seconds = _issue(competition)
    certificate_print.save_seal(competition, _seal())
    seal = certificates.seal_of(competition)
    ids = [c.id for c in certificates.certificates(competition, "valid")][:BATCH]
    pages = [_Page.of(certificates.page(db.session.get(Certificate, i), seal)) for i in ids]
    db.session.expire_all()  # the app's batch loads its certificates itself
    workdir = Path(tempfile.mkdtemp(dir=ctx.workdir))

    batch, floor_batch = _alternate(
        lambda: _app_batch(competition, ids, workdir / "app.pdf"), lambda: _floor_batch(pages, workdir / "floor.pdf")
    )
    singles, floor_singles = _alternate(
        lambda: [certificates.pdf(db.session.get(Certificate, i)) for i in ids[:SINGLES]],
        lambda: [_floor_single(p) for p in pages[:SINGLES]],
    )
    per_page = _memory_per_page(competition, ids[:MEMORY_PAGES], workdir / "memory.pdf")

    n = len(ids)
    ctx.notes += [
        (
            f"certificates: {issued:,} issued in {issue_seconds:.2f} s wall;"
            f" batch {n / batch[0]:.0f}/s CPU ({n / batch[1]:.0f}/s wall), floor {n / floor_batch[0]:.0f}/s CPU;"
            f" one PDF each {SINGLES / singles[0]:.0f}/s CPU ({SINGLES / singles[1]:.0f}/s wall),"
            f" floor {SINGLES / floor_singles[0]:.0f}/s CPU"
        ),
        (
            f"certificates: a batch PDF holds ≈ {per_page / 1024:.1f} KB a page in memory until it is written"
            f" ({per_page * 6000 / 2**20:.0f} MB for 6,000 pages); the ZIP holds one certificate at a time"
        ),
    ]
    return [
        Row(f"issue {issued:,} certificates (codes, rows)", issue_seconds, note="wall; no floor"),
        Row(
            f"{n:,} certificates, pages of one PDF",
            batch[0],
            floor_batch[0],
            max_seconds=round(n / TARGET_RATE, 1),
            max_ratio=round(1 / TARGET_SHARE, 2),
            note=f"CPU; {n / batch[0]:.0f}/s vs floor {n / floor_batch[0]:.0f}/s;"
            f" ≥ {TARGET_RATE}/s, ≥ {TARGET_SHARE:g} of floor",
        ),
        Row(
            f"{SINGLES} certificates, one PDF each",
            singles[0],
            floor_singles[0],
            max_ratio=round(1 / TARGET_SHARE, 2),
            note=f"CPU; {SINGLES / singles[0]:.0f}/s vs floor {SINGLES / floor_singles[0]:.0f}/s;"
            " each embeds its font subset and seal",
        ),
    ]


def _cpu(work) -> tuple[float, float]:
    """Run `work` once after a collection; return its (CPU, wall) seconds."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def _alternate(app, floor, runs: int = RUNS) -> tuple[tuple[float, float], tuple[float, float]]:
    """Run the app's work and the floor's in turn, after a warm-up of each; return each one's best run.

    Taking turns gives both the same caches and the same neighbours on a shared machine.
    """
    app(), floor()
    times: tuple[list, list] = ([], [])
    for _ in range(runs):
        times[0].append(_cpu(app))
        times[1].append(_cpu(floor))
    return min(times[0]), min(times[1])


def _issue(competition) -> tuple[int, float]:
    """Publish the benchmark competition with its notice period over, and issue its certificates."""
    from comp.extensions import db
    from comp.services import certs as certificates
    from comp.services.setup import lifecycle

    if competition.status == "locked":
        lifecycle.publish(competition)
    competition.published_at -= timedelta(days=30)
    db.session.commit()
    start = time.perf_counter()
    issued = certificates.issue(competition)
    return len(issued), time.perf_counter() - start


def _seal() -> bytes:
    """Return a 500-pixel red seal, as an upload is stored."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (500, 500), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, 494, 494), outline=(200, 20, 20, 230), width=20)
    draw.regular_polygon((250, 250, 120), 5, fill=(200, 20, 20, 230))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _app_batch(competition, ids: list[int], path: Path) -> None:
    """Draw the certificates through the app, as the background batch does, into one PDF."""
    from comp.certificates import Sheets
    from comp.services.certs import batches as certificate_print

    writer = Sheets(str(path), competition.name)
    certificate_print.draw_all(competition, ids, writer)
    writer.close()


def _memory_per_page(competition, ids: list[int], path: Path) -> float:
    """Return the bytes a batch PDF holds per page until written (traced, so run apart)."""
    from comp.certificates import Sheets
    from comp.services.certs import batches as certificate_print

    writer = Sheets(str(path), competition.name)
    certificate_print.draw_all(competition, ids[:10], writer)  # fonts and forms defined before counting
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    certificate_print.draw_all(competition, ids[10:], writer)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    writer.close()
    return held / max(1, len(ids) - 10)


class _Page:
    """One certificate reduced to what the floor draws: positioned strings, the QR text, the seal."""

    def __init__(self, strings, url, seal, title):
        self.strings, self.url, self.seal, self.title = strings, url, seal, title

    @classmethod
    def of(cls, page) -> _Page:
        """Set the page's text with the app's layout once, untimed, into drawString arguments."""
        from comp.certificates import layout
        from comp.certificates.codes import grouped
        from comp.certificates.fonts import cjk_font
        from comp.certificates.text import fit_paragraphs

        left, right, top, bottom = layout.BODY_BOX
        lines, size, leading = fit_paragraphs(
            page.body or layout.DEFAULT_BODY[page.kind], page.values, cjk_font(), right - left, top - bottom
        )
        strings, y = [], top
        for line in lines:
            x = left + line.indent
            for text, emphasis, width in line.runs:
                strings.append(
                    (x, y, size, text, 2 if emphasis else 0, layout.RED if emphasis == "award" else layout.INK)
                )
                x += width
            y -= leading
        cx, (qx, qy, qs) = layout.SEAL_CENTRE[0], layout.QR_BOX
        mm = layout.mm
        strings += [
            (cx, 58 * mm, 17, page.issuer, "centre", layout.INK),
            (cx, 47 * mm, 17, layout.chinese_date(page.issued_on), "centre", layout.INK),
        ]
        strings += [
            (qx + qs + 3 * mm, qy + dy * mm, 9.5, text, 0, layout.GREY)
            for dy, text in (
                (21, layout.NUMBER_LABEL + page.number),
                (14.5, layout.CODE_LABEL + grouped(page.code)),
                (8, layout.SCAN_LABEL),
            )
        ]
        return cls(strings, page.url, page.seal, page.title)


def _floor_canvas(out, page: _Page):
    """Open a canvas on the embedded font with the frame and seal defined once, as the app does."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    from comp.certificates import layout
    from comp.certificates.fonts import cjk_font

    font = cjk_font()
    c = Canvas(out, pagesize=layout.PAGE, initialFontName=font, pageCompression=1)
    c.beginForm("frame")
    layout.draw_frame(c, font, page.title)
    c.endForm()
    c.beginForm("seal")
    x, y = layout.SEAL_CENTRE
    c.drawImage(
        ImageReader(io.BytesIO(page.seal)),
        x - layout.SEAL_SIZE / 2,
        y - layout.SEAL_SIZE / 2,
        layout.SEAL_SIZE,
        layout.SEAL_SIZE,
        mask="auto",
        preserveAspectRatio=True,
    )
    c.endForm()
    return c, font


def _floor_draw(c, font, page: _Page) -> None:
    from comp.certificates import layout, qr

    c.doForm("frame")
    for x, y, size, text, mode, colour in page.strings:
        c.setFillColorRGB(*colour)
        c.setStrokeColorRGB(*colour)
        c.setFont(font, size)
        if mode == "centre":
            c.drawCentredString(x, y, text)
        else:
            c.setLineWidth(size / 28)
            c.drawString(x, y, text, mode=mode)
    x, y, size = layout.QR_BOX
    qr.draw(c, page.url, x, y, size)
    c.doForm("seal")
    c.showPage()


def _floor_batch(pages: list[_Page], path: Path) -> None:
    c, font = _floor_canvas(str(path), pages[0])
    for page in pages:
        _floor_draw(c, font, page)
    c.save()


def _floor_single(page: _Page) -> bytes:
    buffer = io.BytesIO()
    c, font = _floor_canvas(buffer, page)
    _floor_draw(c, font, page)
    c.save()
    return buffer.getvalue()
