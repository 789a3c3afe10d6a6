"""The judge's side of re-marking: the chief's request reaches the judge, a re-mark or "my mark stands" answers it.

Also the score sheet's "next entrant" button and the judge's tally scored by the engine (out of 100).
"""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Entrant, Mark, MarkChange, RemarkRequest
from comp.services import ServiceError, chief
from comp.services.judging import marks, scoresheets
from tests.judging.conftest import criterion_of, drop_marks, entrant_of, judge_of, mark_of

NOTE = "请复核航线飞行：录像显示偏航"


@contextmanager
def statements():
    """Collect the SQL statements sent while the block runs."""
    sent: list[str] = []

    def collect(conn, cursor, statement, *args):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", collect)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", collect)


def set_cents(competition, entrant_ref: str, judge_ref: str, path: str, cents: int) -> None:
    """Change a mark behind the judges' backs (no MarkChange), as the chief tests do."""
    mark = mark_of(
        judge_of(competition, judge_ref), entrant_of(competition, entrant_ref), criterion_of(competition, path)
    )
    mark.value_cents, mark.version = cents, mark.version + 1
    db.session.commit()


@pytest.fixture()
def flagged(running):
    """E2's route marks are 30 (J1), 31.5 (J2) and 39 (J3): a spread of 9 > 20 % of 40 is flagged."""
    set_cents(running, "E2", "J3", "practical.route", 3900)
    return running


def ask(competition, action: str = "remark", note: str = NOTE):
    """The chief judge (J1) reviews E2's route marks."""
    route = criterion_of(competition, "practical.route")
    return chief.review_discrepancy(
        competition, judge_of(competition, "J1"), entrant_of(competition, "E2").id, route.id, action, note
    )


@pytest.fixture()
def asked(flagged):
    """The chief has asked J1, J2 and J3 to re-mark E2's route."""
    ask(flagged)
    return flagged


def requests(competition) -> list[RemarkRequest]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(RemarkRequest).where(RemarkRequest.competition_id == competition.id).order_by(RemarkRequest.id)
        )
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def row_of(page: str, criterion) -> str:
    match = re.search(rf'<div class="mark-row[^"]*" id="mark-{criterion.id}".*?\n</div>', page, re.S)
    assert match, f"no row for criterion {criterion.id}"
    return match.group(0)


# ---------------------------------------------------------------- the request


def test_a_remark_request_records_one_request_per_judge_with_the_mark_as_it_was(flagged):
    before = db.session.scalar(sa.select(sa.func.max(MarkChange.id)).where(MarkChange.competition_id == flagged.id))
    review = ask(flagged)
    chief_judge = judge_of(flagged, "J1")
    rows = requests(flagged)
    assert {(judge_of(flagged, ref).id, cents) for ref, cents in (("J1", 3000), ("J2", 3150), ("J3", 3900))} == {
        (r.judge_id, r.old_cents) for r in rows
    }
    for r in rows:
        assert (r.review_id, r.note, r.asked_by_id, r.after_change_id) == (review.id, NOTE, chief_judge.id, before or 0)
        assert r.entrant_id == entrant_of(flagged, "E2").id and r.answered_at is None and r.answer is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "discrepancy.remark"))
    assert event.detail["asked"] == ["J1", "J2", "J3"]


def test_a_confirmation_withdraws_the_waiting_requests(asked):
    ask(asked, "confirm", "录像复核无误")
    assert {(r.answer, r.answered_at is not None) for r in requests(asked)} == {("withdrawn", True)}
    assert scoresheets.pending_remarks(judge_of(asked, "J2"), asked) == []


def test_a_second_request_replaces_the_first(asked):
    ask(asked, note="再次复核")
    rows = requests(asked)
    assert [r.answer for r in rows] == ["withdrawn"] * 3 + [None] * 3
    [pending] = scoresheets.pending_remarks(judge_of(asked, "J2"), asked)
    assert pending.note == "再次复核"


def test_requests_wait_only_while_the_competition_runs(asked):
    assert len(scoresheets.pending_remarks(judge_of(asked, "J2"), asked)) == 1
    asked.status = "locked"
    db.session.commit()
    assert scoresheets.pending_remarks(judge_of(asked, "J2"), asked) == []


# ---------------------------------------------------------------- the judge sees it


def test_the_judges_home_shows_a_banner_by_secret_code(asked, tablet):
    t = tablet(asked, "J2")
    e2, route = entrant_of(asked, "E2"), criterion_of(asked, "practical.route")
    page = text(t.client.get(f"/judge/{asked.code}"))
    banner = re.search(r'<section class="remark-banner".*?</section>', page, re.S).group(0)
    assert "The chief judge asks you to look at 1 mark again" in banner
    assert e2.secret_code in banner and "实际操作 · 航线飞行" in banner and NOTE in banner
    assert f'href="/judge/{asked.code}/sheet/{e2.secret_code}#mark-{route.id}"' in banner
    assert "张三" not in page and "李四" not in page  # judges never see names
    assert re.search(rf'class="entrant-tile remark-asked">\s*<span class="code">{e2.secret_code}', page)


def test_a_judge_not_asked_sees_no_banner(flagged, tablet):
    t = tablet(flagged, "J2")
    assert "remark-banner" not in text(t.client.get(f"/judge/{flagged.code}"))


def test_the_sheet_highlights_the_row_with_the_chiefs_note(asked, tablet):
    t = tablet(asked, "J2")
    e2, route, safety = (
        entrant_of(asked, "E2"),
        criterion_of(asked, "practical.route"),
        criterion_of(asked, "practical.safety"),
    )
    page = text(t.client.get(t.url(e2)))
    row = row_of(page, route)
    assert row.startswith(f'<div class="mark-row remark-asked" id="mark-{route.id}"')
    assert NOTE in row and "My mark stands" in row
    assert f'hx-post="/judge/{asked.code}/sheet/{e2.secret_code}/mark/{route.id}/keep"' in row
    assert "remark-asked" not in row_of(page, safety)
    assert "The chief judge asks you to look at 1 mark again" in page
    assert "remark-asked" not in text(t.client.get(t.url(entrant_of(asked, "E1"))))


def test_re_marking_clears_the_request_without_the_save_touching_it(asked, tablet):
    t = tablet(asked, "J2")
    e2, route = entrant_of(asked, "E2"), criterion_of(asked, "practical.route")
    version = mark_of(t.judge, e2, route).version
    with statements() as sent:
        response = t.mark(e2, route, "34", version)
    assert 'data-state="saved"' in text(response)
    assert "remark-asked" not in text(response) and NOTE not in text(response)
    assert not any("remark_request" in s for s in sent), "a save reads or writes no re-mark request"
    page = text(t.client.get(t.url(e2)))
    assert "remark-asked" not in page and NOTE not in page
    assert "remark-banner" not in text(t.client.get(f"/judge/{asked.code}"))
    assert scoresheets.pending_remarks(t.judge, asked) == []
    # The other judges are still asked.
    assert len(scoresheets.pending_remarks(judge_of(asked, "J3"), asked)) == 1


def test_a_refused_value_keeps_the_request(asked, tablet):
    t = tablet(asked, "J2")
    e2, route = entrant_of(asked, "E2"), criterion_of(asked, "practical.route")
    response = t.mark(e2, route, "41", mark_of(t.judge, e2, route).version)
    assert 'data-state="refused"' in text(response) and "remark-asked" in text(response)
    assert len(scoresheets.pending_remarks(t.judge, asked)) == 1


def test_my_mark_stands_answers_without_changing_the_mark(asked, tablet):
    t = tablet(asked, "J2")
    e2, route = entrant_of(asked, "E2"), criterion_of(asked, "practical.route")
    mark = mark_of(t.judge, e2, route)
    cents, version = mark.value_cents, mark.version
    changes = db.session.scalar(sa.select(sa.func.count(MarkChange.id)))
    response = t.post(t.url(e2, f"/mark/{route.id}/keep"), {"version": str(version), "value": "31.5"})
    page = text(response)
    assert response.status_code == 200 and page.lstrip().startswith('<div class="mark-row" id=')
    assert "You told the chief judge that your mark stands." in page and NOTE not in page
    after = mark_of(t.judge, e2, route)
    assert (after.value_cents, after.version) == (cents, version)
    assert db.session.scalar(sa.select(sa.func.count(MarkChange.id))) == changes
    [mine] = [r for r in requests(asked) if r.judge_id == t.judge.id]
    assert mine.answer == "kept" and mine.answered_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "remark.kept"))
    assert (event.actor_id, event.detail["judge"], event.detail["mark"], event.object_id) == (
        t.judge.id,
        "J2",
        "31.5",
        mine.id,
    )
    assert "remark-banner" not in text(t.client.get(f"/judge/{asked.code}"))


def test_my_mark_stands_without_htmx_redirects_with_a_message(asked, tablet):
    t = tablet(asked, "J2")
    e2, route = entrant_of(asked, "E2"), criterion_of(asked, "practical.route")
    version = mark_of(t.judge, e2, route).version
    response = t.post(t.url(e2, f"/mark/{route.id}/keep"), {"version": str(version)}, htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#mark-{route.id}")
    assert "The chief judge is told that your mark stands." in text(t.client.get(response.headers["Location"]))


def test_my_mark_stands_is_refused_on_a_changed_mark_or_without_a_request(asked, tablet):
    t = tablet(asked, "J2")
    e1, e2 = entrant_of(asked, "E1"), entrant_of(asked, "E2")
    route = criterion_of(asked, "practical.route")
    version = mark_of(t.judge, e2, route).version
    page = text(t.post(t.url(e2, f"/mark/{route.id}/keep"), {"version": str(version - 1 if version > 1 else 9)}))
    assert "Your mark has changed meanwhile: it is 31.5 now." in page and "remark-asked" in page
    with pytest.raises(ServiceError, match="No re-mark request is waiting"):
        scoresheets.keep_mark(t.judge, e1, route, mark_of(t.judge, e1, route).version)
    assert len(scoresheets.pending_remarks(t.judge, asked)) == 1


def test_only_a_judge_of_the_criterion_may_answer(asked, tablet):
    t = tablet(asked, "J3")  # J3 marks the route only
    e2, safety = entrant_of(asked, "E2"), criterion_of(asked, "practical.safety")
    assert t.post(t.url(e2, f"/mark/{safety.id}/keep"), {"version": "1"}).status_code == 403


def test_a_judge_who_signed_again_can_still_keep_the_mark(asked):
    judge, e2, route = judge_of(asked, "J2"), entrant_of(asked, "E2"), criterion_of(asked, "practical.route")
    marks.sign_sheet(judge, e2)
    sheet = scoresheets.load_sheet(judge, e2)
    [row] = [r for r in sheet.rows if r.criterion.id == route.id]
    assert row.closed and row.remark is not None and row.remark.note == NOTE
    scoresheets.keep_mark(judge, e2, route, row.version)
    assert scoresheets.load_row(judge, e2, route).remark is None


# ---------------------------------------------------------------- next entrant


@pytest.fixture()
def three(running):
    """Secret codes in a known order: E1 AAA…, E2 BBB…, E3 CCC… (E3 unmarked)."""
    e1, e2 = entrant_of(running, "E1"), entrant_of(running, "E2")
    e1.secret_code, e2.secret_code = "AAA11111", "BBB22222"
    db.session.add(
        Entrant(competition_id=running.id, ref="E3", name="王五", status="ok", number=3, secret_code="CCC33333")
    )
    db.session.commit()
    return running


def test_next_entrant_prefers_the_next_sheet_not_yet_complete(three):
    judge = judge_of(three, "J2")
    e1, e2, e3 = (entrant_of(three, ref) for ref in ("E1", "E2", "E3"))
    assert scoresheets.next_entrant(judge, e1) == "CCC33333"  # E2's sheet is complete
    drop_marks(judge, e2)
    assert scoresheets.next_entrant(judge, e1) == "BBB22222"
    assert scoresheets.next_entrant(judge, e2) == "CCC33333"
    assert scoresheets.next_entrant(judge, e3) is None  # the last


def test_next_entrant_falls_back_to_the_next_one(three):
    judge = judge_of(three, "J2")
    e1, e2, e3 = (entrant_of(three, ref) for ref in ("E1", "E2", "E3"))
    for criterion in marks.judge_criteria(marks.assignment_of(judge, three)):
        marks.record_mark(judge, e3, criterion, "5", 0, "t")
    assert scoresheets.next_entrant(judge, e1) == "BBB22222"


def test_the_sheet_has_a_next_entrant_button_but_not_on_the_last(three, tablet):
    t = tablet(three, "J2")
    page = text(t.client.get(t.url(entrant_of(three, "E1"))))
    assert f'href="/judge/{three.code}/sheet/CCC33333"' in page and "Next entrant: CCC33333" in page
    last = text(t.client.get(t.url(entrant_of(three, "E3"))))
    assert "next-entrant" not in last


# ---------------------------------------------------------------- the tally, as the rules compute it


def test_the_tally_scores_each_stage_out_of_100_and_weights_the_total(running):
    judge, e1 = judge_of(running, "J1"), entrant_of(running, "E1")  # J1: exam 90, route 35
    tally = scoresheets.load_sheet(judge, e1).tally
    assert [(s.stage.key, s.points, s.maximum, s.score) for s in tally.stages] == [
        ("theory", D("90"), D("100"), D("90.00")),
        ("practical", D("35"), D("40"), D("87.50")),
    ]
    assert tally.total == D("88.25")  # (30 × 90 + 70 × 87.5) / 100


def test_the_tally_rounds_half_up_as_the_rules_do(running):
    judge, e1, route = judge_of(running, "J3"), entrant_of(running, "E1"), criterion_of(running, "practical.route")
    marks.record_mark(judge, e1, route, "33.33", mark_of(judge, e1, route).version, "t")
    tally = scoresheets.load_sheet(judge, e1).tally
    assert tally.stages[0].score == D("83.33") and tally.total == D("83.33")  # 83.325 rounds up


def test_the_tally_waits_for_every_mark_of_a_stage(running):
    judge, e1, safety = judge_of(running, "J2"), entrant_of(running, "E1"), criterion_of(running, "practical.safety")
    db.session.execute(sa.delete(Mark).where(Mark.judge_id == judge.id, Mark.criterion_id == safety.id))
    db.session.commit()
    tally = scoresheets.load_sheet(judge, e1).tally
    assert tally.stages[0].score is None and tally.total is None and tally.stages[0].points == D("36")


def test_the_tally_fragment_shows_the_scores_and_the_raw_points(running, tablet):
    t = tablet(running, "J1")
    page = text(t.get(t.url(entrant_of(running, "E1"), "/tally")))
    assert '<strong id="tally-score">88.25</strong> <small>/ 100</small>' in page
    assert '<strong class="tally-score">90.00</strong>' in page and '<strong class="tally-score">87.50</strong>' in page
    assert "35 of 40 points" in page and '<strong id="tally-total">125</strong> / 140' in page
    assert "weight 30" in page and "weight 70" in page
