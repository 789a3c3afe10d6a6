"""`flask competition import|results|export|publish`, driven through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import AuditEvent, Competition
from comp.services import exchange, results

DATA = Path(__file__).parent / "scoring" / "data"
EXAMPLE = DATA / "competition.json"
CODE = "QZ-2026-NOODLE"


def row_counts() -> dict[str, int]:
    """Count the rows of every table."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def status_of(code: str) -> str:
    """Read a competition's status afresh from the database."""
    db.session.expire_all()
    return db.session.scalar(sa.select(Competition.status).where(Competition.code == code))


@pytest.fixture()
def imported(runner):
    """Import the worked competition example through the CLI and return it."""
    result = runner.invoke(args=["competition", "import", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    return results.get_competition(CODE)


def test_import_prints_the_code(runner):
    result = runner.invoke(args=["competition", "import", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == CODE
    assert status_of(CODE) == "locked"


def test_import_of_an_invalid_file_prints_every_problem_and_changes_nothing(runner, tmp_path, exchange_doc):
    exchange_doc["competition"]["rules"] = {"colour": "red"}
    exchange_doc["entrants"][1]["ref"] = "E1"
    exchange_doc["marks"][2]["value"] = "41"
    exchange_doc["marks"][3]["value"] = "abc"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(exchange_doc, ensure_ascii=False), encoding="utf-8")
    before = row_counts()
    result = runner.invoke(args=["competition", "import", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    # The command runs in the default language, Chinese; the paths stay as the file names the items.
    for line in (
        "competition.rules.colour: “colour”不是已知的规则",
        "entrants[1].ref: “E1”重复出现",
        'marks[1].entrant: 没有这名选手："E2"',
        "marks[2].value: 41 超过满分 40（评分项 practical.route）",
        "marks[3].value: “abc”不是数字",
    ):
        assert line in lines
    assert lines[-1] == f"{path}: 共 {len(lines) - 1} 个问题，未导入任何数据"
    assert result.stdout == ""
    db.session.rollback()
    assert row_counts() == before


def test_import_of_a_file_that_is_not_json_exits_1(runner, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("ref,name,total\nE1,张三,93.45\n", encoding="utf-8")
    result = runner.invoke(args=["competition", "import", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "不是 UTF-8 编码的 JSON 文件：Expecting value: line 1 column 1 (char 0)",
        f"{path}: 共 1 个问题，未导入任何数据",
    ]
    assert row_counts()["competition"] == 0


def test_import_words_its_problems_in_the_configured_default_language(app, runner, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
    path = tmp_path / "nan.json"
    path.write_text('{"format": "jiangxin.competition/1", "marks": [{"value": NaN}]}', encoding="utf-8")
    result = runner.invoke(args=["competition", "import", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "NaN is not a number the exchange format allows; marks are decimal strings",
        f"{path}: 1 problem; nothing was imported",
    ]


def test_import_of_a_code_that_exists_exits_1(runner, imported):
    result = runner.invoke(args=["competition", "import", str(EXAMPLE)])
    assert result.exit_code == 1
    assert f"competition.code: 编号为“{CODE}”的竞赛已存在" in result.stderr.splitlines()


def test_results_json_prints_exactly_the_document(runner, imported):
    result = runner.invoke(args=["competition", "results", CODE, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == results.document(imported)
    expected = json.loads((DATA / "competition.results.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in printed.items() if k != "complete"} == expected


def test_results_without_json_prints_one_line_per_entrant(runner, imported):
    result = runner.invoke(args=["competition", "results", CODE])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 12
    assert lines[0].split()[:4] == ["1", "N03", "洪亮", "89.70"]
    assert lines[-1].split()[:2] == ["-", "N12"]


def test_export_prints_the_exchange_format(runner, imported):
    result = runner.invoke(args=["competition", "export", CODE])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == exchange.export_competition(imported)
    assert printed == json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_publish_publishes_a_locked_competition(runner, imported):
    result = runner.invoke(args=["competition", "publish", CODE])
    assert result.exit_code == 0, result.output
    assert f"{CODE} published" in result.stdout
    assert status_of(CODE) == "published"
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "competition.published", AuditEvent.competition_id == imported.id
        )
    ).all()
    assert len(events) == 1


def test_publish_refuses_a_running_competition(runner, make_competition):
    competition = make_competition(status="running")
    result = runner.invoke(args=["competition", "publish", competition.code])
    assert result.exit_code == 1
    assert "“比赛中”" in result.output and "“已发布”" in result.output  # the states in words, in the default language
    assert status_of(competition.code) == "running"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "competition.published")
        )
        == 0
    )


@pytest.mark.parametrize("command", [["results", "--json"], ["results"], ["export"], ["publish"]])
def test_an_unknown_code_exits_1_with_a_message(runner, command):
    name, *options = command
    result = runner.invoke(args=["competition", name, "NO-SUCH-CODE", *options])
    assert result.exit_code == 1
    assert "no competition with code 'NO-SUCH-CODE'" in result.output
