"""The honours pipeline's pure rules: parsing with paths, who qualifies, ties, grades."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comp.scoring import outcomes as o

ISSUE = {
    "rules": [
        {"places": [1, 1], "honours": ["技术能手", "五一劳动奖章"]},
        {"places": [1, 5], "promote": 1},
        {"places": [6, 15], "grade": 3},
    ]
}


def placed(*ranks, grade=4):
    return [o.Placed(f"E{i}", rank, None, grade) for i, rank in enumerate(ranks, 1)]


def test_parse_round_trips():
    rules = o.parse_outcomes(ISSUE)
    assert [o.rule_to_dict(r) for r in rules] == ISSUE["rules"]
    assert o.parse_outcomes({}) == () and o.parse_outcomes(None) == ()


@pytest.mark.parametrize(
    "data, path, code",
    [
        ({"rules": "x"}, "outcomes.rules", "rules_list"),
        ({"rules": [5]}, "outcomes.rules[0]", "rule_object"),
        ({"rules": [{"places": [3, 1], "promote": 1}]}, "outcomes.rules[0].places", "places_order"),
        ({"rules": [{"places": [0, 1], "promote": 1}]}, "outcomes.rules[0].places[0]", "out_of_range"),
        ({"rules": [{"places": [1], "promote": 1}]}, "outcomes.rules[0].places", "places_pair"),
        ({"rules": [{"places": [1, "2"], "promote": 1}]}, "outcomes.rules[0].places[1]", "not_integer"),
        ({"rules": [{"places": [1, 2]}]}, "outcomes.rules[0]", "no_effect"),
        ({"rules": [{"places": [1, 2], "grade": 6}]}, "outcomes.rules[0].grade", "out_of_range"),
        ({"rules": [{"places": [1, 2], "promote": 9}]}, "outcomes.rules[0].promote", "out_of_range"),
        ({"rules": [{"places": [1, 2], "honours": [""]}]}, "outcomes.rules[0].honours[0]", "honour_title"),
        ({"rules": [{"places": [1, 2], "honours": "技术能手"}]}, "outcomes.rules[0].honours", "honours_list"),
        ({"rules": [{"award": " ", "promote": 1}]}, "outcomes.rules[0].award", "empty_award"),
        ({"rules": [{"places": [1, True], "promote": 1}]}, "outcomes.rules[0].places[1]", "not_integer"),
    ],
)
def test_every_problem_has_its_path(data, path, code):
    with pytest.raises(o.OutcomeError) as caught:
        o.parse_outcomes(data)
    assert (path, code) in [(p, c) for p, c, _ in caught.value.problems]


def test_all_problems_are_reported_at_once():
    with pytest.raises(o.OutcomeError) as caught:
        o.parse_outcomes({"rules": [{"places": [2, 1], "promote": 1}, {"places": [1, 1]}]})
    assert [p for p, _, _ in caught.value.problems] == ["outcomes.rules[0].places", "outcomes.rules[1]"]


def test_the_issue_example():
    rules = o.parse_outcomes(ISSUE)
    got = {e.key: (e.rank, e.honours, e.grade_to) for e in o.earned(rules, placed(1, 2, 5, 6, 15, 16))}
    assert got == {
        "E1": (1, ("技术能手", "五一劳动奖章"), 3),
        "E2": (2, (), 3),
        "E3": (5, (), 3),
        "E4": (6, (), 3),
        "E5": (15, (), 3),
    }


def test_ties_on_the_last_place_bring_every_tied_entrant_in():
    rules = o.parse_outcomes({"rules": [{"places": [1, 3], "honours": ["泉州工匠"]}]})
    got = [e.key for e in o.earned(rules, placed(1, 2, 3, 3, 3, 6))]
    assert got == ["E1", "E2", "E3", "E4", "E5"]
    tied_first = o.earned(rules, placed(1, 1, 3))
    assert [(e.key, e.rank) for e in tied_first] == [("E1", 1), ("E2", 1), ("E3", 3)]


def test_unranked_entrants_never_qualify():
    rules = o.parse_outcomes({"rules": [{"places": [1, 100], "promote": 1}]})
    assert o.earned(rules, placed(None, 1)) == [o.Earned("E2", 1, (), 3)]


def test_award_rules():
    rules = o.parse_outcomes({"rules": [{"award": "一等奖", "honours": ["技术能手"]}]})
    entrants = [o.Placed("A", 1, "一等奖", 3), o.Placed("B", 2, "二等奖", 3)]
    assert [e.key for e in o.earned(rules, entrants)] == ["A"]


@pytest.mark.parametrize(
    "grade, rules, expected",
    [
        (4, [{"promote": 1}], (3, False)),
        (1, [{"promote": 1}], (None, False)),  # already at the top grade
        (2, [{"promote": 2}], (1, False)),  # never beyond 一级
        (5, [{"grade": 3}], (3, False)),
        (2, [{"grade": 3}], (None, False)),  # never lowers a grade
        (None, [{"grade": 3}], (3, False)),  # an unknown grade takes the floor
        (None, [{"promote": 1}], (None, True)),  # a promotion needs a known grade
        (4, [{"promote": 1}, {"grade": 2}], (2, False)),  # the best of several rules
    ],
)
def test_grade_target(grade, rules, expected):
    parsed = o.parse_outcomes({"rules": [{"places": [1, 1], **r} for r in rules]})
    assert o.grade_target(parsed, grade) == expected


@given(st.lists(st.one_of(st.none(), st.integers(1, 30)), max_size=40), st.integers(1, 20), st.integers(0, 10))
def test_earned_is_exactly_the_ranks_in_range(ranks, first, extra):
    rules = o.parse_outcomes({"rules": [{"places": [first, first + extra], "honours": ["技术能手"]}]})
    got = sorted(e.key for e in o.earned(rules, placed(*ranks)))
    expected = sorted(f"E{i}" for i, r in enumerate(ranks, 1) if r is not None and first <= r <= first + extra)
    assert got == expected
