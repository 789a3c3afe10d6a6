"""compute() end to end, and the results document it feeds."""

import copy
import pickle
from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from comp.scoring import (
    BiasPart,
    Criterion,
    Entrant,
    MarkSummary,
    Results,
    Rules,
    Scheme,
    Stage,
    compute,
    results_document,
)

SCHEME = Scheme(
    (
        Stage("theory", "理论知识", D("30"), (Criterion("theory.exam", "理论考试", D("100"), aggregation="single"),)),
        Stage(
            "practical",
            "实际操作",
            D("70"),
            (
                Criterion("practical.route", "航线飞行", D("40"), aggregation="trimmed"),
                Criterion("practical.safety", "安全操作", D("10")),
                Criterion("practical.violation", "违规扣分", D("10"), kind="deduction"),
            ),
        ),
    )
)
FULL = {
    "theory.exam": ["88"],
    "practical.route": ["36", "38", "30"],
    "practical.safety": ["9", "10"],
    "practical.violation": ["1", "1"],
}


def summaries(marks_by_ref):
    """Summarise {ref: {criterion: [values]}} into compute's mapping."""
    return {
        (ref, key): MarkSummary.of(D(v) for v in values)
        for ref, marks in marks_by_ref.items()
        for key, values in marks.items()
    }


DEFAULT_RULES = Rules()


def run(entrants, marks_by_ref, rules=DEFAULT_RULES, bias=()):
    """Compute the results of entrants with their marks."""
    return compute(SCHEME, rules, entrants, summaries(marks_by_ref), bias)


def test_one_complete_entrant():
    results = run([Entrant("E1", "ok", 1234, "T")], {"E1": FULL})
    (result,) = results.entrants
    # practical: (36 + 9.5 − 1) / 50 = 89 %; total (30 × 88 + 70 × 89) / 100 = 88.7
    assert result.exact_total == F("88.7")
    assert (result.rank, result.total, result.award) == (1, D("88.70"), "三等奖")
    assert result.complete
    assert dict(result.stages) == {"theory": D("88.00"), "practical": D("89.00")}
    assert result.criteria["practical.safety"] == D("9.50")
    assert results.complete


@pytest.mark.parametrize(
    "status, marks, stages",
    [
        ("absent", {}, {}),
        ("disqualified", FULL, {}),  # marks were given, but a disqualified entrant has no result
        ("withdrawn", {}, {}),
        ("pending", {}, {}),
        ("ok", {**FULL, "practical.route": []}, {"theory": "88.00"}),  # incomplete
        ("ok", {**FULL, "theory.exam": ["88", "90"]}, {"practical": "89.00"}),  # single, 2 marks
    ],
)
def test_entrants_without_a_full_result(status, marks, stages):
    entrants = [Entrant("A", "ok"), Entrant("X", status)]
    results = run(entrants, {"A": FULL, "X": marks})
    other = results.entrant("X")
    assert (other.rank, other.total, other.award, other.complete) == (None, None, None, False)
    assert {k: str(v) for k, v in other.stages.items()} == stages
    assert results.complete is (status != "ok")  # only an incomplete ok entrant holds it up
    document = results_document("C", "Comp", results, {"A": "甲", "X": "乙"})
    assert document["results"][1] == {
        "ref": "X",
        "name": "乙",
        "rank": None,
        "total": None,
        "stages": stages,
        "award": None,
        "status": status,
        "complete": False,
    }


def test_listing_order_and_shared_ranks():
    low = {**FULL, "theory.exam": ["50"]}
    entrants = [Entrant(r, "ok", 100) for r in ("D", "B", "C", "A")] + [
        Entrant("Z", "absent"),
        Entrant("Y", "withdrawn"),
    ]
    results = run(entrants, {"A": low, "B": FULL, "C": FULL, "D": low})
    assert [(r.ref, r.rank) for r in results.entrants] == [
        ("B", 1),
        ("C", 1),
        ("A", 3),
        ("D", 3),
        ("Y", None),
        ("Z", None),
    ]


def test_teams_only_for_competitions():
    entrants = [Entrant("A", "ok", team="T"), Entrant("B", "ok", team="T")]
    marks = {"A": FULL, "B": FULL}
    assert [t.total for t in run(entrants, marks).teams] == [D("177.40")]
    assert run(entrants, marks, Rules.default("rating")).teams == ()


def test_discrepancies_only_for_competing_entrants():
    wide = {**FULL, "practical.safety": ["2", "10"]}
    results = run([Entrant("A", "ok"), Entrant("X", "disqualified")], {"A": wide, "X": wide})
    assert [(d.ref, d.criterion, d.spread) for d in results.discrepancies] == [("A", "practical.safety", D("8"))]


def test_judges_come_from_the_bias_parts():
    parts = [BiasPart("J2", 3, F("0.9")), BiasPart("J1", 2, F("0.02")), BiasPart("J2", 1, F(0))]
    results = run([Entrant("A", "ok")], {"A": FULL}, bias=parts)
    assert [(j.judge, j.items, j.bias, j.flagged) for j in results.judges] == [
        ("J1", 2, F("0.01"), False),
        ("J2", 4, F("0.225"), True),
    ]
    assert results_document("C", "n", results, {})["judges"] == [
        {"ref": "J1", "bias": "0.010", "flagged": False},
        {"ref": "J2", "bias": "0.225", "flagged": True},
    ]


def test_duplicate_refs_are_refused():
    with pytest.raises(ValueError, match="E1"):
        run([Entrant("E1", "ok"), Entrant("E1", "absent")], {})


def test_the_document_shape():
    wide = {**FULL, "practical.safety": ["2", "10"]}
    # practical (36 + 6 − 1) / 50 = 82 %; total (30 × 88 + 70 × 82) / 100 = 83.8
    results = run([Entrant("E1", "ok", 10, "队")], {"E1": wide})
    assert results_document("QZ", "竞赛", results, {"E1": "张三"}) == {
        "competition": {"code": "QZ", "name": "竞赛"},
        "complete": True,
        "results": [
            {
                "ref": "E1",
                "name": "张三",
                "rank": 1,
                "total": "83.80",
                "stages": {"theory": "88.00", "practical": "82.00"},
                "award": "三等奖",
                "status": "ok",
                "complete": True,
            }
        ],
        "teams": [{"team": "队", "rank": 1, "total": "83.80", "members": ["E1"]}],
        "discrepancies": [{"ref": "E1", "criterion": "practical.safety", "spread": "8.00"}],
        "judges": [],
    }


def test_results_survive_pickling_and_copying():
    results = run([Entrant("A", "ok")], {"A": FULL})
    assert pickle.loads(pickle.dumps(results)) == results
    assert copy.deepcopy(results) == results


def test_results_are_frozen_and_hashable():
    results = run([Entrant("A", "ok")], {"A": FULL})
    assert isinstance(results, Results)
    assert hash(results) == hash(run([Entrant("A", "ok")], {"A": FULL}))
    with pytest.raises(AttributeError):
        results.entrants[0].stages.extra = 1
    with pytest.raises(TypeError):
        results.entrants[0].stages["theory"] = D(1)
