"""The CJK font every PDF of the app draws with, shipped with the project and embedded.

WenQuanYi Micro Hei (Apache-2.0, see fonts/LICENSE-wqy-microhei.txt) is a TrueType font
that reportlab can embed (Noto CJK is CFF, which reportlab cannot load); it covers the rare
characters of Chinese names (堃 喆 珺 昇 玥 犇 燚 彧).
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"


def cjk_font() -> str:
    """Register the embedded CJK font once and return its name for canvas.setFont."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME
