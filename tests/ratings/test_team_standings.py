"""Team standings (团体) in competitions: formed by team, employer or county; best N; ties; ratings have none."""

import json
from pathlib import Path

import pytest

from comp.extensions import db
from comp.models import OrgUnit
from comp.services import exchange, results, setup

DATA = Path(__file__).resolve().parents[1] / "scoring" / "data"


@pytest.fixture()
def counties():
    """Return 晋江 with two enterprises and 石狮 with one, under the city union."""
    city = OrgUnit(kind="city", name="泉州市总工会")
    jinjiang = OrgUnit(kind="county", name="晋江市总工会", parent=city)
    shishi = OrgUnit(kind="county", name="石狮市总工会", parent=city)
    db.session.add_all(
        [
            city,
            jinjiang,
            shishi,
            OrgUnit(kind="enterprise", name="晋江鞋业", parent=jinjiang),
            OrgUnit(kind="enterprise", name="晋江纺织", parent=jinjiang),
            OrgUnit(kind="enterprise", name="石狮服装", parent=shishi),
        ]
    )
    db.session.commit()


def _import(team_by: str, rows: list[tuple], **rules) -> object:
    """Import a one-criterion competition where each (ref, total, team, employer[, status]) scores its total."""
    doc = {
        "format": "jiangxin.competition/1",
        "competition": {
            "code": f"T-TEAM-{team_by}",
            "name": "团体测试",
            "kind": "competition",
            "level": "city",
            "year": 2026,
            "organizer": "泉州市总工会",
            "rules": rules,
        },
        "stages": [
            {
                "key": "practical",
                "name": "实际操作",
                "weight": "1",
                "criteria": [{"key": "score", "name": "得分", "max": "100", "aggregation": "single"}],
            }
        ],
        "entrants": [
            {
                "ref": r[0],
                "name": f"选手{r[0]}",
                "employer": r[3],
                "team": r[2],
                "status": r[4] if len(r) > 4 else "ok",
                "time_seconds": 600,
            }
            for r in rows
        ],
        "judges": [{"ref": "J1", "name": "王裁判", "employer": "评审单位", "chief": True}],
        "marks": [
            {"entrant": r[0], "judge": "J1", "criterion": "practical.score", "value": str(r[1])}
            for r in rows
            if len(r) <= 4
        ],
    }
    competition = exchange.import_competition(doc)
    competition.team_by = team_by
    db.session.commit()
    return competition


def _teams(competition) -> list[tuple]:
    return [(t["team"], t["rank"], t["total"], t["members"]) for t in results.document(competition)["teams"]]


BY_TEAM = [
    ("A1", 90, "甲队", "晋江鞋业"),
    ("A2", 80, "甲队", "晋江鞋业"),
    ("A3", 70, "甲队", "晋江鞋业"),
    ("A4", 60, "甲队", "晋江鞋业"),  # a fourth member does not count
    ("D1", 90, "丁队", "石狮服装"),
    ("D2", 75, "丁队", "石狮服装"),
    ("D3", 75, "丁队", "石狮服装"),
    ("C1", 88, "丙队", "晋江纺织"),
    ("C2", 80, "丙队", "晋江纺织"),
    ("C3", 72, "丙队", "晋江纺织"),
    ("B1", 95, "乙队", "石狮服装"),
    ("B2", 85, "乙队", "石狮服装"),  # only two members
    ("B3", 0, "乙队", "石狮服装", "absent"),  # absent: adds nothing
    ("S1", 50, "", "晋江鞋业"),  # no team: grouped by employer
]


def test_teams_by_the_team_field_best_three_ties_by_best_member_then_shared(counties):
    competition = _import("team", BY_TEAM)
    assert _teams(competition) == [
        ("丁队", 1, "240.00", ["D1", "D2", "D3"]),  # 240, best 90: tied with 甲队, the rank is shared
        ("甲队", 1, "240.00", ["A1", "A2", "A3"]),
        ("丙队", 3, "240.00", ["C1", "C2", "C3"]),  # 240 too, but its best member has 88 < 90
        ("乙队", 4, "180.00", ["B1", "B2"]),  # fewer than 3 members: the sum of those it has
        ("晋江鞋业", 5, "50.00", ["S1"]),
    ]


def test_the_counted_members_are_a_rule(counties):
    competition = _import("team", BY_TEAM, team_counted=2)
    assert _teams(competition)[:3] == [
        ("乙队", 1, "180.00", ["B1", "B2"]),
        ("甲队", 2, "170.00", ["A1", "A2"]),
        ("丙队", 3, "168.00", ["C1", "C2"]),
    ]


def test_teams_by_employer_ignore_the_team_field(counties):
    competition = _import("employer", BY_TEAM)
    assert _teams(competition) == [
        ("石狮服装", 1, "270.00", ["B1", "D1", "B2"]),
        ("晋江鞋业", 2, "240.00", ["A1", "A2", "A3"]),  # 240 like 晋江纺织, with the better best member
        ("晋江纺织", 3, "240.00", ["C1", "C2", "C3"]),
    ]


def test_teams_by_county_gather_the_county_enterprises(counties):
    competition = _import("county", BY_TEAM + [("X1", 99, "戊队", "外地公司")])  # no county: in no team
    assert _teams(competition) == [
        ("石狮市总工会", 1, "270.00", ["B1", "D1", "B2"]),
        ("晋江市总工会", 2, "258.00", ["A1", "C1", "A2"]),
    ]


def test_the_organizer_switches_the_grouping_in_the_details(counties, make_user):
    competition = _import("team", BY_TEAM)
    competition.status = "closed"  # the details stay editable until the competition runs
    db.session.commit()
    admin = make_user("boss", "admin")
    details = {f: getattr(competition, f) for f in ("name", "kind", "level", "year", "trade", "capacity")}
    setup.update_details(competition, {**details, "team_by": "county"}, admin)
    assert [t[0] for t in _teams(competition)] == ["石狮市总工会", "晋江市总工会"]


def test_a_rating_has_no_team_standings():
    doc = json.loads((DATA / "rating.json").read_text(encoding="utf-8"))
    rating = exchange.import_competition(doc)
    for team_by in ("team", "employer", "county"):
        rating.team_by = team_by
        db.session.commit()
        document = results.document(rating)
        assert document["teams"] == [] and document["results"][0]["award"] is not None
