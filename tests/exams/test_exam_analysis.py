"""Item analysis: the page's figures equal the ones computed here independently; the key page regrades."""

from __future__ import annotations

import re
import statistics as st
from fractions import Fraction
from io import BytesIO

import pytest
from openpyxl import load_workbook

from comp.extensions import db
from comp.services.exams import statistics
from tests.chief.helpers import mark, set_mark
from tests.exams.exam_helpers import RIGHT, Logged, _english, add_entrants, make_bank, make_exam, seat, versions  # noqa: F401

WRONG = ["A", "A", "A", "AB", "A", "F", "T", "10"]
# Right (1) or wrong (0) per candidate and item; E5's first answer is left blank.
MATRIX = {
    "E1": [1, 1, 1, 1, 1, 1, 0, 1],
    "E2": [1, 1, 1, 1, 0, 1, 0, 1],
    "E3": [1, 1, 0, 1, 0, 0, 0, 1],
    "E4": [1, 0, 0, 0, 0, 1, 0, 0],
    "E5": [0, 0, 0, 0, 0, 0, 1, 0],
}


@pytest.fixture()
def exam(make_competition):
    competition = make_competition(status="running")
    for ref in ("E1", "E2"):
        set_mark(competition, ref, "J1", "theory.exam", None)
    add_entrants(competition, 3)
    exam = make_exam(competition, make_bank())
    for ref, row in MATRIX.items():
        responses = [RIGHT[i] if right else WRONG[i] for i, right in enumerate(row)]
        if ref == "E5":
            responses[0] = ""
        seat(exam, ref, responses, finished_by="candidate")
    return exam


@pytest.fixture()
def browser(client, auth, make_user):
    make_user("organizer", "organizer", locale="en")
    assert auth.login("organizer").status_code == 302
    return Logged(client)


def expected():
    """Compute the figures from MATRIX with the standard library, apart from the code under test."""
    rows = list(MATRIX.values())
    totals = [sum(r) for r in rows]
    k = len(rows[0])
    facility = [st.mean(r[i] for r in rows) for i in range(k)]
    kr20 = k / (k - 1) * (1 - sum(p * (1 - p) for p in facility) / st.pvariance(totals))
    upper, lower = rows[totals.index(max(totals))], rows[totals.index(min(totals))]  # 27 % of 5 is one sitting
    discrimination = [upper[i] - lower[i] for i in range(k)]
    biserial = [st.correlation([r[i] for r in rows], [t - r[i] for r, t in zip(rows, totals)]) for i in range(k)]
    return {
        "mean": st.mean(totals),
        "sd": st.stdev(totals),
        "kr20": kr20,
        "facility": facility,
        "discrimination": discrimination,
        "biserial": biserial,
    }


def cell(page: str, row_id: str, klass: str) -> str:
    row = re.search(rf'<tr id="{row_id}".*?</tr>', page, re.S).group(0)
    return re.search(rf'class="[^"]*{klass}[^"]*">([^<]*)<', row).group(1).strip()


def test_the_page_shows_the_figures_computed_independently(exam, browser):
    want = expected()
    page = browser.get(f"/competitions/{exam.competition.code}/exam/analysis").text
    assert re.search(r'id="fig-count">5<', page)
    assert re.search(rf'id="fig-mean">{want["mean"]:.2f}<', page)
    assert re.search(rf'id="fig-sd">{want["sd"]:.2f}<', page)
    assert re.search(rf'id="fig-kr20">{want["kr20"]:.3f}<', page)
    assert re.search(rf'id="fig-alpha">{want["kr20"]:.3f}<', page)  # α equals KR-20 on right/wrong items
    for i, version in enumerate(versions(exam.bank)):
        row = f"item-{version.id}"
        assert cell(page, row, "facility") == f"{want['facility'][i] * 100:.1f}"
        assert cell(page, row, "discrimination") == f"{want['discrimination'][i] * 100:.1f}"
        assert cell(page, row, "biserial") == f"{want['biserial'][i]:.3f}"
    flagged = re.findall(r'<tr id="item-(\d+)" class="flagged review"', page)
    assert flagged == [str(versions(exam.bank)[6].id)]  # only the weakest got item 7 right


def test_the_option_counts_mark_the_right_option(exam):
    report = statistics.report(exam)
    first = report.lines[0]
    assert first.stats.options == {"C": 4, "": 1} and first.key == "C" and first.letters == ("A", "B", "C", "D")
    numeric = report.lines[7]
    assert numeric.stats.options == {"150": 3, "10": 2} and numeric.letters == ()
    assert sum(n for _, _, n in report.histogram) == 5


def test_the_xlsx_has_the_same_table(exam, browser):
    answer = browser.get(f"/competitions/{exam.competition.code}/exam/analysis.xlsx")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r and r[0] == "Question"))
    items = rows[header + 1 :]
    want = expected()
    assert [r[0] for r in items] == [f"Q{n}" for n in range(1, 9)]
    assert [r[5] for r in items] == [round(f * 100, 1) for f in want["facility"]]
    assert items[6][9] == "review" and not items[0][9]


def test_before_any_finished_sitting_the_page_says_so(make_competition, browser):
    exam = make_exam(make_competition(status="running"), make_bank())
    page = browser.get(f"/competitions/{exam.competition.code}/exam/analysis")
    assert page.status_code == 200 and 'id="no-analysis"' in page.text
    assert browser.get(f"/competitions/{exam.competition.code}/exam/analysis.xlsx").status_code == 404


def test_the_key_page_corrects_and_says_how_many_scores_changed(exam, browser):
    q7 = versions(exam.bank)[6]
    url = f"/competitions/{exam.competition.code}/exam/key"
    page = browser.get(url)
    assert page.status_code == 200 and f'id="version-{q7.id}"' in page.text
    refused = browser.post(url, {"version_id": str(q7.id), "answer": "T", "reason": ""})
    assert refused.status_code == 422 and "Write why the key is corrected" in refused.text
    answer = browser.post(url, {"version_id": str(q7.id), "answer": "T", "reason": "题目有歧义"}, follow_redirects=True)
    assert "The key is corrected: 5 scores changed." in answer.text
    assert "题目有歧义" in answer.text and "corrected from F" in answer.text
    db.session.expire_all()
    assert mark(exam.competition, "E1", "J1", "theory.exam").value_cents == 10000  # 8 of 8 now
    assert mark(exam.competition, "E5", "J1", "theory.exam").value_cents == 0


def test_an_item_worth_more_on_one_paper_than_another_is_still_right_when_answered_right(exam):
    """Overlapping sections can draw an item at 1 point on one paper and 2 on another: right is right."""
    import sqlalchemy as sa

    from comp.models.exam import Sitting

    sittings = list(db.session.scalars(sa.select(Sitting).order_by(Sitting.id)))
    first = sittings[1].paper[0]
    sittings[1].paper = [{**first, "p": str(2 * Fraction(first["p"]))}, *sittings[1].paper[1:]]  # E2's worth doubled
    db.session.commit()
    report = statistics.report(exam)
    item = next(i for i in report.paper.items if i.ref == first["v"])
    assert item.facility == Fraction(4, 5)  # E1–E4 right, E5 blank: as when every paper gave it the same worth
    assert report.paper.kr20 is not None  # every item is still all-or-nothing
    assert sum(count for _low, _high, count in report.histogram) == 5
