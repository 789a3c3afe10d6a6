"""The honours pipeline end to end: rules → who qualifies (ties included) → confirm → profiles → HR export."""

from __future__ import annotations

import copy
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from comp.extensions import db
from comp.models import AuditEvent, Honour, OutcomeGrant
from comp.services import ServiceError, exchange, people
from comp.services.setup import honours, lifecycle
from tests.conftest import SMALL, csrf_token, valid_id

# exam marks: E3 and E4 tie for third place (same marks, same time).
EXAMS = {"E1": "95", "E2": "90", "E3": "85", "E4": "85", "E5": "80", "E6": "75", "E7": "70", "E8": "65"}
GRADES = {"E1": 4, "E2": 3, "E3": 5, "E4": None, "E5": 4, "E6": 2, "E7": 4, "E8": 4}
RULES = {
    "rules": [
        {"places": [1, 1], "honours": ["技术能手", "五一劳动奖章"]},
        {"places": [1, 3], "promote": 1},
        {"places": [4, 6], "grade": 3},
    ]
}


def _doc(code: str = "T-2026-HON") -> dict:
    doc = copy.deepcopy(SMALL)
    doc["competition"]["code"] = code
    doc["entrants"] = [
        {
            "ref": ref,
            "name": f"选手{ref}",
            "id_number": valid_id(700 + i),
            "employer": "晋江测试公司",
            "team": "",
            "status": "ok",
            "time_seconds": 600,
        }
        for i, ref in enumerate(EXAMS, 1)
    ]
    marks = []
    for ref, exam in EXAMS.items():
        marks.append({"entrant": ref, "judge": "J1", "criterion": "theory.exam", "value": exam})
        marks += [
            {"entrant": ref, "judge": j, "criterion": "practical.route", "value": "30"} for j in ("J1", "J2", "J3")
        ]
        marks.append({"entrant": ref, "judge": "J2", "criterion": "practical.safety", "value": "8"})
    doc["marks"] = marks
    return doc


@pytest.fixture()
def contest():
    """A locked competition of eight workers with known grades and the issue's rules."""
    competition = exchange.import_competition(_doc())
    for entrant in competition.entrants:
        entrant.worker.skill_grade = GRADES[entrant.ref]
    competition.outcomes = RULES
    db.session.commit()
    return competition


def _by_ref(listed):
    return {c.entrant.ref: c for c in listed}


def test_the_list_needs_published_results(contest):
    with pytest.raises(ServiceError, match="T-2026-HON"):
        honours.candidates(contest)


def test_who_qualifies_ties_included(contest):
    lifecycle.publish(contest)
    listed = honours.candidates(contest)
    got = {ref: (c.standing.rank, c.honours, c.grade_to, c.grade_unknown) for ref, c in _by_ref(listed).items()}
    assert got == {
        "E1": (1, ("技术能手", "五一劳动奖章"), 3, False),
        "E2": (2, (), 2, False),
        "E3": (3, (), 4, False),
        "E4": (3, (), None, True),  # tied third, grade unknown: listed, nothing to confirm
        "E5": (5, (), 3, False),
        # E6 (place 6) already holds 二级/技师, above the 高级工 floor: earns nothing.
    }
    assert [c.standing.rank for c in listed] == sorted(c.standing.rank for c in listed)


def test_confirm_writes_the_profiles_once(contest):
    lifecycle.publish(contest)
    everyone = [e.id for e in contest.entrants]
    assert honours.confirm(contest, everyone) == 6
    workers = {e.ref: e.worker for e in contest.entrants}
    db.session.expire_all()
    assert {ref: w.skill_grade for ref, w in workers.items()} == {
        "E1": 3,
        "E2": 2,
        "E3": 4,
        "E4": None,
        "E5": 3,
        "E6": 2,
        "E7": 4,
        "E8": 4,
    }
    titles = db.session.execute(
        sa.select(
            Honour.worker_id, Honour.title, Honour.year, Honour.status, Honour.issuer, Honour.competition_id
        ).order_by(Honour.title)
    ).all()
    assert titles == [
        (workers["E1"].id, "五一劳动奖章", 2026, "recommended", "泉州市总工会", contest.id),
        (workers["E1"].id, "技术能手", 2026, "recommended", "泉州市总工会", contest.id),
    ]
    events = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("outcome.%")).order_by(AuditEvent.id)
    ).all()
    assert sorted(events) == ["outcome.grade_granted"] * 4 + ["outcome.honour_granted"] * 2
    # Idempotent: confirming again adds nothing, and every candidate now shows as confirmed.
    assert honours.confirm(contest, everyone) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutcomeGrant)) == 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Honour)) == 2
    listed = _by_ref(honours.candidates(contest))
    assert all(c.confirmed for c in listed.values())
    assert listed["E2"].granted[("grade", "grade")].grade_from == 3  # the record keeps where it started
    db.session.expire_all()
    assert workers["E2"].skill_grade == 2  # and the grade is not promoted twice


def test_confirm_only_the_chosen(contest):
    lifecycle.publish(contest)
    chosen = [e.id for e in contest.entrants if e.ref == "E2"]
    assert honours.confirm(contest, chosen) == 1
    listed = _by_ref(honours.candidates(contest))
    assert listed["E2"].confirmed and not listed["E1"].confirmed


def test_an_existing_honour_is_not_duplicated(contest):
    lifecycle.publish(contest)
    first = next(e for e in contest.entrants if e.ref == "E1")
    db.session.add(Honour(worker_id=first.worker_id, title="技术能手", year=2026, issuer="泉州市人社局"))
    db.session.commit()
    honours.confirm(contest, [first.id])
    rows = db.session.execute(sa.select(Honour.title, Honour.issuer, Honour.status).order_by(Honour.title)).all()
    assert rows == [("五一劳动奖章", "泉州市总工会", "recommended"), ("技术能手", "泉州市人社局", "awarded")]


def test_a_grade_reached_meanwhile_is_never_lowered(contest):
    lifecycle.publish(contest)
    fifth = next(e for e in contest.entrants if e.ref == "E5")
    fifth.worker.skill_grade = 1
    db.session.commit()
    assert "E5" not in _by_ref(honours.candidates(contest))
    honours.confirm(contest, [fifth.id])
    db.session.expire_all()
    assert fifth.worker.skill_grade == 1


def test_invalid_rules_are_refused_with_their_place(contest):
    with pytest.raises(honours.OutcomeProblems) as caught:
        honours.set_rules(contest, {"rules": [{"places": [5, 2], "promote": 1}]})
    assert list(caught.value.problems) == ["outcomes.rules[0].places"]
    db.session.expire_all()
    assert contest.outcomes == RULES


def test_hr_export_has_full_ids_and_is_audited(contest):
    lifecycle.publish(contest)
    honours.confirm(contest, [e.id for e in contest.entrants if e.ref in ("E1", "E3")])
    sheet = load_workbook(io.BytesIO(honours.export(contest))).active
    rows = list(sheet.iter_rows(values_only=True))
    first = next(e for e in contest.entrants if e.ref == "E1")
    assert len(rows) == 3
    assert rows[1][1] == first.worker.name and rows[1][2] == people.id_number(first.worker)
    assert rows[1][7] == 1 and rows[1][10] == "技术能手、五一劳动奖章"
    assert (rows[1][11], rows[1][12]) == ("四级/中级工", "三级/高级工")
    assert rows[2][7] == 3 and rows[2][10] in (None, "")
    assert db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "outcome.exported_full")) == {
        "count": 2
    }


def test_withdrawn_results_take_the_list_away(contest):
    lifecycle.publish(contest)
    assert honours.candidates(contest)
    lifecycle.transition(contest, "locked", reason="objection upheld")
    with pytest.raises(ServiceError):
        honours.candidates(contest)


# --- the pages ---


@pytest.fixture()
def organizer(auth, make_user):
    make_user("boss", "organizer", locale="en")
    auth.login("boss")


def test_page_before_publication(client, organizer, contest):
    page = client.get(f"/competitions/{contest.code}/honours").get_data(as_text=True)
    assert "Places 1–3" in page and "Recommended for 技术能手" in page
    assert "The list appears once the results are published." in page


def test_add_and_remove_rules_in_the_browser(client, organizer, contest):
    url = f"/competitions/{contest.code}/honours"
    token = csrf_token(client, url)
    bad = client.post(
        url + "/rules",
        data={
            "csrf_token": token,
            "applies": "places",
            "first": "5",
            "last": "2",
            "honours": "泉州工匠",
            "promote": "0",
            "grade": "0",
        },
    )
    assert bad.status_code == 422
    assert "the last place (2) comes before the first (5)" in bad.get_data(as_text=True)
    nothing = client.post(
        url + "/rules",
        data={
            "csrf_token": token,
            "applies": "places",
            "first": "7",
            "last": "9",
            "honours": "",
            "promote": "0",
            "grade": "0",
        },
    )
    assert "the rule earns nothing" in nothing.get_data(as_text=True)
    db.session.expire_all()
    assert contest.outcomes == RULES
    ok = client.post(
        url + "/rules",
        data={
            "csrf_token": token,
            "applies": "award",
            "award": "一等奖",
            "honours": "泉州工匠、 技术能手",
            "promote": "0",
            "grade": "0",
        },
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert contest.outcomes["rules"][-1] == {"award": "一等奖", "honours": ["泉州工匠", "技术能手"]}
    assert client.post(url + "/rules/0/delete", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert len(contest.outcomes["rules"]) == 3 and contest.outcomes["rules"][0] == RULES["rules"][1]


def test_confirm_and_export_in_the_browser(client, organizer, contest):
    lifecycle.publish(contest)
    url = f"/competitions/{contest.code}/honours"
    page = client.get(url).get_data(as_text=True)
    assert page.count('name="entrant"') == 4  # E1, E2, E3, E5 (E4's grade is unknown)
    assert people.id_number(contest.entrants[0].worker) not in page
    chosen = [e.id for e in contest.entrants if e.ref in ("E1", "E2")]
    response = client.post(url + "/confirm", data={"csrf_token": csrf_token(client, url), "entrant": chosen})
    assert response.status_code == 302
    assert "4 honours and promotions were confirmed" in client.get(url).get_data(as_text=True)
    download = client.get(f"/competitions/{contest.code}/honours.xlsx")
    assert download.status_code == 200
    assert len(list(load_workbook(io.BytesIO(download.data)).active.iter_rows())) == 3


@pytest.mark.parametrize("role, expected", [("worker", 403), ("judge", 403)])
def test_only_organizers(client, auth, make_user, contest, role, expected):
    lifecycle.publish(contest)
    make_user("someone", role)
    auth.login("someone")
    assert client.get(f"/competitions/{contest.code}/honours").status_code == expected
    assert client.get(f"/competitions/{contest.code}/honours.xlsx").status_code == expected


def test_anonymous_is_sent_to_login(client, contest):
    response = client.get(f"/competitions/{contest.code}/honours")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_confirm_needs_csrf(client, organizer, contest):
    lifecycle.publish(contest)
    response = client.post(f"/competitions/{contest.code}/honours/confirm", data={"entrant": [1]})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutcomeGrant)) == 0
