"""The Quanzhou demo: it loads through the CLI, twice changes nothing, and tells a coherent story.

Loading the demo hashes a dozen passwords, so it runs once per module; each test gets the
loaded rows back from a snapshot (the suite empties the database between tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from comp import demo, idcard
from comp.demo import data
from comp.exams import papers
from comp.extensions import db
from comp.models import (
    Competition,
    Entrant,
    Exam,
    JudgeAssignment,
    NotTaken,
    OrgUnit,
    ProgrammeItem,
    QuestionBank,
    Sitting,
    Unit,
    User,
    Worker,
)
from comp.services import people, results
from comp.services.exams import sitting as sitting_service
from comp.services.exams import statistics as exam_statistics

CODES = (
    "QZ-2026-UAV",
    "QZ-2026-TEA",
    "QZ-2026-NOODLE",
    "JJ-2026-SHOE",
    "PJ-2026-TEAM",
    "QZ-2025-UAV",
    "QZ-2026-CERAMIC",
    "AX-2026-TEA",
)


@dataclass(frozen=True)
class Snapshot:
    """What the first `flask demo` printed, and every row it left, table by table."""

    exit_code: int
    output: str
    rows: dict[str, list[dict]]


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


@pytest.fixture(scope="module")
def snapshot(app) -> Snapshot:
    """Run `flask demo` on the empty database once, keep its rows, and leave the database empty."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        with db.engine.begin() as conn:
            rows = {
                t.name: [dict(r._mapping) for r in conn.execute(t.select().order_by(*t.primary_key))]
                for t in db.metadata.sorted_tables
            }
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.session.remove()
    return Snapshot(result.exit_code, result.output, rows)


@pytest.fixture()
def loaded(snapshot) -> Snapshot:
    """Put the demo's rows back into the emptied database."""
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if snapshot.rows[table.name]:
                conn.execute(table.insert(), snapshot.rows[table.name])
    return snapshot


def _competition(code: str) -> Competition:
    return db.session.scalar(sa.select(Competition).where(Competition.code == code))


def test_cli_demo_loads_everything(loaded):
    assert loaded.exit_code == 0, loaded.output
    for code in CODES:
        assert f"imported {code}" in loaded.output
    assert f"password {data.PASSWORD}" in loaded.output
    for username in ("admin", "organizer", "jinjiang", "judge1", "judge4", "worker"):
        assert f"  {username} " in loaded.output


def test_database_is_empty_until_loaded(snapshot):
    assert demo.database_is_empty()


def test_second_run_changes_nothing(loaded):
    before = _counts()
    lines = demo.load()
    assert _counts() == before
    assert lines[0] == "demo data already loaded; nothing changed"
    assert not demo.database_is_empty()


def test_cli_demo_again_exits_0(loaded, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    assert "already has data" in runner.invoke(args=["demo", "--if-empty"]).output


def test_org_tree_has_city_counties_and_enterprises(loaded):
    city = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "city"))
    assert city.name == "泉州市总工会"
    assert sorted(c.name for c in city.children) == sorted(data.COUNTIES)
    assert all(c.kind == "county" for c in city.children)
    petro = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "泉州湄洲湾石化有限公司"))
    assert petro.county().name == "泉港区总工会"
    kinds = set(db.session.scalars(sa.select(OrgUnit.kind)))
    assert kinds == {"city", "county", "enterprise", "workshop", "team"}


def test_every_worker_has_a_valid_quanzhou_id_number(loaded):
    workers = db.session.scalars(sa.select(Worker)).all()
    assert 110 <= len(workers) <= 140  # Anxi's 52 tea tasters of the preliminary among them
    for worker in workers:
        number = idcard.normalize(people.id_number(worker))
        assert number.startswith("3505")
        assert worker.gender == idcard.gender(number)
        assert worker.id_masked == idcard.mask(number)
        assert worker.phone and len(worker.phone) == 11
        assert 1 <= worker.skill_grade <= 5 and worker.trade and worker.employer is not None


def test_honours_and_mentors(loaded):
    lin = db.session.scalar(sa.select(Worker).where(Worker.name == "林国栋"))
    assert {(h.title, h.year) for h in lin.honours} == {("劳动模范", 2020), ("泉州工匠", 2022)}
    assert [a.name for a in lin.apprentices] == ["刘振宇"]
    assert sum(1 for w in db.session.scalars(sa.select(Worker)) if w.mentor_id) >= 2


def test_drone_competition_is_published_with_awards(loaded):
    uav = _competition("QZ-2026-UAV")
    assert uav.status == "published" and uav.published_at is not None
    doc = results.document(uav)
    assert doc["complete"] is True
    assert 20 <= len(doc["results"]) <= 26
    awards = [r["award"] for r in doc["results"]]
    assert {"一等奖", "二等奖", "三等奖"} <= set(awards)
    assert [r["status"] for r in doc["results"]].count("absent") == 2
    assert doc["discrepancies"] == [] and doc["teams"]
    assert {s.key for s in uav.stages} == {"theory", "practical"}


def test_worker_account_won_an_award(loaded):
    user = db.session.scalar(sa.select(User).where(User.username == "worker"))
    entrant = db.session.scalar(sa.select(Entrant).where(Entrant.worker_id == user.worker_id))
    assert entrant.competition.code == "QZ-2026-UAV"
    doc = results.document(entrant.competition)
    row = next(r for r in doc["results"] if r["ref"] == entrant.ref)
    assert row["award"] is not None and row["name"] == user.worker.name


def test_tea_competition_is_running_with_marks_missing(loaded):
    tea = _competition("QZ-2026-TEA")
    assert tea.status == "running"
    doc = results.document(tea)
    assert doc["complete"] is False
    assert 15 <= len(doc["results"]) <= 20
    assert {r["complete"] for r in doc["results"]} == {True, False}
    assert [d["ref"] for d in doc["discrepancies"]] == ["E05"]


def test_noodle_competition_is_open_for_registration(loaded):
    noodle = _competition("QZ-2026-NOODLE")
    assert noodle.status == "open" and noodle.capacity == 200
    assert noodle.registration_opens.date().isoformat() == "2026-11-15"
    assert noodle.registration_closes.date().isoformat() == "2026-12-20"
    assert noodle.entrants and {e.status for e in noodle.entrants} == {"pending"}


def test_rating_rates_the_craftsman_teams(loaded):
    rating = _competition("PJ-2026-TEAM")
    assert rating.kind == "rating" and rating.status == "locked"
    for entrant in rating.entrants:
        assert entrant.type == "team" and entrant.unit.kind == "team" and entrant.unit.members
    doc = results.document(rating)
    assert doc["complete"] and doc["teams"] == []
    assert {"五星", "四星", "三星"} <= {r["award"] for r in doc["results"]}
    assert rating.unit_kind == "team"  # its nominations tab lists them, not a refusal


def test_the_locked_ratings_nominations_tab_lists_its_teams(loaded, client, auth):
    auth.login("organizer", data.PASSWORD)
    page = client.get("/competitions/PJ-2026-TEAM/nominations")
    assert page.status_code == 200
    assert all(e.name in page.get_data(as_text=True) for e in _competition("PJ-2026-TEAM").entrants)


def test_studios_have_leaders_members_and_achievements(loaded):
    studios = db.session.scalars(sa.select(Unit).where(Unit.kind == "studio")).all()
    assert len(studios) >= 3
    for studio in studios:
        assert studio.leader and studio.level in ("city", "province", "national") and studio.founded
        assert len(studio.members) >= 2 and 2 <= len(studio.achievements) <= 3


def test_demo_judges_hold_the_panel_seats(loaded):
    def seats(username):
        return {
            (a.competition.code, a.is_chief)
            for a in db.session.scalars(sa.select(JudgeAssignment).join(User).where(User.username == username))
        }

    assert ("QZ-2026-TEA", True) in seats("judge1")
    assert ("QZ-2026-UAV", True) in seats("judge2")
    assert all(seats(f"judge{i}") for i in range(1, 5))
    # The accounts the import made for those seats are gone; the guest judges' remain.
    names = set(db.session.scalars(sa.select(User.username).where(User.username.like("judge.%"))))
    assert names == {
        "judge.qz-2026-uav.j3",
        "judge.qz-2026-uav.j4",
        "judge.qz-2026-tea.j3",
        "judge.qz-2026-tea.j4",
        "judge.qz-2026-ceramic.j2",
        "judge.qz-2026-ceramic.j3",
    }
    # A guest judge on two years' panels is one account: the organizer's list names each person once.
    judges = db.session.scalars(sa.select(User.display_name).where(User.role == "judge")).all()
    assert len(judges) == len(set(judges))
    seated = sa.select(User.username).join(JudgeAssignment).join(Competition).where(Competition.code == "QZ-2025-UAV")
    guests = set(db.session.scalars(seated)) - {f"judge{i}" for i in range(1, 5)}
    assert guests == {"judge.qz-2026-uav.j3", "judge.qz-2026-uav.j4"}


def test_demo_tells_the_honours_story(loaded):
    from comp.models import Honour, OutcomeGrant, Standing
    from comp.services.setup import honours

    last = db.session.scalar(sa.select(Competition).where(Competition.code == "QZ-2025-UAV"))
    this = db.session.scalar(sa.select(Competition).where(Competition.code == "QZ-2026-UAV"))
    assert last.status == "archived" and this.status == "published"
    # Both finals' standings are kept; last year's honours are confirmed, this year's wait for the organizer.
    for competition in (last, this):
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Standing).where(Standing.competition_id == competition.id)
        ) == len(competition.entrants)
    assert all(c.confirmed for c in honours.candidates(last))
    waiting = honours.candidates(this)
    assert waiting and not any(c.granted for c in waiting)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(OutcomeGrant).where(OutcomeGrant.competition_id == this.id)
        )
        == 0
    )
    recommended = db.session.scalars(sa.select(Honour).where(Honour.competition_id == last.id)).all()
    assert recommended and all(h.status == "recommended" and h.year == 2025 for h in recommended)


@pytest.mark.parametrize(
    "username, sees, hidden",
    [
        ("organizer", "2026年泉州市无人机驾驶职工技能竞赛", None),
        ("jinjiang", "2026年晋江市制鞋工职工技能竞赛", "2026年泉州市无人机驾驶职工技能竞赛"),
        ("judge1", "2026年泉州市评茶员职业技能竞赛", None),
        ("worker", "2026年泉州市无人机驾驶职工技能竞赛", None),
        ("admin", "2026年度泉州市“六型”工匠班组评定", None),
    ],
)
def test_demo_accounts_log_in_and_see_their_home(loaded, auth, client, username, sees, hidden):
    response = auth.login(username, data.PASSWORD)
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert sees in text
    assert hidden is None or hidden not in text


def test_the_demo_worker_has_a_certificate_to_download(loaded, client, auth):
    """The drone final's awarded entrants hold certificates; the demo worker can download hers."""
    from comp.models import Certificate

    worker = db.session.scalar(sa.select(User).where(User.username == "worker"))
    held = db.session.scalars(sa.select(Certificate).join(Entrant).where(Entrant.worker_id == worker.worker_id)).all()
    assert len(held) == 1 and held[0].status == "valid"
    auth.login("worker", "jiangxin2026")
    response = client.get(f"/my/certificates/{held[0].number}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_the_ceramics_final_shows_best_of_three_pieces_and_declared_difficulty(loaded):
    competition = _competition(data.CERAMIC)
    assert competition.status == "running"
    doc = results.document(competition)
    ranked = [row for row in doc["results"] if row["rank"] is not None]
    # Two throwers are still at the wheel; the rest are ranked, some on two pieces and a third not taken.
    assert len(ranked) == len(doc["results"]) - 2 and doc["complete"] is False
    assert max(float(row["total"]) for row in ranked) > 100  # a difficult shape's points pass 100
    skipped = db.session.scalars(sa.select(NotTaken).where(NotTaken.competition_id == competition.id)).all()
    assert skipped and {s.reason for s in skipped} == {"DNI"}
    factors = db.session.scalars(sa.select(ProgrammeItem.factor)).all()
    assert set(factors) <= {Decimal("0.9"), Decimal("1"), Decimal("1.1")} and len(set(factors)) > 1


def test_the_tea_preliminary_was_sat_online_and_feeds_the_theory_stage(loaded):
    competition = _competition(data.TEA_PRE)
    exam = db.session.scalar(sa.select(Exam).where(Exam.competition_id == competition.id))
    assert competition.status == "running" and exam.status == "ready" and exam.code in loaded.output
    bank = db.session.get(QuestionBank, exam.bank_id)
    assert len(bank.questions) == 200 and bank.trade == "评茶员"
    assert any(len(q.versions) == 2 for q in bank.questions)  # an edited question keeps its first version
    sittings = db.session.scalars(sa.select(Sitting).where(Sitting.exam_id == exam.id)).all()
    assert len(sittings) == 60 and all(s.finished_at and len(s.paper) == 60 for s in sittings)
    # Every paper is the one its seed draws, and each score is the theory stage's mark.
    pool = sitting_service.pool_for(exam)
    blueprint = papers.parse_blueprint(exam.blueprint)
    for s in sittings[:5]:
        assert papers.paper_data(papers.draw(blueprint, pool, exam.seed, s.entrant.ref)) == s.paper
    doc = results.document(competition)
    by_ref = {row["ref"]: row for row in doc["results"]}
    for s in sittings:
        assert Decimal(by_ref[s.entrant.ref]["stages"]["theory"]) == Decimal(s.score_cents).scaleb(-2)
    assert sum(1 for row in doc["results"] if row["rank"] is None) == 3  # three have still to sit it
    # One question was keyed wrongly in the bank: the strong candidates "miss" it and the analysis flags it.
    report = exam_statistics.report(exam)
    assert report is not None and report.paper.count == 60 and report.paper.alpha is not None
    assert "茶多酚的主体成分是什么？" in {line.stem for line in report.lines if line.stats.flagged}
