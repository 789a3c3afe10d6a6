"""The question bank's services: checking content, versions, retiring, images, .xlsx and GIFT imports and exports."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from comp.extensions import db
from comp.models import AuditEvent
from comp.models.exam import Question, QuestionBank, QuestionImage, QuestionVersion
from comp.services import ServiceError
from comp.services.exams import bank as banks
from comp.services.exams import bank_checks, bankfile, images

HEADER = ["题号", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "难度", "知识点"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\1" * 64


@pytest.fixture(autouse=True)
def _english(app):
    """Read every message in English."""
    with force_locale("en"):
        yield


@pytest.fixture()
def city_organizer(make_user, tree):
    """Return an organizer of the city union, who reads English."""
    return make_user("city", "organizer", locale="en", org_unit_id=tree.city.id)


@pytest.fixture()
def county_organizer(make_user, tree):
    """Return an organizer of the 晋江 county union, who reads English."""
    return make_user("jinjiang", "organizer", locale="en", org_unit_id=tree.jinjiang.id)


@pytest.fixture()
def make_bank(county_organizer):
    """Return a factory of banks owned by the 晋江 union."""

    def make(name: str = "评茶员题库", trade: str = "评茶员", user=None):
        return banks.create_bank(user or county_organizer, name, trade)

    return make


def sheet(rows: list[list], header: list | None = None) -> bytes:
    """Return an .xlsx of the header row and these rows."""
    workbook = Workbook()
    ws = workbook.active
    ws.append(header or HEADER)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD = [
    ["T1", "单选题", "绿茶属于哪一类？", "不发酵茶", "半发酵茶", "全发酵茶", "", "A", "不经发酵", "易", "茶叶分类"],
    ["T2", "多选", "哪些是六大茶类？", "绿茶", "花茶", "白茶", "黑茶", "A、C、D", "", 3, "茶叶分类"],
    ["T3", "判断题", "乌龙茶是青茶。", "", "", "", "", "√", "", "中", "茶叶分类"],
    ["T4", "数值", "泡茶水温约多少度？", "", "", "", "", 85, "", "较难", "冲泡"],
    ["", "多选", "code made for me", "a", "b", "", "", "ab", "", 5, ""],
]


def fields(**changed) -> dict:
    """Return a valid single-choice question's texts, with some changed."""
    base = {"kind": "单选", "stem": "Q?", "options": ["a", "b", "c"], "answer": "B", "difficulty": "3"}
    return {**base, **changed}


# ---------------------------------------------------------------- checking content


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, ("single", ("a", "b", "c"), "B", None)),
        ({"answer": " b "}, ("single", ("a", "b", "c"), "B", None)),
        ({"kind": "多选题", "answer": "C,A"}, ("multiple", ("a", "b", "c"), "AC", None)),
        ({"kind": "multiple", "answer": "a c"}, ("multiple", ("a", "b", "c"), "AC", None)),
        ({"kind": "多选", "answer": "B"}, ("multiple", ("a", "b", "c"), "B", None)),
        ({"kind": "判断", "answer": "对", "options": []}, ("truefalse", (), "T", None)),
        ({"kind": "判断", "answer": "×"}, ("truefalse", (), "F", None)),
        ({"kind": "判断", "answer": "错误"}, ("truefalse", (), "F", None)),
        ({"kind": "判断", "answer": "B", "options": ["正确", "错误"]}, ("truefalse", (), "F", None)),
        ({"kind": "计算", "answer": "3.50", "tolerance": "0.1"}, ("numeric", (), "3.5", Decimal("0.1"))),
        ({"kind": "填空(数值)", "answer": "-2", "options": []}, ("numeric", (), "-2", None)),
    ],
)
def test_check_reads_each_kind(changed, expected):
    content = bank_checks.check(fields(**changed))
    assert (content.kind, content.options, content.answer, content.tolerance) == expected


@pytest.mark.parametrize(
    ("changed", "field", "words"),
    [
        ({"kind": "问答"}, "kind", "The kind “问答” is unknown"),
        ({"stem": "  "}, "stem", "is empty"),
        ({"options": ["a"]}, "options", "2 to 8 options; this one has 1"),
        ({"options": ["a", "", "c"]}, "options", "Option B is empty"),
        ({"options": list("abcdefghi")}, "options", "At most 8 options"),
        ({"answer": "D"}, "answer", "names D, but the options run from A to C"),
        ({"answer": ""}, "answer", "Give the answer"),
        ({"answer": "AB"}, "answer", "one right option"),
        ({"kind": "判断", "answer": "maybe"}, "answer", "对 or 错"),
        ({"kind": "数值", "answer": "abc"}, "answer", "is a number, not “abc”"),
        ({"kind": "数值", "answer": "1", "tolerance": "-1"}, "tolerance", "0 or more"),
        ({"kind": "数值", "answer": "1", "tolerance": "0.0000001"}, "tolerance", "6 decimal places"),
        ({"difficulty": "7"}, "difficulty", "1 to 5"),
        ({"difficulty": "很难"}, "difficulty", "1 to 5"),
        ({"area": "x" * 65}, "area", "At most 64 characters"),
    ],
)
def test_check_refuses_with_a_message_per_field(changed, field, words):
    with pytest.raises(bank_checks.QuestionProblems) as refused:
        bank_checks.check(fields(**changed))
    assert field in refused.value.problems and words in refused.value.problems[field], refused.value.problems


@pytest.mark.parametrize(
    ("text", "level"), [("", 3), ("1", 1), ("5.0", 5), ("易", 1), ("较易", 2), ("中", 3), ("难", 5)]
)
def test_difficulty_words(text, level):
    assert bank_checks.difficulty_of(text) == level


# ---------------------------------------------------------------- banks, versions, retiring


def test_create_bank_is_owned_by_the_organizer_union_and_audited(make_bank, county_organizer, tree):
    bank = make_bank()
    assert bank.owner_unit_id == tree.jinjiang.id and bank.created_by_id == county_organizer.id
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_id == bank.id)) == "bank.created"
    with pytest.raises(bank_checks.QuestionProblems) as refused:
        banks.create_bank(county_organizer, " ", "")
    assert set(refused.value.problems) == {"name", "trade"}


def test_banks_in_scope(make_bank, make_user, tree, city_organizer, county_organizer):
    mine = make_bank()
    shishi = make_user("shishi", "organizer", locale="en", org_unit_id=tree.shishi.id)
    theirs = make_bank("石狮题库", user=shishi)
    admin = make_user("admin", "admin")
    assert banks.banks_for(county_organizer) == [mine]
    assert set(banks.banks_for(city_organizer)) == {mine, theirs} == set(banks.banks_for(admin))
    assert banks.may_manage(county_organizer, mine) and not banks.may_manage(county_organizer, theirs)
    assert not banks.may_manage(make_user("judge", "judge"), mine)


def test_add_edit_versions_and_retire(make_bank, county_organizer):
    bank = make_bank()
    question = banks.add_question(bank, county_organizer, bank_checks.check(fields()))
    assert question.code == "0001" and question.current.number == 1
    assert banks.edit_question(question, county_organizer, bank_checks.check(fields())) is None  # identical: nothing
    second = banks.edit_question(question, county_organizer, bank_checks.check(fields(answer="C")))
    assert second is not None and second.number == 2 and question.current.answer == "C"
    assert [v.answer for v in question.versions] == ["B", "C"]
    with pytest.raises(bank_checks.QuestionProblems, match="already has a question 0001"):
        banks.add_question(bank, county_organizer, bank_checks.check(fields()), "0001")
    assert banks.add_question(bank, county_organizer, bank_checks.check(fields())).code == "0002"
    assert banks.set_retired(question, county_organizer, True) and question.retired
    assert not banks.set_retired(question, county_organizer, True)
    assert banks.set_retired(question, county_organizer, False) and not question.retired
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == [
        "bank.created",
        "question.added",
        "question.versioned",
        "question.added",
        "question.retired",
        "question.restored",
    ]
    assert banks.counts([bank.id]) == {bank.id: {"single": 2}}


def test_images_are_checked_and_stored_once(county_organizer):
    first = images.store_image(county_organizer, PNG)
    assert first.mime == "image/png" and images.store_image(county_organizer, PNG).id == first.id
    assert images.store_image(county_organizer, JPEG).mime == "image/jpeg"
    with pytest.raises(ServiceError, match="PNG or JPEG"):
        images.store_image(county_organizer, b"GIF89a" + b"\0" * 10)
    with pytest.raises(ServiceError, match="larger than 1024 KB"):
        images.store_image(county_organizer, PNG + b"\0" * images.IMAGE_BYTES)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionImage)) == 2


# ---------------------------------------------------------------- .xlsx import


def test_import_good_sheet(make_bank, county_organizer):
    bank = make_bank()
    report = bankfile.import_file(bank, county_organizer, "bank.xlsx", sheet(GOOD))
    assert report.tally() == {"added": 5, "versioned": 0, "unchanged": 0}
    by_code = {q.code: q.current for q in bank.questions}
    assert set(by_code) == {"T1", "T2", "T3", "T4", "0005"}
    assert (by_code["T1"].kind, by_code["T1"].answer, by_code["T1"].difficulty) == ("single", "A", 1)
    assert (by_code["T2"].answer, by_code["T2"].options) == ("ACD", ["绿茶", "花茶", "白茶", "黑茶"])
    assert (by_code["T3"].kind, by_code["T3"].answer, by_code["T3"].options) == ("truefalse", "T", [])
    assert (by_code["T4"].kind, by_code["T4"].answer, by_code["T4"].difficulty) == ("numeric", "85", 4)
    assert by_code["0005"].answer == "AB"
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "bank.imported")).detail["added"] == 5


def test_import_reads_english_headers_and_aliases(make_bank, county_organizer):
    header = ["code", "Kind", "Question", "A", "B", "answer", "容差", "explanation", "difficulty", "area", "source"]
    rows = [["N1", "numeric", "1+1?", "", "", "2", "0.5", "", "1", "math", "book"]]
    bankfile.import_file(make_bank(), county_organizer, "en.xlsx", sheet(rows, header))
    version = db.session.scalar(sa.select(QuestionVersion))
    assert (version.answer, version.tolerance, version.source) == ("2", Decimal("0.5"), "book")


BAD = [
    (["X1", "问答", "stem", "a", "b", "", "", "A", "", "", ""], "题型", "unknown"),
    (["X2", "单选", "", "a", "b", "", "", "A", "", "", ""], "题干", "empty"),
    (["X3", "单选", "stem", "a", "", "", "", "A", "", "", ""], "选项A–H", "2 to 8 options"),
    (["X4", "单选", "stem", "a", "", "c", "", "A", "", "", ""], "选项A–H", "Option B is empty"),
    (["X5", "单选", "stem", "a", "b", "", "", "C", "", "", ""], "答案", "from A to B"),
    (["X6", "单选", "stem", "a", "b", "", "", "AB", "", "", ""], "答案", "one right option"),
    (["X7", "判断", "stem", "", "", "", "", "也许", "", "", ""], "答案", "对 or 错"),
    (["X8", "数值", "stem", "", "", "", "", "八十", "", "", ""], "答案", "is a number"),
    (["X9", "单选", "stem", "a", "b", "", "", "A", "", "超难", ""], "难度", "1 to 5"),
    (["X10", "单选", "stem", "a", "b", "", "", "=A1", "", "", ""], "答案", "formula"),
    (["T1", "单选", "stem", "a", "b", "", "", "A", "", "", ""], "题号", "also in row 2"),
]


@pytest.mark.parametrize(("row", "column", "words"), BAD, ids=[b[0][0] for b in BAD])
def test_each_bad_row_is_named_by_row_and_column_and_nothing_is_written(
    make_bank, county_organizer, row, column, words
):
    bank = make_bank()
    with pytest.raises(bankfile.ImportRefused) as refused:
        bankfile.import_file(bank, county_organizer, "bad.xlsx", sheet([GOOD[0], row]))
    problems = refused.value.report.problems
    assert [(p["row"], p["column"]) for p in problems] == [(3, column)], problems
    assert words in problems[0]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "bank.imported")) is None


def test_every_bad_row_is_reported_at_once(make_bank, county_organizer):
    with pytest.raises(bankfile.ImportRefused) as refused:
        bankfile.import_file(make_bank(), county_organizer, "bad.xlsx", sheet([b[0] for b in BAD[:9]] + GOOD[:1]))
    assert sorted({p["row"] for p in refused.value.report.problems}) == list(range(2, 11))
    assert refused.value.report.page()["valid"] == 1


def test_reimport_adds_versions_only_where_changed(make_bank, county_organizer):
    bank = make_bank()
    bankfile.import_file(bank, county_organizer, "bank.xlsx", sheet(GOOD[:4]))
    changed = [list(r) for r in GOOD[:4]]
    changed[0][7] = "B"  # T1's key corrected
    changed[3][7] = "90"
    report = bankfile.import_file(bank, county_organizer, "bank.xlsx", sheet(changed))
    assert report.tally() == {"added": 0, "versioned": 2, "unchanged": 2}
    by_code = {q.code: q for q in bank.questions}
    assert [v.answer for v in by_code["T1"].versions] == ["A", "B"]
    assert len(by_code["T2"].versions) == 1


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"not a workbook at all", "bank.xlsx", "not an Excel .xlsx workbook"),
        (b"PK\x03\x04 broken zip", "bank.xlsx", "not an Excel .xlsx workbook"),
        (sheet(GOOD), "bank.csv", "Upload an .xlsx workbook"),
        (b"x" * (bankfile.MAX_BYTES + 1), "bank.xlsx", "too large"),
        (sheet([["only", "junk"]], ["foo", "bar"]), "bank.xlsx", "unknown columns"),
        (sheet([]), "bank.xlsx", "no questions"),
        (b"\xff\xfe\x00bad", "bank.gift", "not text"),
        (b"// only a comment\n", "bank.gift", "no question"),
    ],
)
def test_hostile_or_empty_files_are_refused(make_bank, county_organizer, data, name, words):
    with pytest.raises(ServiceError, match=words):
        bankfile.import_file(make_bank(), county_organizer, name, data)


def test_too_many_rows_are_refused(make_bank, county_organizer, monkeypatch):
    monkeypatch.setattr(bankfile, "MAX_ROWS", 3)
    with pytest.raises(ServiceError, match="at most 4 are read|more than 4 rows"):
        bankfile.import_file(make_bank(), county_organizer, "big.xlsx", sheet(GOOD))
    gift_text = "\n\n".join(f"Q{n} {{T}}" for n in range(5)).encode()
    with pytest.raises(ServiceError, match="more than 3 questions"):
        bankfile.import_file(make_bank("b2"), county_organizer, "big.gift", gift_text)
    unreadable = "\n\n".join(f"not a question {n}" for n in range(5)).encode()  # no answers: problems, not rows
    with pytest.raises(ServiceError, match="more than 3 questions"):
        bankfile.import_file(make_bank("b3"), county_organizer, "wrong.txt", unreadable)


def test_template_imports_nothing_but_its_example(make_bank, county_organizer):
    with pytest.raises(ServiceError, match="no questions"):
        bankfile.import_file(make_bank(), county_organizer, "template.xlsx", bankfile.template())


# ---------------------------------------------------------------- GIFT import, exports and round trips


def test_gift_import_reports_each_bad_question_by_line(make_bank, county_organizer):
    text = b"Good {T}\n\nEssay {}\n\n::T9:: Four options {=a ~b ~c ~d ~e ~f ~g ~h ~i}\n"
    with pytest.raises(bankfile.ImportRefused) as refused:
        bankfile.import_file(make_bank(), county_organizer, "b.gift", text)
    assert [(p["row"], p["column"]) for p in refused.value.report.problems] == [(3, "Question"), (5, "Question")]
    assert "essay" in refused.value.report.problems[0]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0


def exported(bank: QuestionBank) -> list[tuple]:
    """Return the bank's questions as comparable tuples."""
    return sorted(
        (q.code, v.kind, v.stem, tuple(v.options), v.answer, v.tolerance, v.explanation, v.area, v.difficulty, v.source)
        for q in bank.questions
        for v in [q.current]
    )


def test_xlsx_export_imports_back_the_same(make_bank, county_organizer):
    bank = make_bank()
    bankfile.import_file(bank, county_organizer, "bank.xlsx", sheet(GOOD))
    banks.add_question(
        bank, county_organizer, bank_checks.check(fields(stem="=SUM(A1) -5℃", options=["-1", "+2"], answer="A")), "F1"
    )
    banks.add_question(
        bank,
        county_organizer,
        bank_checks.check(fields(kind="数值", answer="-0.125", tolerance="0.001", options=[])),
        "N1",
    )
    data = b"".join(bankfile.export_xlsx(bank))
    rows = list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("题号", "题型", "题干") and len(rows) == 8
    again = make_bank("copy")
    assert bankfile.import_file(again, county_organizer, "export.xlsx", data).tally()["added"] == 7
    assert exported(again) == exported(bank)
    assert bankfile.import_file(bank, county_organizer, "export.xlsx", data).tally()["unchanged"] == 7


def test_gift_export_imports_back_the_same(make_bank, county_organizer):
    bank = make_bank()
    bankfile.import_file(bank, county_organizer, "bank.xlsx", sheet(GOOD))
    banks.add_question(
        bank,
        county_organizer,
        bank_checks.check(fields(kind="数值", answer="3", tolerance="0.25", options=[], source="书")),
        "N1",
    )
    text = bankfile.export_gift(bank)
    assert "$CATEGORY: $course$/top/茶叶分类" in text
    again = make_bank("copy")
    assert bankfile.import_file(again, county_organizer, "export.gift", text.encode()).tally()["added"] == 6
    assert exported(again) == exported(bank)


def test_retired_questions_are_not_exported(make_bank, county_organizer):
    bank = make_bank()
    bankfile.import_file(bank, county_organizer, "bank.xlsx", sheet(GOOD[:2]))
    banks.set_retired(bank.questions[0], county_organizer, True)
    assert "T1" not in bankfile.export_gift(bank) and "::T2::" in bankfile.export_gift(bank)
