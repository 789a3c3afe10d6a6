"""The exchange format at the service level: the worked examples, every refusal, the round trip."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from comp.extensions import db
from comp.models import Competition, Entrant, Unit
from comp.services import exchange, results
from tests.conftest import valid_id

DATA = Path(__file__).parent / "scoring" / "data"
EXAMPLES = ("competition", "rating")
CODES = {"competition": "QZ-2026-NOODLE", "rating": "PJ-2026-TEAM"}


def example(name: str) -> dict:
    """Read a worked example the way the CLI does (exact decimals)."""
    return exchange.read_file(str(DATA / f"{name}.json"))


def expected(name: str) -> dict:
    """Return the expected results document; ours also carries the top-level "complete"."""
    return json.loads((DATA / f"{name}.results.json").read_text(encoding="utf-8"))


def without_complete(doc: dict) -> dict:
    """Drop the top-level "complete" key the expected files leave out."""
    return {key: value for key, value in doc.items() if key != "complete"}


def row_counts() -> dict[str, int]:
    """Count the rows of every table, to prove a refused import wrote nothing."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def empty_database() -> None:
    """Delete every row, as on a fresh machine (the audit trail's ORM guard is bypassed on purpose)."""
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture()
def english():
    """Word the problems in English for the test (the app's default language is Chinese)."""
    with force_locale("en"):
        yield


def problems_of(doc) -> list[tuple[str, str]]:
    """Import the document expecting a refusal; check nothing was written; return the problems."""
    before = row_counts()
    with pytest.raises(exchange.ExchangeError) as caught:
        exchange.import_competition(doc)
    db.session.rollback()
    assert row_counts() == before
    return caught.value.problems


# ------------------------------------------------------------------ the worked examples


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example_gives_the_expected_document(name):
    competition = exchange.import_competition(example(name))
    doc = results.document(competition)
    assert doc["complete"] is True
    assert without_complete(doc) == expected(name)


def test_award_places_fixed_in_the_notice_give_those_counts():
    # 一等奖1名、二等奖3名、三等奖6名: the example's twelve entrants, with the award minimum lowered so
    # that the places alone decide.
    data = example("competition")
    data["competition"]["rules"] = {
        "award_tiers": [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 3}, {"name": "三等奖", "count": 6}],
        "award_min_total": "0",
    }
    competition = exchange.import_competition(data)
    doc = results.document(competition)
    ranked = sorted((row for row in doc["results"] if row["rank"] is not None), key=lambda row: row["rank"])
    assert [row["rank"] for row in ranked] == list(range(1, 12))  # eleven ranked (one absent), no tie
    assert [row["award"] for row in ranked] == ["一等奖"] + ["二等奖"] * 3 + ["三等奖"] * 6 + [None]
    again = exchange.export_competition(db.session.get(Competition, competition.id))
    assert again["competition"]["rules"]["award_tiers"] == data["competition"]["rules"]["award_tiers"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_complete_example_arrives_locked(name):
    competition = exchange.import_competition(example(name))
    assert competition.code == CODES[name]
    assert db.session.get(Competition, competition.id).status == "locked"


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_missing_mark_leaves_the_competition_running(name):
    data = example(name)
    removed = data["marks"].pop(0)
    competition = exchange.import_competition(data)
    assert competition.status == "running"
    doc = results.document(competition)
    assert doc["complete"] is False
    row = next(r for r in doc["results"] if r["ref"] == removed["entrant"])
    assert (row["complete"], row["rank"], row["total"], row["award"]) == (False, None, None, None)


def test_rating_entrants_are_units_and_it_has_no_teams():
    competition = exchange.import_competition(example("rating"))
    entrants = db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)).all()
    assert entrants and all(e.worker_id is None and e.unit_id is not None for e in entrants)
    units = db.session.scalars(sa.select(Unit).where(Unit.id.in_([e.unit_id for e in entrants]))).all()
    assert {u.kind for u in units} == {"team"}
    assert {u.name for u in units} == {e.name for e in entrants}
    assert results.document(competition)["teams"] == []


def test_competition_entrants_are_workers():
    competition = exchange.import_competition(example("competition"))
    entrants = db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id)).all()
    assert entrants and all(e.worker_id is not None and e.unit_id is None for e in entrants)


# ------------------------------------------------------------------ refusals, one category each


def _set(doc: dict, path: tuple, value) -> None:
    *parents, last = path
    for key in parents:
        doc = doc[key]
    if value is _DELETE:
        del doc[last]
    else:
        doc[last] = value


_DELETE = object()
_BAD_ID = valid_id(901)[:-1] + ("0" if valid_id(901)[-1] != "0" else "1")
_ROUTE = ("stages", 1, "criteria", 0)

# (id, edits, expected JSON path, the expected message in English)
INVALID = [
    (
        "unknown format",
        [(("format",), "jiangxin.competition/9")],
        "format",
        'must be “jiangxin.competition/1”, not "jiangxin.competition/9"',
    ),
    ("missing code", [(("competition", "code"), _DELETE)], "competition.code", "is required and must be text"),
    (
        "code with a space",
        [(("competition", "code"), "T 2026")],
        "competition.code",
        "may use only letters, digits, “-” and “_”",
    ),
    ("name too long", [(("competition", "name"), "名" * 201)], "competition.name", "is longer than 200 characters"),
    (
        "unknown level",
        [(("competition", "level"), "galactic")],
        "competition.level",
        "“galactic” is not one of city, county, enterprise",
    ),
    (
        "year as text",
        [(("competition", "year"), "2026")],
        "competition.year",
        'must be a year from 1990 to 2100, not "2026"',
    ),
    ("rules not an object", [(("competition", "rules"), ["x"])], "competition.rules", "the rules must be an object"),
    ("stages not a list", [(("stages",), {"theory": {}})], "stages", "must be a list"),
    ("no stage", [(("stages",), [])], "stages", "must name at least one stage"),
    ("stage not an object", [(("stages", 0), "theory")], "stages[0]", "must be an object"),
    ("duplicate stage", [(("stages", 1, "key"), "theory")], "stages[1].key", "“theory” appears more than once"),
    (
        "negative weight",
        [(("stages", 0, "weight"), "-30")],
        "stages[0].weight",
        'must be a number ≥ 0 with at most 4 decimal places, not "-30"',
    ),
    (
        "duplicate criterion",
        [(("stages", 1, "criteria", 1, "key"), "route")],
        "stages[1].criteria[1].key",
        "“practical.route” appears more than once",
    ),
    (
        "unknown aggregation",
        [(_ROUTE + ("aggregation",), "highest")],
        "stages[1].criteria[0].aggregation",
        "“highest” is not one of mean, trimmed, median, single",
    ),
    ("duplicate entrant", [(("entrants", 1, "ref"), "E1")], "entrants[1].ref", "“E1” appears more than once"),
    ("duplicate judge", [(("judges", 1, "ref"), "J1")], "judges[1].ref", "“J1” appears more than once"),
    ("chief not a boolean", [(("judges", 1, "chief"), "yes")], "judges[1].chief", "must be true or false"),
    (
        "two chief judges",
        [(("judges", 2, "chief"), True)],
        "judges[2].chief",
        "a competition has one chief judge; judges[0] is already chief",
    ),
    ("unknown entrant", [(("marks", 0, "entrant"), "E9")], "marks[0].entrant", 'names no entrant: "E9"'),
    ("unknown judge", [(("marks", 0, "judge"), "J9")], "marks[0].judge", 'names no judge: "J9"'),
    ("judge left out", [(("marks", 0, "judge"), _DELETE)], "marks[0].judge", "names no judge: null"),
    (
        "unknown criterion",
        [(("marks", 0, "criterion"), "practical.speed")],
        "marks[0].criterion",
        'names no criterion: "practical.speed" (use stage.criterion)',
    ),
    (
        "negative value",
        [(("marks", 2, "value"), "-1")],
        "marks[2].value",
        "-1 is below the minimum 0 (criterion practical.route)",
    ),
    ("not a number", [(("marks", 2, "value"), "abc")], "marks[2].value", "“abc” is not a number"),
    ("NaN", [(("marks", 2, "value"), "NaN")], "marks[2].value", "“NaN” is not a number"),
    ("Infinity", [(("marks", 2, "value"), "Infinity")], "marks[2].value", "“Infinity” is not a number"),
    (
        "three decimals",
        [(("marks", 2, "value"), "35.125")],
        "marks[2].value",
        "35.125 has more than 2 decimal places (criterion practical.route)",
    ),
    (
        "off the step",
        [(_ROUTE + ("step",), "0.5"), (("marks", 2, "value"), "35.3")],
        "marks[2].value",
        "35.3 is not a multiple of the step 0.5 (criterion practical.route)",
    ),
    (
        "binary float",
        [(("marks", 2, "value"), 35.5)],
        "marks[2].value",
        "write the figure as text, e.g. “0.10”: 35.5 has already lost digits",
    ),
    (
        "bad check digit",
        [(("entrants", 0, "id_number"), _BAD_ID)],
        "entrants[0].id_number",
        "is not a valid ID number: the digits do not agree with the check digit:"
        " a typo may be in any digit, check them all",
    ),
    (
        "same person twice",
        [(("entrants", 1, "id_number"), valid_id(901))],
        "entrants[1].id_number",
        "is the same person as entrants[0]",
    ),
    (
        "unknown status",
        [(("entrants", 0, "status"), "asleep")],
        "entrants[0].status",
        "“asleep” is not one of pending, approved, ok, absent, disqualified, withdrawn",
    ),
    (
        "time as text",
        [(("entrants", 0, "time_seconds"), "600")],
        "entrants[0].time_seconds",
        'must be a whole number of seconds ≥ 0, not "600"',
    ),
    (
        "a team in a competition",
        [(("entrants", 0, "type"), "team")],
        "entrants[0].type",
        'must be “person” in a competition, not "team"',
    ),
    (
        "zero weights",
        [(("stages", 0, "weight"), "0"), (("stages", 1, "weight"), "0")],
        "stages",
        "the stage weights add up to zero",
    ),
    (
        "unknown rule",
        [(("competition", "rules"), {"colour": "red"})],
        "competition.rules.colour",
        "“colour” is not a known rule",
    ),
    (
        "shares past 1",
        [
            (
                ("competition", "rules"),
                {"award_tiers": [{"name": "一等奖", "share": "0.60"}, {"name": "二等奖", "share": "0.50"}]},
            )
        ],
        "competition.rules.award_tiers",
        "the shares add up to 1.1, more than 1",
    ),
    (
        "tie-break names no stage",
        [(("competition", "rules"), {"tiebreak": ["stage:oral", "time"]})],
        "competition.rules.tiebreak[0]",
        "there is no stage “oral”",
    ),
    (
        "negative criterion max",
        [(_ROUTE + ("max",), "-40")],
        "stages[1].criteria[0].max",
        'must be a positive number with at most 2 decimal places, not "-40"',
    ),
]


def _edited(doc: dict, edits) -> dict:
    for where, value in edits:
        _set(doc, where, value)
    return doc


@pytest.mark.parametrize(
    ("edits", "path", "message"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_input_is_refused_with_its_path(english, exchange_doc, edits, path, message):
    problems = problems_of(_edited(exchange_doc, edits))
    assert (path, message) in problems, problems


# (id, edits, expected JSON path, the expected message in Chinese, the app's default language)
INVALID_ZH = [
    ("duplicate entrant", [(("entrants", 1, "ref"), "E1")], "entrants[1].ref", "“E1”重复出现"),
    ("missing code", [(("competition", "code"), _DELETE)], "competition.code", "为必填项，且须为文本"),
    ("unknown judge", [(("marks", 0, "judge"), "J9")], "marks[0].judge", '没有这名裁判："J9"'),
    (
        "above the maximum",
        [(("marks", 2, "value"), "41")],
        "marks[2].value",
        "41 超过满分 40（评分项 practical.route）",
    ),
    (
        "unknown status",
        [(("entrants", 0, "status"), "asleep")],
        "entrants[0].status",
        "“asleep”不是可选值之一（pending, approved, ok, absent, disqualified, withdrawn）",
    ),
    (
        "two chief judges",
        [(("judges", 2, "chief"), True)],
        "judges[2].chief",
        "一场竞赛只能有一名裁判长，judges[0] 已是裁判长",
    ),
    (
        "year as text",
        [(("competition", "year"), "2026")],
        "competition.year",
        '须为 1990 至 2100 之间的年份，不能是 "2026"',
    ),
]


@pytest.mark.parametrize(
    ("edits", "path", "message"), [case[1:] for case in INVALID_ZH], ids=[case[0] for case in INVALID_ZH]
)
def test_problems_are_worded_in_chinese_by_default(exchange_doc, edits, path, message):
    problems = problems_of(_edited(exchange_doc, edits))
    assert (path, message) in problems, problems


def test_a_mark_above_the_maximum_names_value_maximum_and_criterion(english, exchange_doc):
    exchange_doc["marks"][2]["value"] = "41"
    problems = problems_of(exchange_doc)
    assert [f"{path}: {message}" for path, message in problems] == [
        "marks[2].value: 41 is above the maximum 40 (criterion practical.route)"
    ]


def test_a_duplicate_mark_is_refused(english, exchange_doc):
    exchange_doc["marks"].append(dict(exchange_doc["marks"][2]))
    assert problems_of(exchange_doc) == [
        ("marks[10]", "duplicate mark: J1 already marked E1 on practical.route in marks[2]")
    ]


def test_a_second_mark_on_a_single_criterion_is_refused(english, exchange_doc):
    exchange_doc["marks"].append({"entrant": "E1", "judge": "J2", "criterion": "theory.exam", "value": "88"})
    assert problems_of(exchange_doc) == [
        ("marks[10]", "theory.exam takes a single mark; E1 already has one in marks[0]")
    ]


def test_a_second_mark_on_a_single_criterion_is_refused_in_chinese(exchange_doc):
    exchange_doc["marks"].append({"entrant": "E1", "judge": "J2", "criterion": "theory.exam", "value": "88"})
    assert problems_of(exchange_doc) == [("marks[10]", "评分项 theory.exam 只取一个分数，选手 E1 已在 marks[0] 有分数")]


def _judge_of_the_entrants_employer(data: dict) -> tuple[dict, list[dict]]:
    """Make judge J2 an employee of entrant N03's employer; return N03 and J2's marks of N03."""
    entrant = next(e for e in data["entrants"] if e["ref"] == "N03")
    judge = next(j for j in data["judges"] if j["ref"] == "J2")
    judge["employer"] = entrant["employer"]
    return entrant, [m for m in data["marks"] if m["judge"] == "J2" and m["entrant"] == "N03"]


def test_marks_from_a_judge_recused_from_the_entrant_are_refused_naming_both(english):
    data = example("competition")
    entrant, recused = _judge_of_the_entrants_employer(data)
    assert recused  # J2 marked N03
    colleagues = {e["ref"] for e in data["entrants"] if e.get("employer") == entrant["employer"]}
    refused = [m for m in data["marks"] if m["judge"] == "J2" and m["entrant"] in colleagues]
    problems = problems_of(data)
    assert [path for path, _message in problems] == [f"marks[{data['marks'].index(m)}]" for m in refused]
    assert all("is recused from" in message for _path, message in problems)
    path, message = problems[0]
    assert path == f"marks[{data['marks'].index(recused[0])}]"
    assert f"judge J2 (林评) is recused from N03 ({entrant['name']}): both are of {entrant['employer']}" in message
    assert "set the rule recusal to “declared”" in message


def test_recusal_refusals_are_worded_in_chinese():
    data = example("competition")
    entrant, _recused = _judge_of_the_entrants_employer(data)
    _path, message = problems_of(data)[0]
    assert f"裁判 J2（林评）须回避选手 N03（{entrant['name']}）" in message and entrant["employer"] in message


def test_with_recusal_by_declared_conflicts_only_the_marks_count():
    # A national panel judging its own athletes: the rules say so, and every entrant is ranked as before.
    data = example("competition")
    _judge_of_the_entrants_employer(data)
    data["competition"]["rules"] = {"recusal": "declared"}
    competition = exchange.import_competition(data)
    assert competition.status == "locked"
    doc = results.document(competition)
    assert without_complete(doc)["results"] == expected("competition")["results"]
    again = exchange.export_competition(db.session.get(Competition, competition.id))
    assert again["competition"]["rules"] == {"recusal": "declared"}


def test_a_code_that_exists_is_refused(english, exchange_doc):
    exchange.import_competition(copy.deepcopy(exchange_doc))
    problems = problems_of(exchange_doc)
    assert ("competition.code", "a competition with code “T-2026-UAV” already exists") in problems
    assert (
        "judges[0].ref",
        "the judge's account name “judge.t-2026-uav.j1” is already used by an existing account",
    ) in problems


def test_a_code_that_exists_is_refused_in_chinese(exchange_doc):
    exchange.import_competition(copy.deepcopy(exchange_doc))
    problems = problems_of(exchange_doc)
    assert ("competition.code", "编号为“T-2026-UAV”的竞赛已存在") in problems
    assert ("judges[0].ref", "裁判的用户名“judge.t-2026-uav.j1”已被现有账号使用") in problems


def test_an_invalid_criterion_is_reported_once_not_at_every_mark(exchange_doc):
    exchange_doc["stages"][1]["criteria"][0]["max"] = "-40"
    assert [path for path, _ in problems_of(exchange_doc)] == ["stages[1].criteria[0].max"]


def test_judge_accounts_that_would_collide_are_refused(english, exchange_doc):
    exchange_doc["judges"][2]["ref"] = "j2"  # account names are lower-cased: judge.t-2026-uav.j2 twice
    exchange_doc["marks"] = [m for m in exchange_doc["marks"] if m["judge"] != "J3"]
    assert problems_of(exchange_doc) == [
        ("judges[2].ref", "the judge's account name “judge.t-2026-uav.j2” is already used by judges[1]")
    ]


def test_a_judge_ref_too_long_for_an_account_name_is_refused(english, exchange_doc):
    long_ref = "J" * 40
    exchange_doc["competition"]["code"] = "T-2026-" + "X" * 20
    exchange_doc["judges"][0]["ref"] = long_ref
    for mark in exchange_doc["marks"]:
        mark["judge"] = long_ref if mark["judge"] == "J1" else mark["judge"]
    name = f"judge.t-2026-{'x' * 20}.{'j' * 40}"
    assert problems_of(exchange_doc) == [
        ("judges[0].ref", f"the judge's account name “{name}” would be longer than 64 characters")
    ]


def test_every_problem_in_a_file_is_reported(exchange_doc):
    exchange_doc["format"] = "csv"
    del exchange_doc["competition"]["code"]
    exchange_doc["competition"]["rules"] = {"colour": "red"}
    exchange_doc["stages"][0]["weight"] = "0"
    exchange_doc["stages"][1]["weight"] = "0"
    exchange_doc["entrants"][1]["id_number"] = _BAD_ID
    exchange_doc["marks"][1]["judge"] = "J7"
    exchange_doc["marks"][2]["value"] = "41"
    exchange_doc["marks"][3]["value"] = "NaN"
    problems = problems_of(exchange_doc)
    assert sorted(path for path, _ in problems) == sorted(
        [
            "format",
            "competition.code",
            "competition.rules.colour",
            "stages",
            "entrants[1].id_number",
            "marks[1].judge",
            "marks[2].value",
            "marks[3].value",
        ]
    )


def test_a_document_that_is_not_an_object_is_refused(english):
    assert problems_of(["not", "a", "competition"]) == [("", "the document must be a JSON object")]


def test_a_document_that_is_not_an_object_is_refused_in_chinese():
    assert problems_of(["not", "a", "competition"]) == [("", "文件内容须为一个 JSON 对象")]


# ------------------------------------------------------------------ reading files


def test_a_file_that_is_not_json_is_refused(english, tmp_path):
    path = tmp_path / "scores.xlsx"
    path.write_bytes(b"PK\x03\x04 not json")
    with pytest.raises(exchange.ExchangeError) as caught:
        exchange.read_file(str(path))
    assert caught.value.problems == [("", "not a UTF-8 JSON file: Expecting value: line 1 column 1 (char 0)")]


def test_a_file_that_cannot_be_read_is_refused(english, tmp_path):
    with pytest.raises(exchange.ExchangeError) as caught:
        exchange.read_file(str(tmp_path / "missing.json"))
    assert caught.value.problems == [("", "cannot read the file: No such file or directory")]


def test_a_bare_nan_in_a_file_is_refused(english, tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('{"format": "jiangxin.competition/1", "marks": [{"value": NaN}]}', encoding="utf-8")
    with pytest.raises(exchange.ExchangeError) as caught:
        exchange.read_file(str(path))
    assert caught.value.problems == [("", "NaN is not a number the exchange format allows; marks are decimal strings")]


def test_json_numbers_in_a_file_are_read_exactly(tmp_path, exchange_doc):
    exchange_doc["marks"][2]["value"] = "35.1"
    path = tmp_path / "numbers.json"
    path.write_text(json.dumps(exchange_doc).replace('"35.1"', "35.1"), encoding="utf-8")
    competition = exchange.import_competition(exchange.read_file(str(path)))
    values = [m["value"] for m in exchange.export_competition(competition)["marks"]]
    assert values[2] == "35.1"


# ------------------------------------------------------------------ export and the round trip


@pytest.mark.parametrize("name", EXAMPLES)
def test_export_of_an_imported_example_is_the_original_file(name):
    competition = exchange.import_competition(example(name))
    exported = json.loads(json.dumps(exchange.export_competition(competition), ensure_ascii=False))
    assert exported == json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_export_then_import_into_an_empty_database_gives_the_same_results(name):
    competition = exchange.import_competition(example(name))
    before = results.document(competition)
    exported = json.loads(json.dumps(exchange.export_competition(competition)))
    empty_database()
    again = exchange.import_competition(exported)
    assert again.status == "locked"
    assert results.document(again) == before
    assert exchange.export_competition(again) == exported


@pytest.mark.parametrize("name", EXAMPLES)
def test_export_then_import_under_a_new_code_gives_the_same_results(name):
    competition = exchange.import_competition(example(name))
    exported = json.loads(json.dumps(exchange.export_competition(competition)))
    exported["competition"]["code"] += "-COPY"
    copy_ = exchange.import_competition(exported)
    original, copied = results.document(competition), results.document(copy_)
    assert copied["competition"]["code"] == CODES[name] + "-COPY"
    assert {**copied, "competition": None} == {**original, "competition": None}


def test_round_trip_keeps_an_incomplete_competition(exchange_doc):
    exchange_doc["marks"].pop()
    exchange_doc["entrants"][1]["status"] = "absent"
    del exchange_doc["entrants"][0]["time_seconds"]
    competition = exchange.import_competition(copy.deepcopy(exchange_doc))
    exported = exchange.export_competition(competition)
    assert exported["entrants"][1]["status"] == "absent"
    assert "time_seconds" not in exported["entrants"][0]
    assert len(exported["marks"]) == len(exchange_doc["marks"])
    before = results.document(competition)
    empty_database()
    assert results.document(exchange.import_competition(exported)) == before


def test_entrants_with_and_without_id_numbers_import_together(exchange_doc):
    """Historical records may lack an ID number; one insert takes both kinds of worker."""
    del exchange_doc["entrants"][0]["id_number"]
    competition = exchange.import_competition(exchange_doc)
    workers = {
        e.ref: e.worker for e in db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id))
    }
    assert workers["E1"].id_hash is None and workers["E1"].birth_year is None
    assert workers["E2"].id_masked.endswith(exchange_doc["entrants"][1]["id_number"][-4:])


def test_a_competition_without_entrants_imports_as_running(exchange_doc):
    exchange_doc["entrants"], exchange_doc["marks"] = [], []
    competition = exchange.import_competition(exchange_doc)
    assert competition.status == "running"
    assert results.document(competition)["results"] == []


# ------------------------------------------------------------------ a trim of more than one mark each end


def _seven_judges(trim: object = 2, aggregation: str = "trimmed") -> dict:
    """A one-criterion final marked by seven judges (diving drops two from each end)."""
    marks = {"D1": ["7.5", "8", "8", "8.5", "8.5", "9", "9.5"], "D2": ["6", "6.5", "7", "7", "7", "7.5", "9"]}
    return {
        "format": "jiangxin.competition/1",
        "competition": {"code": "QZ-2026-DIVE", "name": "跳水决赛", "year": 2026, "rules": {"tiebreak": []}},
        "stages": [
            {
                "key": "dive",
                "name": "动作",
                "weight": "1",
                "criteria": [
                    {
                        "key": "execution",
                        "name": "完成",
                        "max": "10",
                        "step": "0.5",
                        "aggregation": aggregation,
                        "trim": trim,
                    }
                ],
            }
        ],
        "entrants": [{"ref": ref, "name": f"选手{ref}"} for ref in marks],
        "judges": [{"ref": f"J{n}", "name": f"裁判{n}", "chief": n == 1} for n in range(1, 8)],
        "marks": [
            {"entrant": ref, "judge": f"J{n}", "criterion": "dive.execution", "value": value}
            for ref, values in marks.items()
            for n, value in enumerate(values, 1)
        ],
    }


def test_two_marks_dropped_from_each_end_give_the_middle_three():
    competition = exchange.import_competition(_seven_judges())
    doc = results.document(competition)
    totals = {row["ref"]: row["total"] for row in doc["results"]}
    # D1 keeps 8, 8.5, 8.5 → 8.333… of 10 → 83.33 of 100; D2 keeps 7, 7, 7 → 70.00.
    assert totals == {"D1": "83.33", "D2": "70.00"}
    again = exchange.export_competition(db.session.get(Competition, competition.id))
    assert again["stages"][0]["criteria"][0]["trim"] == 2


@pytest.mark.parametrize(
    "trim, aggregation, words",
    [
        (2, "mean", "only a trimmed mean drops marks"),
        (0, "trimmed", "is not a count of 1 or more"),
        ("2", "trimmed", "is not a count of 1 or more"),
    ],
)
def test_a_trim_that_cannot_be_used_is_refused(english, trim, aggregation, words):
    problems = problems_of(_seven_judges(trim, aggregation))
    assert [path for path, _message in problems] == ["stages[0].criteria[0].trim"]
    assert words in problems[0][1]


def _judgement_and_signed(finish: dict | None = None, goe: dict | None = None, marks: dict | None = None) -> dict:
    """A stage with a 0–3 judgement worth 5 points and a −3…+3 grade of execution worth its own 3 points."""
    marks = marks or {"E1": (["2", "3", "3"], ["-1", "0", "1"]), "E2": (["1", "1", "2"], ["-3", "-2", "-3"])}
    return {
        "format": "jiangxin.competition/1",
        "competition": {"code": "QZ-2026-WS", "name": "世赛选拔", "year": 2026, "rules": {"tiebreak": []}},
        "stages": [
            {
                "key": "practical",
                "name": "实际操作",
                "weight": "1",
                "criteria": [
                    {"key": "finish", "name": "完成质量", "max": "3", "step": "1", "worth": "5", **(finish or {})},
                    {"key": "goe", "name": "执行分", "max": "3", "step": "1", "low": "-3", **(goe or {})},
                    {"key": "size", "name": "尺寸", "max": "5", "aggregation": "single"},
                ],
            }
        ],
        "entrants": [{"ref": ref, "name": f"选手{ref}"} for ref in marks],
        "judges": [{"ref": f"J{n}", "name": f"裁判{n}", "chief": n == 1} for n in range(1, 4)],
        "marks": [
            *(
                {"entrant": ref, "judge": f"J{n}", "criterion": f"practical.{key}", "value": value}
                for ref, pair in marks.items()
                for key, values in zip(("finish", "goe"), pair, strict=True)
                for n, value in enumerate(values, 1)
            ),
            *({"entrant": ref, "judge": "J1", "criterion": "practical.size", "value": "4"} for ref in marks),
        ],
    }


def test_a_judgement_worth_points_and_a_signed_scale_score_exactly_and_survive_a_round_trip():
    competition = exchange.import_competition(_judgement_and_signed())
    doc = results.document(competition)
    totals = {row["ref"]: row["total"] for row in doc["results"]}
    # E1: 40/9 + 0 + 4 of 5 + 3 + 5 = 13 → 100 × (76/9) ÷ 13 = 64.957… ; E2: 20/9 − 8/3 + 4 = 32/9 → 27.35.
    assert totals == {"E1": "64.96", "E2": "27.35"}
    again = exchange.export_competition(db.session.get(Competition, competition.id))
    finish, goe, size = again["stages"][0]["criteria"]
    assert (finish["worth"], "low" in finish) == ("5", False)
    assert (goe["low"], "worth" in goe) == ("-3", False)
    assert "low" not in size and "worth" not in size
    again["competition"]["code"] = "QZ-2026-WS2"  # a second copy beside the first
    copy_ = exchange.import_competition(again)
    assert {row["ref"]: row["total"] for row in results.document(copy_)["results"]} == totals


@pytest.mark.parametrize(
    "finish, goe, path, words",
    [
        ({"worth": "0"}, {}, "criteria[0].worth", "positive number"),
        ({"low": "3"}, {}, "criteria[0].low", "must be below the top mark 3"),
        ({}, {"low": "-3.125"}, "criteria[1].low", "at most 2 decimal places"),
        ({}, {"kind": "deduction"}, "criteria[1].low", "a deduction cannot go below 0"),
    ],
)
def test_a_range_or_points_that_cannot_be_used_is_refused_naming_the_field(english, finish, goe, path, words):
    problems = dict(problems_of(_judgement_and_signed(finish, goe)))
    # The marks typed on the refused scale may be refused too; the field is named first.
    assert next(iter(problems)) == f"stages[0].{path}"
    assert words in problems[f"stages[0].{path}"]


def test_a_mark_below_a_signed_scale_is_refused_with_its_lowest_mark(english):
    marks = {"E1": (["2", "3", "3"], ["-1", "-4", "1"])}
    problems = problems_of(_judgement_and_signed(marks=marks))
    assert len(problems) == 1 and "-4 is below the minimum -3" in problems[0][1]


def test_a_criterion_rounded_before_it_counts_imports_scores_and_exports_its_places(english):
    doc = _judgement_and_signed(finish={"worth": None, "max": "10", "step": None, "places": 0})
    doc["marks"] = [m for m in doc["marks"] if m["criterion"] != "practical.finish"] + [
        {"entrant": ref, "judge": f"J{n}", "criterion": "practical.finish", "value": value}
        for ref, values in {"E1": ["7", "8", "8"], "E2": ["6", "6", "7"]}.items()
        for n, value in enumerate(values, 1)
    ]
    competition = exchange.import_competition(doc)
    totals = {row["ref"]: row["total"] for row in results.document(competition)["results"]}
    # finish 7.666… counts as 8 and 6.333… as 6: E1 100 × (8 + 0 + 4) ÷ 18, E2 100 × (6 − 8/3 + 4) ÷ 18.
    assert totals == {"E1": "66.67", "E2": "40.74"}  # unrounded they would be 64.81 and 42.59
    again = exchange.export_competition(db.session.get(Competition, competition.id))
    assert again["stages"][0]["criteria"][0]["places"] == 0
    assert "places" not in again["stages"][0]["criteria"][1]


@pytest.mark.parametrize("places", [5, "2", True])
def test_a_number_of_places_that_cannot_be_used_is_refused(english, places):
    problems = dict(problems_of(_judgement_and_signed(finish={"places": places})))
    assert "from 0 to 4" in problems["stages[0].criteria[0].places"]
