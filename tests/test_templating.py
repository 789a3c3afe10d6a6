"""Template helpers: the label colon follows the language (Chinese pages use the full-width "：")."""

from __future__ import annotations

import re
from pathlib import Path

from flask_babel import force_locale

from comp.templating import colon


def test_the_label_colon_is_full_width_in_chinese_and_spaced_in_english(app):
    with app.test_request_context():
        with force_locale("zh"):
            assert colon() == "："
        with force_locale("en"):
            assert colon() == ": "


def test_no_template_speaks_english_in_an_attribute_read_out_or_shown():
    """aria-label, title, placeholder and alt are read out or shown: each is translated, never a bare English word."""
    root = Path(__file__).resolve().parents[1] / "templates"
    literal = re.compile(r'\b(aria-label|title|placeholder|alt)="([^"{]*[A-Za-z]{3,}[^"{]*)"')
    allowed = {"QZ-2026-UAV"}  # an example competition code, the same in every language
    found = [
        f"{path.relative_to(root)}: {name}={value!r}"
        for path in root.rglob("*.html")
        for name, value in literal.findall(path.read_text(encoding="utf-8"))
        if value not in allowed
    ]
    assert found == []
