"""Moodle GIFT, read and written by the pure `comp.exams.gift`: every form we take, every one we refuse."""

from __future__ import annotations

import ast
import dataclasses
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comp.exams import gift
from comp.exams.gift import GiftError, Parsed


def only(text: str):
    """Return the one question or problem a text holds."""
    found = gift.parse(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "kind", "options", "answer", "tolerance"),
    [
        ("绿茶属于 {=不发酵茶 ~半发酵茶 ~全发酵茶}", "single", ("不发酵茶", "半发酵茶", "全发酵茶"), "A", None),
        ("Q {~a =b ~c}", "single", ("a", "b", "c"), "B", None),
        ("Q {~%50%a ~%50%b ~%-100%c}", "multiple", ("a", "b", "c"), "AB", None),
        ("Q {=a =b ~c}", "multiple", ("a", "b", "c"), "AB", None),
        ("Q {~%100%a ~b}", "multiple", ("a", "b"), "A", None),
        ("Q {T}", "truefalse", (), "T", None),
        ("Q {F}", "truefalse", (), "F", None),
        ("Q {TRUE}", "truefalse", (), "T", None),
        ("Q {false#it is true}", "truefalse", (), "F", None),
        ("Q {#3.5:0.1}", "numeric", (), "3.5", Decimal("0.1")),
        ("Q {#3.5}", "numeric", (), "3.5", None),
        ("Q {#-2.50:0}", "numeric", (), "-2.5", Decimal(0)),
        ("Q {#1..2}", "numeric", (), "1.5", Decimal("0.5")),
        ("Q {#=3.5:0.1}", "numeric", (), "3.5", Decimal("0.1")),
        ("Q {=a#right ~b#wrong}", "single", ("a", "b"), "A", None),
    ],
)
def test_reads_each_kind(text, kind, options, answer, tolerance):
    question = only(text)
    assert isinstance(question, Parsed)
    assert (question.kind, question.options, question.answer, question.tolerance) == (kind, options, answer, tolerance)


def test_reads_title_category_feedback_comments_and_meta():
    text = (
        "// a comment nobody reads\n"
        "$CATEGORY: $course$/top/茶叶/感官审评\n\n"
        "// difficulty: 5\n// source: 国家职业技能标准\n"
        "::T-01:: 绿茶属于 {=不发酵茶 ~半发酵茶 ####绿茶不经发酵。}\n\n"
        "::T-02::[html]第二题 {T}\n"
    )
    first, second = gift.parse(text)
    assert first == Parsed(
        6,
        "single",
        "绿茶属于",
        ("不发酵茶", "半发酵茶"),
        "A",
        None,
        "绿茶不经发酵。",
        "感官审评",
        "T-01",
        5,
        "国家职业技能标准",
    )
    assert (second.code, second.stem, second.area, second.difficulty, second.line) == (
        "T-02",
        "第二题",
        "感官审评",
        3,
        8,
    )


def test_escapes_and_missing_word():
    question = only(r"a\{b\} c\: d \#\=\~ e\\f {~x =y} tail")
    assert question.stem == r"a{b} c: d #=~ e\f ____ tail"
    assert only(r"line\none {T}").stem == "line\none"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Essay {}", "essay"),
        ("Match {=a -> 1 =b -> 2 =c -> 3}", "matching"),
        ("Short {=answer =other}", "short_answer"),
        ("Short {=only}", "short_answer"),
        ("No braces here", "no_answers"),
        ("Open {=a ~b", "unclosed"),
        ("::code without end {T}", "unclosed"),
        ("{=a ~b}", "empty_stem"),
        ("Q {~a ~b}", "no_right"),
        ("Q {=a}x {~b}", "together"),
        ("Q {#abc}", "numeric"),
        ("Q {#2..1}", "numeric"),
        ("Q {#1:-1}", "numeric"),
        ("Q {#=1:0 =%50%2:0}", "numeric_several"),
        ("Q {=a ~b ~c ~d ~e ~f ~g ~h ~i}", "options"),
        ("Q {=a ~ ~c}", "empty_option"),
        ("Q {Maybe}", "no_answers"),
        ("// difficulty: 9\nQ {T}", "difficulty"),
    ],
)
def test_refuses_what_we_do_not_support(text, problem):
    found = only(text)
    assert isinstance(found, GiftError) and found.problem == problem, found


def test_each_problem_names_its_starting_line_and_good_questions_still_read():
    text = "Good {T}\n\n// comment\nEssay\nover lines {}\n\nAlso good {F}\n\n\n\nMatch {=a -> b =c -> d}\n"
    found = gift.parse(text)
    assert [type(f).__name__ for f in found] == ["Parsed", "GiftError", "Parsed", "GiftError"]
    assert [f.line for f in found] == [1, 4, 7, 11]


def test_round_trip_keeps_every_field():
    items = [
        Parsed(0, "single", "绿茶属于？", ("不发酵茶", "半发酵茶"), "A", None, "解析 {x}", "茶/叶", "Q1", 1, "书"),
        Parsed(0, "multiple", "多选 a=b ~c", ("甲#", "乙->丙", "丁"), "AC", None, "", "茶/叶", "Q2", 4, ""),
        Parsed(0, "multiple", "三个对", ("a", "b", "c", "d"), "ABC", None, "", "", "Q3", 3, ""),
        Parsed(0, "truefalse", "真的\n两行", (), "F", None, "因为", "", "", 2, ""),
        Parsed(0, "numeric", "1/3?", (), "0.333", Decimal("0.001"), "", "数值", "N:1", 5, "src"),
        Parsed(0, "numeric", "exact", (), "-12", None, "", "数值", "N2", 3, ""),
    ]
    again = gift.parse(gift.dump(items))
    assert [dataclasses.replace(q, line=0) for q in again] == items


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("~=#{}:\\\n->%"), min_size=1
)


@settings(max_examples=150, deadline=None)
@given(stem=texts, options=st.lists(texts, min_size=2, max_size=8), right=st.integers(0, 7), area=texts)
def test_round_trip_property(stem, options, right, area):
    options = [o.strip().replace("\n", " ") for o in options]
    stem, area = stem.strip(), " ".join(area.split()).strip("/")  # an area is one line
    if not stem or not all(options) or any(o.startswith("%") for o in options) or "$" in area:
        return  # trimmed to nothing, or a weight-like option text GIFT cannot tell apart
    if any(part.strip() in ("", "top") for part in area.replace("//", "x").split("/")) and area:
        return  # an empty or reserved category level
    item = Parsed(0, "single", stem, tuple(options), "ABCDEFGH"[right % len(options)], area=area)
    assert [dataclasses.replace(q, line=0) for q in gift.parse(gift.dump([item]))] == [item]


def test_gift_is_pure_and_exact():
    tree = ast.parse(Path(gift.__file__).read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [
        n for n in names if not (n.startswith("comp.exams") or n.partition(".")[0] in sys.stdlib_module_names)
    ] == []
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "float"]
