"""Template helpers: the label colon follows the language (Chinese pages use the full-width "：")."""

from __future__ import annotations

from flask_babel import force_locale

from comp.templating import colon


def test_the_label_colon_is_full_width_in_chinese_and_spaced_in_english(app):
    with app.test_request_context():
        with force_locale("zh"):
            assert colon() == "："
        with force_locale("en"):
            assert colon() == ": "
