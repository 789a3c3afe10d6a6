"""Reading and checking the exchange-format rules, and checking a scheme."""

from decimal import Decimal as D

import pytest

from comp.scoring import (
    AwardTier,
    Criterion,
    RuleError,
    Rules,
    Scheme,
    Stage,
    check_scheme,
    parse_rules,
    rules_to_dict,
)

SCHEME = Scheme(
    (
        Stage("theory", "理论", D("30"), (Criterion("theory.exam", "考试", D("100")),)),
        Stage("practical", "实操", D("70"), (Criterion("practical.route", "航线", D("40")),)),
    )
)


def test_missing_keys_take_the_defaults():
    assert parse_rules({}, SCHEME, "competition") == Rules.default("competition")
    assert parse_rules(None, None, "rating") == Rules.default("rating")


def test_the_spec_example_rules():
    data = {
        "award_tiers": [
            {"name": "一等奖", "share": "0.10"},
            {"name": "二等奖", "share": "0.20"},
            {"name": "三等奖", "share": "0.30"},
        ],
        "award_min_total": "60",
        "tiebreak": ["stage:practical", "time"],
        "team_counted": 3,
        "discrepancy_share": "0.20",
    }
    assert parse_rules(data, SCHEME, "competition") == Rules()


def test_default_tiers_by_kind():
    assert [t.name for t in Rules.default("competition").award_tiers] == ["一等奖", "二等奖", "三等奖"]
    assert Rules(kind="rating").award_tiers == (
        AwardTier("五星", min=D("90")),
        AwardTier("四星", min=D("80")),
        AwardTier("三星", min=D("70")),
    )


def test_a_full_set_of_rules():
    data = {
        "award_tiers": [{"name": "金", "min": "85"}, {"name": "银", "min": "75.5"}],
        "award_min_total": "50",
        "tiebreak": ["criterion:practical.route", "time"],
        "team_counted": 5,
        "discrepancy_share": "0.15",
        "bias_threshold": "0.05",
        "notice_days": 7,
        "recusal": "declared",
    }
    rules = parse_rules(data, SCHEME, "rating")
    assert rules == Rules(
        "rating",
        (AwardTier("金", min=D("85")), AwardTier("银", min=D("75.5"))),
        D("50"),
        ("criterion:practical.route", "time"),
        5,
        D("0.15"),
        D("0.05"),
        7,
        "declared",
    )
    assert rules_to_dict(rules) == data


@pytest.mark.parametrize("kind", ["competition", "rating"])
def test_rules_to_dict_round_trips(kind):
    rules = Rules.default(kind)
    assert parse_rules(rules_to_dict(rules), SCHEME, kind) == rules
    assert rules_to_dict(rules, full=False) == {}
    changed = Rules(kind=kind, award_min_total=D("65"))
    assert rules_to_dict(changed, full=False) == {"award_min_total": "65"}


def test_tiers_by_a_fixed_number_of_places_round_trip():
    data = {
        "award_tiers": [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 3}, {"name": "三等奖", "count": 6}]
    }
    rules = parse_rules(data, SCHEME)
    assert [(t.name, t.count, t.share) for t in rules.award_tiers] == [
        ("一等奖", 1, None),
        ("二等奖", 3, None),
        ("三等奖", 6, None),
    ]
    assert rules_to_dict(rules, full=False) == data
    assert parse_rules(rules_to_dict(rules), SCHEME) == rules


@pytest.mark.parametrize(
    "data, problems",
    [
        ({"colour": "red"}, [("rules.colour", "unknown_rule", {"name": "colour"})]),
        (
            {"award_tiers": [{"name": "一等奖", "share": "0.10"}, {"name": "二等奖", "share": "1.5"}]},
            [("rules.award_tiers[1].share", "outside_open_low", {"value": D("1.5"), "low": 0, "high": 1})],
        ),
        (
            {"award_tiers": [{"name": "a", "share": "0"}]},
            [("rules.award_tiers[0].share", "outside_open_low", {"value": 0, "low": 0, "high": 1})],
        ),
        (
            {"award_tiers": [{"name": "a", "share": 0.1}]},
            [("rules.award_tiers[0].share", "decimal_as_text", {"value": 0.1})],
        ),
        (
            {"award_tiers": [{"name": "a", "share": "ten"}]},
            [("rules.award_tiers[0].share", "not_decimal", {"value": "ten"})],
        ),
        (
            {"award_tiers": [{"name": "a", "share": "0.6"}, {"name": "b", "share": "0.5"}]},
            [("rules.award_tiers", "shares_past_one", {"total": D("1.1")})],
        ),
        (
            {"award_tiers": [{"name": "a", "share": "0.1"}, {"name": "b", "min": "80"}]},
            [("rules.award_tiers", "tiers_mixed", {})],
        ),
        (
            {"award_tiers": [{"name": "a", "share": "0.1", "min": "80"}]},
            [("rules.award_tiers[0]", "tier_share_or_min", {})],
        ),
        (
            {"award_tiers": [{"name": "a", "count": 1, "share": "0.1"}]},
            [("rules.award_tiers[0]", "tier_share_or_min", {})],
        ),
        (
            {"recusal": "nobody"},
            [("rules.recusal", "not_one_of", {"value": "nobody", "choices": "employer, declared"})],
        ),
        (
            {"award_tiers": [{"name": "a", "count": 1}, {"name": "b", "share": "0.2"}]},
            [("rules.award_tiers", "tiers_mixed", {})],
        ),
        (
            {"award_tiers": [{"name": "a", "count": 0}, {"name": "b", "count": "3"}, {"name": "c", "count": 1.5}]},
            [
                ("rules.award_tiers[0].count", "below_minimum", {"value": 0, "min": 1}),
                ("rules.award_tiers[1].count", "not_whole", {"value": "3"}),
                ("rules.award_tiers[2].count", "not_whole", {"value": 1.5}),
            ],
        ),
        (
            {"award_tiers": [{"name": "a"}]},
            [("rules.award_tiers[0]", "tier_share_or_min", {})],
        ),
        (
            {"award_tiers": [{"name": "a", "min": "101"}, {"name": "b", "min": "-1"}]},
            [
                ("rules.award_tiers[0].min", "outside", {"value": 101, "low": 0, "high": 100}),
                ("rules.award_tiers[1].min", "outside", {"value": -1, "low": 0, "high": 100}),
            ],
        ),
        (
            {"award_tiers": [{"name": "a", "min": "70"}, {"name": "b", "min": "80"}]},
            [("rules.award_tiers[1].min", "min_order", {"min": 80, "above": 70})],
        ),
        (
            {"award_tiers": [{"name": "a", "min": "90"}, {"name": "a", "min": "80"}]},
            [("rules.award_tiers", "tier_name_twice", {"name": "a"})],
        ),
        (
            {"award_tiers": [{"name": "", "min": "90", "prize": 1}]},
            [
                ("rules.award_tiers[0].prize", "tier_field", {"field": "prize"}),
                ("rules.award_tiers[0].name", "tier_name", {}),
            ],
        ),
        ({"award_tiers": "一等奖"}, [("rules.award_tiers", "tiers_list", {})]),
        (
            {"tiebreak": ["stage:practical", "speed", "criterion:practical"]},
            [
                ("rules.tiebreak[1]", "tiebreak_syntax", {"value": "speed"}),
                ("rules.tiebreak[2]", "tiebreak_syntax", {"value": "criterion:practical"}),
            ],
        ),
        (
            {"tiebreak": ["stage:final", "criterion:practical.speed", "time", "time"]},
            [
                ("rules.tiebreak[0]", "tiebreak_no_stage", {"name": "final"}),
                ("rules.tiebreak[1]", "tiebreak_no_criterion", {"name": "practical.speed"}),
                ("rules.tiebreak[3]", "twice", {"value": "time"}),
            ],
        ),
        ({"team_counted": 0}, [("rules.team_counted", "below_minimum", {"value": 0, "min": 1})]),
        ({"team_counted": "3"}, [("rules.team_counted", "not_whole", {"value": "3"})]),
        ({"notice_days": -1}, [("rules.notice_days", "below_minimum", {"value": -1, "min": 0})]),
        (
            {"discrepancy_share": "0"},
            [("rules.discrepancy_share", "outside_open_low", {"value": 0, "low": 0, "high": 1})],
        ),
        (
            {"discrepancy_share": "1.01"},
            [("rules.discrepancy_share", "outside_open_low", {"value": D("1.01"), "low": 0, "high": 1})],
        ),
        ({"bias_threshold": "NaN"}, [("rules.bias_threshold", "not_decimal", {"value": "NaN"})]),
        (
            {"award_min_total": "100.5"},
            [("rules.award_min_total", "outside", {"value": D("100.5"), "low": 0, "high": 100})],
        ),
    ],
)
def test_every_problem_is_reported(data, problems):
    with pytest.raises(RuleError) as caught:
        parse_rules(data, SCHEME, "competition")
    assert caught.value.problems == problems


def test_problems_are_collected_not_stopped_at():
    data = {"colour": 1, "team_counted": 0, "discrepancy_share": "2", "award_tiers": [{"name": "a", "share": "2"}]}
    with pytest.raises(RuleError) as caught:
        parse_rules(data, SCHEME, "competition")
    assert [path for path, _code, _params in caught.value.problems] == [
        "rules.colour",
        "rules.award_tiers[0].share",
        "rules.team_counted",
        "rules.discrepancy_share",
    ]
    assert "rules.team_counted: below_minimum" in str(caught.value)


def test_an_organizer_chain_is_checked_only_against_a_given_scheme():
    data = {"tiebreak": ["stage:final"]}
    assert parse_rules(data, None, "competition").tiebreak == ("stage:final",)
    no_practical = Scheme(SCHEME.stages[:1])
    # The default chain names stage:practical and is simply skipped where it does not apply.
    assert parse_rules({}, no_practical, "competition").tiebreak == ("stage:practical", "time")


def test_not_an_object_or_unknown_kind():
    with pytest.raises(RuleError, match="rules: rules_object"):
        parse_rules(["a"], None, "competition")
    with pytest.raises(RuleError, match="competition.kind"):
        parse_rules({}, None, "contest")


def crit(key, max="10", **extra):
    """Build a criterion with a decimal maximum."""
    return Criterion(key, key, D(max), **extra)


@pytest.mark.parametrize(
    "stages, problems",
    [
        ((Stage("p", "P", D("1"), (crit("p.a"),)),), []),
        ((), [("stages", "no_stages", {})]),
        ((Stage("p", "P", D("1"), (crit("p.a", aggregation="trimmed", trim=2, expected=5),)),), []),
        (
            (Stage("p", "P", D("1"), (crit("p.a", aggregation="trimmed", trim=2, expected=4),)),),
            [("stages[0].criteria[0].trim", "trim_leaves_nothing", {"trim": 2, "expected": 4})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", aggregation="mean", trim=2),)),),
            [("stages[0].criteria[0].trim", "trim_not_trimmed", {"trim": 2})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", aggregation="trimmed", trim=0),)),),
            [("stages[0].criteria[0].trim", "not_count", {"value": 0})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", "0"), crit("p.b", "-5"))),),
            [
                ("stages[0].criteria[0].max", "not_positive", {"value": 0}),
                ("stages[0].criteria[1].max", "not_positive", {"value": -5}),
            ],
        ),
        (
            (Stage("p", "P", D("-1"), (crit("p.a"),)), Stage("q", "Q", D("1"), (crit("q.a"),))),
            [
                ("stages[0].weight", "negative", {"value": -1}),
                ("stages", "zero_weights", {}),
            ],
        ),
        ((Stage("p", "P", D("0"), (crit("p.a"),)),), [("stages", "zero_weights", {})]),
        (
            (Stage("p", "P", D("1"), (crit("p.a"),)), Stage("p", "P", D("1"), (crit("p.b"),))),
            [("stages[1].key", "twice", {"value": "p"})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a"), crit("p.a"))),),
            [("stages[0].criteria[1].key", "twice", {"value": "p.a"})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("q.a"),)),),
            [("stages[0].criteria[0].key", "criterion_key", {"value": "q.a", "stage": "p"})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", kind="bonus", aggregation="max"),)),),
            [
                ("stages[0].criteria[0].kind", "not_one_of", {"value": "bonus", "choices": "score, deduction"}),
                (
                    "stages[0].criteria[0].aggregation",
                    "not_one_of",
                    {"value": "max", "choices": "mean, trimmed, median, single"},
                ),
                ("stages[0].criteria", "no_score_criterion", {}),
            ],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", kind="deduction"),)),),
            [("stages[0].criteria", "no_score_criterion", {})],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", step=D("0")), crit("p.b", step=D("0.125")))),),
            [
                ("stages[0].criteria[0].step", "not_positive", {"value": 0}),
                ("stages[0].criteria[1].step", "too_many_places", {"value": D("0.125")}),
            ],
        ),
        (
            (Stage("p", "P", D("1"), (crit("p.a", expected=0), crit("p.b", aggregation="single", expected=3))),),
            [
                ("stages[0].criteria[0].expected", "not_count", {"value": 0}),
                ("stages[0].criteria[1].expected", "single_one_mark", {}),
            ],
        ),
    ],
)
def test_check_scheme(stages, problems):
    assert check_scheme(Scheme(stages)) == problems
