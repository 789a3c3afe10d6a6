"""A real diving final through the exchange format: raw marks × degrees of difficulty give the published totals.

Sydney 2000, men's 3 m springboard, semifinal + final, every judge's mark of every dive
(tests/scoring/data/diving_2000.json, from the data set of Emerson, Seltzer & Lin 2009). The rule
then in force: drop the highest and the lowest of seven marks, sum the other five, × the degree
of difficulty × 0.6. Here a dive is a criterion marked 0–10 in half points, `trimmed` (one from
each end), worth 30 points at the top mark (the mean of five × 3 = their sum × 0.6) and
`factored` by the diver's declared degree of difficulty; the total is the stages' raw points.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale

from comp.extensions import db
from comp.models import Competition
from comp.services import exchange, results

DATA = json.loads((Path(__file__).parents[1] / "scoring" / "data" / "diving_2000.json").read_text(encoding="utf-8"))
ROUNDS = {"semi": ("半决赛", 5), "final": ("决赛", 6)}
MEDALS = [{"name": "金牌", "count": 1}, {"name": "银牌", "count": 1}, {"name": "铜牌", "count": 1}]


def dive(n: int) -> dict:
    """One dive: seven judges' marks in half points, the highest and lowest dropped, worth × DD."""
    return {
        "key": f"d{n}",
        "name": f"第{n}跳",
        "max": "10",
        "step": "0.5",
        "aggregation": "trimmed",
        "worth": "30",
        "factored": True,
    }


def diving_document() -> dict:
    """The event in the exchange format; judges are the panel's seats J1–J7 (the semifinal used several panels)."""
    entrants, marks = [], []
    for number, diver in enumerate(DATA["divers"], 1):
        ref = f"D{number:02d}"
        programme = {}
        for d in diver["dives"]:
            key = f"{d['round']}.d{d['number']}"
            programme[key] = {"factor": d["dd"]}
            marks += [
                {"entrant": ref, "judge": f"J{seat}", "criterion": key, "value": value}
                for seat, value in enumerate(d["marks"], 1)
            ]
        entrants.append({"ref": ref, "name": diver["name"], "team": diver["country"], "programme": programme})
    return {
        "format": "jiangxin.competition/1",
        "competition": {
            "code": "OG-2000-M3M",
            "name": "Sydney 2000 Men's 3 m Springboard",
            "year": 2000,
            "rules": {"total": "points", "award_tiers": MEDALS, "award_min_total": "0", "tiebreak": ["stage:final"]},
        },
        "stages": [
            {"key": key, "name": name, "weight": "1", "criteria": [dive(n) for n in range(1, count + 1)]}
            for key, (name, count) in ROUNDS.items()
        ],
        "entrants": entrants,
        "judges": [{"ref": f"J{seat}", "name": f"Seat {seat}", "chief": seat == 1} for seat in range(1, 8)],
        "marks": marks,
    }


@pytest.fixture()
def english():
    """Word the problems in English for the test."""
    with force_locale("en"):
        yield


@pytest.fixture()
def diving():
    """The imported event."""
    return exchange.import_competition(diving_document())


def test_the_published_totals_and_medals_come_out_of_the_raw_marks(diving):
    assert diving.status == "locked"  # every mark and every declared difficulty is there
    doc = results.document(diving)
    top = [(row["name"], row["total"], row["rank"], row["award"]) for row in doc["results"][:4]]
    assert top == [
        ("XIONG Ni", "708.72", 1, "金牌"),
        ("PLATAS Fernando", "708.42", 2, "银牌"),
        ("SAOUTINE Dmitri", "703.20", 3, "铜牌"),
        ("XIAO Hailiang", "671.04", 4, None),
    ]
    # Every diver is ranked in the published order (the data set lists them by final rank).
    assert [row["name"] for row in doc["results"]] == [d["name"] for d in DATA["divers"]]
    assert doc["results"][0]["stages"] == {"semi": "230.40", "final": "478.32"}


def test_each_dive_is_the_sum_of_five_marks_times_the_difficulty_times_0_6(diving):
    _loaded, outcome = results.compute(diving)
    xiong = outcome.entrant("D01")
    last = DATA["divers"][0]["dives"][-1]
    kept = sorted(Decimal(m) for m in last["marks"])[1:-1]
    assert xiong.criteria["final.d6"] == sum(kept) * Decimal(last["dd"]) * Decimal("0.6") == Decimal("81.60")
    # The total is the sum of the stages' raw points, not a weighted mean out of 100.
    assert xiong.exact_total == sum(xiong.stages.values())


def test_a_diver_whose_difficulty_is_not_declared_is_not_ranked():
    doc = diving_document()
    del doc["entrants"][0]["programme"]["final.d6"]
    competition = exchange.import_competition(doc)
    assert competition.status == "running"  # marks alone do not make the score
    rows = {row["ref"]: row for row in results.document(competition)["results"]}
    assert rows["D01"]["rank"] is None and rows["D01"]["complete"] is False
    assert rows["D02"]["award"] == "金牌"


def test_export_then_import_keeps_the_programme(diving):
    again = exchange.export_competition(db.session.get(Competition, diving.id))
    assert again["entrants"][0]["programme"]["final.d6"] == {
        "factor": DATA["divers"][0]["dives"][-1]["dd"].rstrip("0").rstrip(".")
    }
    assert again["stages"][1]["criteria"][0]["factored"] is True
    assert again["competition"]["rules"]["total"] == "points"
    original = results.document(diving)["results"]
    again["competition"]["code"] = "OG-2000-M3M-B"
    copy_ = exchange.import_competition(copy.deepcopy(again))
    assert results.document(copy_)["results"] == original


@pytest.mark.parametrize(
    "change, path, words",
    [
        (
            lambda d: d["entrants"][0]["programme"].update({"semi.d1": {"factor": "0"}}),
            "entrants[0].programme.semi.d1.factor",
            "positive number",
        ),
        (
            lambda d: d["entrants"][0]["programme"].update({"semi.d1": {"factor": "3.1234"}}),
            "entrants[0].programme.semi.d1.factor",
            "3 decimal places",
        ),
        (
            lambda d: d["entrants"][0]["programme"].update({"semi.d9": {"factor": "3"}}),
            "entrants[0].programme.semi.d9",
            "factored",
        ),
        (
            lambda d: d["entrants"][0]["programme"].update({"semi.d1": {"factor": "3", "label": "x" * 17}}),
            "entrants[0].programme.semi.d1.label",
            "16",
        ),
        (
            lambda d: d["stages"][0]["criteria"][0].update({"factored": "yes"}),
            "stages[0].criteria[0].factored",
            "true or false",
        ),
        (lambda d: d["competition"]["rules"].update({"total": "sum"}), "competition.rules.total", "percent, points"),
    ],
)
def test_a_programme_or_total_that_cannot_be_used_is_refused(english, change, path, words):
    doc = diving_document()
    change(doc)
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.check(doc)
    found = dict(refused.value.problems)
    assert path in found and words in found[path], refused.value.problems
