"""The set-up service: creating and editing a competition's details, scheme and rules, cloning."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from comp import scoring
from comp.extensions import db
from comp.models import AuditEvent, Competition, Entrant, JudgeAssignment, Stage
from comp.services import ServiceError, setup
from comp.services.results import scheme_of
from comp.services.setup import SetupError
from comp.services.setup import scheme as setup_scheme


@pytest.fixture(autouse=True)
def english():
    """Read the services' messages in English."""
    with force_locale("en"):
        yield


def details(**overrides) -> dict:
    """Return valid details of a new competition, with overrides."""
    data = {
        "code": "QZ-2027-TEA",
        "name": "2027年泉州市评茶师职工技能竞赛",
        "kind": "competition",
        "unit_kind": None,
        "trade": "评茶师",
        "level": "city",
        "year": 2027,
        "organizer_unit_id": None,
        "registration_opens": datetime(2027, 3, 1, 1, 0),
        "registration_closes": datetime(2027, 3, 31, 9, 0),
        "capacity": 200,
        "team_by": "team",
        "eligibility": {
            "trades": ["评茶师", " 茶艺师 ", ""],
            "age_min": 18,
            "age_max": 60,
            "min_grade": 4,
            "counties": [],
        },
    }
    data.update(overrides)
    return data


def actions() -> list[str]:
    """Return the audited actions, oldest first."""
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture()
def draft(organizer, tree):
    """Return an empty draft competition organized by the city union."""
    return setup.create_competition(details(organizer_unit_id=tree["city"].id), organizer)


def stage(competition, key="practical", name="实际操作", weight="70", actor=None):
    """Add a stage and return it."""
    return setup_scheme.add_stage(competition, {"key": key, "name": name, "weight": weight}, actor)


def criterion(parent, key="route", maximum="40", actor=None, **fields):
    """Add a criterion and return it."""
    data = {
        "key": key,
        "name": key.title(),
        "kind": "score",
        "aggregation": "mean",
        "max_value": maximum,
        "step": None,
        "fixed_scale": False,
        **fields,
    }
    return setup_scheme.add_criterion(parent, data, actor)


# ---------------------------------------------------------------- details


def test_create_competition_stores_a_draft_with_its_eligibility(organizer, tree):
    counties = [tree["jinjiang"].id, tree["shishi"].id]
    competition = setup.create_competition(
        details(
            organizer_unit_id=tree["city"].id,
            eligibility={
                "trades": ["评茶师", " 茶艺师 ", "评茶师"],
                "age_min": 18,
                "age_max": 60,
                "min_grade": 4,
                "counties": counties,
            },
        ),
        organizer,
    )
    assert competition.status == "draft" and competition.organizer == "泉州市总工会"
    assert competition.eligibility == {
        "trades": ["评茶师", "茶艺师"],
        "age_min": 18,
        "age_max": 60,
        "min_grade": 4,
        "counties": counties,
    }
    assert competition.created_by_id == organizer.id
    assert actions() == ["competition.created"]


def test_empty_eligibility_is_stored_empty(organizer, tree):
    competition = setup.create_competition(
        details(
            organizer_unit_id=tree["city"].id,
            eligibility={"trades": [], "age_min": None, "age_max": None, "min_grade": None, "counties": []},
        ),
        organizer,
    )
    assert competition.eligibility == {}


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"code": "QZ 2027"}, "code", "letters, digits"),
        ({"code": ""}, "code", "letters, digits"),
        ({"name": "  "}, "name", "name"),
        ({"kind": "contest"}, "kind", "competition or rating"),
        ({"kind": "rating", "unit_kind": None}, "unit_kind", "studios or teams"),
        ({"level": "province"}, "level", "level"),
        ({"year": 1850}, "year", "1990"),
        ({"capacity": 0}, "capacity", "at least 1"),
        ({"team_by": "school"}, "team_by", "team, employer or county"),
        ({"registration_closes": datetime(2027, 2, 1)}, "registration_closes", "close after it opens"),
        ({"eligibility": {"age_min": 50, "age_max": 20}}, "age_max", "below the minimum age"),
        ({"eligibility": {"age_min": 0}}, "age_min", "between 1 and 100"),
        ({"eligibility": {"min_grade": 7}}, "min_grade", "grade from 1 to 5"),
        ({"organizer_unit_id": 999_999}, "organizer_unit_id", "organizing union"),
    ],
)
def test_create_refuses_each_bad_field_by_name(organizer, tree, overrides, field, words):
    with pytest.raises(SetupError) as refused:
        setup.create_competition(details(organizer_unit_id=tree["city"].id) | overrides, organizer)
    assert field in refused.value.problems and words in refused.value.problems[field]
    assert db.session.scalar(sa.select(sa.func.count(Competition.id))) == 0


def test_create_refuses_a_county_that_is_not_one(organizer, tree):
    with pytest.raises(SetupError) as refused:
        setup.create_competition(
            details(organizer_unit_id=tree["city"].id, eligibility={"counties": [tree["firm"].id]}), organizer
        )
    assert "county unions" in refused.value.problems["counties"]


def test_create_refuses_a_code_already_used(draft, organizer, tree):
    with pytest.raises(SetupError) as refused:
        setup.create_competition(details(organizer_unit_id=tree["city"].id), organizer)
    assert "already used" in refused.value.problems["code"]


def test_a_county_organizer_cannot_organize_for_another_county(make_user, tree):
    county_organizer = make_user("jj", "organizer", org_unit_id=tree["jinjiang"].id)
    assert [u.name for u in setup.organizer_units(county_organizer)] == ["晋江市总工会"]
    with pytest.raises(SetupError) as refused:
        setup.create_competition(details(organizer_unit_id=tree["shishi"].id), county_organizer)
    assert "your own union" in refused.value.problems["organizer_unit_id"]
    with pytest.raises(SetupError) as refused:
        setup.create_competition(details(organizer_unit_id=None), county_organizer)
    assert "organizing union" in refused.value.problems["organizer_unit_id"]


def test_update_details_changes_them_and_keeps_the_code(draft, organizer, tree):
    setup.update_details(
        draft, details(code="IGNORED", name="新名称", capacity=50, organizer_unit_id=tree["jinjiang"].id), organizer
    )
    assert (draft.code, draft.name, draft.capacity, draft.organizer) == ("QZ-2027-TEA", "新名称", 50, "晋江市总工会")
    assert actions()[-1] == "competition.details"


def test_changing_the_kind_drops_tiers_of_the_other_kind(draft, organizer, tree):
    draft.rules = {"award_tiers": [{"name": "金奖", "share": "0.1"}], "notice_days": 7}
    db.session.commit()
    setup.update_details(
        draft, details(kind="rating", unit_kind="studio", organizer_unit_id=tree["city"].id), organizer
    )
    assert draft.kind == "rating" and draft.unit_kind == "studio" and draft.rules == {"notice_days": 7}


@pytest.mark.parametrize("status, field", [("open", "kind"), ("running", None)])
def test_update_details_refusals(draft, organizer, tree, status, field):
    draft.status = status
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        setup.update_details(
            draft, details(kind="rating", unit_kind="team", organizer_unit_id=tree["city"].id), organizer
        )
    if field:
        assert field in refused.value.problems
    else:
        assert "once the competition is running" in str(refused.value)


# ---------------------------------------------------------------- stages and criteria


def test_add_stages_and_criteria_in_order_with_audit_and_version(draft, organizer):
    version = draft.version
    practical = stage(draft, actor=organizer)
    theory = stage(draft, "theory", "理论知识", "30", organizer)
    criterion(practical, "route", "40", organizer, aggregation="trimmed")
    criterion(practical, "violation", "10", organizer, kind="deduction")
    criterion(theory, "route", "100", organizer, aggregation="single")  # the same key in another stage
    scheme = scheme_of(draft)
    assert [s.key for s in scheme.stages] == ["practical", "theory"]
    assert [c.key for c in scheme.criteria] == ["practical.route", "practical.violation", "theory.route"]
    assert scheme.criterion("practical.violation").kind == "deduction"
    assert draft.version == version + 5
    assert actions()[1:] == ["stage.added"] * 2 + ["criterion.added"] * 3


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"key": "practical"}, "key", "already has the key"),
        ({"key": "a.b"}, "key", "letters, digits"),
        ({"key": ""}, "key", "letters, digits"),
        ({"name": ""}, "name", "name"),
        ({"weight": "-1"}, "weight", "must not be negative"),
        ({"weight": "12.345"}, "weight", "more than 2 decimal places"),
        ({"weight": "heavy"}, "weight", "not a number"),
        ({"weight": ""}, "weight", "Give the weight"),
    ],
)
def test_add_stage_refuses_each_bad_field(draft, data, field, words):
    stage(draft)
    with pytest.raises(SetupError) as refused:
        setup_scheme.add_stage(draft, {"key": "theory", "name": "理论", "weight": "30", **data}, None)
    assert words in refused.value.problems[field]
    assert len(scheme_of(draft).stages) == 1


@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"key": "route"}, "key", "already has the key"),
        ({"max_value": "0"}, "max_value", "greater than 0"),
        ({"max_value": "-5"}, "max_value", "greater than 0"),
        ({"max_value": "10.555"}, "max_value", "more than 2 decimal places"),
        ({"max_value": None}, "max_value", "Give the maximum"),
        ({"step": "0"}, "step", "greater than 0"),
        ({"step": "0.125"}, "step", "more than 2 decimal places"),
        ({"max_value": "10", "step": "3"}, "step", "whole number of steps"),
        ({"fixed_scale": True}, "step", "fixed scale needs a step"),
        ({"fixed_scale": True, "max_value": "100", "step": "1"}, "fixed_scale", "at most 20 steps"),
        ({"kind": "bonus"}, "kind", "score or deduction"),
        ({"aggregation": "max"}, "aggregation", "mean"),
        ({"low_value": "40"}, "low_value", "must be below the maximum 40"),
        ({"low_value": "-1", "kind": "deduction"}, "low_value", "deduction cannot go below 0"),
        ({"low_value": "-0.125"}, "low_value", "more than 2 decimal places"),
        ({"low_value": "x"}, "low_value", "is not a number"),
        ({"worth": "0"}, "worth", "greater than 0"),
        ({"max_value": "3", "low_value": "-3", "step": "4"}, "step", "whole number of steps"),
    ],
)
def test_add_criterion_refuses_each_bad_field(draft, data, field, words):
    practical = stage(draft)
    criterion(practical, "route")
    with pytest.raises(SetupError) as refused:
        criterion(practical, **{"key": "safety", **data})
    assert words in refused.value.problems[field]


def test_a_fixed_scale_in_whole_steps_is_accepted(draft):
    practical = stage(draft)
    judged = criterion(practical, "manner", "3", step="1", fixed_scale=True)
    assert judged.fixed_scale and judged.step == Decimal(1)


def test_a_signed_scale_and_a_judgement_worth_points_are_kept(draft):
    practical = stage(draft)
    goe = criterion(practical, "goe", "3", step="1", fixed_scale=True, low_value="-3")
    judged = criterion(practical, "finish", "3", step="1", worth="5")
    assert (goe.low_value, goe.worth) == (Decimal(-3), None)
    assert (judged.low_value, judged.worth) == (Decimal(0), Decimal(5))
    (rules_stage,) = scheme_of(draft).stages
    assert rules_stage.maximum == Decimal(3 + 5)  # the signed scale's top mark, and the judgement's points


def test_update_stage_and_criterion_in_place(draft, organizer):
    practical = stage(draft)
    route = criterion(practical, "route")
    setup_scheme.update_stage(practical, {"key": "practice", "name": "实操", "weight": "60.5"}, organizer)
    setup_scheme.update_criterion(
        route,
        {
            "key": "flight",
            "name": "航线",
            "kind": "score",
            "aggregation": "median",
            "max_value": "50",
            "step": "0.5",
            "fixed_scale": False,
        },
        organizer,
    )
    scheme = scheme_of(draft)
    assert scheme.stages[0].weight == Decimal("60.5")
    assert scheme.criterion("practice.flight").step == Decimal("0.5")
    assert actions()[-2:] == ["stage.changed", "criterion.changed"]


def test_update_refuses_a_key_another_row_has(draft):
    practical = stage(draft)
    theory = stage(draft, "theory", "理论", "30")
    with pytest.raises(SetupError) as refused:
        setup_scheme.update_stage(theory, {"key": "practical", "name": "理论", "weight": "30"}, None)
    assert "already has the key" in refused.value.problems["key"]
    criterion(practical, "route")
    safety = criterion(practical, "safety")
    with pytest.raises(SetupError):
        setup_scheme.update_criterion(
            safety, {"key": "route", "name": "x", "kind": "score", "aggregation": "mean", "max_value": "10"}, None
        )


def test_move_stages_and_criteria(draft):
    a, b, c = stage(draft, "a", "A", "1"), stage(draft, "b", "B", "1"), stage(draft, "c", "C", "1")
    setup_scheme.move_stage(c, -1, None)
    assert [s.key for s in scheme_of(draft).stages] == ["a", "c", "b"]
    setup_scheme.move_stage(a, 1, None)
    assert [s.key for s in scheme_of(draft).stages] == ["c", "a", "b"]
    setup_scheme.move_stage(b, 1, None)  # already last: stays
    setup_scheme.move_stage(c, -1, None)  # already first: stays
    assert [s.key for s in scheme_of(draft).stages] == ["c", "a", "b"]
    x, y = criterion(a, "x"), criterion(a, "y")
    setup_scheme.move_criterion(y, -1, None)
    assert [k.key for k in scheme_of(draft).criteria] == ["a.y", "a.x"]
    assert x.position == 1 and "stage.moved" in actions() and actions()[-1] == "criterion.moved"


def test_remove_stage_takes_its_criteria_and_closes_the_gap(draft):
    a, b, _c = stage(draft, "a", "A", "1"), stage(draft, "b", "B", "1"), stage(draft, "c", "C", "1")
    criterion(b, "x")
    setup_scheme.remove_stage(b, None)
    assert [(s.key, s.position) for s in db.session.scalars(sa.select(Stage).order_by(Stage.position))] == [
        ("a", 0),
        ("c", 1),
    ]
    y = criterion(a, "y")
    setup_scheme.remove_criterion(y, None)
    assert scheme_of(draft).criteria == ()
    assert actions()[-1] == "criterion.removed"


def test_a_stage_or_criterion_named_by_the_tiebreak_cannot_go(draft, organizer):
    practical = stage(draft)
    route = criterion(practical, "route")
    setup.update_rules(draft, {"tiebreak": ["criterion:practical.route", "time"]}, organizer)
    for refuse in (
        lambda: setup_scheme.remove_stage(practical, None),
        lambda: setup_scheme.remove_criterion(route, None),
        lambda: setup_scheme.update_stage(practical, {"key": "x", "name": "x", "weight": "1"}, None),
    ):
        with pytest.raises(SetupError) as refused:
            refuse()
        assert "tie-break chain names" in refused.value.problems["key"]


@pytest.mark.parametrize(
    "verb, status",
    [
        (verb, "running")
        for verb in (
            "add_stage",
            "update_stage",
            "remove_stage",
            "move_stage",
            "add_criterion",
            "update_criterion",
            "remove_criterion",
            "move_criterion",
            "update_rules",
        )
    ]
    + [("add_stage", status) for status in ("locked", "published", "archived")],
)
def test_no_scheme_change_once_running(make_competition, verb, status):
    competition = make_competition(status=status)
    practical = competition.stages[1]
    route = practical.criteria[0]
    calls = {
        "add_stage": lambda: stage(competition, "extra"),
        "update_stage": lambda: setup_scheme.update_stage(
            practical, {"key": "practical", "name": "x", "weight": "1"}, None
        ),
        "remove_stage": lambda: setup_scheme.remove_stage(practical, None),
        "move_stage": lambda: setup_scheme.move_stage(practical, -1, None),
        "add_criterion": lambda: criterion(practical, "extra"),
        "update_criterion": lambda: setup_scheme.update_criterion(route, {}, None),
        "remove_criterion": lambda: setup_scheme.remove_criterion(route, None),
        "move_criterion": lambda: setup_scheme.move_criterion(route, 1, None),
        "update_rules": lambda: setup.update_rules(competition, {}, None),
    }
    before = scheme_of(competition)
    with pytest.raises(ServiceError, match="cannot change once the competition is running"):
        calls[verb]()
    assert scheme_of(competition) == before


# ---------------------------------------------------------------- rules


def test_update_rules_stores_them_without_the_defaults(draft, organizer):
    stage(draft)
    setup.update_rules(
        draft,
        {
            "award_tiers": [{"name": "金奖", "share": "0.05"}, {"name": "银奖", "share": "0.15"}],
            "award_min_total": "60",
            "tiebreak": ["stage:practical", "time"],
            "team_counted": 5,
            "discrepancy_share": "0.15",
            "notice_days": 7,
        },
        organizer,
    )
    assert draft.rules == {
        "award_tiers": [{"name": "金奖", "share": "0.05"}, {"name": "银奖", "share": "0.15"}],
        "team_counted": 5,
        "discrepancy_share": "0.15",
        "notice_days": 7,
    }
    assert actions()[-1] == "competition.rules"


@pytest.mark.parametrize(
    "rules, field, words",
    [
        (
            {"award_tiers": [{"name": "一", "share": "0.6"}, {"name": "二", "share": "0.5"}]},
            "award_tiers",
            "more than 1",
        ),
        ({"award_tiers": [{"name": "一", "share": "0"}]}, "award_tiers[0].share", "must be greater than 0"),
        ({"award_tiers": [{"name": "", "share": "0.1"}]}, "award_tiers[0].name", "needs a name"),
        (
            {"award_tiers": [{"name": "一", "share": "0.1"}, {"name": "一", "share": "0.1"}]},
            "award_tiers",
            "more than once",
        ),
        ({"award_tiers": [{"name": "一", "share": "0.1"}, {"name": "二", "min": "90"}]}, "award_tiers", "mix"),
        ({"tiebreak": ["stage:nowhere"]}, "tiebreak[0]", "no stage “nowhere”"),
        ({"tiebreak": ["time", "criterion:practical.nowhere"]}, "tiebreak[1]", "no criterion"),
        ({"tiebreak": ["time", "time"]}, "tiebreak[1]", "more than once"),
        ({"award_min_total": "120"}, "award_min_total", "must be between 0 and 100"),
        ({"team_counted": 0}, "team_counted", "minimum 1"),
        ({"discrepancy_share": "1.5"}, "discrepancy_share", "at most 1"),
        ({"notice_days": -1}, "notice_days", "minimum 0"),
    ],
)
def test_update_rules_refuses_each_bad_rule_by_field(draft, rules, field, words):
    stage(draft)
    with pytest.raises(SetupError) as refused:
        setup.update_rules(draft, rules, None)
    assert words in refused.value.problems[field]
    assert draft.rules == {}


def test_rating_rules_take_minima(organizer, tree):
    rating = setup.create_competition(
        details(kind="rating", unit_kind="studio", organizer_unit_id=tree["city"].id), organizer
    )
    stage(rating, "review", "评审", "100")
    setup.update_rules(
        rating, {"award_tiers": [{"name": "五星", "min": "90"}, {"name": "四星", "min": "75"}]}, organizer
    )
    with pytest.raises(SetupError) as refused:
        setup.update_rules(
            rating, {"award_tiers": [{"name": "五星", "min": "80"}, {"name": "四星", "min": "85"}]}, organizer
        )
    assert "must be below" in refused.value.problems["award_tiers[1].min"]


# ---------------------------------------------------------------- preview


def test_preview_gives_weight_shares_and_award_counts(draft):
    practical = stage(draft, weight="70")
    criterion(practical, "route", "40")
    criterion(practical, "violation", "10", kind="deduction")
    stage(draft, "theory", "理论", "30")
    preview = setup_scheme.preview(draft, 25)
    assert [(s.key, s.percent, s.maximum) for s in preview.stages] == [
        ("practical", Decimal("70.00"), Decimal(40)),
        ("theory", Decimal("30.00"), Decimal(0)),
    ]
    assert preview.total_weight == 100
    cutoffs = scoring.share_cutoffs(25, scoring.Rules.default().award_tiers)
    assert cutoffs == (3, 8, 15)
    assert [(t.cutoff, t.count) for t in preview.tiers] == [(3, 3), (8, 5), (15, 7)]
    assert any("理论" in p and "score criterion" in p for p in preview.problems)  # none in theory yet


def test_preview_of_a_zero_total_and_of_a_rating(draft, organizer, tree):
    stage(draft, weight="0")
    assert setup_scheme.preview(draft, 10).stages[0].percent is None
    rating = setup.create_competition(
        details(code="R-1", kind="rating", unit_kind="team", organizer_unit_id=tree["city"].id), organizer
    )
    tiers = setup_scheme.preview(rating, 10).tiers
    assert [(t.name, t.min, t.count) for t in tiers] == [("五星", 90, None), ("四星", 80, None), ("三星", 70, None)]


# ---------------------------------------------------------------- cloning


def test_clone_copies_scheme_rules_and_eligibility_into_a_new_year(make_competition, organizer):
    source = make_competition(name="2026年测试无人机竞赛", registration_opens="ignored")
    source.rules = {"award_tiers": [{"name": "金奖", "share": "0.2"}], "notice_days": 3}
    source.eligibility = {"trades": ["无人机驾驶员"], "min_grade": 3}
    source.registration_opens, source.registration_closes = datetime(2024, 2, 29, 8), datetime(2026, 3, 31, 9)
    source.capacity = 80
    source.stages[-1].best = 1  # a stage of attempts, its criteria multiplied by declared factors: both kept
    source.stages[-1].criteria[0].factored = True
    db.session.commit()
    clone = setup.clone_competition(source, "T-2027-UAV", 2027, organizer)
    assert (clone.code, clone.year, clone.status, clone.name) == ("T-2027-UAV", 2027, "draft", "2027年测试无人机竞赛")
    assert scheme_of(clone) == scheme_of(source) and scheme_of(clone).stages[-1].best == 1
    assert scheme_of(clone).stages[-1].criteria[0].factored
    assert (clone.rules, clone.eligibility, clone.capacity) == (source.rules, source.eligibility, 80)
    assert clone.registration_opens == datetime(2025, 2, 28, 8)  # 2024-02-29 moved one year on
    assert clone.registration_closes == datetime(2027, 3, 31, 9)
    assert db.session.scalar(sa.select(sa.func.count(Entrant.id)).where(Entrant.competition_id == clone.id)) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(JudgeAssignment.id)).where(JudgeAssignment.competition_id == clone.id)
        )
        == 0
    )
    assert actions()[-1] == "competition.cloned"


def test_clone_refuses_a_used_code_and_a_bad_year(make_competition, organizer):
    source = make_competition()
    with pytest.raises(SetupError) as refused:
        setup.clone_competition(source, source.code, 1800, organizer)
    assert set(refused.value.problems) == {"code", "year"}
