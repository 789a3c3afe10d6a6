"""record_mark and sign_sheet: versioned upserts, refusals that write nothing, permissions, sign-off."""

from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, JudgeConflict, Mark, MarkChange, SheetSignoff
from comp.services import ServiceError, results
from comp.services.judging import marks, scoresheets
from tests.judging.conftest import criterion_of, drop_marks, entrant_of, judge_of, mark_of


@pytest.fixture()
def blank(running):
    """Return (competition, J2, E1, route) with J2's sheet for E1 blank."""
    judge, entrant = judge_of(running, "J2"), entrant_of(running, "E1")
    drop_marks(judge, entrant)
    return running, judge, entrant, criterion_of(running, "practical.route")


def _changes(judge=None) -> list[MarkChange]:
    query = sa.select(MarkChange).order_by(MarkChange.id)
    if judge is not None:
        query = query.where(MarkChange.judge_id == judge.id)
    return list(db.session.scalars(query))


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_first_save_inserts_version_1_with_its_change(blank):
    competition, judge, entrant, route = blank
    before, stamp = competition.version, results.stamp_of(competition)
    mark = marks.record_mark(judge, entrant, route, "35.5", 0, "tablet-a")
    assert (mark.value, mark.version) == (D("35.50"), 1)
    [change] = _changes(judge)
    assert (change.old_cents, change.new_cents, change.actor_id, change.source) == (None, 3550, judge.id, "tablet-a")
    assert (change.entrant_id, change.criterion_id, change.competition_id) == (entrant.id, route.id, competition.id)
    db.session.refresh(competition)
    # The save does not write the competition's row (every save would queue on it); its change moves the stamp.
    assert competition.version == before
    assert results.stamp_of(competition) != stamp


def test_update_with_the_version_seen_bumps_it(blank):
    _, judge, entrant, route = blank
    marks.record_mark(judge, entrant, route, "35.5", 0, "tablet-a")
    mark = marks.record_mark(judge, entrant, route, "36", 1, "tablet-b", reason="re-mark")
    assert (mark.value, mark.version) == (D("36.00"), 2)
    first, second = _changes(judge)
    assert (second.old_cents, second.new_cents, second.source, second.reason) == (3550, 3600, "tablet-b", "re-mark")


@pytest.mark.parametrize("seen", [1, 0])
def test_the_same_value_again_is_a_no_op(blank, seen):
    """A retry whose answer was lost resends the same value, maybe with the old version: nothing changes."""
    competition, judge, entrant, route = blank
    marks.record_mark(judge, entrant, route, "35.5", 0, "tablet-a")
    db.session.refresh(competition)
    version = competition.version
    mark = marks.record_mark(judge, entrant, route, "35.50", seen, "tablet-a")
    assert mark.version == 1
    assert len(_changes(judge)) == 1
    db.session.refresh(competition)
    assert competition.version == version


def test_a_stale_version_is_refused_with_the_newer_value(blank):
    _, judge, entrant, route = blank
    marks.record_mark(judge, entrant, route, "30", 0, "tablet-a")
    marks.record_mark(judge, entrant, route, "31", 1, "tablet-a")
    with pytest.raises(marks.StaleMark) as refused:
        marks.record_mark(judge, entrant, route, "35", 1, "tablet-b")
    assert (refused.value.value, refused.value.version) == (D("31.00"), 2)
    assert "31" in str(refused.value)
    assert mark_of(judge, entrant, route).value_cents == 3100
    assert len(_changes(judge)) == 2


def test_two_first_saves_from_two_tablets_the_second_is_stale(blank):
    _, judge, entrant, route = blank
    marks.record_mark(judge, entrant, route, "30", 0, "tablet-a")
    with pytest.raises(marks.StaleMark) as refused:
        marks.record_mark(judge, entrant, route, "32", 0, "tablet-b")
    assert refused.value.version == 1


def test_a_version_for_a_mark_that_no_longer_exists_is_stale(blank):
    _, judge, entrant, route = blank
    with pytest.raises(marks.StaleMark) as refused:
        marks.record_mark(judge, entrant, route, "30", 3, "tablet-a")
    assert (refused.value.value, refused.value.version) == (None, 0)
    assert mark_of(judge, entrant, route) is None


def test_the_update_checks_the_version_in_the_database_not_in_memory(blank):
    """Another app process saves between our read and our write: the WHERE version clause refuses ours."""
    _, judge, entrant, route = blank
    marks.record_mark(judge, entrant, route, "30", 0, "tablet-a")
    loaded = mark_of(judge, entrant, route)
    assert loaded.version == 1
    with db.engine.begin() as other_process:
        other_process.execute(sa.update(Mark).where(Mark.id == loaded.id).values(value_cents=3300, version=2))
    with pytest.raises(marks.StaleMark) as refused:
        marks.record_mark(judge, entrant, route, "35", 1, "tablet-a")
    assert (refused.value.value, refused.value.version) == (D("33.00"), 2)
    db.session.expire_all()
    assert (mark_of(judge, entrant, route).value_cents, len(_changes(judge))) == (3300, 1)


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("41", "40"),  # above the maximum
        ("-1", "0"),  # below the minimum
        ("abc", "abc"),  # not a number
        ("1e2", "1e2"),  # exponent notation is not how a judge writes a mark
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("35.555", "35.555"),  # more than 2 decimals: refused, never rounded
        ("35,5", "35,5"),
        ("", ""),
        ("3 5", "3 5"),
    ],
)
def test_refused_values_write_nothing(blank, raw, fragment):
    competition, judge, entrant, route = blank
    db.session.refresh(competition)
    version, mark_count, change_count = competition.version, _count(Mark), _count(MarkChange)
    with pytest.raises(marks.MarkRefused) as refused:
        marks.record_mark(judge, entrant, route, raw, 0, "tablet-a")
    assert fragment in str(refused.value) and str(refused.value)
    assert (_count(Mark), _count(MarkChange)) == (mark_count, change_count)
    db.session.refresh(competition)
    assert competition.version == version


def test_a_value_off_the_step_is_refused(blank):
    _, judge, entrant, route = blank
    route.step = D("0.5")
    db.session.commit()
    with pytest.raises(marks.MarkRefused, match="0.5"):
        marks.record_mark(judge, entrant, route, "35.3", 0, "tablet-a")
    assert mark_of(judge, entrant, route) is None
    assert marks.record_mark(judge, entrant, route, "35.5", 0, "tablet-a").value == D("35.5")


def test_the_fixed_scale_offers_0_to_max_by_step(blank):
    competition, judge, entrant, route = blank
    safety = criterion_of(competition, "practical.safety")
    safety.max_value, safety.step, safety.fixed_scale = D("3"), D("1"), True
    db.session.commit()
    row = scoresheets.load_row(judge, entrant, safety)
    assert row.scale == ["0", "1", "2", "3"]


def test_a_signed_scale_takes_negative_marks_down_to_its_lowest(blank):
    competition, judge, entrant, route = blank
    route.max_value, route.low_value, route.step = D("3"), D("-3"), D("1")
    db.session.commit()
    assert marks.record_mark(judge, entrant, route, "-2", 0, "tablet-a").value == D("-2")
    with pytest.raises(marks.MarkRefused, match="-4 低于最小值 -3"):
        marks.record_mark(judge, entrant, route, "-4", 1, "tablet-a")
    assert mark_of(judge, entrant, route).value_cents == -200
    safety = criterion_of(competition, "practical.safety")
    safety.max_value, safety.low_value, safety.step, safety.fixed_scale = D("3"), D("-3"), D("1"), True
    db.session.commit()
    assert scoresheets.load_row(judge, entrant, safety).scale == ["-3", "-2", "-1", "0", "1", "2", "3"]


def test_a_judgement_worth_points_shows_its_points_in_the_judges_tally(blank):
    competition, judge, entrant, route = blank

    def practical():
        sheet = scoresheets.open_sheet(judge, competition.code, entrant.secret_code)
        return next(s for s in sheet.tally.stages if s.stage.key == "practical")

    before = practical().maximum
    assert route.max_value == 40
    route.max_value, route.step, route.worth = D("3"), D("1"), D("40")
    db.session.commit()
    marks.record_mark(judge, entrant, route, "2", 0, "tablet-a")
    db.session.expire_all()
    # 2 of 3 is worth 26.67 of the 40 points; the stage maximum counts the points, not the top mark 3.
    assert practical().points == D("26.67")
    assert practical().maximum == before


def test_a_criterion_not_assigned_to_the_judge_is_forbidden(running):
    judge, entrant = judge_of(running, "J3"), entrant_of(running, "E1")  # J3 marks the route only
    with pytest.raises(PermissionError):
        marks.record_mark(judge, entrant, criterion_of(running, "practical.safety"), "5", 0, "t")


def test_a_judge_of_another_competition_is_forbidden(running, make_competition):
    other = make_competition(status="running")
    judge = judge_of(other, "J2")
    with pytest.raises(PermissionError):
        marks.record_mark(judge, entrant_of(running, "E1"), criterion_of(running, "practical.route"), "5", 1, "t")


def test_a_declared_conflict_is_forbidden(blank):
    _, judge, entrant, route = blank
    db.session.add(JudgeConflict(judge_id=judge.id, entrant_id=entrant.id, reason="同村"))
    db.session.commit()
    with pytest.raises(PermissionError):
        marks.record_mark(judge, entrant, route, "30", 0, "t")
    assert mark_of(judge, entrant, route) is None


def test_the_judges_own_employer_is_forbidden(blank):
    _, judge, entrant, route = blank
    judge.org_unit_id = entrant.employer_id
    db.session.commit()
    with pytest.raises(PermissionError):
        marks.record_mark(judge, entrant, route, "30", 0, "t")


@pytest.mark.parametrize("rule", ["employer", "declared"])
def test_the_shapes_of_the_recusal_rule_agree(running, rule):
    """One pair (a sheet), one judge's list, the save's statement and all pairs (results) say the same, under either
    recusal rule: by employer and declared conflicts (the default), or declared conflicts only."""
    import sqlalchemy as sa

    from comp.models import Competition, Entrant
    from comp.services.judging import recusal

    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    j1, j2, j3 = (judge_of(running, ref) for ref in ("J1", "J2", "J3"))
    j1.org_unit_id = e1.employer_id
    db.session.add(JudgeConflict(judge_id=j3.id, entrant_id=e2.id, reason="亲属"))
    running.rules = {**(running.rules or {}), "recusal": rule}
    db.session.commit()
    pairs = recusal.recused_pairs(running)
    for judge in (j1, j2, j3):
        markable = set(
            db.session.scalars(
                sa.select(Entrant.id).where(Entrant.competition_id == running.id, recusal.markable_by(judge, running))
            )
        )
        in_statement = set(
            db.session.scalars(
                sa.select(Entrant.id)
                .join(Competition, Competition.id == Entrant.competition_id)
                .where(
                    Entrant.competition_id == running.id,
                    recusal.recused_given(sa.literal(judge.id), sa.literal(judge.org_unit_id, sa.Integer)),
                )
            )
        )
        given = set(
            db.session.scalars(
                sa.select(Entrant.id).where(
                    Entrant.competition_id == running.id,
                    recusal.markable_given(
                        sa.literal(judge.id), sa.literal(judge.org_unit_id, sa.Integer), sa.literal(rule == "employer")
                    ),
                )
            )
        )
        for entrant in (e1, e2):
            recused = (judge.id, entrant.id) in pairs
            assert (entrant.id in given) is not recused
            assert recusal.is_recused(judge, entrant) is recused
            assert (entrant.id in markable) is not recused
            assert (entrant.id in in_statement) is recused
    expected = {(j1.id, e1.id), (j3.id, e2.id)} if rule == "employer" else {(j3.id, e2.id)}
    assert pairs == expected
    assert results.recused_pairs is recusal.recused_pairs and marks.is_recused is recusal.is_recused


@pytest.mark.parametrize("status", ["closed", "locked", "published"])
def test_no_mark_unless_the_competition_is_running(blank, status):
    competition, judge, entrant, route = blank
    competition.status = status
    db.session.commit()
    with pytest.raises(ServiceError):
        marks.record_mark(judge, entrant, route, "30", 0, "t")
    assert mark_of(judge, entrant, route) is None


def test_no_mark_for_an_entrant_not_checked_in(blank):
    _, judge, entrant, route = blank
    entrant.status = "absent"
    db.session.commit()
    with pytest.raises(ServiceError):
        marks.record_mark(judge, entrant, route, "30", 0, "t")


def test_sign_off_needs_every_mark_then_freezes_the_sheet(blank):
    competition, judge, entrant, route = blank
    safety = criterion_of(competition, "practical.safety")
    marks.record_mark(judge, entrant, route, "30", 0, "t")
    with pytest.raises(ServiceError) as refused:
        marks.sign_sheet(judge, entrant)
    assert safety.name in str(refused.value)
    assert _count(SheetSignoff) == 0
    marks.record_mark(judge, entrant, safety, "8", 0, "t")
    signoff = marks.sign_sheet(judge, entrant)
    assert (signoff.entrant_id, signoff.judge_id) == (entrant.id, judge.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sheet.signed"))
    assert (event.actor_id, event.object_id, event.competition_id) == (judge.id, entrant.id, competition.id)
    assert event.detail["marks"] == {"practical.route": "30", "practical.safety": "8"}
    with pytest.raises(ServiceError):
        marks.record_mark(judge, entrant, route, "31", 1, "t")
    assert mark_of(judge, entrant, route).value_cents == 3000
    with pytest.raises(ServiceError):
        marks.sign_sheet(judge, entrant)


def test_a_reopened_sheet_is_editable_again(blank):
    """The chief reopens a sheet by deleting its SheetSignoff (chief service); the judge can mark again."""
    competition, judge, entrant, route = blank
    marks.record_mark(judge, entrant, route, "30", 0, "t")
    marks.record_mark(judge, entrant, criterion_of(competition, "practical.safety"), "8", 0, "t")
    marks.sign_sheet(judge, entrant)
    db.session.execute(sa.delete(SheetSignoff))
    db.session.commit()
    assert marks.record_mark(judge, entrant, route, "32", 1, "t", reason="chief: re-mark").version == 2
    assert _changes(judge)[-1].reason == "chief: re-mark"


def test_progress_lists_checked_in_entrants_by_secret_code_without_recused_ones(running):
    judge = judge_of(running, "J2")
    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    criteria = marks.judge_criteria(marks.assignment_of(judge, running))
    assert [c.path for c in criteria] == ["practical.route", "practical.safety"]
    listed = scoresheets.progress(judge, running, criteria)
    assert sorted(p.secret_code for p in listed) == sorted([e1.secret_code, e2.secret_code])
    assert all((p.marked, p.due, p.signed) == (2, 2, False) for p in listed)
    db.session.add(JudgeConflict(judge_id=judge.id, entrant_id=e1.id, reason="同事"))
    e2.status = "absent"
    db.session.commit()
    assert scoresheets.progress(judge, running, criteria) == []


def test_progress_filters_by_the_start_of_the_secret_code(running):
    judge, e1 = judge_of(running, "J2"), entrant_of(running, "E1")
    criteria = marks.judge_criteria(marks.assignment_of(judge, running))
    listed = scoresheets.progress(judge, running, criteria, e1.secret_code[:3].lower())
    assert e1.secret_code in [p.secret_code for p in listed]


def test_the_sheet_totals_subtract_deductions(blank):
    competition, judge, entrant, route = blank
    safety = criterion_of(competition, "practical.safety")
    safety.kind = "deduction"
    db.session.commit()
    marks.record_mark(judge, entrant, route, "35.5", 0, "t")
    marks.record_mark(judge, entrant, safety, "2", 0, "t")
    sheet = scoresheets.load_sheet(judge, entrant)
    [(stage, rows, points, maximum)] = sheet.stages
    assert (stage.key, points, maximum) == ("practical", D("33.5"), D("40"))
    assert (sheet.tally.points, sheet.tally.maximum) == (D("33.5"), D("40")) and sheet.complete and sheet.tally.complete
