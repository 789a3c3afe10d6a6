"""A synthetic city-wide preliminary in the exchange format, the same for the same size.

Entrants carry no `id_number` (the SPEC allows leaving it out for historical records):
with one, the import would encrypt and look up every worker, which measures the ID-card
protection rather than scoring. Every mark is a valid value: two decimals, or a 0.5 step
where the criterion sets one, always within [0, max].
"""

from __future__ import annotations

import random

SEED = 2026
ABSENT_SHARE = 0.01  # absent entrants are listed without marks, and without rank
EMPLOYERS = 300
PRACTICAL_JUDGES = ("J2", "J3", "J4", "J5", "J6")
SURNAMES = "陈林黄张吴王李刘蔡郑许洪杨苏曾庄施颜谢柯"
GIVEN = "志明建国秀英丽华伟强雅婷文杰海峰晓燕俊杰少芳国平美玲家豪"

# (stage, key, name, max, kind, aggregation, step): the practical stage has one of each rule.
CRITERIA = (
    ("theory", "exam", "理论考试", 100, "score", "single", None),
    ("practical", "route", "航线飞行", 40, "score", "trimmed", "0.5"),
    ("practical", "safety", "安全操作", 10, "score", "mean", None),
    ("practical", "time_mgmt", "时间管理", 20, "score", "median", "0.5"),
    ("practical", "violation", "违规扣分", 10, "deduction", "mean", "0.5"),
)


def competition(entrants: int, seed: int = SEED, code: str = "BENCH-2026") -> dict:
    """Return an exchange-format competition of `entrants` entrants with all their marks."""
    rng = random.Random(seed)
    people = [_entrant(rng, i) for i in range(1, entrants + 1)]
    marks = []
    for person in people:
        if person["status"] == "ok":
            marks.extend(_marks(rng, person["ref"], rng.uniform(0.35, 1.0)))
    return {
        "format": "jiangxin.competition/1",
        "competition": {
            "code": code,
            "name": f"基准测试竞赛（{entrants} 人）",
            "kind": "competition",
            "trade": "无人机驾驶员",
            "level": "city",
            "year": 2026,
            "organizer": "泉州市总工会",
            "rules": {"tiebreak": ["stage:practical", "time"], "team_counted": 3},
        },
        "stages": _stages(),
        "entrants": people,
        "judges": [{"ref": "J1", "name": "理论阅卷", "employer": "泉州市职业技能鉴定中心", "chief": True}]
        + [{"ref": ref, "name": f"裁判{ref}", "employer": f"裁判单位{ref}"} for ref in PRACTICAL_JUDGES],
        "marks": marks,
    }


def mark_count(data: dict) -> int:
    """Return how many marks the document holds."""
    return len(data["marks"])


def _stages() -> list[dict]:
    stages = {
        "theory": {"key": "theory", "name": "理论知识", "weight": "30", "criteria": []},
        "practical": {"key": "practical", "name": "实际操作", "weight": "70", "criteria": []},
    }
    for stage, key, name, maximum, kind, aggregation, step in CRITERIA:
        criterion = {"key": key, "name": name, "max": str(maximum), "kind": kind, "aggregation": aggregation}
        if step:
            criterion["step"] = step
        stages[stage]["criteria"].append(criterion)
    return list(stages.values())


def _entrant(rng: random.Random, i: int) -> dict:
    return {
        "ref": f"E{i:05d}",
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "employer": f"泉州第{rng.randrange(EMPLOYERS) + 1:03d}制造有限公司",
        "team": "",
        "status": "absent" if rng.random() < ABSENT_SHARE else "ok",
        "time_seconds": rng.randrange(900, 3600),
    }


def _marks(rng: random.Random, ref: str, skill: float) -> list[dict]:
    """Return one entrant's 21 marks: the exam, then 5 judges × 4 practical criteria."""
    exam = _cents(rng.gauss(skill * 10000, 800), 10000)
    marks = [{"entrant": ref, "judge": "J1", "criterion": "theory.exam", "value": _text(exam)}]
    for judge in PRACTICAL_JUDGES:
        # J6 is a generous judge, so the bias check has something to find.
        lean = 2 if judge == "J6" else 0
        values = {
            "route": 50 * _clamp(round(rng.gauss(skill * 80, 3)) + lean, 80),
            "safety": _cents(rng.gauss(skill * 1000, 60), 1000),
            "time_mgmt": 50 * _clamp(round(rng.gauss(skill * 40, 2)), 40),
            "violation": 50 * _clamp(round(rng.gauss((1 - skill) * 6, 1)), 20),
        }
        marks.extend(
            {"entrant": ref, "judge": judge, "criterion": f"practical.{key}", "value": _text(cents)}
            for key, cents in values.items()
        )
    return marks


def _clamp(units: int, top: int) -> int:
    return min(max(units, 0), top)


def _cents(value: float, top: int) -> int:
    return _clamp(round(value), top)


def _text(cents: int) -> str:
    # Built from integers, so the string is exact: "35.50", "7.05", "0.00".
    return f"{cents // 100}.{cents % 100:02d}"
