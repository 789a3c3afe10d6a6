"""The chief judge's console: progress grid, discrepancies, re-marks, reopened sheets, the lock."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, DiscrepancyReview, JudgeConflict
from comp.services import ServiceError, chief
from comp.services.chief import progress as chief_progress
from comp.services.setup import lifecycle
from tests.chief.helpers import entrant, htmx_post, judge, login_judge, set_mark, sign, signed

NAMES = ("张三", "李四")
EMPLOYERS = ("晋江无人机公司", "石狮无人机公司")


@pytest.fixture()
def competition(make_competition):
    """A running competition whose marks are all in (E1, E2; judges J1 chief, J2, J3)."""
    return make_competition(status="running")


@pytest.fixture()
def flagged(competition):
    """The competition with E2's route marks 30, 31.5, 39: a spread of 9 > 20 % of 40."""
    set_mark(competition, "E2", "J3", "practical.route", "39")
    return competition


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def audits(competition, action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.competition_id == competition.id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


def review(client, competition, ref: str, action: str, note: str, path_id=None):
    from tests.chief.helpers import criterion

    return htmx_post(
        client,
        f"/chief/{competition.code}/discrepancies",
        {
            "entrant_id": entrant(competition, ref).id,
            "criterion_id": path_id or criterion(competition, "practical.route").id,
            "action": action,
            "note": note,
        },
    )


# ------------------------------------------------------------------ the progress grid


def test_grid_counts_marks_due_and_entered(competition):
    set_mark(competition, "E1", "J2", "practical.route", None)
    grid = chief_progress.grid(competition, reveal=False)
    # Per entrant: the exam (single, J1), the route (J1, J2, J3), safety (J2) = 5 marks.
    assert (grid.due, grid.entered, grid.missing) == (10, 9, 1)
    assert [c.judge.ref for c in grid.columns] == ["J1", "J1", "J2", "J3", "J2"]
    row = next(r for r in grid.rows if r.ref == "E1")
    assert (row.entered, row.due, row.code) == (4, 5, entrant(competition, "E1").secret_code)
    assert [state for state, _ in row.cells] == ["marked", "marked", "missing", "marked", "marked"]
    assert row.name is None
    assert {(j.ref, entered, due) for j, entered, due in grid.per_judge} == {("J1", 4, 4), ("J2", 3, 4), ("J3", 2, 2)}


def test_recused_cells_are_not_due(competition):
    set_mark(competition, "E1", "J2", "practical.route", None)
    j3 = judge(competition, "J3")
    j2 = judge(competition, "J2")
    j2.org_unit_id = entrant(competition, "E1").employer_id  # J2 works for E1's employer
    db.session.add(JudgeConflict(judge_id=j3.id, entrant_id=entrant(competition, "E2").id, reason="同事"))
    db.session.commit()
    grid = chief_progress.grid(competition, reveal=False)
    row = next(r for r in grid.rows if r.ref == "E1")
    assert [state for state, _ in row.cells][2] == "recused"
    assert [state for state, _ in row.cells][4] == "marked"  # J2's safety mark stands; it is shown as given
    e2 = next(r for r in grid.rows if r.ref == "E2")
    assert [state for state, _ in e2.cells][3] == "marked"
    assert (row.due, e2.due) == (3, 4)
    assert chief_progress.counts(competition)[entrant(competition, "E1").id] == (3, 3)


def test_console_shows_the_grid_by_secret_code(client, auth, competition):
    set_mark(competition, "E1", "J2", "practical.route", None)
    login_judge(auth, competition, "J1")
    response = client.get(f"/chief/{competition.code}")
    assert response.status_code == 200
    page = text(response)
    assert entrant(competition, "E1").secret_code in page and entrant(competition, "E2").secret_code in page
    assert "9 / 10" in page
    assert 'class="cell cell-missing"' in page


# ------------------------------------------------------------------ discrepancies


def test_flagged_discrepancy_lists_every_mark(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    page = text(client.get(f"/chief/{flagged.code}"))
    assert 'id="flag-' in page
    for value in ("30.00", "31.50", "39.00"):
        assert value in page
    assert "9.00" in page


def test_confirm_needs_a_note_and_records_the_spread(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    refused = review(client, flagged, "E2", "confirm", "  ")
    assert refused.status_code == 200 and "<html" not in refused.get_data(as_text=True)
    assert "Write a note" in text(refused)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DiscrepancyReview)) == 0

    response = review(client, flagged, "E2", "confirm", "实测复核无误")
    assert response.status_code == 200
    assert "Marks confirmed as they stand." in text(response)
    row = db.session.scalar(sa.select(DiscrepancyReview))
    assert (row.state, row.spread_cents, row.note) == ("confirmed", 900, "实测复核无误")
    (event,) = audits(flagged, "discrepancy.confirmed")
    assert event.detail["spread"] == "9.00" and event.detail["note"] == "实测复核无误"
    assert chief.lock_blockers(flagged) == ()


def test_remark_reopens_the_judges_sheets_and_keeps_the_flag_open(client, auth, flagged):
    sign(flagged, "E2", "J1", "J2", "J3")
    sign(flagged, "E1", "J1")
    login_judge(auth, flagged, "J1")
    response = review(client, flagged, "E2", "remark", "请J3复核航线飞行")
    assert "Re-mark requested" in text(response)
    assert signed(flagged, "E2") == set() and signed(flagged, "E1") == {"J1"}
    assert sorted(e.detail["judge"] for e in audits(flagged, "sheet.reopened")) == ["J1", "J2", "J3"]
    assert all(e.detail["reason"] == "请J3复核航线飞行" for e in audits(flagged, "sheet.reopened"))
    (event,) = audits(flagged, "discrepancy.remark")
    assert event.detail["reopened"] == ["J1", "J2", "J3"]
    assert db.session.scalar(sa.select(DiscrepancyReview.state)) == "remark"
    assert any("Discrepancies are open" in b for b in chief.lock_blockers(flagged))


def test_a_confirmation_lapses_when_a_mark_changes(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    review(client, flagged, "E2", "confirm", "ok")
    assert chief.lock_blockers(flagged) == ()
    set_mark(flagged, "E2", "J3", "practical.route", "39.5")
    assert any("Discrepancies are open" in b for b in chief.lock_blockers(flagged))
    page = text(client.get(f"/chief/{flagged.code}"))
    assert "Marks changed since confirmed" in page


def test_a_spread_no_longer_flagged_cannot_be_reviewed(client, auth, competition):
    login_judge(auth, competition, "J1")
    response = review(client, competition, "E2", "confirm", "ok")
    assert "no longer flagged" in text(response)


# ------------------------------------------------------------------ the lock


def test_lock_is_refused_while_marks_are_missing_and_names_the_codes(client, auth, competition):
    set_mark(competition, "E1", "J1", "theory.exam", None)
    login_judge(auth, competition, "J1")
    response = htmx_post(client, f"/chief/{competition.code}/lock")
    page = text(response)
    assert "The scores cannot be locked" in page
    assert f"Marks are missing for {entrant(competition, 'E1').secret_code}." in page
    assert not any(name in page for name in NAMES)
    db.session.refresh(competition)
    assert competition.status == "running"


def test_lock_is_refused_with_an_open_discrepancy_and_allowed_once_confirmed(client, auth, flagged):
    login_judge(auth, flagged, "J1")
    console = client.get(f"/chief/{flagged.code}").get_data(as_text=True)
    lock = console[console.index('id="lock"') :]
    button = lock[lock.index('<button type="submit" class="big"') : lock.index("</button>")]
    assert 'disabled aria-describedby="lock-blockers"' in button  # blocked: said, not asked then refused
    page = text(htmx_post(client, f"/chief/{flagged.code}/lock"))
    assert f"Discrepancies are open for {entrant(flagged, 'E2').secret_code} 实际操作 · 航线飞行." in page
    review(client, flagged, "E2", "confirm", "复核无误")
    response = htmx_post(client, f"/chief/{flagged.code}/lock")
    db.session.refresh(flagged)
    assert flagged.status == "locked"
    page = text(response)
    assert "The scores are locked" in page
    assert all(name in page for name in NAMES)
    client.get(f"/chief/{flagged.code}")
    (event,) = audits(flagged, "names.revealed")
    assert event.actor_id == judge(flagged, "J1").id
    assert len(audits(flagged, "competition.locked")) == 1


def test_lock_service_refuses_with_a_service_error(flagged):
    with pytest.raises(ServiceError, match="Discrepancies are open"):
        chief.lock(flagged, judge(flagged, "J1"))


def test_names_stay_hidden_before_the_lock(client, auth, flagged):
    sign(flagged, "E1", "J2")
    login_judge(auth, flagged, "J1")
    page = text(client.get(f"/chief/{flagged.code}"))
    assert not any(name in page for name in NAMES + EMPLOYERS)
    assert not audits(flagged, "names.revealed")
    with pytest.raises(ServiceError):
        chief.reveal_names(flagged, None)


def test_unlock_needs_a_reason(client, auth, competition):
    login_judge(auth, competition, "J1")
    htmx_post(client, f"/chief/{competition.code}/lock")
    assert "Give the reason" in text(htmx_post(client, f"/chief/{competition.code}/unlock", {"reason": ""}))
    htmx_post(client, f"/chief/{competition.code}/unlock", {"reason": "J2 录入错误"})
    db.session.refresh(competition)
    assert competition.status == "running"
    assert audits(competition, "competition.running")[-1].detail["reason"] == "J2 录入错误"


# ------------------------------------------------------------------ reopening one sheet


def test_reopen_one_sheet_with_a_reason(client, auth, competition):
    sign(competition, "E1", "J2", "J3")
    login_judge(auth, competition, "J1")
    url = f"/chief/{competition.code}/reopen"
    code = entrant(competition, "E1").secret_code
    j2 = judge(competition, "J2").id
    assert "Give the reason" in text(htmx_post(client, url, {"judge": j2, "code": code, "reason": ""}))
    unknown = htmx_post(client, url, {"judge": j2, "code": "NOPE", "reason": "x"})
    assert "No entrant has the secret code" in text(unknown)
    response = htmx_post(client, url, {"judge": j2, "code": code.lower(), "reason": "J2 签错了"})
    assert "The sheet is open again" in text(response)
    assert signed(competition, "E1") == {"J3"}
    (event,) = audits(competition, "sheet.reopened")
    assert (event.detail["judge"], event.detail["reason"]) == ("J2", "J2 签错了")
    assert "has not signed" in text(htmx_post(client, url, {"judge": j2, "code": code, "reason": "again"}))


def test_plain_form_posts_redirect_back_with_a_message(client, auth, competition):
    from tests.conftest import csrf_token

    login_judge(auth, competition, "J1")
    token = csrf_token(client, f"/chief/{competition.code}")
    response = client.post(f"/chief/{competition.code}/lock", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/chief/{competition.code}#lock")
    assert "The scores are locked" in text(client.get(f"/chief/{competition.code}"))


# ------------------------------------------------------------------ who may see and act


@pytest.mark.parametrize(
    "who, get, post",
    [
        ("chief", 200, 200),
        ("J2", 403, 403),
        ("worker", 403, 403),
        ("other-judge", 403, 403),
        ("organizer", 200, 403),
        ("admin", 200, 403),
    ],
)
def test_only_the_chief_acts_and_organizers_follow(client, auth, make_user, competition, who, get, post):
    if who == "chief":
        login_judge(auth, competition, "J1")
    elif who == "J2":
        login_judge(auth, competition, "J2")
    else:
        role = "judge" if who == "other-judge" else who
        make_user("someone", role, locale="en")
        auth.login("someone")
    assert client.get(f"/chief/{competition.code}").status_code == get
    assert htmx_post(client, f"/chief/{competition.code}/lock").status_code == post


def test_anonymous_is_sent_to_login_and_unknown_codes_are_404(client, auth, make_user, competition):
    response = client.get(f"/chief/{competition.code}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    make_user("boss", "organizer")
    auth.login("boss")
    assert client.get("/chief/NO-SUCH").status_code == 404


def test_organizer_publishes_a_locked_competition(client, auth, make_user, make_competition):
    competition = make_competition(status="locked")
    make_user("boss", "organizer", locale="en")
    auth.login("boss")
    page = text(client.get(f"/chief/{competition.code}"))
    assert "Publish the results" in page and "Lock the scores" not in page
    response = htmx_post(client, f"/chief/{competition.code}/publish")
    assert "The results are published" in text(response)
    db.session.refresh(competition)
    assert competition.status == "published" and competition.published_at is not None


def test_amending_published_results_goes_back_to_locked(make_user, make_competition):
    competition = make_competition(status="locked")
    boss = make_user("boss", "organizer")
    lifecycle.publish(competition, boss)
    with pytest.raises(ServiceError, match="reason"):
        chief.amend_after_publication(competition, boss, " ")
    assert chief.can_amend(competition)
    chief.amend_after_publication(competition, boss, "异议成立")
    assert competition.status == "locked"
    assert audits(competition, "competition.locked")[-1].detail == {
        "previous": "published",
        "reason": "异议成立",
        "amend": True,
    }


def test_a_single_criterion_needs_one_mark_from_any_of_its_judges(competition):
    from comp.models import JudgeAssignment, JudgeCriterion
    from tests.chief.helpers import criterion

    j2 = db.session.scalar(
        sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id, JudgeAssignment.ref == "J2")
    )
    j2.criteria.append(JudgeCriterion(criterion_id=criterion(competition, "theory.exam").id))
    db.session.commit()
    grid = chief_progress.grid(competition, reveal=False)
    row = next(r for r in grid.rows if r.ref == "E1")
    assert [state for state, _ in row.cells][:2] == ["marked", "spare"]  # J1 gave the exam score
    assert (grid.due, grid.entered) == (10, 10)
    set_mark(competition, "E1", "J1", "theory.exam", None)
    row = next(r for r in chief_progress.grid(competition, reveal=False).rows if r.ref == "E1")
    assert [state for state, _ in row.cells][:2] == ["missing", "missing"] and row.missing == 1
