"""Creating rating campaigns from the default schemes, and nominating units."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Entrant
from comp.services import ServiceError, results
from comp.services.setup import SetupError, lifecycle, ratings


def _scheme(competition):
    return [
        (s.key, s.weight, [(c.key, c.name, c.max_value, c.aggregation, c.kind) for c in s.criteria])
        for s in competition.stages
    ]


def test_a_team_campaign_gets_the_six_dimensions(campaign):
    rating = campaign("team")
    assert (rating.kind, rating.unit_kind, rating.status, rating.level) == ("rating", "team", "draft", "city")
    assert rating.name == "2026年度泉州市“六型”工匠班组评定"
    [(key, weight, criteria)] = _scheme(rating)
    assert (key, weight) == ("review", Decimal(1))
    assert [c[1] for c in criteria] == ["学习型", "安全型", "清洁型", "节约型", "创新型", "和谐型"]
    assert sum(c[2] for c in criteria) == 100
    assert {(c[3], c[4]) for c in criteria} == {("trimmed", "score")}
    parsed = results.rules_of(rating, results.scheme_of(rating))
    assert [(t.name, t.min, t.share) for t in parsed.award_tiers] == [
        ("五星", 90, None),
        ("四星", 80, None),
        ("三星", 70, None),
    ]
    assert lifecycle.scheme_problems(rating) == []


def test_a_studio_campaign_gets_the_five_criteria(campaign):
    rating = campaign("studio", code="RT-2026-STUDIO", name="")
    assert rating.name == "2026年度泉州市劳模工匠创新工作室评定"
    [(_key, _weight, criteria)] = _scheme(rating)
    assert [c[0] for c in criteria] == ["leadership", "results", "training", "application", "organisation"]
    assert [c[1] for c in criteria] == ["带头人作用", "创新成果", "人才培养", "推广应用价值", "组织管理"]
    assert sum(c[2] for c in criteria) == 100
    parsed = results.rules_of(rating, results.scheme_of(rating))
    assert [(t.name, t.min) for t in parsed.award_tiers] == [("五星", 90), ("四星", 80), ("三星", 70)]


def test_a_county_campaign_is_named_after_its_county(campaign, tree):
    rating = campaign("team", organizer_unit_id=tree["jinjiang"].id, name="  ")
    assert rating.name == "2026年度晋江市“六型”工匠班组评定" and rating.level == "county"


def test_a_given_name_stays(campaign):
    assert campaign("team", name="2026年泉州市优秀班组评定").name == "2026年泉州市优秀班组评定"


@pytest.mark.parametrize(
    "details, field",
    [
        ({"unit_kind": "people"}, "unit_kind"),
        ({"code": "bad code!"}, "code"),
        ({"year": 1800}, "year"),
    ],
)
def test_bad_details_are_refused_and_nothing_is_created(campaign, details, field):
    with pytest.raises(SetupError) as refused:
        campaign(**details)
    assert field in refused.value.problems
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entrant)) == 0


def test_a_used_code_is_refused(campaign):
    campaign()
    with pytest.raises(SetupError) as refused:
        campaign(unit_kind="studio")
    assert "code" in refused.value.problems


def test_candidates_are_units_of_the_campaign_kind_filtered_by_name_or_enterprise(campaign, units):
    rating = campaign("team")
    names = {u.name for u in ratings.candidates(rating)[0]}
    assert names == {"制帮班组", "成型班组", "裂解车间一班"}
    assert {u.name for u in ratings.candidates(rating, "石化")[0]} == {"裂解车间一班"}
    assert {u.name for u in ratings.candidates(rating, "成型")[0]} == {"成型班组"}
    assert ratings.candidates(rating, "%")[0] == []


def test_a_county_campaign_offers_only_the_county_units(campaign, units, tree, organizer):
    rating = campaign("team", organizer_unit_id=tree["jinjiang"].id)
    assert {u.name for u in ratings.candidates(rating)[0]} == {"制帮班组", "成型班组"}
    with pytest.raises(ServiceError, match="Choose units from the list"):
        ratings.nominate(rating, [units["裂解车间一班"].id], organizer)


def test_nominating_creates_approved_unit_entrants(campaign, units, organizer, tree):
    rating = campaign("team")
    version = rating.version
    made = ratings.nominate(rating, [units["制帮班组"].id, units["裂解车间一班"].id], organizer)
    assert [(e.ref, e.type, e.name, e.status, e.employer_id) for e in made] == [
        ("U0001", "team", "制帮班组", "approved", tree["shoes"].id),
        ("U0002", "team", "裂解车间一班", "approved", tree["petro"].id),
    ]
    assert all(e.unit_id and e.worker_id is None for e in made)
    assert rating.version > version
    assert {u.name for u in ratings.candidates(rating)[0]} == {"成型班组"}
    again = ratings.nominate(rating, [units["成型班组"].id], organizer)
    assert [e.ref for e in again] == ["U0003"]
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "rating.nominated").order_by(AuditEvent.id)
    ).first()
    assert event.detail["units"][0]["ref"] == "U0001"


@pytest.mark.parametrize(
    "which, message",
    [
        ("studio", "Choose units from the list"),
        ("twice", "already nominated"),
        ("none", "at least one unit"),
    ],
)
def test_wrong_nominations_are_refused(campaign, units, organizer, which, message):
    rating = campaign("team")
    ratings.nominate(rating, [units["制帮班组"].id], organizer)
    ids = {"studio": [units["陈明创新工作室"].id], "twice": [units["制帮班组"].id], "none": []}[which]
    with pytest.raises(ServiceError, match=message):
        ratings.nominate(rating, ids, organizer)
    assert len(ratings.nominations(rating)) == 1


def test_a_competition_takes_no_nominations(make_competition, units, organizer):
    with pytest.raises(ServiceError, match="Only a rating"):
        ratings.nominate(make_competition(status="draft"), [units["制帮班组"].id], organizer)


def test_removing_a_nomination_before_the_rating_runs(campaign, units, organizer):
    rating = campaign("team")
    first, second = ratings.nominate(rating, [units["制帮班组"].id, units["成型班组"].id], organizer)
    ratings.remove_nomination(rating, first.id, organizer)
    assert [e.ref for e in ratings.nominations(rating)] == ["U0002"]
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "rating.nomination_removed"))
    rating.status = "running"
    db.session.commit()
    with pytest.raises(ServiceError, match="running"):
        ratings.remove_nomination(rating, second.id, organizer)
    with pytest.raises(ServiceError, match="running"):
        ratings.nominate(rating, [units["制帮班组"].id], organizer)


def test_nominated_after_closing_get_a_number(campaign, units, organizer):
    rating = campaign("team")
    ratings.nominate(rating, [units["制帮班组"].id], organizer)
    lifecycle.transition(rating, "open", organizer)
    from comp.services.hall import draw

    assert draw.close_registration(rating, organizer) == 1
    [late] = ratings.nominate(rating, [units["成型班组"].id], organizer)
    assert late.number == 2 and late.secret_code
