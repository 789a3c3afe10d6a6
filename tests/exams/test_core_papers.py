"""Blueprints and seeded papers (comp.exams.papers): parsing, the pool check, the draw, option letters."""

import itertools
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from comp.exams import (
    KINDS,
    Blueprint,
    Item,
    PaperItem,
    Section,
    blueprint_data,
    draw,
    fraction_text,
    paper_data,
    paper_from,
    papers,
    parse_blueprint,
    shortfalls,
    shown_to_stored,
    stored_to_shown,
    total_points,
)

AREAS = ("", "茶史", "审评")


def item(ref, kind="single", area="", difficulty=3, options=4):
    opts = tuple(f"option {i}" for i in range(options)) if kind in ("single", "multiple") else ()
    answer = {"single": "B", "multiple": "AC", "truefalse": "T", "numeric": "3.25"}[kind]
    return Item(ref=ref, kind=kind, options=opts, answer=answer, area=area, difficulty=difficulty)


# ---------------------------------------------------------------- strategies


@st.composite
def items(draw_, refs):
    kind = draw_(st.sampled_from(KINDS))
    return item(
        draw_(refs),
        kind=kind,
        area=draw_(st.sampled_from(AREAS[1:])),
        difficulty=draw_(st.integers(1, 5)),
        options=draw_(st.integers(2, 8)),
    )


pools = st.lists(st.integers(1, 10_000), max_size=40, unique=True).flatmap(
    lambda refs: st.tuples(*[items(st.just(ref)) for ref in refs])
)
sections = st.builds(
    Section,
    kind=st.sampled_from(KINDS),
    count=st.integers(1, 6),
    points=st.sampled_from([Fraction(1), Fraction(2), Fraction(1, 2), Fraction(5, 4)]),
    area=st.sampled_from(AREAS),
    difficulty=st.one_of(st.none(), st.integers(1, 5)),
)
blueprints = st.builds(
    Blueprint,
    sections=st.lists(sections, min_size=1, max_size=4).map(tuple),
    multiple=st.sampled_from(["all", "partial"]),
    shuffle_items=st.booleans(),
    shuffle_options=st.booleans(),
)


def feasible(bp, pool):
    """Cut the blueprint's sections down to what the pool can give (sections are filled in order)."""
    got = {i: available for i, _, available in shortfalls(bp, pool)}
    kept = tuple(
        Section(s.kind, got.get(i, s.count), s.points, s.area, s.difficulty)
        for i, s in enumerate(bp.sections)
        if got.get(i, s.count)
    )
    assume(kept)
    fixed = Blueprint(kept, bp.multiple, bp.shuffle_items, bp.shuffle_options)
    assert shortfalls(fixed, pool) == []
    return fixed


def fits(section, it):
    return (
        section.kind == it.kind
        and (not section.area or section.area == it.area)
        and (section.difficulty is None or section.difficulty == it.difficulty)
    )


def deficiency(bp, pool):
    """How many items the pool lacks for the blueprint, by the defect form of Hall's theorem (independent)."""
    worst = 0
    for size in range(1, len(bp.sections) + 1):
        for chosen in itertools.combinations(bp.sections, size):
            wanted = sum(s.count for s in chosen)
            reachable = sum(1 for it in pool if any(fits(s, it) for s in chosen))
            worst = max(worst, wanted - reachable)
    return worst


def assignment_exists(bp, pool, paper):
    """Tell whether the paper's items can be split among the sections, each section's count of fitting items."""
    by_ref = {it.ref: it for it in pool}
    drawn = [by_ref[p.ref] for p in paper]
    slots = [s for s in bp.sections for _ in range(s.count)]
    # a small bipartite matching (Kuhn) between slots and drawn items
    owner = {}

    def place(slot, seen):
        for index, it in enumerate(drawn):
            if fits(slots[slot], it) and index not in seen:
                seen.add(index)
                if index not in owner or place(owner[index], seen):
                    owner[index] = slot
                    return True
        return False

    return all(place(slot, set()) for slot in range(len(slots)))


# ---------------------------------------------------------------- the draw: properties


@given(blueprints, pools, st.text(max_size=8), st.text(max_size=8), st.randoms(use_true_random=False))
def test_draw_is_deterministic_and_ignores_pool_order(bp, pool, seed, candidate, rnd):
    bp = feasible(bp, pool)
    shuffled = list(pool)
    rnd.shuffle(shuffled)
    paper = draw(bp, pool, seed, candidate)
    assert draw(bp, pool, seed, candidate) == paper
    assert draw(bp, shuffled, seed, candidate) == paper


@given(blueprints, pools, st.text(max_size=8), st.text(max_size=8))
def test_draw_fills_every_section_without_repeats(bp, pool, seed, candidate):
    bp = feasible(bp, pool)
    paper = draw(bp, pool, seed, candidate)
    refs = [p.ref for p in paper]
    assert len(refs) == len(set(refs)) == sum(s.count for s in bp.sections)
    assert set(refs) <= {it.ref for it in pool}
    assert sum((p.points for p in paper), Fraction(0)) == total_points(bp)
    assert assignment_exists(bp, pool, paper)
    by_ref = {it.ref: it for it in pool}
    for p in paper:
        it = by_ref[p.ref]
        assert sorted(p.order) == list(range(len(it.options)))
        if not bp.shuffle_options or it.kind not in ("single", "multiple"):
            assert p.order == tuple(range(len(it.options)))


@given(blueprints, pools, st.text(max_size=8), st.text(max_size=8))
def test_unshuffled_papers_follow_the_sections(bp, pool, seed, candidate):
    bp = feasible(Blueprint(bp.sections, bp.multiple, shuffle_items=False, shuffle_options=bp.shuffle_options), pool)
    paper = draw(bp, pool, seed, candidate)
    by_ref = {it.ref: it for it in pool}
    start = 0
    for section in bp.sections:
        part = paper[start : start + section.count]
        start += section.count
        assert all(fits(section, by_ref[p.ref]) and p.points == section.points for p in part)
        assert [p.ref for p in part] == sorted(p.ref for p in part)
    shuffled = draw(Blueprint(bp.sections, bp.multiple, True, bp.shuffle_options), pool, seed, candidate)
    assert sorted(p.ref for p in shuffled) == sorted(p.ref for p in paper)  # shuffling items only reorders


@given(blueprints, pools)
def test_shortfalls_match_halls_theorem_and_the_draw(bp, pool):
    short = shortfalls(bp, pool)
    assert sum(needed - available for _, needed, available in short) == deficiency(bp, pool)
    assert all(0 <= available < needed == bp.sections[i].count for i, needed, available in short)
    if short:
        with pytest.raises(ValueError, match=rf"^sections\[{short[0][0]}\]"):
            draw(bp, pool, "seed", "c")
    else:
        assert len(draw(bp, pool, "seed", "c")) == sum(s.count for s in bp.sections)


# ---------------------------------------------------------------- the draw: worked examples


def test_overlapping_sections_never_starve_a_later_one():
    # Section 0 takes any single, section 1 needs the two 审评 singles: a naive random draw would fail often.
    pool = [item(1, area="审评"), item(2, area="审评"), item(3, area="茶史"), item(4, area="茶史")]
    bp = Blueprint(
        (Section("single", 2, Fraction(1)), Section("single", 2, Fraction(2), area="审评")), shuffle_items=False
    )
    assert shortfalls(bp, pool) == []
    for candidate in range(50):
        paper = draw(bp, pool, "s", str(candidate))
        assert [p.ref for p in paper] == [3, 4, 1, 2]


def test_shortfalls_count_what_earlier_sections_consume():
    pool = [item(1, area="审评"), item(2, area="审评"), item(3), item(4, kind="truefalse")]
    bp = Blueprint(
        (
            Section("single", 2, Fraction(1), area="审评"),
            Section("single", 2, Fraction(1)),
            Section("truefalse", 3, Fraction(1)),
            Section("numeric", 1, Fraction(1)),
        )
    )
    assert shortfalls(bp, pool) == [(1, 2, 1), (2, 3, 1), (3, 1, 0)]
    with pytest.raises(ValueError, match=r"^sections\[1\]: 2 items needed, 1 available$"):
        draw(bp, pool, "s", "c")


def test_filters_by_difficulty_and_area():
    pool = [item(r, difficulty=d, area=a) for r, (d, a) in enumerate(itertools.product(range(1, 6), AREAS[1:]))]
    hard_history = Blueprint((Section("single", 2, Fraction(1), area="茶史", difficulty=5),))
    assert shortfalls(hard_history, pool) == [(0, 2, 1)]
    with pytest.raises(ValueError, match=r"^sections\[0\]: 2 items needed, 1 available$"):
        draw(hard_history, pool, "s", "c")
    (only,) = draw(Blueprint((Section("single", 1, Fraction(1), area="茶史", difficulty=5),)), pool, "s", "c")
    assert only.ref == next(it.ref for it in pool if it.area == "茶史" and it.difficulty == 5)
    any_area = draw(Blueprint((Section("single", 2, Fraction(1), difficulty=5),)), pool, "s", "c")
    assert sorted(p.ref for p in any_area) == [it.ref for it in pool if it.difficulty == 5]
    assert shortfalls(Blueprint((Section("multiple", 1, Fraction(1)),)), pool) == [(0, 1, 0)]


def test_candidates_get_different_papers_and_seeds_matter():
    pool = [item(r, options=5) for r in range(1, 201)]
    bp = Blueprint((Section("single", 20, Fraction(1)),))
    papers = {draw(bp, pool, "2026-tea", f"E{n}") for n in range(30)}
    assert len(papers) == 30
    assert draw(bp, pool, "2026-tea", "E1") != draw(bp, pool, "2026-teb", "E1")


def test_a_recorded_paper_is_rebuilt_exactly():
    # Papers are rebuilt from the seed long after the exam: this pins the draw so a change to it shows.
    pool = [item(r, kind=("single", "multiple", "truefalse")[r % 3], options=4) for r in range(1, 13)]
    bp = Blueprint(
        (Section("single", 2, Fraction(1)), Section("multiple", 2, Fraction(2)), Section("truefalse", 1, Fraction(1)))
    )
    assert paper_data(draw(bp, pool, "seed-1", "entrant-7")) == [
        {"v": 3, "p": "1", "o": [1, 3, 0, 2]},
        {"v": 5, "p": "1", "o": []},
        {"v": 7, "p": "2", "o": [3, 0, 1, 2]},
        {"v": 4, "p": "2", "o": [2, 3, 1, 0]},
        {"v": 12, "p": "1", "o": [2, 3, 1, 0]},
    ]


def test_the_draw_does_not_use_python_hash():
    text = Path(papers.__file__).read_text(encoding="utf-8")
    assert "hash(" not in text.replace("hashlib", "")


def test_duplicate_refs_in_the_pool_are_refused():
    with pytest.raises(ValueError, match="appears twice"):
        draw(Blueprint((Section("single", 1, Fraction(1)),)), [item(1), item(1)], "s", "c")


# ---------------------------------------------------------------- blueprint JSON


GOOD = {
    "sections": [
        {"kind": "single", "count": 40, "points": "1", "area": "", "difficulty": None},
        {"kind": "multiple", "count": "10", "points": "2.5", "area": " 审评 ", "difficulty": "4"},
        {"kind": "numeric", "count": 1, "points": 3},
    ],
    "multiple": "partial",
    "shuffle_items": False,
    "shuffle_options": True,
}


def test_parse_blueprint_reads_the_json_form():
    bp = parse_blueprint(GOOD)
    assert bp == Blueprint(
        (
            Section("single", 40, Fraction(1)),
            Section("multiple", 10, Fraction(5, 2), area="审评", difficulty=4),
            Section("numeric", 1, Fraction(3)),
        ),
        multiple="partial",
        shuffle_items=False,
        shuffle_options=True,
    )
    assert total_points(bp) == 68
    assert blueprint_data(bp)["sections"][1] == {
        "kind": "multiple",
        "count": 10,
        "points": "2.5",
        "area": "审评",
        "difficulty": 4,
    }
    assert parse_blueprint({"sections": [{"kind": "truefalse", "count": 1, "points": "1"}]}) == Blueprint(
        (Section("truefalse", 1, Fraction(1)),), "all", True, True
    )


@given(blueprints)
def test_blueprint_json_round_trips(bp):
    assert parse_blueprint(blueprint_data(bp)) == bp


def section(**changes):
    return {"sections": [{"kind": "single", "count": 1, "points": "1", **changes}]}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "blueprint"),
        ({}, "sections"),
        ({"sections": []}, "sections"),
        ({"sections": "single"}, "sections"),
        ({"sections": ["single"]}, r"sections\[0\]"),
        (section(kind="essay"), r"sections\[0\]\.kind"),
        (section(kind=None), r"sections\[0\]\.kind"),
        (section(count=0), r"sections\[0\]\.count"),
        (section(count=-3), r"sections\[0\]\.count"),
        (section(count=1.0), r"sections\[0\]\.count"),
        (section(count=True), r"sections\[0\]\.count"),
        (section(count="2.5"), r"sections\[0\]\.count"),
        (section(count="１"), r"sections\[0\]\.count"),
        (section(count=None), r"sections\[0\]\.count"),
        (section(points="0"), r"sections\[0\]\.points"),
        (section(points="-1"), r"sections\[0\]\.points"),
        (section(points="abc"), r"sections\[0\]\.points"),
        (section(points="NaN"), r"sections\[0\]\.points"),
        (section(points="Infinity"), r"sections\[0\]\.points"),
        (section(points=0.5), r"sections\[0\]\.points"),
        (section(points=True), r"sections\[0\]\.points"),
        (section(points=None), r"sections\[0\]\.points"),
        (section(points="1/3"), r"sections\[0\]\.points"),
        (section(difficulty=0), r"sections\[0\]\.difficulty"),
        (section(difficulty=6), r"sections\[0\]\.difficulty"),
        (section(difficulty="hard"), r"sections\[0\]\.difficulty"),
        (section(difficulty=True), r"sections\[0\]\.difficulty"),
        (section(area=3), r"sections\[0\]\.area"),
        ({**section(), "multiple": "some"}, "multiple"),
        ({**section(), "multiple": None}, "multiple"),
        ({**section(), "shuffle_items": "yes"}, "shuffle_items"),
        ({**section(), "shuffle_options": 1}, "shuffle_options"),
    ],
)
def test_parse_blueprint_names_the_bad_field(data, field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        parse_blueprint(data)


def test_the_bad_field_is_named_by_its_index():
    data = {"sections": [{"kind": "single", "count": 1, "points": "1"}, {"kind": "single", "count": 0, "points": "1"}]}
    with pytest.raises(ValueError, match=r"^sections\[1\]\.count:"):
        parse_blueprint(data)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(2), "2"),
        (Fraction(5, 2), "2.5"),
        (Fraction(1, 8), "0.125"),
        (Fraction(1, 3), "1/3"),
        (Fraction(0), "0"),
    ],
)
def test_fraction_text_is_exact(value, text):
    assert fraction_text(value) == text


# ---------------------------------------------------------------- paper JSON


@given(blueprints, pools, st.text(max_size=8))
def test_paper_json_round_trips(bp, pool, candidate):
    bp = feasible(bp, pool)
    paper = draw(bp, pool, "s", candidate)
    assert paper_from(paper_data(paper)) == paper


def test_paper_json_form():
    paper = (PaperItem(7, Fraction(3, 2), (2, 0, 1)), PaperItem(9, Fraction(1, 3), ()))
    assert paper_data(paper) == [{"v": 7, "p": "1.5", "o": [2, 0, 1]}, {"v": 9, "p": "1/3", "o": []}]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"v": 1}, "paper"),
        ([{"v": "1", "p": "1", "o": []}], r"paper\[0\]\.v"),
        ([{"v": True, "p": "1", "o": []}], r"paper\[0\]\.v"),
        ([{"p": "1", "o": []}], r"paper\[0\]\.v"),
        ([{"v": 1, "p": 1, "o": []}], r"paper\[0\]\.p"),
        ([{"v": 1, "p": "x", "o": []}], r"paper\[0\]\.p"),
        ([{"v": 1, "p": "1/0", "o": []}], r"paper\[0\]\.p"),
        ([{"v": 1, "p": "-1", "o": []}], r"paper\[0\]\.p"),
        ([{"v": 1, "p": "1", "o": [0, 0]}], r"paper\[0\]\.o"),
        ([{"v": 1, "p": "1", "o": [1, 2]}], r"paper\[0\]\.o"),
        ([{"v": 1, "p": "1", "o": "01"}], r"paper\[0\]\.o"),
        ([{"v": 1, "p": "1", "o": [False, True]}], r"paper\[0\]\.o"),
        ([{"v": 1, "p": "1", "o": []}, 5], r"paper\[1\]"),
        # A point text parsed once for the paper is still checked where it is bad, at the entry that has it.
        ([{"v": 1, "p": "1", "o": []}, {"v": 2, "p": 1, "o": []}], r"paper\[1\]\.p"),
        ([{"v": 1, "p": "x", "o": []}, {"v": 2, "p": "x", "o": []}], r"paper\[0\]\.p"),
        ([{"v": 1, "p": "1", "o": []}, {"v": 2, "p": "1", "o": [1, 1]}], r"paper\[1\]\.o"),
    ],
)
def test_paper_from_names_the_bad_entry(data, field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        paper_from(data)


def test_paper_from_gives_each_entry_the_points_of_its_own_text():
    data = [{"v": i, "p": p, "o": []} for i, p in enumerate(["1", " 1", "0.5", "1", "1/3", "0.5"])]
    assert [e.points for e in paper_from(data)] == [1, 1, Fraction(1, 2), 1, Fraction(1, 3), Fraction(1, 2)]


# ---------------------------------------------------------------- option letters


def test_letters_map_between_shown_and_stored():
    order = (2, 0, 3, 1)  # shown A is stored C, shown B stored A, shown C stored D, shown D stored B
    assert shown_to_stored("A", order) == "C"
    assert shown_to_stored("ca", order) == "CD"
    assert shown_to_stored("DB", order) == "AB"
    assert stored_to_shown("C", order) == "A"
    assert stored_to_shown("AB", order) == "BD"
    assert shown_to_stored("", order) == stored_to_shown("", order) == ""
    assert shown_to_stored("T", ()) == "T" and stored_to_shown("3.25", ()) == "3.25"
    for bad in ("E", "1", "A B", "Ａ"):
        with pytest.raises(ValueError):
            shown_to_stored(bad, order)
        with pytest.raises(ValueError):
            stored_to_shown(bad, order)


@given(st.permutations(range(6)), st.sets(st.integers(0, 5)))
def test_shown_and_stored_letters_round_trip(order, chosen):
    shown = "".join("ABCDEF"[i] for i in sorted(chosen))
    stored = shown_to_stored(shown, order)
    assert len(stored) == len(shown)
    assert stored_to_shown(stored, order) == shown
    assert shown_to_stored(stored_to_shown(stored, order), order) == stored
    assert Counter(stored) == Counter(set(stored))
