"""The uploaded seal image: checked to be a sane PNG, then re-encoded small and clean."""

from __future__ import annotations

import io
import struct

from PIL import Image

MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 512 * 1024
MIN_SIDE, MAX_SIDE = 64, 2000
MAX_ASPECT = 2  # a seal is round or square-ish; a banner is a mistake
STORED_SIDE = 500  # 42 mm on paper at 300 dpi


class SealError(ValueError):
    """A refused seal image; `reason` is one of type, size, dimensions, damaged."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def inspect(data: bytes) -> tuple[int, int]:
    """Return the PNG's width and height, or raise SealError saying why it is refused."""
    if not data.startswith(MAGIC) or len(data) < 33 or data[12:16] != b"IHDR":
        raise SealError("type")
    if len(data) > MAX_BYTES:
        raise SealError("size")
    # Read the header before decoding anything, so a decompression bomb is never opened.
    width, height = struct.unpack(">II", data[16:24])
    if not (MIN_SIDE <= min(width, height) and max(width, height) <= MAX_SIDE) or max(width, height) > MAX_ASPECT * min(
        width, height
    ):
        raise SealError("dimensions")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:  # Pillow raises a zoo of types for a damaged file
        raise SealError("damaged") from None
    return width, height


def normalize(data: bytes) -> tuple[bytes, int, int]:
    """Re-encode a checked PNG as RGBA, at most STORED_SIDE pixels a side: (png, width, height).

    Re-encoding drops any extra chunks, and a smaller image keeps every certificate PDF small.
    """
    inspect(data)
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGBA")
        image.thumbnail((STORED_SIDE, STORED_SIDE))
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue(), image.width, image.height
