"""A real halfpipe final: three runs, the best one counts, runs not taken (DNI) wait for nobody.

Milano Cortina 2026, snowboard men's halfpipe final (tests/scoring/data/halfpipe.json, every judge's
mark as the official results page published them). Six judges mark a run 0–100; the highest and the
lowest are dropped and the run is the mean of the other four. Here a run is a criterion `trimmed`
over six judges, and the final is a stage of attempts where the best one counts (`best: 1`); a run
the rider did not improve on is recorded `not_taken: DNI`, never marked, and ranks by the next run.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale

from comp.extensions import db
from comp.models import Competition
from comp.services import exchange, results

DATA = json.loads((Path(__file__).parents[1] / "scoring" / "data" / "halfpipe.json").read_text(encoding="utf-8"))
MEDALS = [{"name": "金牌", "count": 1}, {"name": "银牌", "count": 1}, {"name": "铜牌", "count": 1}]


def halfpipe_document() -> dict:
    """The final in the exchange format, judges J1–J6 as the source numbers them."""
    entrants, marks = [], []
    for number, rider in enumerate(DATA["riders"], 1):
        ref = f"R{number:02d}"
        skipped = {}
        for run in rider["runs"]:
            key = f"final.run{run['run']}"
            if run["marks"] is None:
                skipped[key] = run["status"]
                continue
            marks += [
                {"entrant": ref, "judge": f"J{seat}", "criterion": key, "value": value}
                for seat, value in enumerate(run["marks"], 1)
            ]
        entrant = {"ref": ref, "name": rider["name"], "team": rider["country"]}
        if skipped:
            entrant["not_taken"] = skipped
        entrants.append(entrant)
    runs = [{"key": f"run{n}", "name": f"第{n}轮", "max": "100", "aggregation": "trimmed"} for n in (1, 2, 3)]
    return {
        "format": "jiangxin.competition/1",
        "competition": {
            "code": "OG-2026-HP",
            "name": "Milano Cortina 2026 Men's Snowboard Halfpipe Final",
            "year": 2026,
            "rules": {
                "total": "points",
                "award_tiers": MEDALS,
                "award_min_total": "0",
                "tiebreak": ["attempts:final"],
            },
        },
        "stages": [{"key": "final", "name": "决赛", "weight": "1", "best": 1, "criteria": runs}],
        "entrants": entrants,
        "judges": [{"ref": f"J{seat}", "name": f"Judge {seat}", "chief": seat == 1} for seat in range(1, 7)],
        "marks": marks,
    }


@pytest.fixture()
def english():
    """Word the problems in English for the test."""
    with force_locale("en"):
        yield


@pytest.fixture()
def final():
    """The imported final."""
    return exchange.import_competition(halfpipe_document())


def test_the_best_run_ranks_every_rider_as_published(final):
    assert final.status == "locked"  # a run not taken is not a missing mark
    doc = results.document(final)
    assert [(row["name"], row["rank"]) for row in doc["results"]] == [(r["name"], r["rank"]) for r in DATA["riders"]]
    assert [row["total"] for row in doc["results"]] == [r["published_best"] for r in DATA["riders"]]
    assert [row["award"] for row in doc["results"][:4]] == ["金牌", "银牌", "铜牌", None]


def test_every_run_score_is_the_published_one(final):
    _loaded, outcome = results.compute(final)
    for number, rider in enumerate(DATA["riders"], 1):
        scored = outcome.entrant(f"R{number:02d}").criteria
        published = {f"final.run{r['run']}": Decimal(r["published"]) for r in rider["runs"] if r["published"]}
        assert dict(scored) == published, rider["name"]


def test_a_tie_on_the_best_run_goes_to_the_next_best_run():
    doc = halfpipe_document()
    # Give the fourth rider a best run equal to the third's (92.00) and a lower next run than the third's 92.00.
    fourth = doc["entrants"][3]
    for mark in doc["marks"]:
        if mark["entrant"] == fourth["ref"]:
            mark["value"] = {"final.run1": "90", "final.run2": "90", "final.run3": "92"}[mark["criterion"]]
    competition = exchange.import_competition(doc)
    rows = {row["ref"]: row for row in results.document(competition)["results"]}
    assert rows["R03"]["total"] == rows["R04"]["total"] == "92.00"
    assert (rows["R03"]["rank"], rows["R04"]["rank"]) == (3, 4)  # 92 then 92 beats 92 then 90


def test_a_run_neither_marked_nor_recorded_keeps_the_rider_waiting():
    doc = halfpipe_document()
    del doc["entrants"][0]["not_taken"]
    competition = exchange.import_competition(doc)
    assert competition.status == "running"
    first = results.document(competition)["results"]
    assert next(row for row in first if row["ref"] == "R01")["rank"] is None


def test_export_then_import_keeps_the_attempts(final):
    again = exchange.export_competition(db.session.get(Competition, final.id))
    assert again["stages"][0]["best"] == 1
    assert again["entrants"][0]["not_taken"] == {"final.run3": "DNI"}
    original = results.document(final)["results"]
    again["competition"]["code"] = "OG-2026-HP-B"
    assert results.document(exchange.import_competition(again))["results"] == original


@pytest.mark.parametrize(
    "change, path, words",
    [
        (lambda d: d["stages"][0].update({"best": 4}), "stages[0].best", "3 attempts"),
        (lambda d: d["stages"][0].update({"best": 0}), "stages[0].best", "3 attempts"),
        (
            lambda d: d["entrants"][1].update({"not_taken": {"final.run1": "DNI"}}),
            "entrants[1].not_taken.final.run1",
            "has marks",
        ),
        (
            lambda d: d["entrants"][1].update({"not_taken": {"final.run9": "DNI"}}),
            "entrants[1].not_taken.final.run9",
            "names no attempt",
        ),
        (
            lambda d: d["entrants"][0].update({"not_taken": {"final.run3": "DNF"}}),
            "entrants[0].not_taken.final.run3",
            "DNS, DNI",
        ),
        (
            lambda d: d["competition"]["rules"].update({"tiebreak": ["attempts:qualifying"]}),
            "competition.rules.tiebreak[0]",
            "no stage of attempts",
        ),
    ],
)
def test_attempts_that_cannot_be_used_are_refused(english, change, path, words):
    doc = halfpipe_document()
    change(doc)
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.check(doc)
    found = dict(refused.value.problems)
    assert path in found and words in found[path], refused.value.problems


def test_the_results_page_states_the_rules_it_applied(client, auth, make_user, final):
    import re

    make_user("organizer", "organizer", locale="en")
    assert auth.login("organizer").status_code == 302
    page = re.sub(r"<[^>]+>", " ", client.get(f"/competitions/{final.code}/results").get_data(as_text=True))
    page = re.sub(r"\s+", " ", page.replace("&#39;", "'"))
    assert "total = the sum of the stages' points (the weights are not used)" in page
    assert "决赛: only the best attempt counts; an attempt not taken (DNS, DNI) has no score" in page
    assert "决赛: the next best attempt, then the one after" in page
    assert "95.00" in page
