"""The published scoring rules: the Chinese edition (docs/rules.zh.md) for Chinese pages, docs/rules.md for
English ones, and the two documents kept in step (same sections, same figures)."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import flask_babel
import pytest

from comp.blueprints.results import views as results_views

DOCS = Path(__file__).resolve().parent.parent / "docs"
RULES = DOCS / "rules.md"
RULES_ZH = DOCS / "rules.zh.md"

CJK = re.compile(r"[\u4e00-\u9fff]")
HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*$")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Four or more English words in a row: a sentence, not a code such as QZ-2026-NOODLE.
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'()-]+[A-Za-z]{2,}){3,}")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The text without fenced code blocks and `code` spans (rule keys and JSON stay in English)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every Markdown heading outside fenced code."""
    found = []
    for line in re.sub(r"^```.*?^```", "", text, flags=re.S | re.M).splitlines():
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def section_label(title: str) -> str:
    """The section number a heading starts with ("1.2", "附录 A"), or "" for an unnumbered one."""
    match = re.match(r"(\d+(?:\.\d+)*|附录\s*[A-Z])(?=\s|　|$)", title)
    return re.sub(r"\s+", " ", match.group(1)) if match else ""


def chinese_headings_of_rules_md() -> list[tuple[int, str]]:
    """rules.md is Chinese with an English rendering under each section ("### English", an English title):
    its Chinese headings are the ones the Chinese edition must have."""
    return [(level, title) for level, title in headings(read(RULES)) if CJK.search(title)]


def get_rules(client, url: str = "/competitions/rules", lang: str | None = None):
    """GET the rules page as an anonymous visitor whose session language is `lang` (None: the default, zh)."""
    if lang is not None:
        with client.session_transaction() as session:
            session["lang"] = lang
    flask_babel.refresh()
    return client.get(url)


def pre_text(response) -> str:
    """The document as shown on the page (the text of its <pre>)."""
    page = response.get_data(as_text=True)
    match = re.search(r"<pre[^>]*>(.*?)</pre>", page, re.S)
    assert match, "the page shows no document"
    return html.unescape(match.group(1))


needs_both = pytest.mark.skipif(
    not (RULES.exists() and RULES_ZH.exists()), reason="docs/rules.md or docs/rules.zh.md is not written yet"
)


# ------------------------------------------------------------------ which document the page shows


@needs_both
def test_a_chinese_page_shows_the_chinese_rules(client):
    response = get_rules(client)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = pre_text(response)
    assert text.strip() == read(RULES_ZH).strip()
    assert "## 2 赛段成绩" in text
    assert "### English" not in text
    assert not ENGLISH_RUN.search(prose(text)), ENGLISH_RUN.search(prose(text))
    assert '<pre lang="zh-CN">' in page
    # the other edition is one link away
    assert 'href="/competitions/rules?lang=en"' in page
    assert "其他语言版本：" in page


@needs_both
def test_an_english_page_shows_rules_md(client):
    response = get_rules(client, lang="en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = pre_text(response)
    assert text.strip() == read(RULES).strip()
    assert "# Jiangxin · Competition Scoring Rules" in text
    assert "Every calculation inside the system is **exact**" in text
    assert 'href="/competitions/rules?lang=zh"' in page
    assert "The rules in another language:" in page


@needs_both
def test_the_link_shows_the_other_edition_without_changing_the_language(client):
    english = get_rules(client, "/competitions/rules?lang=en")
    assert pre_text(english).strip() == read(RULES).strip()
    assert '<html lang="zh-CN"' in english.get_data(as_text=True)  # the page itself stays Chinese
    assert 'href="/competitions/rules?lang=zh"' in english.get_data(as_text=True)

    chinese = get_rules(client, "/competitions/rules?lang=zh", lang="en")
    assert pre_text(chinese).strip() == read(RULES_ZH).strip()


@needs_both
def test_an_unknown_language_asked_for_is_ignored(client):
    assert pre_text(get_rules(client, "/competitions/rules?lang=fr")).strip() == read(RULES_ZH).strip()
    assert pre_text(get_rules(client, "/competitions/rules?lang=fr", lang="en")).strip() == read(RULES).strip()


def test_the_translation_beside_the_rules_is_used(client, monkeypatch, tmp_path):
    (tmp_path / "rules.md").write_text("# Rules\n\nEnglish text.\n", encoding="utf-8")
    (tmp_path / "rules.zh.md").write_text("# 规则\n\n中文正文。\n", encoding="utf-8")
    monkeypatch.setattr(results_views, "rules_path", lambda: tmp_path / "rules.md")
    assert pre_text(get_rules(client)).strip() == "# 规则\n\n中文正文。"
    assert pre_text(get_rules(client, lang="en")).strip() == "# Rules\n\nEnglish text."


def test_without_a_translation_a_chinese_page_falls_back_to_rules_md(client, monkeypatch, tmp_path):
    (tmp_path / "rules.md").write_text("# Rules\n\nEnglish text.\n", encoding="utf-8")
    monkeypatch.setattr(results_views, "rules_path", lambda: tmp_path / "rules.md")
    response = get_rules(client)
    assert response.status_code == 200
    assert pre_text(response).strip() == "# Rules\n\nEnglish text."
    page = response.get_data(as_text=True)
    assert "<pre>" in page  # not marked as Chinese
    assert "?lang=" not in page  # no link to an edition that does not exist


# ------------------------------------------------------------------ the two documents stay in step


@needs_both
def test_the_chinese_rules_have_the_same_sections_as_rules_md():
    """Every Chinese heading of rules.md (its English renderings aside) has its counterpart, at the same
    level and with the same section number, in rules.zh.md, and rules.zh.md has no other heading."""
    original = chinese_headings_of_rules_md()
    translated = headings(read(RULES_ZH))
    assert Counter(level for level, _ in translated) == Counter(level for level, _ in original)
    assert [(level, section_label(title)) for level, title in translated] == [
        (level, section_label(title)) for level, title in original
    ]
    assert all(CJK.search(title) for _, title in translated)


@needs_both
def test_every_figure_of_rules_md_is_in_the_chinese_rules_and_no_other():
    original = set(NUMBER.findall(read(RULES)))
    translated = set(NUMBER.findall(read(RULES_ZH)))
    assert not original - translated, f"in rules.md but not in rules.zh.md: {sorted(original - translated)}"
    assert not translated - original, f"in rules.zh.md but not in rules.md: {sorted(translated - original)}"


@needs_both
def test_the_chinese_rules_keep_the_code_of_rules_md():
    """Rule keys, tie-break entries and the JSON example are code: the same in both documents."""
    code_spans = re.compile(r"`[^`\n]+`")
    assert set(code_spans.findall(read(RULES_ZH))) <= set(code_spans.findall(read(RULES))) | {
        "`stage:赛段标识`",
        "`criterion:赛段标识.评分项标识`",
        "`attempts:赛段标识`",
    }
    fences = re.compile(r"^```.*?^```", re.S | re.M)
    assert fences.findall(read(RULES_ZH)) == fences.findall(read(RULES))


@needs_both
def test_the_chinese_rules_are_chinese_only():
    text = read(RULES_ZH)
    assert "### English" not in text
    assert not ENGLISH_RUN.search(prose(text)), ENGLISH_RUN.search(prose(text))
