"""The declared programme: the organizer's grid of each entrant's factor on each factored criterion."""

from __future__ import annotations

import copy
import html
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Competition, Criterion, Entrant, ProgrammeItem, Stage
from comp.services import ServiceError, exchange, results
from comp.services.setup import programme
from tests.conftest import SMALL, csrf_token, valid_id

URL = "/competitions/{code}/programme"


def text(response) -> str:
    """Return the answer's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def diving_doc(code: str = "T-2026-DIVE") -> dict:
    """The small competition with its exam and its route factored, and a third entrant who withdrew."""
    doc = copy.deepcopy(SMALL)
    doc["competition"]["code"] = code
    doc["stages"][0]["criteria"][0]["factored"] = True  # theory.exam: one mark, 90 and 80
    doc["stages"][1]["criteria"][0]["factored"] = True  # practical.route: trimmed mean, 36 and 31.5
    doc["entrants"].append(
        {"ref": "E3", "name": "王五", "id_number": valid_id(903), "employer": "晋江无人机公司", "status": "withdrawn"}
    )
    return doc


@pytest.fixture()
def make_dive(tree):
    """Return a factory of the factored competition in a state, E2 numbered 1 and E1 numbered 2."""

    def make(status: str = "running", code: str = "T-2026-DIVE") -> Competition:
        competition = exchange.import_competition(diving_doc(code))
        competition.status = status
        for entrant in competition.entrants:
            entrant.number = {"E2": 1, "E1": 2}.get(entrant.ref)
        db.session.commit()
        return competition

    return make


@pytest.fixture()
def dive(make_dive) -> Competition:
    """Return the running factored competition."""
    return make_dive()


def ids(competition: Competition) -> tuple[dict[str, int], dict[str, int]]:
    """Return the entrant ids by ref and the criterion ids by "stage.criterion"."""
    entrants = {e.ref: e.id for e in competition.entrants}
    criteria = {
        f"{stage}.{key}": cid
        for cid, stage, key in db.session.execute(
            sa.select(Criterion.id, Stage.key, Criterion.key).join(Stage).where(Stage.competition_id == competition.id)
        )
    }
    return entrants, criteria


def cell(competition: Competition, ref: str, path: str, factor: str = "", label: str = "") -> dict[str, str]:
    """Return the two inputs of one cell as the browser posts them."""
    entrants, criteria = ids(competition)
    e, c = entrants[ref], criteria[path]
    return {f"factor-{e}-{c}": factor, f"label-{e}-{c}": label}


def whole_grid(competition: Competition, **factors: tuple[str, str]) -> dict[str, str]:
    """Return every cell of the grid, empty unless given as E1_exam=("3.4", "5154B")."""
    data: dict[str, str] = {}
    for ref in ("E1", "E2"):
        for path in ("theory.exam", "practical.route"):
            given = factors.get(f"{ref}_{path.split('.')[1]}", ("", ""))
            data |= cell(competition, ref, path, *given)
    return data


def items(competition: Competition) -> dict[tuple[str, str], tuple[Decimal, str]]:
    """Return the stored programme as {(ref, path): (factor, label)}."""
    rows = db.session.execute(
        sa.select(Entrant.ref, Stage.key, Criterion.key, ProgrammeItem.factor, ProgrammeItem.label)
        .join(Entrant, Entrant.id == ProgrammeItem.entrant_id)
        .join(Criterion, Criterion.id == ProgrammeItem.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .where(Entrant.competition_id == competition.id)
    )
    return {(ref, f"{stage}.{key}"): (factor, label) for ref, stage, key, factor, label in rows}


def events(competition: Competition) -> list[AuditEvent]:
    """Return the competition's programme audit events."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.competition_id == competition.id, AuditEvent.action == "programme.saved")
            .order_by(AuditEvent.id)
        )
    )


def seed(competition: Competition) -> None:
    """Declare E1's exam as 2 (5154B) through the service."""
    entrants, criteria = ids(competition)
    programme.save(competition, None, {(entrants["E1"], criteria["theory.exam"]): ("2", "5154B")})


# ---------------------------------------------------------------- the grid


def test_the_grid_lists_the_factored_criteria_in_scheme_order_and_the_counting_entrants(dive):
    grid = programme.grid(dive)
    assert [c.path for c in grid.criteria] == ["theory.exam", "practical.route"]  # practical.safety is not factored
    assert [e.ref for e in grid.entrants] == ["E2", "E1"]  # by number; the withdrawn E3 declares nothing
    assert [(stage.key, n) for stage, n in grid.stages] == [("theory", 1), ("practical", 1)]
    assert grid.editable and grid.declared == {} and grid.complete == 0


def test_the_page_shows_one_row_per_entrant_with_a_factor_and_a_label_per_criterion(browser, dive):
    seed(dive)
    response = browser.get(URL.format(code=dive.code))
    page = text(response)
    assert response.status_code == 200
    assert "理论考试" in page and "航线飞行" in page and "安全操作" not in page
    assert page.index("李四") < page.index("张三") and "王五" not in page
    entrants, criteria = ids(dive)
    factor = f'name="factor-{entrants["E1"]}-{criteria["theory.exam"]}"'
    assert factor in page and f'name="label-{entrants["E1"]}-{criteria["theory.exam"]}"' in page
    assert page.count('inputmode="decimal"') == 4 and 'value="5154B"' in page and 'value="2"' in page
    assert 'name="csrf_token"' in page


def test_without_a_factored_criterion_the_page_says_how_to_mark_one(browser, make_competition, tree):
    competition = make_competition(status="running")
    page = text(browser.get(URL.format(code=competition.code)))
    assert 'id="no-factored"' in page and "tick “× factor”" in page and f"/competitions/{competition.code}/edit" in page
    assert "<table" not in page


def test_the_overview_links_the_page_only_with_a_factored_criterion(browser, dive, make_competition):
    assert 'id="programme-link"' in text(browser.get(f"/competitions/{dive.code}"))
    plain = make_competition(status="running")
    assert 'id="programme-link"' not in text(browser.get(f"/competitions/{plain.code}"))


# ---------------------------------------------------------------- saving


def test_saving_sets_the_factors_and_the_results_multiply_by_them(browser, dive):
    _loaded, before = results.compute(dive)
    assert before.entrant("E1").rank is None  # nothing declared: unranked
    version = dive.version
    data = whole_grid(dive, E1_exam=("1.5", "A1"), E1_route=("2.25", "5154B"), E2_exam=("1", ""), E2_route=("3.4", ""))
    response = browser.post(URL.format(code=dive.code), data)
    assert response.status_code == 302 and response.headers["Location"].endswith(URL.format(code=dive.code))
    assert "4 cells of the programme changed." in text(browser.get(response.headers["Location"]))
    assert items(dive) == {
        ("E1", "theory.exam"): (Decimal("1.5"), "A1"),
        ("E1", "practical.route"): (Decimal("2.25"), "5154B"),
        ("E2", "theory.exam"): (Decimal(1), ""),
        ("E2", "practical.route"): (Decimal("3.4"), ""),
    }
    db.session.refresh(dive)
    assert dive.version == version + 1  # the results and the hall screens see the change
    _loaded, after = results.compute(dive)
    e1, e2 = after.entrant("E1"), after.entrant("E2")
    # The criterion's score is the judges' score × the factor: exam 90 (one mark), route mean of 36 after trimming.
    assert e1.criteria["theory.exam"] == Decimal(90) * Decimal("1.5") == Decimal(135)
    assert e1.criteria["practical.route"] == Decimal(36) * Decimal("2.25") == Decimal(81)
    assert e2.criteria["practical.route"] == Decimal("31.5") * Decimal("3.4")
    assert e1.rank is not None and e2.rank is not None


def test_clearing_a_factor_removes_it_and_saving_the_same_again_changes_nothing(browser, dive):
    seed(dive)
    data = whole_grid(dive, E1_route=("3", ""))
    assert browser.post(URL.format(code=dive.code), data).status_code == 302  # E1 exam left empty: cleared
    assert items(dive) == {("E1", "practical.route"): (Decimal(3), "")}
    response = browser.post(URL.format(code=dive.code), whole_grid(dive, E1_route=("3.000", "")))
    assert "Nothing changed" in text(browser.get(response.headers["Location"]))
    assert len(events(dive)) == 2  # the seed and the clearing: an unchanged grid is not audited


def test_the_audit_event_is_written_once_with_the_old_and_new_values(browser, dive):
    seed(dive)
    before = len(events(dive))
    data = whole_grid(dive, E1_exam=("2.5", "5154B"), E2_route=("3.4", "107B"))
    assert browser.post(URL.format(code=dive.code), data).status_code == 302
    saved = events(dive)
    assert len(saved) == before + 1
    event = saved[-1]
    assert event.actor_id is not None and event.object_type == "competition" and event.object_id == dive.id
    assert event.detail["changed"] == 2
    assert sorted(event.detail["cells"], key=lambda c: c["entrant"]) == [
        {
            "entrant": "E1",
            "criterion": "theory.exam",
            "old": {"factor": "2", "label": "5154B"},
            "new": {"factor": "2.5", "label": "5154B"},
        },
        {"entrant": "E2", "criterion": "practical.route", "old": None, "new": {"factor": "3.4", "label": "107B"}},
    ]


@pytest.mark.parametrize(
    "factor, label, part, words, short",
    [
        ("0", "", "factor", "the factor must be greater than 0, not 0", "must be above 0"),
        ("-1", "", "factor", "the factor must be greater than 0, not -1", "must be above 0"),
        ("abc", "", "factor", "the factor “abc” is not a number", "not a number"),
        ("1.2345", "", "factor", "the factor 1.2345 has more than 3 decimal places", "at most 3 decimals"),
        ("1000000", "", "factor", "the factor 1000000 is too large", "must be below 1000000"),
        ("NaN", "", "factor", "the factor “NaN” is not a number", "not a number"),
        ("2", "x" * 17, "label", "the label has 17 characters; at most 16", "at most 16 characters"),
        ("", "5154B", "label", "a label needs a factor", "needs a factor"),
        ("2", "51\x0054B", "label", "the label contains control characters", "control characters"),
    ],
)
def test_a_bad_cell_is_refused_next_to_it_and_nothing_is_written(browser, dive, factor, label, part, words, short):
    seed(dive)
    stored, version, audited = items(dive), dive.version, len(events(dive))
    data = whole_grid(dive, E1_exam=("2", "5154B"), E2_exam=("4", "ok"), E1_route=(factor, label))
    response = browser.post(URL.format(code=dive.code), data)
    page = text(response)
    assert response.status_code == 422
    # The summary names the entrant and the criterion; the cell says what is wrong beside its input.
    summary = page.split('id="programme-problems"')[1].split("</section>")[0]
    assert "1 entry was refused" in summary and f"2 张三 · 实际操作 航线飞行: {words}" in summary
    entrants, criteria = ids(dive)
    name = f"{part}-{entrants['E1']}-{criteria['practical.route']}"
    assert f'aria-describedby="{name}-error"' in page and f'href="#{name}"' in summary
    assert page.split(f'id="{name}-error">')[1].split("</small>")[0] == short
    assert 'value="ok"' in page  # the valid cells keep what was typed too
    db.session.expire_all()
    assert items(dive) == stored and dive.version == version and len(events(dive)) == audited


def test_every_problem_of_the_grid_is_listed_at_once(browser, dive):
    data = whole_grid(dive, E1_exam=("0", ""), E2_route=("x", ""), E2_exam=("", "107B"))
    page = text(browser.post(URL.format(code=dive.code), data))
    summary = page.split('id="programme-problems"')[1].split("</section>")[0]
    assert "3 entries were refused" in page
    # Row by row as the table shows them: E2 (number 1) first, exam before route.
    assert summary.index("1 李四 · 理论知识 理论考试") < summary.index("1 李四 · 实际操作 航线飞行")
    assert summary.index("1 李四 · 实际操作 航线飞行") < summary.index("2 张三 · 理论知识 理论考试")
    assert items(dive) == {}


def test_a_cell_of_another_competition_is_refused(browser, dive, make_dive):
    other = make_dive(code="T-2026-DIVE2")
    mine, theirs = ids(dive), ids(other)
    crossings = [
        {f"factor-{theirs[0]['E1']}-{mine[1]['theory.exam']}": "2"},  # their entrant, our criterion
        {f"factor-{mine[0]['E1']}-{theirs[1]['theory.exam']}": "2"},  # our entrant, their criterion
        {f"factor-{mine[0]['E1']}-{mine[1]['practical.safety']}": "2"},  # a criterion that is not factored
        {f"factor-{mine[0]['E3']}-{mine[1]['theory.exam']}": "2"},  # a withdrawn entrant
        {"factor-9999999999-1": "2"},  # beyond any id
    ]
    for crossing in crossings:
        response = browser.post(URL.format(code=dive.code), whole_grid(dive, E1_exam=("2", "")) | crossing)
        assert response.status_code == 422, crossing
        assert "not in this programme" in text(response) or "outside this programme" in text(response)
    assert items(dive) == {} and items(other) == {} and events(dive) == []


def test_a_cell_declared_meanwhile_by_someone_else_refuses_the_save(browser, dive, monkeypatch):
    seed(dive)  # E1's exam exists; this save reads the programme as it was before
    monkeypatch.setattr(programme, "_items", lambda competition, criteria: {})
    response = browser.post(URL.format(code=dive.code), whole_grid(dive, E1_exam=("3", ""), E2_exam=("4", "")))
    assert response.status_code == 422 and "Someone else changed the programme meanwhile" in text(response)
    monkeypatch.undo()
    db.session.expire_all()
    assert items(dive) == {("E1", "theory.exam"): (Decimal(2), "5154B")} and len(events(dive)) == 1


@pytest.mark.parametrize("status", ["locked", "published"])
def test_a_locked_competition_refuses_and_shows_the_grid_read_only(browser, make_dive, status):
    competition = make_dive(status=status)
    page = text(browser.get(URL.format(code=competition.code)))
    assert 'id="programme-locked"' in page and "Save the programme" not in page
    assert len(re.findall(r'<input type="text"[^>]* disabled>', page)) == 8  # 2 entrants × 2 criteria × (factor, label)
    response = browser.post(URL.format(code=competition.code), whole_grid(competition, E1_exam=("2", "")))
    assert response.status_code == 422 and "cannot change once the scores are locked" in text(response)
    assert items(competition) == {}


def test_the_service_refuses_a_locked_competition_too(make_dive):
    competition = make_dive(status="locked")
    entrants, criteria = ids(competition)
    with pytest.raises(ServiceError):
        programme.save(competition, None, {(entrants["E1"], criteria["theory.exam"]): ("2", "")})
    assert items(competition) == {}


def test_a_post_without_the_csrf_token_is_refused(client, auth, organizer, dive):
    auth.login("organizer")
    response = client.post(URL.format(code=dive.code), data=whole_grid(dive, E1_exam=("2", "")))
    assert response.status_code == 400 and items(dive) == {}


@pytest.mark.parametrize("status, refused", [("draft", 404), ("running", 403)])
@pytest.mark.parametrize("role", ["judge", "worker"])
def test_judges_and_workers_are_refused(client, auth, make_user, make_dive, role, status, refused):
    competition = make_dive(status=status)
    make_user("someone", role)
    auth.login("someone")
    assert client.get(URL.format(code=competition.code)).status_code == refused
    data = whole_grid(competition, E1_exam=("2", "")) | {"csrf_token": csrf_token(client, "/")}
    assert client.post(URL.format(code=competition.code), data=data).status_code == refused
    assert items(competition) == {}


def test_an_organizer_of_another_county_is_refused(client, auth, make_user, tree, dive):
    make_user("shishi", "organizer", org_unit_id=tree["shishi"].id)
    auth.login("shishi")
    assert client.get(URL.format(code=dive.code)).status_code == 403


def test_the_messages_are_chinese_for_a_chinese_organizer(client, auth, make_user, tree, dive):
    make_user("zhorganizer", "organizer", locale="zh", org_unit_id=tree["city"].id)
    auth.login("zhorganizer")
    data = whole_grid(dive, E1_exam=("abc", "")) | {"csrf_token": csrf_token(client, "/")}
    page = text(client.post(URL.format(code=dive.code), data=data))
    assert "2 张三 · 理论知识 理论考试：系数“abc”不是数字" in page
    assert "申报" in page
