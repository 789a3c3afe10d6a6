"""Exact grading (comp.exams.grading): normalizing responses, marking, paper scores, the criterion mark."""

import ast
import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import comp.exams
from comp.exams import Item, PaperItem, mark, normalize, scaled_cents, score

SINGLE = Item(1, "single", ("绿茶", "红茶", "乌龙茶", "黑茶"), "B")
MULTI = Item(2, "multiple", ("a", "b", "c", "d", "e"), "ACD")
TF = Item(3, "truefalse", (), "T")
NUM = Item(4, "numeric", (), "3.25", tolerance=Decimal("0.1"))
EXACT = Item(5, "numeric", (), "100", tolerance=None)
ITEMS = (SINGLE, MULTI, TF, NUM, EXACT)


# ---------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("it", "response", "stored"),
    [
        (SINGLE, "b", "B"),
        (SINGLE, " D ", "D"),
        (SINGLE, "", ""),
        (SINGLE, "   ", ""),
        (MULTI, "ca", "AC"),
        (MULTI, "E,a，c、b", "ABCE"),
        (MULTI, "aa", "A"),
        (MULTI, "D C A", "ACD"),
        (TF, "t", "T"),
        (TF, "True", "T"),
        (TF, "对", "T"),
        (TF, "√", "T"),
        (TF, "正确", "T"),
        (TF, "f", "F"),
        (TF, "FALSE", "F"),
        (TF, "错", "F"),
        (TF, "×", "F"),
        (TF, "错误", "F"),
        (NUM, "3.25", "3.25"),
        (NUM, "03.250", "3.25"),
        (NUM, "+3", "3"),
        (NUM, "-0.0", "0"),
        (NUM, "1e3", "1000"),
        (NUM, "2.5E-2", "0.025"),
        (NUM, "３.５", "3.5"),
        (NUM, "３．５", "3.5"),  # a Chinese keyboard's full-width point
        (NUM, "－２", "-2"),  # and minus
        (NUM, "\u22122.5", "-2.5"),  # the minus sign a phone's keyboard offers
        (NUM, "-7.000000000001", "-7.000000000001"),
        (NUM, "1.5000000000000000000000000000000", "1.5"),  # trailing zeros beyond 12 places are no places
        (NUM, "123456789012345", "123456789012345"),
    ],
)
def test_normalize_gives_the_stored_form(it, response, stored):
    assert normalize(it, response) == stored


@pytest.mark.parametrize(
    ("it", "response"),
    [
        (SINGLE, "E"),
        (SINGLE, "AB"),
        (SINGLE, "1"),
        (SINGLE, "Ａ"),
        (SINGLE, ","),
        (SINGLE, "绿茶"),
        (MULTI, "F"),
        (MULTI, "A1"),
        (MULTI, ",,"),
        (MULTI, "A-B"),
        (TF, "yes"),
        (TF, "TF"),
        (TF, "0"),
        (TF, "是"),
        (NUM, "abc"),
        (NUM, "3,25"),
        (NUM, "NaN"),
        (NUM, "sNaN"),
        (NUM, "Infinity"),
        (NUM, "-inf"),
        (NUM, "1/3"),
        (NUM, "0.0000000000001"),  # 13 places
        (NUM, "1234567890123456"),  # 16 digits before the point
        (NUM, "1e400"),
        (Item(9, "essay", (), ""), "x"),
    ],
)
def test_normalize_refuses_what_is_no_answer(it, response):
    with pytest.raises(ValueError, match="^(response|item 9):"):
        normalize(it, response)


@given(st.sampled_from(ITEMS), st.text(max_size=12))
def test_normalize_is_idempotent(it, response):
    try:
        stored = normalize(it, response)
    except ValueError:
        return
    assert normalize(it, stored) == stored


# ---------------------------------------------------------------- mark


@pytest.mark.parametrize(
    ("it", "response", "rule", "earned"),
    [
        (SINGLE, "B", "all", Fraction(2)),
        (SINGLE, "C", "all", Fraction(0)),
        (SINGLE, "", "all", Fraction(0)),
        (SINGLE, "nonsense", "all", Fraction(0)),
        (TF, "T", "partial", Fraction(2)),
        (TF, "F", "all", Fraction(0)),
        (MULTI, "ACD", "all", Fraction(2)),
        (MULTI, "AC", "all", Fraction(0)),
        (MULTI, "ACDE", "all", Fraction(0)),
        (MULTI, "ACD", "partial", Fraction(2)),
        (MULTI, "AC", "partial", Fraction(4, 3)),
        (MULTI, "D", "partial", Fraction(2, 3)),
        (MULTI, "AB", "partial", Fraction(0)),  # a wrong option chosen: nothing
        (MULTI, "ABCDE", "partial", Fraction(0)),
        (MULTI, "", "partial", Fraction(0)),
        (NUM, "3.25", "all", Fraction(2)),
        (NUM, "3.35", "all", Fraction(2)),  # exactly at the tolerance
        (NUM, "3.15", "all", Fraction(2)),
        (NUM, "3.350000000001", "all", Fraction(0)),
        (NUM, "3.149999999999", "all", Fraction(0)),
        (NUM, "", "all", Fraction(0)),
        (EXACT, "100.000", "all", Fraction(2)),
        (EXACT, "1e2", "all", Fraction(2)),
        (EXACT, "100.000000000001", "all", Fraction(0)),
    ],
)
def test_mark_worked_examples(it, response, rule, earned):
    assert mark(it, Fraction(2), response, rule) == earned


def test_mark_uses_a_corrected_key_as_given():
    corrected = Item(2, "multiple", ("a", "b", "c", "d", "e"), "AC")
    assert mark(corrected, Fraction(3), "AC", "all") == 3
    assert mark(corrected, Fraction(3), "A", "partial") == Fraction(3, 2)


def test_a_key_normalized_once_is_the_key_of_that_item_only():
    # The key is normalized once per item value: a corrected item with the same ref is marked by its own key.
    before, after = Item(7, "single", ("a", "b", "c"), "c"), Item(7, "single", ("a", "b", "c"), "a")
    assert [mark(it, Fraction(1), "A", "all") for it in (before, after, before, after)] == [0, 1, 0, 1]


@pytest.mark.parametrize(
    "broken",
    [
        Item(1, "single", ("a", "b"), "C"),
        Item(1, "single", ("a", "b"), ""),
        Item(1, "multiple", ("a", "b"), "AX"),
        Item(1, "truefalse", (), "maybe"),
        Item(1, "numeric", (), "three"),
        Item(1, "numeric", (), ""),
        Item(1, "numeric", (), "3", tolerance=Decimal("NaN")),
        Item(1, "numeric", (), "3", tolerance=Decimal("sNaN")),  # cannot be hashed: checked without the cache
    ],
)
def test_a_broken_key_is_refused_not_scored(broken):
    for response in ("A", "3", ""):
        with pytest.raises(ValueError, match="^item 1: the"):
            mark(broken, Fraction(1), response, "all")


def test_mark_refuses_a_bad_rule_or_negative_points():
    with pytest.raises(ValueError, match="^multiple:"):
        mark(SINGLE, Fraction(1), "B", "most")
    with pytest.raises(ValueError, match="^points:"):
        mark(SINGLE, Fraction(-1), "B", "all")


@given(
    st.sampled_from(ITEMS),
    st.fractions(min_value=0, max_value=100, max_denominator=100),
    st.one_of(st.text(max_size=8), st.sampled_from(["A", "B", "ACD", "AD", "T", "F", "3.3", "100", "对"])),
    st.sampled_from(["all", "partial"]),
)
def test_a_mark_is_between_nothing_and_the_points(it, points, response, rule):
    earned = mark(it, points, response, rule)
    assert isinstance(earned, Fraction)
    assert 0 <= earned <= points
    if rule == "all" or it.kind != "multiple":
        assert earned in (0, points)


@given(st.sampled_from(ITEMS), st.fractions(min_value=0, max_value=10, max_denominator=10))
def test_the_key_earns_full_points(it, points):
    assert mark(it, points, it.answer, "all") == mark(it, points, it.answer, "partial") == points


# ---------------------------------------------------------------- score


papers = st.lists(
    st.tuples(st.sampled_from(ITEMS), st.fractions(min_value=0, max_value=5, max_denominator=4)), max_size=10
)


@given(papers, st.lists(st.sampled_from(["", "A", "B", "AC", "ACD", "T", "F", "3.3", "100", "x"]), max_size=10))
def test_score_is_the_sum_of_the_marks(paper, answers):
    items = {it.ref: it for it, _ in paper}
    entries = [PaperItem(it.ref, points, ()) for it, points in paper]
    responses = dict(enumerate(answers))
    for rule in ("all", "partial"):
        expected = sum(
            (mark(it, points, responses.get(i, ""), rule) for i, (it, points) in enumerate(paper)), Fraction(0)
        )
        assert score(items, entries, responses, rule) == expected


def test_score_worked_example():
    items = {it.ref: it for it in ITEMS}
    paper = [
        PaperItem(1, Fraction(1), (0, 1, 2, 3)),
        PaperItem(2, Fraction(2), (0, 1, 2, 3, 4)),
        PaperItem(3, Fraction(1), ()),
        PaperItem(4, Fraction(3, 2), ()),
        PaperItem(5, Fraction(1, 3), ()),
    ]
    responses = {0: "B", 1: "AD", 2: "F", 3: "3.3"}  # position 4 unanswered
    assert score(items, paper, responses, "all") == Fraction(5, 2)
    assert score(items, paper, responses, "partial") == Fraction(5, 2) + Fraction(4, 3)


def test_score_refuses_an_unknown_item():
    with pytest.raises(ValueError, match=r"^paper\[1\]: item 99"):
        score({1: SINGLE}, [PaperItem(1, Fraction(1)), PaperItem(99, Fraction(1))], {}, "all")


# ---------------------------------------------------------------- scaled_cents


@pytest.mark.parametrize(
    ("points", "total", "maximum", "cents"),
    [
        (Fraction(173, 3), Fraction(100), Decimal("30"), 1730),
        (Fraction(100), Fraction(100), Decimal("30"), 3000),
        (Fraction(0), Fraction(100), Decimal("30"), 0),
        (Fraction(1, 8), Fraction(1), Decimal("1"), 13),  # 12.5 hundredths: half up
        (Fraction(1), Fraction(3), Decimal("100"), 3333),
        (Fraction(2), Fraction(3), Decimal("100"), 6667),
        (Fraction(1), Fraction(200), Decimal("1"), 1),  # 0.5 hundredths
        (Fraction(1), Fraction(201), Decimal("1"), 0),
        (Fraction(45, 2), Fraction(60), Decimal("30.5"), 1144),  # 11.4375
    ],
)
def test_scaled_cents_worked_examples(points, total, maximum, cents):
    assert scaled_cents(points, total, maximum) == cents


@given(
    st.fractions(min_value=0, max_value=1000, max_denominator=60),
    st.fractions(min_value=Fraction(1, 2), max_value=1000, max_denominator=8),
    st.decimals(min_value=1, max_value=1000, places=2),
)
@example(Fraction(61), Fraction(44), Decimal("317.90"))  # 440.725 exactly: a tie, rounded up to 440.73
def test_scaled_cents_match_decimal_half_up(points, total, maximum):
    with localcontext() as context:
        context.prec = 200  # far more digits than any boundary case here needs
        # One division, last: a quotient that ends (a tie such as 440.725) comes out exact at this precision.
        exact = Decimal(points.numerator * total.denominator) * maximum
        value = exact / Decimal(points.denominator * total.numerator)
        expected = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert scaled_cents(points, total, maximum) == int(expected * 100)


def test_scaled_cents_refuses_an_empty_paper():
    with pytest.raises(ValueError, match="^total:"):
        scaled_cents(Fraction(0), Fraction(0), Decimal(30))
    with pytest.raises(ValueError, match="^criterion_max:"):
        scaled_cents(Fraction(1), Fraction(2), Decimal("NaN"))


# ---------------------------------------------------------------- purity


CORE = [Path(comp.exams.__file__).parent / name for name in ("types.py", "papers.py", "grading.py", "analysis.py")]


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_the_core_imports_only_the_standard_library(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    foreign = [n for n in names if not (n.startswith("comp.exams") or n.partition(".")[0] in sys.stdlib_module_names)]
    assert foreign == []


@pytest.mark.parametrize("path", CORE[:3], ids=lambda p: p.name)
def test_grading_never_uses_float(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    floats = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "float"]
    floats += [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
    assert floats == []
