"""A rating campaign end to end in services: create → nominate → run → score → lock → publish, and recusal."""

from decimal import Decimal

import pytest

from comp.models import Criterion
from comp.services import results
from comp.services.hall import checkin, draw, judges
from comp.services.judging.marks import record_mark
from comp.services.setup import lifecycle, ratings

# The share of each criterion's maximum a unit's middle mark gives; the stage then scores 100 × share.
SHARES = {"制帮班组": Decimal("0.90"), "成型班组": Decimal("0.80"), "裂解车间一班": Decimal("0.60")}


def _criteria(rating) -> list[Criterion]:
    return [c for s in rating.stages for c in s.criteria]


def _running(rating, organizer, units) -> list:
    """Nominate the three teams, open, close (numbering them), start, and check everyone in."""
    nominated = ratings.nominate(rating, [units[name].id for name in SHARES], organizer)
    lifecycle.transition(rating, "open", organizer)
    assert draw.close_registration(rating, organizer) == 3
    lifecycle.transition(rating, "running", organizer)
    for entrant in nominated:
        checkin.mark(rating, entrant, "ok", organizer)
    return nominated


def _panel(rating, organizer, make_user, employers) -> list:
    """Put one rater per employer on the panel, on every criterion; the first is the chief."""
    ids = [c.id for c in _criteria(rating)]
    raters = []
    for n, employer in enumerate(employers, start=1):
        user = make_user(f"rater{n}", "judge", org_unit_id=employer.id)
        assignment = judges.assign_existing(rating, user.id, organizer)
        judges.assign_criteria(assignment, ids, organizer, recuse=True)
        raters.append(user)
    judges.set_chief(judges.panel(rating)[0], organizer)
    return raters


def _score(raters, entrant, rating, spread=Decimal("0.05")) -> None:
    """Each rater marks share − spread, share, share + spread of every maximum (in turn)."""
    share = SHARES[entrant.name]
    for rater, offset in zip(raters, (-spread, Decimal(0), spread)):
        for criterion in _criteria(rating):
            if (rater.id, entrant.id) in results.recused_pairs(rating):
                continue
            value = criterion.max_value * (share + offset)
            record_mark(rater, entrant, criterion, f"{value:.2f}", 0, "tablet-1")


def test_a_team_rating_runs_end_to_end_with_threshold_tiers(campaign, units, organizer, make_user, tree):
    rating = campaign("team")
    nominated = _running(rating, organizer, units)
    raters = _panel(rating, organizer, make_user, [tree["city"], tree["jinjiang"], tree["quangang"]])
    assert results.recused_pairs(rating) == set()
    for entrant in nominated:
        _score(raters, entrant, rating)
    assert lifecycle.lock_problems(rating) == []
    lifecycle.transition(rating, "locked", organizer)
    lifecycle.publish(rating, organizer)
    assert rating.status == "published" and lifecycle.notice_ends(rating) is not None

    doc = results.document(rating)
    assert doc["complete"] is True and doc["teams"] == []
    rows = [(r["ref"], r["name"], r["rank"], r["total"], r["award"]) for r in doc["results"]]
    assert rows == [
        ("U0001", "制帮班组", 1, "90.00", "五星"),
        ("U0002", "成型班组", 2, "80.00", "四星"),
        ("U0003", "裂解车间一班", 3, "60.00", None),
    ]
    assert doc["results"][0]["stages"] == {"review": "90.00"}


def test_a_studio_rating_gives_three_stars_from_seventy(campaign, units, organizer, make_user, tree):
    rating = campaign("studio", code="RT-2026-STUDIO")
    [studio] = ratings.nominate(rating, [units["陈明创新工作室"].id], organizer)
    lifecycle.transition(rating, "open", organizer)
    draw.close_registration(rating, organizer)
    lifecycle.transition(rating, "running", organizer)
    checkin.mark(rating, studio, "ok", organizer)
    raters = _panel(rating, organizer, make_user, [tree["city"], tree["jinjiang"], tree["shoes"]])
    for rater, share in zip(raters, ("0.70", "0.75", "0.71")):
        for criterion in _criteria(rating):
            record_mark(rater, studio, criterion, f"{criterion.max_value * Decimal(share):.2f}", 0, None)
    lifecycle.transition(rating, "locked", organizer)
    lifecycle.publish(rating, organizer)
    [row] = results.document(rating)["results"]
    assert (row["total"], row["award"]) == ("71.00", "三星")  # trimmed: 70 and 75 dropped


def test_a_rater_from_the_units_enterprise_is_recused(campaign, units, organizer, make_user, tree):
    rating = campaign("team")
    nominated = _running(rating, organizer, units)
    own = {e.name: e for e in nominated}
    ids = [c.id for c in _criteria(rating)]
    insider = make_user("insider", "judge", org_unit_id=tree["shoes"].id)
    seat = judges.assign_existing(rating, insider.id, organizer)
    with pytest.raises(judges.ServiceError, match="must not mark"):
        judges.assign_criteria(seat, ids, organizer)
    judges.assign_criteria(seat, ids, organizer, recuse=True)
    assert results.recused_pairs(rating) == {(insider.id, own["制帮班组"].id), (insider.id, own["成型班组"].id)}
    with pytest.raises(PermissionError):
        record_mark(insider, own["制帮班组"], _criteria(rating)[0], "10", 0, None)
    record_mark(insider, own["裂解车间一班"], _criteria(rating)[0], "10", 0, None)  # another enterprise: fine


def test_a_recused_raters_units_are_complete_with_the_other_marks(campaign, units, organizer, make_user, tree):
    rating = campaign("team")
    nominated = _running(rating, organizer, units)
    raters = _panel(rating, organizer, make_user, [tree["city"], tree["jinjiang"], tree["shoes"]])
    for entrant in nominated:
        _score(raters, entrant, rating)
    assert lifecycle.lock_problems(rating) == []
    lifecycle.transition(rating, "locked", organizer)
    doc = results.document(rating)
    totals = {r["name"]: (r["total"], r["award"]) for r in doc["results"]}
    # The shoe company's rater marked only the petrochemical team; the others kept the mean of two.
    assert totals["制帮班组"] == ("87.50", "四星")
    assert totals["裂解车间一班"] == ("60.00", None)


def test_a_trim_that_would_drop_every_mark_of_the_panel_cannot_start(campaign, units, organizer, make_user, tree):
    from comp.extensions import db
    from comp.services import ServiceError

    rating = campaign("team")
    ratings.nominate(rating, [units[name].id for name in SHARES], organizer)
    lifecycle.transition(rating, "open", organizer)
    draw.close_registration(rating, organizer)
    first = _criteria(rating)[0]
    first.trim = 2  # two off each end: five raters at least
    db.session.commit()
    _panel(rating, organizer, make_user, [tree["city"], tree["jinjiang"], tree["quangang"]])
    with pytest.raises(ServiceError) as refused:
        lifecycle.transition(rating, "running", organizer)
    assert "dropping 2 marks from each end of 3 leaves no mark" in str(refused.value)
    assert rating.status == "closed"
    first.trim = 1
    db.session.commit()
    lifecycle.transition(rating, "running", organizer)
    assert rating.status == "running"
