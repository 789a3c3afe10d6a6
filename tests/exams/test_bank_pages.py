"""The question bank's pages: who may open them, the forms, imports with their report, exports and images."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models.exam import Exam, Question, QuestionBank, QuestionImage, Sitting
from comp.models.types import utcnow
from comp.services.exams import bank as banks
from comp.services.exams import bank_checks, bankfile, images
from tests.chief.helpers import criterion, entrant, judge
from tests.conftest import csrf_token
from tests.exams.test_bank_service import GOOD, JPEG, PNG, sheet


def text(response) -> str:
    """Return the answer's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture()
def county(make_user, tree):
    """Return the 晋江 county organizer, who reads English."""
    return make_user("jinjiang", "organizer", locale="en", org_unit_id=tree.jinjiang.id)


@pytest.fixture()
def bank(county) -> QuestionBank:
    """Return a 晋江 bank holding the good sheet's five questions."""
    made = banks.create_bank(county, "评茶员题库", "评茶员")
    bankfile.import_file(made, county, "bank.xlsx", sheet(GOOD))
    return made


class Browser:
    """A logged-in client that posts with the CSRF token."""

    def __init__(self, client, auth, username: str):
        assert auth.login(username).status_code == 302
        self.client = client
        self.token = csrf_token(client, "/")

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)


@pytest.fixture()
def browser(client, auth, county):
    """Return the county organizer's browser."""
    return Browser(client, auth, "jinjiang")


def urls(bank: QuestionBank) -> list[str]:
    """Return every GET page of a bank."""
    question = bank.questions[0]
    return [
        f"/banks/{bank.id}",
        f"/banks/{bank.id}/questions/{question.id}",
        f"/banks/{bank.id}/import",
        f"/banks/{bank.id}/export.xlsx",
        f"/banks/{bank.id}/export.gift",
    ]


# ---------------------------------------------------------------- who may


def test_visitor_is_sent_to_log_in(client, bank):
    for url in ["/banks", "/banks/template.xlsx", *urls(bank)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["judge", "worker", "liaison"])
def test_other_roles_are_refused(client, auth, make_user, bank, role):
    make_user("someone", role, locale="en")
    Browser(client, auth, "someone")
    for url in ["/banks", "/banks/template.xlsx", *urls(bank)]:
        assert client.get(url).status_code == 403, url


def test_other_union_organizer_is_refused_and_does_not_see_the_bank(client, auth, make_user, tree, bank):
    make_user("shishi", "organizer", locale="en", org_unit_id=tree.shishi.id)
    other = Browser(client, auth, "shishi")
    assert "评茶员题库" not in text(other.get("/banks"))
    for url in urls(bank):
        assert other.get(url).status_code == 403, url
    question = bank.questions[0]
    assert other.post(f"/banks/{bank.id}/questions/{question.id}/retire", {"retired": "1"}).status_code == 403
    assert other.post(f"/banks/{bank.id}", {"kind": "single", "stem": "x"}).status_code == 403


def test_city_organizer_and_admin_see_every_bank(client, auth, make_user, tree, bank):
    make_user("city", "organizer", locale="en", org_unit_id=tree.city.id)
    make_user("root", "admin", locale="en")
    for username in ("city", "root"):
        viewer = Browser(client, auth, username)
        for url in urls(bank):
            assert viewer.get(url).status_code == 200, (username, url)
        auth.logout()


def test_a_city_bank_of_no_union_is_managed_only_by_those_who_see_every_union(client, auth, make_user, tree, bank):
    """A bank an admin made without a union: the county's organizer neither sees it nor exports its keys."""
    bank.owner_unit_id = None
    db.session.commit()
    county = Browser(client, auth, "jinjiang")
    assert "评茶员题库" not in text(county.get("/banks"))
    for url in urls(bank):
        assert county.get(url).status_code == 403, url
    auth.logout()
    make_user("root", "admin", locale="en")
    admin = Browser(client, auth, "root")
    assert all(admin.get(url).status_code == 200 for url in urls(bank))


def test_unknown_ids_are_404(browser, bank, county):
    other = banks.create_bank(county, "b", "t")
    assert browser.get("/banks/999999").status_code == 404
    assert browser.get(f"/banks/{bank.id}/questions/999999").status_code == 404
    foreign = banks.add_question(other, None, bank_checks.check({"kind": "判断", "stem": "s", "answer": "对"}))
    assert browser.get(f"/banks/{bank.id}/questions/{foreign.id}").status_code == 404  # a question of another bank


# ---------------------------------------------------------------- the pages


def test_list_shows_counts_and_creates(browser, bank):
    page = text(browser.get("/banks"))
    assert "评茶员题库" in page and re.search(r'id="bank-\d+"', page)
    response = browser.post("/banks", {"name": "电工题库", "trade": "电工"})
    assert response.status_code == 302
    created = db.session.scalar(sa.select(QuestionBank).where(QuestionBank.name == "电工题库"))
    assert created is not None and response.headers["Location"].endswith(f"/banks/{created.id}")
    refused = browser.post("/banks", {"name": "", "trade": ""})
    assert refused.status_code == 422 and "Give the bank a name" in text(refused)


def test_bank_page_filters_and_adds(browser, bank):
    page = text(browser.get(f"/banks/{bank.id}"))
    assert all(code in page for code in ("T1", "T2", "T3", "T4", "0005"))
    only_numeric = text(browser.get(f"/banks/{bank.id}?kind=numeric"))
    assert "泡茶水温" in only_numeric and "绿茶属于" not in only_numeric
    by_area = text(browser.get(f"/banks/{bank.id}?area=冲泡"))
    assert "泡茶水温" in by_area and "绿茶属于" not in by_area
    form = {
        "code": "A9",
        "kind": "multiple",
        "stem": "新题",
        "option_A": "x",
        "option_B": "y",
        "answer": "AB",
        "difficulty": "2",
    }
    assert browser.post(f"/banks/{bank.id}", form).status_code == 302
    added = db.session.scalar(sa.select(Question).where(Question.code == "A9"))
    assert added.current.answer == "AB" and added.current.difficulty == 2
    refused = browser.post(f"/banks/{bank.id}", {**form, "code": "A10", "answer": "C", "stem": ""})
    page = text(refused)
    assert refused.status_code == 422 and "is empty" in page and "from A to B" in page


def test_edit_adds_a_version_and_shows_the_answer_diff(browser, bank):
    question = next(q for q in bank.questions if q.code == "T1")
    url = f"/banks/{bank.id}/questions/{question.id}"
    page = text(browser.get(url))
    assert 'value="不发酵茶"' in page
    form = {
        "kind": "single",
        "stem": question.current.stem,
        "option_A": "不发酵茶",
        "option_B": "半发酵茶",
        "option_C": "全发酵茶",
        "answer": "A",
        "explanation": "不经发酵",
        "area": "茶叶分类",
        "difficulty": "1",
    }
    assert browser.post(url, form).status_code == 302
    assert len(question.versions) == 1  # nothing changed
    assert browser.post(url, {**form, "answer": "B"}).status_code == 302
    db.session.refresh(question)
    assert [v.number for v in question.versions] == [1, 2]
    page = text(browser.get(url))
    assert "<del>A</del> → <ins>B</ins>" in page
    refused = browser.post(url, {**form, "kind": "numeric", "answer": "x"})
    assert refused.status_code == 422 and "is a number" in text(refused)


def test_retire_and_restore(browser, bank):
    question = bank.questions[0]
    url = f"/banks/{bank.id}/questions/{question.id}"
    assert browser.post(url + "/retire", {"retired": "1"}).status_code == 302
    db.session.refresh(question)
    assert question.retired and 'id="retired"' in text(browser.get(url))
    assert browser.post(url + "/retire", {"retired": "0"}).status_code == 302
    db.session.refresh(question)
    assert not question.retired
    assert browser.client.post(url + "/retire", data={"retired": "1"}).status_code == 400  # no CSRF token


def test_image_upload_and_who_may_see_it(client, auth, browser, bank, make_user):
    question = bank.questions[0]
    url = f"/banks/{bank.id}/questions/{question.id}"
    form = {"kind": "single", "stem": "看图", "option_A": "a", "option_B": "b", "answer": "A", "difficulty": "3"}
    bad = browser.post(
        url, {**form, "image": (io.BytesIO(b"GIF89a....."), "x.gif")}, content_type="multipart/form-data"
    )
    assert bad.status_code == 422 and "PNG or JPEG" in text(bad)
    refused = browser.post(
        url, {**form, "stem": "", "image": (io.BytesIO(PNG), "x.png")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 422 and db.session.scalar(sa.select(sa.func.count()).select_from(QuestionImage)) == 0
    good = browser.post(url, {**form, "image": (io.BytesIO(PNG), "x.png")}, content_type="multipart/form-data")
    assert good.status_code == 302
    db.session.refresh(question)
    image_id = question.current.image_id
    shown = browser.get(f"/banks/images/{image_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == PNG
    assert browser.post(url, {**form, "stem": "改"}).status_code == 302  # an edit keeps the image
    db.session.refresh(question)
    assert question.current.image_id == image_id
    auth.logout()
    assert client.get(f"/banks/images/{image_id}").status_code == 302  # a visitor logs in
    make_user("w", "worker", locale="en")
    auth.login("w")
    assert client.get(f"/banks/images/{image_id}").status_code == 404  # no paper of hers shows it
    assert client.get("/banks/images/999999").status_code == 404


def test_a_candidate_admitted_by_id_number_sees_an_image_of_her_paper(client, make_competition, county, bank):
    competition = make_competition()
    question = bank.questions[0]
    image = images.store_image(county, JPEG)
    version = banks.edit_question(question, county, bank_checks.check(fields_of(question), image.id))
    now = utcnow()
    exam = Exam(
        competition_id=competition.id,
        criterion_id=criterion(competition, "theory.exam").id,
        marker_id=judge(competition, "J1").id,
        bank_id=bank.id,
        code="ABCD2345",
        title="理论",
        seed="s",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=1),
        duration_minutes=60,
    )
    db.session.add(exam)
    db.session.flush()
    candidate = entrant(competition, "E1")
    db.session.add(
        Sitting(
            exam_id=exam.id,
            entrant_id=candidate.id,
            paper=[{"v": version.id, "p": "1", "o": [0, 1, 2]}],
            deadline=now + timedelta(hours=1),
            device="d",
        )
    )
    db.session.commit()
    assert client.get(f"/banks/images/{image.id}").status_code == 302
    with client.session_transaction() as session:
        session["exam_entrants"] = [entrant(competition, "E2").id]
    assert client.get(f"/banks/images/{image.id}").status_code == 404  # another candidate's paper
    with client.session_transaction() as session:
        session["exam_entrants"] = [candidate.id]
    assert client.get(f"/banks/images/{image.id}").data == JPEG


def fields_of(question) -> dict:
    v = question.current
    return {
        "kind": v.kind,
        "stem": v.stem,
        "options": v.options,
        "answer": v.answer,
        "difficulty": str(v.difficulty),
        "explanation": v.explanation,
        "area": v.area,
    }


# ---------------------------------------------------------------- files


def upload(browser, bank, data: bytes, name: str):
    return browser.post(
        f"/banks/{bank.id}/import", {"sheet": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_import_page_reports_bad_rows_and_writes_nothing(browser, county):
    bank = banks.create_bank(county, "空题库", "评茶员")
    bad = [list(GOOD[0]), ["X", "单选", "", "a", "b", "", "", "C", "", "", ""]]
    response = upload(browser, bank, sheet(bad), "bad.xlsx")
    page = text(response)
    assert response.status_code == 422 and 'id="import-refused"' in page
    assert re.search(r'<a href="#row-3">3</a></td><td class="nowrap">题干</td>', page)
    assert re.search(r'<td class="nowrap">答案</td><td>The answer “C” names C', page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0


def test_import_page_imports_and_counts(browser, county):
    bank = banks.create_bank(county, "空题库", "评茶员")
    response = upload(browser, bank, sheet(GOOD), "good.xlsx")
    assert response.status_code == 200 and "5 added, 0 new versions, 0 unchanged" in text(response)
    gift_text = "::G1:: 一道题 {T}\n".encode()
    assert "1 added" in text(upload(browser, bank, gift_text, "more.gift"))
    refused = upload(browser, bank, b"not a workbook", "x.xlsx")
    assert refused.status_code == 422 and 'id="import-error"' in text(refused)
    assert upload(browser, bank, b"", "").status_code == 422  # no file chosen


def test_exports_and_template_download(browser, bank):
    xlsx = browser.get(f"/banks/{bank.id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in xlsx.headers["Content-Disposition"] and xlsx.data[:2] == b"PK"
    gift = browser.get(f"/banks/{bank.id}/export.gift")
    assert gift.status_code == 200 and "::T1::" in gift.get_data(as_text=True)
    template = browser.get("/banks/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_pages_fit_a_phone(browser, bank):
    page = text(browser.get(f"/banks/{bank.id}"))
    assert 'class="overflow-auto"' in page and 'name="viewport"' in page
