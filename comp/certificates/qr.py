"""QR codes from reportlab's own encoder, drawn as one filled path.

reportlab's QrCodeWidget builds a validated Rect shape per run of dark modules and picks
the mask with a slow pure-Python scorer: about 140 ms a code, which alone would cap a
batch at 7 certificates a second. The encoder underneath it (`qrencoder`) is kept; here
the masks are scored with string and integer operations (the same ISO/IEC 18004 penalty
rules) and the modules go onto the canvas as the operators of one path: a few milliseconds.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise

from reportlab.graphics.barcode import qrencoder

QUIET = 4  # modules of light margin the standard asks for around the symbol
_RUNS = re.compile(r"0{5,}|1{5,}")
_DARK = re.compile(r"1+")
_FINDER_LIKE = ("10111010000", "00001011101")
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def matrix(text: str, level: str = "M") -> list[list[bool]]:
    """Return the QR symbol of the text as rows of modules, True for dark."""
    code = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    code.addData(text)
    code.version = code.calculate_version()
    positions, flips = _layout(code.version)
    code._dataPosList = positions  # reportlab caches this per symbol; it depends on the version only
    code.makeImpl(False, 0)
    base, best, best_score = code.modules, None, None
    for mask in range(8):
        # Re-masking mask 0's symbol flips the data modules where the two masks differ:
        # far cheaper than laying the data out again for each candidate.
        modules = [row[:] for row in base]
        for row, column in flips[mask]:
            modules[row][column] = not modules[row][column]
        code.modules = modules
        code.setupTypeInfo(False, mask)
        score = penalty(modules)
        if best_score is None or score < best_score:
            best, best_score = modules, score
    assert best is not None  # the first of the eight masks is always taken
    return best


@lru_cache(maxsize=48)
def _layout(version: int) -> tuple[list, tuple]:
    """Return a version's data module positions and, per mask, those whose bit differs from mask 0's."""
    probe = qrencoder.QRCode(version, qrencoder.QRErrorCorrectLevel.M)
    probe.moduleCount = version * 4 + 17
    positions = probe.dataPosIterator()
    masks = [qrencoder.QRUtil.getMask(m) for m in range(8)]
    flips = tuple(
        tuple((row, column) for column, row in positions if masks[0](row, column) != mask(row, column))
        for mask in masks
    )
    return positions, flips


def _rows(modules: list[list[bool]]) -> list[str]:
    return [bytes(row).translate(_DIGITS).decode() for row in modules]


def penalty(modules: list[list[bool]]) -> int:
    """Score a masked symbol by the standard's four penalty rules; the lowest score wins."""
    rows = _rows(modules)
    lines = rows + ["".join(column) for column in zip(*rows)]
    score = sum(len(run) - 2 for line in lines for run in _RUNS.findall(line))  # 3 + (length − 5)
    score += 40 * sum(line.count(pattern) for line in lines for pattern in _FINDER_LIKE)
    size = len(rows)
    inside = (1 << (size - 1)) - 1
    bits = [int(row, 2) for row in rows]
    for upper, lower in pairwise(bits):
        # A 2×2 block of one colour: both columns agree vertically and the upper pair agrees.
        vertical = ~(upper ^ lower)
        score += 3 * (vertical & (vertical >> 1) & ~(upper ^ (upper >> 1)) & inside).bit_count()
    dark = sum(row.count("1") for row in rows)
    score += 10 * (abs(dark * 100 // (size * size) - 50) // 5)
    return score


def draw(canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the text's QR symbol, quiet zone included, in the square of `size` at (x, y)."""
    modules = matrix(text)
    count = len(modules) + 2 * QUIET
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    # In module units the operators are short integers: a batch PDF holds every page's
    # operators in memory until it is written, and a symbol has some 300 runs.
    canvas.translate(x, y + size)
    canvas.scale(size / count, -size / count)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.addLiteral(operators(modules))
    canvas.restoreState()


def operators(modules: list[list[bool]]) -> str:
    """Return the PDF operators filling each row's dark runs, in module units, as one path.

    Written directly: integers need no formatting, and reportlab's pure-Python number
    formatter would otherwise be the costliest step of a whole certificate. Each run is a
    hair taller than a module, so no seam shows between rows on screen.
    """
    return (
        " ".join(
            f"{run.start() + QUIET} {number} {run.end() - run.start()} 1.05 re"
            for number, row in enumerate(_rows(modules), start=QUIET)
            for run in _DARK.finditer(row)
        )
        + " f"
    )


def svg(text: str, label: str = "") -> str:
    """Return the text's QR symbol as an SVG element (one path, quiet zone included) for a web page."""
    from markupsafe import escape

    modules = matrix(text)
    count = len(modules) + 2 * QUIET
    path = "".join(
        f"M{run.start() + QUIET} {number}h{run.end() - run.start()}v1h-{run.end() - run.start()}z"
        for number, row in enumerate(_rows(modules), start=QUIET)
        for run in _DARK.finditer(row)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {count} {count}" class="qr" role="img" '
        f'aria-label="{escape(label)}" shape-rendering="crispEdges"><rect width="{count}" height="{count}" '
        f'fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )
