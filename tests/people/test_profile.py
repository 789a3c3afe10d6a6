"""Craftsman profiles (工匠档案): who may see one, what it shows, and the organizer's edits in place.

A worker asking for someone else's profile gets 404, not 403: as with certificates, a worker
is not told whether another worker's record exists. Organizers outside the worker's county
get 403 (they know the talent pool exists; the record is simply not theirs).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import (
    AuditEvent,
    Competition,
    Entrant,
    Honour,
    OrgUnit,
    Standing,
    Unit,
    UnitMember,
    Worker,
)
from comp.models.types import utcnow
from comp.services import certs as certificates
from tests.conftest import csrf_token, valid_id

HX = {"HX-Request": "true"}


@dataclass
class People:
    zhang: Worker  # of 晋江 (the first entrant of the test competitions)
    li: Worker  # of 石狮 (the second)


@pytest.fixture()
def people(tree, make_worker) -> People:
    """Create the two workers the test competitions' entrants are linked to (by their ID numbers)."""
    zhang = make_worker(
        "张三",
        id_number=valid_id(901),
        employer_id=tree.aviation.id,
        trade="无人机驾驶员",
        skill_grade=4,
        phone="13911112222",
    )
    li = make_worker(
        "李四", id_number=valid_id(902), employer_id=tree.garment.id, trade="无人机驾驶员", phone="13933334444"
    )
    return People(zhang, li)


@pytest.fixture()
def login(auth, make_user, tree):
    """Return a helper creating a user (English pages) and logging it in."""

    def log_in(role: str, unit: OrgUnit | None = None, worker: Worker | None = None):
        user = make_user(
            f"{role}{log_in.count}",
            role,
            locale="en",
            org_unit_id=unit.id if unit else None,
            worker_id=worker.id if worker else None,
        )
        log_in.count += 1
        auth.login(user.username)
        return user

    log_in.count = 0
    return log_in


def text(response) -> str:
    """Return the answer with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def standing_of(worker: Worker, competition: Competition) -> Standing:
    return db.session.scalar(
        sa.select(Standing).where(Standing.worker_id == worker.id, Standing.competition_id == competition.id)
    )


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def post(client, url: str, data: dict | None = None, **kwargs):
    """Post a form with a valid CSRF token of the logged-in session."""
    return client.post(url, data={"csrf_token": csrf_token(client, "/"), **(data or {})}, **kwargs)


def issue(competition: Competition) -> list:
    """Issue the competition's certificates, as if published ten days ago (notice period over)."""
    competition.published_at = utcnow() - timedelta(days=10)
    db.session.commit()
    return certificates.issue(competition)


def only_li_entered(make_competition, tree, people) -> Competition:
    """Return a published competition in which only 李四 has a standing."""
    competition = make_competition(status="published", name="2025年石狮缝纫工竞赛", year=2025)
    db.session.execute(
        sa.delete(Standing).where(Standing.competition_id == competition.id, Standing.worker_id == people.zhang.id)
    )
    db.session.commit()
    return competition


# ---- what the page shows ----


def test_the_profile_shows_exactly_the_workers_history(client, login, tree, people, make_competition):
    competition = make_competition(status="published")
    other = only_li_entered(make_competition, tree, people)
    login("organizer", tree.city)
    page = text(client.get(f"/people/{people.zhang.id}"))
    own = standing_of(people.zhang, competition)
    assert "张三" in page and people.zhang.id_masked in page
    assert "139****2222" in page and "13911112222" not in page  # organizers see the phone masked
    assert "晋江翔鹭航空" in page and "晋江市总工会" in page and "四级/中级工" in page and "无人机驾驶员" in page
    assert "Male" in page or "Female" in page
    assert competition.name in page and f"/c/{competition.code}/results" in page
    assert "理论知识" in page and "实际操作" in page
    for score in own.stages.values():
        assert f"{float(score):.2f}" in page
    assert f"{own.total:.2f}" in page and f'<td class="num">{own.rank}</td>' in page
    if own.award:
        assert own.award in page
    assert other.name not in page  # 李四's competition is not in 张三's record
    assert "李四" not in page and "13933334444" not in page


def test_the_full_id_number_never_appears(client, login, tree, people, make_competition):
    make_competition(status="published")
    login("organizer", tree.city)
    page = client.get(f"/people/{people.zhang.id}").get_data(as_text=True)
    assert valid_id(901) not in page and people.zhang.id_masked in page


def test_results_are_newest_year_first(client, login, tree, people, make_competition):
    older = make_competition(status="published", name="2024年无人机竞赛", year=2024)
    newer = make_competition(status="published", name="2026年无人机竞赛", year=2026)
    login("organizer", tree.city)
    page = text(client.get(f"/people/{people.zhang.id}"))
    assert page.index(newer.name) < page.index(older.name)


def test_unpublished_entries_are_current_entries_not_results(client, login, tree, people, make_competition):
    running = make_competition(status="open", name="2026年茶艺竞赛")
    db.session.execute(
        sa.update(Entrant)
        .where(Entrant.competition_id == running.id, Entrant.worker_id == people.zhang.id)
        .values(status="pending")
    )
    db.session.commit()
    login("organizer", tree.city)
    page = text(client.get(f"/people/{people.zhang.id}"))
    assert "Current entries" in page and running.name in page and "Pending approval" in page
    assert f"/c/{running.code}/results" not in page and "No published results yet." in page


def test_certificate_links_follow_who_may_download(client, auth, login, tree, people, make_competition):
    competition = make_competition(status="published")
    issued = issue(competition)
    own = next(c for c in issued if c.entrant.worker_id == people.zhang.id)
    login("worker", worker=people.zhang)
    assert f"/my/certificates/{own.number}.pdf" in text(client.get(f"/people/{people.zhang.id}"))
    assert client.get(f"/my/certificates/{own.number}.pdf").status_code == 200
    auth.logout()
    login("organizer", tree.city)
    url = f"/competitions/{competition.code}/certificates/{own.number}.pdf"
    assert url in text(client.get(f"/people/{people.zhang.id}")) and client.get(url).status_code == 200
    auth.logout()
    login("organizer", tree.jinjiang)  # oversees 张三 but does not organize a city competition
    page = text(client.get(f"/people/{people.zhang.id}"))
    assert own.number in page and ".pdf" not in page


def test_a_revoked_certificate_is_not_linked(client, login, tree, people, make_competition):
    competition = make_competition(status="published")
    issued = issue(competition)
    own = next(c for c in issued if c.entrant.worker_id == people.zhang.id)
    certificates.revoke(own, "typo in the name")
    db.session.commit()
    login("worker", worker=people.zhang)
    assert own.number not in text(client.get(f"/people/{people.zhang.id}"))


def test_honours_mentor_apprentices_and_units(client, auth, login, tree, people, make_competition, make_worker):
    master = make_worker("王师傅", id_number=valid_id(903), employer_id=tree.aviation.id)
    people.zhang.mentor_id = master.id
    people.li.mentor_id = people.zhang.id
    competition = make_competition(status="published")
    studio = Unit(kind="studio", name="翔鹭无人机创新工作室", enterprise_id=tree.aviation.id, leader_id=people.zhang.id)
    team = Unit(kind="team", name="飞控工匠班组", enterprise_id=tree.aviation.id)
    db.session.add_all(
        [
            studio,
            team,
            Honour(worker_id=people.zhang.id, title="泉州工匠", year=2022, issuer="泉州市人民政府"),
            Honour(
                worker_id=people.zhang.id,
                title="技术能手",
                year=2026,
                status="recommended",
                competition_id=competition.id,
            ),
        ]
    )
    db.session.flush()
    db.session.add(UnitMember(unit_id=team.id, worker_id=people.zhang.id, role="班组长"))
    db.session.commit()
    login("organizer", tree.jinjiang)
    page = text(client.get(f"/people/{people.zhang.id}"))
    assert "泉州工匠" in page and "泉州市人民政府" in page and "Recommended" in page and "Awarded" in page
    assert page.index("技术能手") < page.index("泉州工匠")  # newest year first
    assert f"/people/{master.id}" in page  # the mentor is in the organizer's county: linked
    assert "李四" in page and f"/people/{people.li.id}" not in page  # the apprentice is in another county
    assert f"/units/{studio.id}" in page and f"/units/{team.id}" in page and "班组长" in page
    auth.logout()
    login("organizer", tree.city)
    assert f"/people/{people.li.id}" in text(client.get(f"/people/{people.zhang.id}"))
    auth.logout()
    login("worker", worker=people.zhang)
    page = text(client.get(f"/people/{people.zhang.id}"))
    assert "王师傅" in page and f"/people/{master.id}" not in page and f"/units/{studio.id}" not in page
    assert "翔鹭无人机创新工作室" in page and "13911112222" in page
    assert "Add honour" not in page and "Set mentor" not in page and "Change grade" not in page


def test_the_page_reads_a_fixed_number_of_queries(client, login, tree, people, make_competition):
    def queries() -> int:
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(f"/people/{people.zhang.id}").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
        return count

    login("organizer", tree.jinjiang)
    competition = make_competition(status="published")
    issue(competition)
    few = queries()
    for _n in range(3):
        more = make_competition(status="published")
        issue(more)
    db.session.add_all(Honour(worker_id=people.zhang.id, title=f"荣誉{n}", year=2020 + n) for n in range(3))
    db.session.commit()
    assert queries() == few


# ---- who may see it ----


def test_a_worker_sees_their_own_profile_not_anothers(client, login, people):
    login("worker", worker=people.zhang)
    mine = client.get("/people/me")
    assert mine.status_code == 302 and mine.headers["Location"].endswith(f"/people/{people.zhang.id}")
    assert client.get(f"/people/{people.zhang.id}").status_code == 200
    assert client.get(f"/people/{people.li.id}").status_code == 404  # not 403: existence is not revealed
    assert client.get("/people/999999").status_code == 404


def test_the_worker_home_links_the_profile(client, login, people):
    login("worker", worker=people.zhang)
    assert "/people/me" in text(client.get("/"))


def test_judges_and_anonymous_are_refused(client, auth, login, people):
    anonymous = client.get(f"/people/{people.zhang.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.get("/people/me").status_code == 302
    login("judge")
    assert client.get(f"/people/{people.zhang.id}").status_code == 403
    assert client.get("/people/me").status_code == 404


def test_organizers_see_the_workers_they_oversee(client, auth, login, tree, people):
    login("organizer", tree.jinjiang)
    assert client.get(f"/people/{people.zhang.id}").status_code == 200
    assert client.get(f"/people/{people.li.id}").status_code == 403  # another county's worker
    assert client.get("/people/999999").status_code == 404
    assert client.get("/people/me").status_code == 404
    auth.logout()
    login("organizer", tree.city)
    assert client.get(f"/people/{people.li.id}").status_code == 200


# ---- honours ----


def test_adding_an_honour_in_place(client, login, tree, people):
    user = login("organizer", tree.city)
    url = f"/people/{people.zhang.id}/honours"
    answer = post(
        client, url, {"title": "劳动模范", "year": "2024", "issuer": "福建省人民政府", "status": "awarded"}, headers=HX
    )
    assert answer.status_code == 200 and "<html" not in answer.get_data(as_text=True)
    assert "劳动模范" in text(answer) and "福建省人民政府" in text(answer)
    honour = db.session.scalar(sa.select(Honour).where(Honour.worker_id == people.zhang.id))
    assert (honour.title, honour.year, honour.status) == ("劳动模范", 2024, "awarded")
    [event] = audits("worker.honour_added")
    assert event.actor_id == user.id and event.object_id == people.zhang.id
    assert event.detail["title"] == "劳动模范" and event.detail["year"] == 2024


def test_adding_an_honour_without_htmx_goes_back_with_a_message(client, login, tree, people):
    login("organizer", tree.city)
    answer = post(
        client, f"/people/{people.zhang.id}/honours", {"title": "泉州工匠", "year": "2025", "status": "recommended"}
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/people/{people.zhang.id}#honours")
    assert "is added" in text(client.get(answer.headers["Location"]))
    assert db.session.scalar(sa.select(Honour.status)) == "recommended"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "劳动模范", "year": "3000"}, "The year must be between 1950 and"),
        ({"title": "劳动模范", "year": "1949"}, "The year must be between 1950 and"),
        ({"title": "", "year": "2024"}, "Enter the honour's title."),
        ({"title": "   ", "year": "2024"}, "Enter the honour's title."),
        ({"title": "劳动模范", "year": ""}, "Enter the year"),
        ({"title": "=HYPERLINK(1)", "year": "2024"}, "Must not begin with"),
    ],
)
def test_a_bad_honour_names_the_field_and_changes_nothing(client, login, tree, people, data, message):
    login("organizer", tree.city)
    url = f"/people/{people.zhang.id}/honours"
    answer = post(client, url, {"status": "awarded", **data}, headers=HX)
    assert answer.status_code == 200 and message in text(answer) and 'aria-invalid="true"' in text(answer)
    redirected = post(client, url, {"status": "awarded", **data}, follow_redirects=True)
    page = text(redirected)
    assert message in page and ("Title:" in page or "Year:" in page)  # the flash names the field
    assert db.session.scalar(sa.select(sa.func.count(Honour.id))) == 0
    assert audits("worker.honour_added") == []


def test_the_same_honour_twice_is_refused(client, login, tree, people):
    login("organizer", tree.city)
    url = f"/people/{people.zhang.id}/honours"
    post(client, url, {"title": "技术能手", "year": "2024", "status": "awarded"}, headers=HX)
    answer = post(client, url, {"title": "技术能手", "year": "2024", "status": "awarded"}, headers=HX)
    assert "already holds “技术能手” for 2024" in text(answer)
    assert db.session.scalar(sa.select(sa.func.count(Honour.id))) == 1


def test_removing_and_confirming_honours(client, login, tree, people):
    login("organizer", tree.city)
    kept = Honour(worker_id=people.zhang.id, title="技术能手", year=2026, status="recommended")
    gone = Honour(worker_id=people.zhang.id, title="泉州工匠", year=2022)
    db.session.add_all([kept, gone])
    db.session.commit()
    kept_id, gone_id = kept.id, gone.id
    answer = post(client, f"/people/{people.zhang.id}/honours/{kept_id}/confirm", headers=HX)
    assert answer.status_code == 200 and "<html" not in answer.get_data(as_text=True)
    assert db.session.get(Honour, kept_id).status == "awarded"
    again = post(client, f"/people/{people.zhang.id}/honours/{kept_id}/confirm", headers=HX)
    assert "is already awarded" in text(again)
    post(client, f"/people/{people.zhang.id}/honours/{gone_id}/remove", headers=HX)
    assert db.session.get(Honour, gone_id) is None
    assert [e.detail["title"] for e in audits("worker.honour_confirmed")] == ["技术能手"]
    assert [e.detail["title"] for e in audits("worker.honour_removed")] == ["泉州工匠"]


def test_another_workers_honour_cannot_be_touched(client, login, tree, people):
    login("organizer", tree.city)
    theirs = Honour(worker_id=people.li.id, title="泉州工匠", year=2022)
    db.session.add(theirs)
    db.session.commit()
    answer = post(client, f"/people/{people.zhang.id}/honours/{theirs.id}/remove", headers=HX)
    assert "not in 张三's record" in text(answer)
    assert db.session.get(Honour, theirs.id) is not None and audits("worker.honour_removed") == []


# ---- mentor ----


def test_setting_the_mentor_by_name_and_by_profile_number(client, login, tree, people, make_worker):
    master = make_worker("王师傅", id_number=valid_id(903), employer_id=tree.aviation.id)
    login("organizer", tree.jinjiang)
    url = f"/people/{people.zhang.id}/mentor"
    answer = post(client, url, {"mentor": "王师傅"}, headers=HX)
    assert answer.status_code == 200 and "<html" not in answer.get_data(as_text=True)
    assert f"/people/{master.id}" in text(answer)
    assert db.session.get(Worker, people.zhang.id).mentor_id == master.id
    post(client, f"/people/{people.li.id}/mentor", {"mentor": str(people.zhang.id)})  # 石狮: not overseen
    assert db.session.get(Worker, people.li.id).mentor_id is None
    [event] = audits("worker.mentor_set")
    assert (event.object_id, event.detail) == (people.zhang.id, {"old": None, "new": master.id})
    post(client, f"/people/{people.zhang.id}/mentor/clear", headers=HX)
    assert db.session.get(Worker, people.zhang.id).mentor_id is None and len(audits("worker.mentor_cleared")) == 1


def test_the_profile_number_sets_the_mentor(client, login, tree, people):
    login("organizer", tree.city)
    post(client, f"/people/{people.li.id}/mentor", {"mentor": str(people.zhang.id)}, headers=HX)
    assert db.session.get(Worker, people.li.id).mentor_id == people.zhang.id


def test_a_profile_number_outside_the_organizers_unions_answers_as_unknown(client, login, tree, people):
    login("organizer", tree.jinjiang)
    answer = post(client, f"/people/{people.zhang.id}/mentor", {"mentor": str(people.li.id)}, headers=HX)  # 石狮's
    assert f"No worker has the profile number {people.li.id}." in text(answer)
    assert people.li.name not in text(answer)
    assert db.session.get(Worker, people.zhang.id).mentor_id is None


def test_part_of_a_name_finds_the_one_worker_it_matches(client, login, tree, people, make_worker):
    master = make_worker("王师傅", id_number=valid_id(903), employer_id=tree.aviation.id)
    login("organizer", tree.city)
    post(client, f"/people/{people.li.id}/mentor", {"mentor": "师傅"}, headers=HX)
    assert db.session.get(Worker, people.li.id).mentor_id == master.id


def test_a_name_is_searched_only_among_overseen_workers(client, login, tree, people):
    login("organizer", tree.jinjiang)
    answer = post(client, f"/people/{people.zhang.id}/mentor", {"mentor": "李四"}, headers=HX)  # 石狮's worker
    assert "No worker named “李四” works in the unions you oversee." in text(answer)
    assert db.session.get(Worker, people.zhang.id).mentor_id is None


def test_several_matches_are_offered_to_choose_from(client, login, tree, people, make_worker):
    first = make_worker("王师傅", id_number=valid_id(903), employer_id=tree.aviation.id)
    second = make_worker("王师傅", id_number=valid_id(904), employer_id=tree.aviation.id)
    login("organizer", tree.city)
    answer = text(post(client, f"/people/{people.zhang.id}/mentor", {"mentor": "王师傅"}, headers=HX))
    assert "Several workers match: choose one." in answer
    assert f'name="mentor" value="{first.id}"' in answer and f'name="mentor" value="{second.id}"' in answer
    assert valid_id(903) not in answer and first.id_masked in answer
    page = text(post(client, f"/people/{people.zhang.id}/mentor", {"mentor": "王师傅"}))  # without htmx: the page
    assert "<html" in page and f'name="mentor" value="{second.id}"' in page
    assert db.session.get(Worker, people.zhang.id).mentor_id is None and audits("worker.mentor_set") == []


@pytest.mark.parametrize(
    "mentor, message",
    [
        ("self", "A worker cannot be their own mentor."),
        ("apprentice", "a mentor cannot be their own apprentice's apprentice"),
        ("apprentice's apprentice", "a mentor cannot be their own apprentice's apprentice"),
        ("999999", "No worker has the profile number 999999."),
        ("无此人", "No worker named “无此人” works in the unions you oversee."),
        ("", "Enter the mentor's name or profile number."),
    ],
)
def test_a_bad_mentor_is_refused_with_the_fields_message(client, login, tree, people, make_worker, mentor, message):
    third = make_worker("陈五", id_number=valid_id(905), employer_id=tree.aviation.id, mentor_id=people.li.id)
    people.li.mentor_id = people.zhang.id  # 张三 → 李四 → 陈五
    db.session.commit()
    typed = {
        "self": str(people.zhang.id),
        "apprentice": str(people.li.id),
        "apprentice's apprentice": str(third.id),
    }.get(mentor, mentor)
    login("organizer", tree.city)
    answer = post(client, f"/people/{people.zhang.id}/mentor", {"mentor": typed}, headers=HX)
    assert message in text(answer) and 'aria-invalid="true"' in text(answer)
    redirected = text(post(client, f"/people/{people.zhang.id}/mentor", {"mentor": typed}, follow_redirects=True))
    assert message in redirected
    assert db.session.get(Worker, people.zhang.id).mentor_id is None and audits("worker.mentor_set") == []


# ---- skill grade ----


def test_changing_the_skill_grade_is_audited(client, login, tree, people):
    user = login("organizer", tree.jinjiang)
    answer = post(client, f"/people/{people.zhang.id}/grade", {"grade": "3", "reason": "2026年竞赛一等奖"}, headers=HX)
    assert answer.status_code == 200 and "三级/高级工" in text(answer) and "<html" not in answer.get_data(as_text=True)
    assert db.session.get(Worker, people.zhang.id).skill_grade == 3
    [event] = audits("worker.grade_changed")
    assert event.actor_id == user.id and event.detail == {"old": 4, "new": 3, "reason": "2026年竞赛一等奖"}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"grade": "3", "reason": ""}, "Say why the skill grade changes."),
        ({"grade": "7", "reason": "升级"}, "Not a valid choice"),
        ({"grade": "4", "reason": "升级"}, "already holds the grade 四级/中级工"),
    ],
)
def test_a_bad_grade_change_is_refused(client, login, tree, people, data, message):
    login("organizer", tree.city)
    answer = post(client, f"/people/{people.zhang.id}/grade", data, headers=HX)
    assert message in text(answer)
    assert db.session.get(Worker, people.zhang.id).skill_grade == 4 and audits("worker.grade_changed") == []


# ---- who may edit ----

EDITS = [
    ("honours", {"title": "劳动模范", "year": "2024", "status": "awarded"}),
    ("mentor", {"mentor": "李四"}),
    ("mentor/clear", {}),
    ("grade", {"grade": "3", "reason": "升级"}),
]


@pytest.mark.parametrize("path, data", EDITS)
def test_workers_may_not_edit_even_their_own_profile(client, login, tree, people, path, data):
    people.zhang.mentor_id = people.li.id
    db.session.commit()
    login("worker", worker=people.zhang)
    assert post(client, f"/people/{people.zhang.id}/{path}", data).status_code == 403
    assert db.session.get(Worker, people.zhang.id).skill_grade == 4
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action.like("worker.%"))) == 0


@pytest.mark.parametrize("path, data", EDITS)
def test_another_countys_organizer_may_not_edit(client, login, tree, people, path, data):
    login("organizer", tree.shishi)
    assert post(client, f"/people/{people.zhang.id}/{path}", data).status_code == 403


@pytest.mark.parametrize("path, data", EDITS)
def test_edits_need_the_csrf_token(client, login, tree, people, path, data):
    login("organizer", tree.city)
    assert client.post(f"/people/{people.zhang.id}/{path}", data=data).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Honour.id))) == 0
    assert db.session.get(Worker, people.zhang.id).skill_grade == 4


def test_honour_actions_are_refused_to_workers(client, login, tree, people):
    honour = Honour(worker_id=people.zhang.id, title="技术能手", year=2026, status="recommended")
    db.session.add(honour)
    db.session.commit()
    login("worker", worker=people.zhang)
    for action in ("confirm", "remove"):
        assert post(client, f"/people/{people.zhang.id}/honours/{honour.id}/{action}").status_code == 403
    assert db.session.get(Honour, honour.id).status == "recommended"


def test_editing_an_unknown_worker_is_not_found(client, login, tree):
    login("organizer", tree.city)
    assert post(client, "/people/999999/grade", {"grade": "3", "reason": "x"}).status_code == 404
