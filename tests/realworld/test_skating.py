"""Real figure skating: the ISU's program components, each rounded before its factor, give the published PCS.

ISU World Figure Skating Championships 2017 (Helsinki), Men Free Skating, all 24 skaters: every
judge's mark on the five program components (tests/scoring/data/skating.json, from BuzzFeed News'
transcription of the official protocol's "Judges Details per Skater"). The rule then in force: nine
judges mark each component 0.25–10.00 in quarter points; the highest and the lowest are dropped,
the mean of the other seven is rounded half up to 2 decimals (the published "scores of panel"),
then × the segment's factor (2.0 for the men's free skating); the Program Component Score is the
sum. Here a component is a criterion `trimmed`, `places: 2`, worth 10 × the factor, and the PCS is
the stage's raw points. Ranks are not asserted: the segment ranks by the total with the technical
score, which is not modelled here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from flask_babel import force_locale

from comp.extensions import db
from comp.models import Competition
from comp.scoring.totals import publish
from comp.services import exchange, results

DATA = json.loads((Path(__file__).parents[1] / "scoring" / "data" / "skating.json").read_text(encoding="utf-8"))
FACTOR = Decimal(DATA["factor"])
COMPONENTS = {"SS": "滑行技术", "TR": "衔接步法", "PE": "表演", "CO": "编排", "IN": "音乐诠释"}


def ref(number: int) -> str:
    """The entrant reference of the skater listed `number`-th (from 1)."""
    return f"S{number:02d}"


def component(key: str, name: str, places: int | None) -> dict:
    """One program component: nine marks in quarter points, one dropped from each end, worth 10 × the factor."""
    criterion = {
        "key": key,
        "name": name,
        "max": "10",
        "step": "0.25",
        "aggregation": "trimmed",
        "worth": str(10 * FACTOR),
    }
    if places is not None:
        criterion["places"] = places
    return criterion


def skating_document(places: int | None = 2, code: str = "WC-2017-MFS") -> dict:
    """The segment in the exchange format; judges are the panel's seats J1–J9."""
    entrants, marks = [], []
    for number, skater in enumerate(DATA["skaters"], 1):
        entrants.append({"ref": ref(number), "name": skater["name"], "team": skater["nation"]})
        for key, scored in skater["components"].items():
            marks += [
                {"entrant": ref(number), "judge": f"J{seat}", "criterion": f"fs.{key}", "value": value}
                for seat, value in enumerate(scored["marks"], 1)
            ]
    return {
        "format": "jiangxin.competition/1",
        "competition": {
            "code": code,
            "name": "ISU World Figure Skating Championships 2017, Men Free Skating (PCS)",
            "year": 2017,
            "rules": {
                "total": "points",
                "award_tiers": [{"name": "金牌", "count": 1}],
                "award_min_total": "0",
                "tiebreak": [],
            },
        },
        "stages": [
            {
                "key": "fs",
                "name": "自由滑节目内容分",
                "weight": "1",
                "criteria": [component(key, name, places) for key, name in COMPONENTS.items()],
            }
        ],
        "entrants": entrants,
        "judges": [{"ref": f"J{seat}", "name": f"Seat {seat}", "chief": seat == 1} for seat in range(1, 10)],
        "marks": marks,
    }


def unrounded_pcs(skater: dict) -> Fraction:
    """The PCS as if no component were rounded: Σ exact trimmed mean × the factor."""
    total = Fraction(0)
    for scored in skater["components"].values():
        kept = sorted(Fraction(Decimal(m)) for m in scored["marks"])[1:-1]
        total += sum(kept) / len(kept) * Fraction(FACTOR)
    return total


@pytest.fixture()
def english():
    """Word the problems in English for the test."""
    with force_locale("en"):
        yield


@pytest.fixture()
def segment():
    """The imported segment."""
    return exchange.import_competition(skating_document())


def test_the_source_has_every_mark_of_the_segment():
    assert len(DATA["skaters"]) == 24
    for skater in DATA["skaters"]:
        assert list(skater["components"]) == list(COMPONENTS)
        assert all(len(c["marks"]) == 9 for c in skater["components"].values()), skater["name"]


def test_each_component_is_the_published_panel_score_times_the_factor(segment):
    assert segment.status == "locked"  # nine marks on every component of every skater
    _loaded, outcome = results.compute(segment)
    for number, skater in enumerate(DATA["skaters"], 1):
        scored = outcome.entrant(ref(number)).criteria
        published = {f"fs.{k}": Decimal(c["published"]) * FACTOR for k, c in skater["components"].items()}
        assert dict(scored) == published, skater["name"]


def test_the_total_is_the_published_pcs_for_every_skater(segment):
    _loaded, outcome = results.compute(segment)
    rows = {row["ref"]: row for row in results.document(segment)["results"]}
    for number, skater in enumerate(DATA["skaters"], 1):
        assert rows[ref(number)]["total"] == skater["published_pcs"], skater["name"]
        # Exactly: the factored components are whole hundredths, so the sum needs no rounding.
        assert outcome.entrant(ref(number)).exact_total == Decimal(skater["published_pcs"])
    hanyu = rows[ref(1)]
    assert (hanyu["name"], hanyu["total"], hanyu["stages"]) == ("Yuzuru HANYU", "97.08", {"fs": "97.08"})


def test_without_rounding_each_component_the_pcs_would_differ_from_the_published_one():
    competition = exchange.import_competition(skating_document(places=None, code="WC-2017-MFS-EXACT"))
    rows = {row["ref"]: row for row in results.document(competition)["results"]}
    differ = []
    for number, skater in enumerate(DATA["skaters"], 1):
        total = rows[ref(number)]["total"]
        assert total == str(publish(unrounded_pcs(skater))), skater["name"]  # exact means, rounded once at the end
        if total != skater["published_pcs"]:
            differ.append(skater["name"])
    assert len(differ) == 15, differ
    assert "Yuzuru HANYU" in differ  # 97.0714… would be published 97.07, not the protocol's 97.08


def test_export_then_import_keeps_the_rounding(segment):
    again = exchange.export_competition(db.session.get(Competition, segment.id))
    first = again["stages"][0]["criteria"][0]
    assert (first["places"], first["aggregation"], Decimal(first["worth"])) == (2, "trimmed", Decimal(20))
    original = results.document(segment)["results"]
    again["competition"]["code"] = "WC-2017-MFS-B"
    assert results.document(exchange.import_competition(again))["results"] == original


@pytest.mark.parametrize("value, words", [("9.30", "0.25"), ("10.25", "10")])
def test_a_mark_off_the_quarter_point_scale_is_refused(english, value, words):
    doc = skating_document()
    doc["marks"][0]["value"] = value
    with pytest.raises(exchange.ExchangeError) as refused:
        exchange.check(doc)
    found = dict(refused.value.problems)
    assert "marks[0].value" in found and words in found["marks[0].value"], refused.value.problems
