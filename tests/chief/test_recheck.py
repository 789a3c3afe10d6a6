"""Re-check sampling (复核): drawn from a seed before the lock, re-marked blind, differences ruled on (issue 17, 9)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from comp import scoring
from comp.extensions import db
from comp.models import AuditEvent, RecheckItem, RecheckSample
from comp.services import ServiceError, chief, results
from comp.services.chief import recheck
from tests.chief.helpers import criterion, entrant, htmx_post, judge, login_judge


@pytest.fixture()
def running(make_competition):
    """The small competition, every mark in, still running: E1 in the award zone, E2 not."""
    return make_competition(status="running")


def items(competition) -> dict[tuple[str, str], RecheckItem]:
    db.session.expire_all()
    sample = recheck.sample_of(competition)
    return {(i.entrant.ref, f"{i.criterion.stage.key}.{i.criterion.key}"): i for i in sample.items}


def draw(competition, seed: str = "复核-2026", share: str = "0.15"):
    return recheck.draw(competition, judge(competition, "J1"), judge(competition, "J2").id, D(share), D("0.10"), seed)


# ---------------------------------------------------------------- the pure draw


@given(
    st.text(min_size=1, max_size=12),
    st.lists(st.integers(1, 200), unique=True, max_size=30),
    st.decimals(min_value=0, max_value=1, places=2),
)
def test_a_sample_is_the_whole_zone_and_the_ceiling_of_the_share_replayable_from_its_seed(seed, refs, share):
    zone, pool = [f"Z{n}" for n in refs[:3]], [f"E{n}" for n in refs[3:]]
    drawn = scoring.draw_sample(seed, zone, pool, share)
    assert drawn == scoring.draw_sample(seed, list(reversed(zone)), list(reversed(pool)), share)  # order-free
    assert set(zone) <= set(drawn) and len(set(drawn)) == len(drawn)
    assert len(drawn) - len(zone) == scoring.sample_size(share, len(pool)) >= share * len(pool)


def test_a_difference_is_measured_on_the_criterion_range():
    assert not scoring.differs(D(36), D("40"), D(40), D("0.10"))  # 4 is 10 % of 40: within
    assert scoring.differs(D(36), D("31.5"), D(40), D("0.10"))


# ---------------------------------------------------------------- the service


def test_the_draw_samples_the_award_zone_and_a_share_of_the_rest_and_replays(running):
    _loaded, outcome = results.compute(running)
    awarded = {r.ref for r in outcome.entrants if r.award}
    sample = draw(running)
    sampled = {i.entrant.ref for i in sample.items}
    assert awarded <= sampled and sampled == {"E1", "E2"}  # the zone, and 15 % of one entrant rounded up
    assert {f"{i.criterion.stage.key}.{i.criterion.key}" for i in sample.items} == {
        "theory.exam",
        "practical.route",
        "practical.safety",
    }
    assert recheck.replay(sample) and sample.seed == "复核-2026"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "recheck.drawn"))
    assert event.detail["seed"] == "复核-2026" and sorted(event.detail["sampled"]) == ["E1", "E2"]
    with pytest.raises(ServiceError, match="drawn already"):
        draw(running)


def test_the_lock_waits_for_the_second_marks_and_the_rulings(running):
    draw(running)
    assert any("wait for the second marker" in p for p in chief.lock_blockers(running))
    marker = judge(running, "J2")
    found = items(running)
    for key, value in {
        ("E1", "theory.exam"): "92",
        ("E1", "practical.route"): "37",  # the panel's trimmed mean is 36: within 4 (10 % of 40)
        ("E1", "practical.safety"): "9",
        ("E2", "theory.exam"): "80",
        ("E2", "practical.route"): "38",  # the panel's 31.5: 6.5 away, beyond 4
        ("E2", "practical.safety"): "8",
    }.items():
        recheck.save_second(running, marker, found[key].id, value)
    states = {key: item.state for key, item in items(running).items()}
    assert states[("E2", "practical.route")] == "differs" and states[("E1", "practical.route")] == "agreed"
    assert [p for p in chief.lock_blockers(running) if "ruling" in p]
    with pytest.raises(ServiceError, match="Write why"):
        recheck.resolve(running, judge(running, "J1"), found[("E2", "practical.route")].id, "second", " ")
    recheck.resolve(running, judge(running, "J1"), found[("E2", "practical.route")].id, "second", "复核确认航线完成度")
    # The second mark replaces the panel's: E2's route is now 38, not 31.5.
    assert results.compute(running)[1].entrant("E2").criteria["practical.route"] == D("38.00")
    assert chief.lock_blockers(running) == ()
    chief.lock(running, judge(running, "J1"))
    assert running.status == "locked"


def test_keeping_the_panels_mark_changes_no_figure(running):
    draw(running)
    before = results.document(running)["results"]
    found = items(running)
    item = found[("E2", "practical.route")]
    recheck.save_second(running, judge(running, "J2"), item.id, "38")
    recheck.resolve(running, judge(running, "J1"), item.id, "keep", "原评分有据")
    db.session.expire_all()
    assert results.document(running)["results"] == before
    assert db.session.get(RecheckItem, item.id).state == "kept"


@pytest.mark.parametrize(
    "setup, words",
    [
        ("missing", "Marks are still missing"),
        ("locked", "before the scores are locked"),
        ("outsider", "among the competition's judges"),
        ("share", "per cent from 0 to 100"),
    ],
)
def test_a_draw_that_cannot_be_made_is_refused_and_writes_nothing(running, make_user, setup, words):
    marker = judge(running, "J2").id
    share = D("0.15")
    if setup == "missing":
        db.session.delete(db.session.scalars(sa.select(scoring_mark_model())).first())
        db.session.commit()
    elif setup == "locked":
        running.status = "locked"
        db.session.commit()
    elif setup == "outsider":
        marker = make_user("someone.else", "judge").id
    else:
        share = D("1.5")
    with pytest.raises(ServiceError, match=words):
        recheck.draw(running, judge(running, "J1"), marker, share, D("0.10"), "seed")
    assert db.session.scalar(sa.select(sa.func.count(RecheckSample.id))) == 0


def scoring_mark_model():
    from comp.models import Mark

    return Mark


def test_only_the_marker_marks_and_only_within_the_scale(running):
    draw(running)
    item = items(running)[("E1", "practical.route")]
    with pytest.raises(PermissionError):
        recheck.save_second(running, judge(running, "J3"), item.id, "36")
    with pytest.raises(ServiceError, match="above the maximum"):
        recheck.save_second(running, judge(running, "J2"), item.id, "41")
    with pytest.raises(ServiceError, match="Only a second mark that differs"):
        recheck.resolve(running, judge(running, "J1"), item.id, "keep", "note")
    assert db.session.get(RecheckItem, item.id).state == "waiting"


# ---------------------------------------------------------------- the pages


def test_the_marker_sees_no_panel_mark_and_the_chief_sees_both(client, auth, running):
    draw(running)
    login_judge(auth, running, "J2")
    home = client.get(f"/judge/{running.code}").get_data(as_text=True)
    assert "Re-check: 6 sampled marks wait for you" in home
    page = client.get(f"/judge/{running.code}/recheck").get_data(as_text=True)
    assert entrant(running, "E2").secret_code in page and "31.5" not in page and "36" not in page
    item = items(running)[("E2", "practical.route")]
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/judge/{running.code}/recheck")
    saved = client.post(f"/judge/{running.code}/recheck/{item.id}", data={"value": "38", "csrf_token": token})
    assert saved.status_code == 302 and db.session.get(RecheckItem, item.id).second_cents == 3800
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_judge(auth, running, "J1")
    console = client.get(f"/chief/{running.code}").get_data(as_text=True)
    assert "Re-check" in console and "differs" in console and "drawn again from the seed: the same sample" in console
    ruled = htmx_post(client, f"/chief/{running.code}/recheck/{item.id}", {"action": "second", "note": "复核确认"})
    assert "The ruling is recorded." in ruled.get_data(as_text=True)
    assert db.session.get(RecheckItem, item.id).state == "second"


def test_another_judge_has_no_recheck_page(client, auth, running):
    draw(running)
    login_judge(auth, running, "J3")
    assert client.get(f"/judge/{running.code}/recheck").status_code == 404
    item = items(running)[("E1", "practical.route")]
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/judge/{running.code}")
    assert (
        client.post(f"/judge/{running.code}/recheck/{item.id}", data={"value": "36", "csrf_token": token}).status_code
        == 403
    )


def test_the_organizer_draws_on_the_console(client, auth, make_user, running):
    make_user("organizer", "organizer", locale="en")
    assert auth.login("organizer").status_code == 302
    page = client.get(f"/chief/{running.code}").get_data(as_text=True)
    assert 'id="recheck-form"' in page and "Share of the other entrants (per cent)" in page
    answer = htmx_post(
        client,
        f"/chief/{running.code}/recheck",
        {"marker": judge(running, "J2").id, "share": "15", "tolerance": "10", "seed": "2026"},
    )
    assert "The re-check sample is drawn" in answer.get_data(as_text=True)
    assert recheck.sample_of(running).seed == "2026"
    assert criterion(running, "practical.route").id in {i.criterion_id for i in recheck.sample_of(running).items}


def test_a_third_marker_decides_between_the_panel_and_the_second(running):
    draw(running)
    item = items(running)[("E2", "practical.route")]
    recheck.save_second(running, judge(running, "J2"), item.id, "38")  # the panel's 31.5: differs
    with pytest.raises(ServiceError, match="another judge than the second marker"):
        recheck.resolve(running, judge(running, "J1"), item.id, "third", "请三评", judge(running, "J2").id)
    recheck.resolve(running, judge(running, "J1"), item.id, "third", "差异较大，请三评", judge(running, "J3").id)
    assert any("third marker" in p for p in chief.lock_blockers(running))
    assert recheck.waiting_for(running, judge(running, "J3")) == 1
    page = recheck.review(running, blind_for=judge(running, "J3"))
    assert [(i.id, i.first, i.mine) for i in page.items] == [(item.id, None, True)]  # blind, and only theirs
    with pytest.raises(PermissionError):
        recheck.save_third(running, judge(running, "J2"), item.id, "33")
    recheck.save_third(running, judge(running, "J3"), item.id, "33")  # nearer 31.5 than 38: the panel's stands
    db.session.expire_all()
    ruled = db.session.get(RecheckItem, item.id)
    assert (ruled.state, ruled.third_cents) == ("kept", 3300)
    assert results.compute(running)[1].entrant("E2").criteria["practical.route"] == D("31.50")
    assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "recheck.third_marked"))


def test_a_third_mark_nearer_the_second_takes_it(running):
    draw(running)
    item = items(running)[("E2", "practical.route")]
    recheck.save_second(running, judge(running, "J2"), item.id, "38")
    recheck.resolve(running, judge(running, "J1"), item.id, "third", "三评", judge(running, "J3").id)
    recheck.save_third(running, judge(running, "J3"), item.id, "37")
    assert results.compute(running)[1].entrant("E2").criteria["practical.route"] == D("38.00")


def test_the_third_marker_marks_on_their_page(client, auth, running):
    draw(running)
    item = items(running)[("E2", "practical.route")]
    recheck.save_second(running, judge(running, "J2"), item.id, "38")
    recheck.resolve(running, judge(running, "J1"), item.id, "third", "三评", judge(running, "J3").id)
    login_judge(auth, running, "J3")
    page = client.get(f"/judge/{running.code}/recheck").get_data(as_text=True)
    assert page.count('class="mark-row recheck-row"') == 1 and "31.5" not in page and "38" not in page
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/judge/{running.code}/recheck")
    assert (
        client.post(f"/judge/{running.code}/recheck/{item.id}", data={"value": "37", "csrf_token": token}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(RecheckItem, item.id).state == "second"


# ---------------------------------------------------------------- the exchange format


def test_export_then_import_keeps_the_recheck_and_its_rulings(running):
    from comp.services import exchange

    draw(running)
    found = items(running)
    recheck.save_second(running, judge(running, "J2"), found[("E2", "practical.route")].id, "38")
    recheck.resolve(running, judge(running, "J1"), found[("E2", "practical.route")].id, "second", "录像复核")
    panel = {("E1", "theory.exam"): "90", ("E2", "theory.exam"): "80", ("E1", "practical.route"): "36"}
    panel |= {("E1", "practical.safety"): "9", ("E2", "practical.safety"): "8"}
    for key, item in items(running).items():
        if item.state == "waiting":
            recheck.save_second(running, judge(running, "J2"), item.id, panel[key])
    document = exchange.export_competition(running)
    assert document["recheck"]["seed"] == "复核-2026" and document["recheck"]["marker"] == "J2"
    document["competition"]["code"] = "T-2026-COPY"
    copy_ = exchange.import_competition(document)
    assert results.document(copy_)["results"] == results.document(running)["results"]
    assert results.compute(copy_)[1].entrant("E2").criteria["practical.route"] == D("38.00")
    assert recheck.replay(recheck.sample_of(copy_))
    again = exchange.export_competition(copy_)
    assert again["recheck"] == document["recheck"]


def test_a_recheck_in_a_file_is_checked_like_the_rest():
    import copy

    from comp.services import exchange
    from tests.conftest import SMALL

    document = copy.deepcopy(SMALL)
    document["recheck"] = {
        "seed": "s",
        "share": "1.5",
        "tolerance": "0.1",
        "marker": "J9",
        "zone": ["E1"],
        "pool": [],
        "items": [{"entrant": "E1", "criterion": "practical.route", "state": "agreed", "second": "41"}],
    }
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.check(document)
    found = dict(refused.value.problems)
    assert "recheck.share" in found and "recheck.marker" in found
    assert "above the maximum" in found["recheck.items[0].second"]
