"""The judging panel: accounts, criteria, one chief judge, and recusal (回避) enforced with its reasons."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from comp.extensions import db
from comp.models import AuditEvent, Criterion, Entrant, JudgeAssignment, JudgeConflict, OrgUnit, User
from comp.services import ServiceError
from comp.services.hall import judges
from tests.conftest import csrf_token
from tests.hall.conftest import htmx_headers


@pytest.fixture()
def panel(hall_competition):
    """Return a competition in registration with its imported panel J1 (chief), J2, J3."""
    return hall_competition()


def judge(competition, ref: str) -> JudgeAssignment:
    """Return the panel member with this ref."""
    return db.session.scalar(
        sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id, JudgeAssignment.ref == ref)
    )


def entrant(competition, ref: str) -> Entrant:
    """Return the entrant with this ref."""
    return db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == ref))


def criteria(competition) -> list[int]:
    """Return the ids of every criterion of the competition."""
    return [c.id for s in competition.stages for c in s.criteria]


def actions() -> list[str]:
    """Return the audited actions in order."""
    return db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_a_new_judge_gets_an_account_the_next_ref_and_an_activation_link(panel):
    employer = OrgUnit(kind="enterprise", name="泉州某机械公司")
    db.session.add(employer)
    db.session.commit()
    assignment, link = judges.add_judge(panel, "judge.new", "黄裁判", employer.id)
    assert assignment.ref == "J4" and not assignment.is_chief
    user = assignment.user
    assert user.role == "judge" and user.org_unit_id == employer.id and user.display_name == "黄裁判"
    assert not user.has_password  # nobody made one up: the judge sets it through the link
    assert link.user_id == user.id and link.purpose == "activate" and link.live
    assert actions()[-3:] == ["judge.account_created", "account.link_activate", "judge.assigned"]


def test_a_taken_username_is_refused_and_nothing_is_written(panel, make_user):
    make_user("taken", "worker")
    with pytest.raises(ServiceError, match="taken"):
        judges.add_judge(panel, "taken", "某人", None)
    assert len(judges.panel(panel)) == 3


def test_an_existing_judge_joins_once(panel, make_user):
    user = make_user("judge.old", "judge")
    assert user in judges.candidates(panel)
    assert judges.assign_existing(panel, user.id).ref == "J4"
    assert user not in judges.candidates(panel)
    with pytest.raises(ServiceError):
        judges.assign_existing(panel, user.id)


def test_a_worker_account_cannot_join_the_panel(panel, make_user):
    with pytest.raises(ServiceError, match="judge account"):
        judges.assign_existing(panel, make_user("w", "worker").id)


def test_naming_a_second_chief_moves_the_title(panel):
    assert judge(panel, "J1").is_chief
    judges.set_chief(judge(panel, "J3"))
    assert [a.ref for a in judges.panel(panel) if a.is_chief] == ["J3"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "judge.chief"))
    assert event.detail == {"ref": "J3", "previous": ["J1"]}
    judges.set_chief(judge(panel, "J3"))  # naming the chief again changes nothing
    assert [a.ref for a in judges.panel(panel) if a.is_chief] == ["J3"]


def test_criteria_are_set_and_audited(panel):
    j3 = judge(panel, "J3")
    ids = criteria(panel)
    judges.assign_criteria(j3, ids[:1])
    assert {jc.criterion_id for jc in j3.criteria} == {ids[0]}
    judges.assign_criteria(j3, ids[1:])
    assert {jc.criterion_id for jc in j3.criteria} == set(ids[1:])
    assert actions()[-1] == "judge.criteria"


def test_a_criterion_of_another_competition_is_refused(panel, hall_competition):
    other = criteria(hall_competition())
    with pytest.raises(ServiceError, match="criteria of this competition"):
        judges.assign_criteria(judge(panel, "J3"), other[:1])


def test_a_judge_from_an_entrants_employer_is_refused_naming_the_entrant(panel):
    j2 = judge(panel, "J2")
    j2.user.org_unit_id = entrant(panel, "E1").employer_id
    db.session.commit()
    assert [(e.ref, reason) for e, reason in judges.conflicts_for(j2)] == [("E1", "same employer")]
    with pytest.raises(ServiceError, match=r"E1 张三 \(same employer\)"):
        judges.assign_criteria(j2, criteria(panel))
    assert judge(panel, "J2").criteria  # unchanged: the imported criteria stay
    with force_locale("zh"), pytest.raises(ServiceError) as refused:
        judges.assign_criteria(j2, criteria(panel))
    assert "E1 张三（同一工作单位）" in str(refused.value) and "employer" not in str(refused.value)


def test_a_declared_conflict_is_refused_naming_the_entrant(panel):
    j3 = judge(panel, "J3")
    judges.declare_conflict(j3, "E2", "师徒关系")
    with pytest.raises(ServiceError, match=r"E2 李四 \(师徒关系\)"):
        judges.assign_criteria(j3, criteria(panel)[:1])
    assert actions()[-1] == "judge.conflict"


def test_an_explicit_recusal_lets_the_assignment_through(panel):
    j2 = judge(panel, "J2")
    e1 = entrant(panel, "E1")
    j2.user.org_unit_id = e1.employer_id
    db.session.commit()
    judges.assign_criteria(j2, criteria(panel), recuse=True)
    assert len(j2.criteria) == 3
    conflict = db.session.scalar(sa.select(JudgeConflict).where(JudgeConflict.judge_id == j2.user_id))
    assert (conflict.entrant_id, conflict.reason) == (e1.id, "same employer")
    assert (j2.user_id, e1.id) in judges.recused(panel)
    assert actions()[-2:] == ["judge.recused", "judge.criteria"]
    judges.assign_criteria(j2, criteria(panel)[:1], recuse=True)  # recusing again records no duplicate
    assert db.session.scalar(sa.select(sa.func.count()).where(JudgeConflict.judge_id == j2.user_id)) == 1


def test_recused_lists_declared_and_same_employer_pairs(panel):
    j2, j3 = judge(panel, "J2"), judge(panel, "J3")
    e1, e2 = entrant(panel, "E1"), entrant(panel, "E2")
    j2.user.org_unit_id = e1.employer_id
    db.session.commit()
    judges.declare_conflict(j3, "E2", "亲属")
    assert judges.recused(panel) == {(j2.user_id, e1.id), (j3.user_id, e2.id)}


def test_a_conflict_names_an_existing_entrant_and_a_reason(panel):
    j3 = judge(panel, "J3")
    with pytest.raises(ServiceError, match="No entrant"):
        judges.declare_conflict(j3, "E9", "x")
    with pytest.raises(ServiceError, match="Say why"):
        judges.declare_conflict(j3, "E1", "  ")
    judges.declare_conflict(j3, "E1", "同事")
    with pytest.raises(ServiceError, match="already"):
        judges.declare_conflict(j3, "E1", "同事")


def test_a_judge_with_marks_stays_on_the_panel(panel):
    with pytest.raises(ServiceError, match="has given marks"):
        judges.remove_judge(judge(panel, "J1"))


def test_a_judge_without_marks_can_leave(panel, make_user):
    assignment = judges.assign_existing(panel, make_user("judge.x", "judge").id)
    judges.remove_judge(assignment)
    assert [a.ref for a in judges.panel(panel)] == ["J1", "J2", "J3"]


def test_the_panel_is_frozen_once_locked(panel):
    panel.status = "locked"
    db.session.commit()
    with pytest.raises(ServiceError, match="locked"):
        judges.set_chief(judge(panel, "J2"))


# ---- the page ----


def post(client, competition, path: str, data: dict, htmx: bool = True):
    """Post a panel form with its CSRF token."""
    base = f"/competitions/{competition.code}/judges"
    data = {"csrf_token": csrf_token(client, base), **data}
    return client.post(f"{base}{path}", data=data, headers=htmx_headers() if htmx else {})


def test_the_page_lists_the_panel(client, organizer, panel):
    page = client.get(f"/competitions/{panel.code}/judges").get_data(as_text=True)
    assert "王裁判" in page and "Chief judge" in page and 'hx-target="#judge-panel"' in page
    assert page.count('<article class="judge-card') == 3


def test_adding_a_judge_shows_the_activation_link_and_its_qr_code(app, client, organizer, panel):
    response = post(client, panel, "/new", {"username": "judge.huang", "display_name": "黄裁判", "employer": 0})
    body = response.get_data(as_text=True)
    assert "<html" not in body and "judge.huang" in body and "J4" in body
    url = re.search(r'value="(http://testserver/activate/[^"]+)"', body).group(1)
    assert "<svg" in body and 'class="qr"' in body
    assert response.headers["Cache-Control"] == "no-store"
    judge = app.test_client()
    path = url.removeprefix("http://testserver")
    token = csrf_token(judge, path)
    answer = judge.post(
        path, data={"password": "黄裁判在平板上评分用", "repeat": "黄裁判在平板上评分用", "csrf_token": token}
    )
    assert answer.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "judge.huang"))
    db.session.refresh(user)
    assert user.check_password("黄裁判在平板上评分用")


def test_a_bad_new_judge_comes_back_with_the_message(client, organizer, panel):
    body = post(client, panel, "/new", {"username": "has space", "display_name": "x", "employer": 0}).get_data(
        as_text=True
    )
    assert "no spaces" in body and 'id="judge-panel"' in body


def test_the_page_refuses_a_recusal_violation_on_the_judges_card(client, organizer, panel):
    j2 = judge(panel, "J2")
    j2.user.org_unit_id = entrant(panel, "E1").employer_id
    db.session.commit()
    ids = [str(i) for i in criteria(panel)]
    body = post(client, panel, f"/{j2.id}/criteria", {"criteria": ids}).get_data(as_text=True)
    assert "E1 张三 (same employer)" in body and "Must not mark" in body
    assert not db.session.scalars(sa.select(JudgeConflict)).all()
    body = post(client, panel, f"/{j2.id}/criteria", {"criteria": ids, "recuse": "y"}).get_data(as_text=True)
    assert "criteria of J2 are saved" in body
    assert len(judge(panel, "J2").criteria) == 3


def test_the_page_names_a_chief_and_records_a_conflict(client, organizer, panel):
    j2 = judge(panel, "J2")
    body = post(client, panel, f"/{j2.id}/chief", {}).get_data(as_text=True)
    assert "陈裁判 is the chief judge" in body
    assert [a.ref for a in judges.panel(panel) if a.is_chief] == ["J2"]
    body = post(client, panel, f"/{j2.id}/conflicts", {"entrant": "E2", "reason": "同乡"}).get_data(as_text=True)
    assert "李四 — 同乡" in body


def test_an_unknown_criterion_is_refused_on_the_page(client, organizer, panel):
    j3 = judge(panel, "J3")
    other = db.session.scalar(sa.select(sa.func.max(Criterion.id))) + 1
    body = post(client, panel, f"/{j3.id}/criteria", {"criteria": [str(other)]}).get_data(as_text=True)
    assert "flash-error" in body


def test_two_judges_of_the_same_name_are_told_apart_by_their_employer(client, organizer, panel, make_user, tree):
    for username, unit in (("judge.lin.a", tree.city), ("judge.lin.b", None)):
        user = make_user(username, "judge")
        user.display_name, user.org_unit_id = "林建国", unit.id if unit else None
    db.session.commit()
    page = html.unescape(client.get(f"/competitions/{panel.code}/judges").get_data(as_text=True))
    assert f"林建国 · {tree.city.name} (judge.lin.a)" in page and "林建国 (judge.lin.b)" in page


def test_a_refused_criteria_save_keeps_what_the_organizer_ticked(client, organizer, panel):
    j2 = judge(panel, "J2")
    j2.user.org_unit_id = entrant(panel, "E1").employer_id
    db.session.commit()
    saved = {c.criterion_id for c in j2.criteria}
    ticked = [c for c in criteria(panel) if c not in saved][:1] or criteria(panel)[:1]
    body = post(client, panel, f"/{j2.id}/criteria", {"criteria": ticked}).get_data(as_text=True)
    card = body.split(f'id="judge-{j2.id}"')[1].split("</article>")[0]
    assert "same employer" in card  # refused: the recusal box was not ticked
    checked = {int(v) for v in re.findall(r'name="criteria" value="(\d+)" checked', card)}
    assert checked == set(ticked)  # what was ticked, not the saved criteria, so fixing one box is enough
    assert {c.criterion_id for c in judge(panel, "J2").criteria} == saved
