"""The demo's competitions as exchange-format documents, marks included (no database here)."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from comp.demo import data
from comp.demo.roster import WorkerSpec

FORMAT = "jiangxin.competition/1"
RATING = "PJ-2026-TEAM"
SHARE_TIERS = [
    {"name": "一等奖", "share": "0.10"},
    {"name": "二等奖", "share": "0.20"},
    {"name": "三等奖", "share": "0.30"},
]
# A county notice fixes the number of each award instead: 一等奖1名、二等奖3名、三等奖6名.
PLACE_TIERS = [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 3}, {"name": "三等奖", "count": 6}]
STAR_TIERS = [{"name": "五星", "min": "90"}, {"name": "四星", "min": "80"}, {"name": "三星", "min": "70"}]
RULES = {
    "award_tiers": SHARE_TIERS,
    "award_min_total": "60",
    "tiebreak": ["stage:practical", "time"],
    "team_counted": 3,
    "discrepancy_share": "0.20",
}

# Each panel: ref → (key in data.ACCOUNTS or data.GUEST_JUDGES, chief judge?).
PANELS = {
    data.UAV: {"J1": ("judge2", True), "J2": ("judge3", False), "J3": ("uav3", False), "J4": ("uav4", False)},
    data.TEA: {"J1": ("judge1", True), "J2": ("judge4", False), "J3": ("tea3", False), "J4": ("tea4", False)},
    RATING: {"J1": ("judge2", True), "J2": ("judge3", False), "J3": ("judge4", False)},
    data.UAV_2025: {"J1": ("judge2", True), "J2": ("uav3", False), "J3": ("uav4", False), "J4": ("judge3", False)},
    data.CERAMIC: {"J1": ("judge3", True), "J2": ("cer2", False), "J3": ("cer3", False)},
    # The preliminary's only mark is the exam's: its chief judge is the one it is written as.
    data.TEA_PRE: {"J1": ("judge1", True)},
}
# The shapes a thrower may declare for a piece, with the difficulty its score is multiplied by.
SHAPES = (("碗", "0.9"), ("梅瓶", "1"), ("葫芦瓶", "1.1"))
# The drone competition's story needs these two near the top: the demo worker and her mentor.
STARS = {"su": 0.95, "huang": 0.90}
TEA_CRITERIA = (
    ("shape", "外形", 25),
    ("liquor", "汤色", 10),
    ("aroma", "香气", 25),
    ("taste", "滋味", 30),
    ("leaf", "叶底", 10),
)
SIX = (
    ("learning", "学习型"),
    ("safety", "安全型"),
    ("clean", "清洁型"),
    ("saving", "节约型"),
    ("innovation", "创新型"),
    ("harmony", "和谐型"),
)


def _mark(value: float, maximum: int, step: str = "0.5") -> str:
    """Round a drawn value to the criterion's step and keep it within [0, maximum]."""
    unit = Decimal(step)
    steps = (Decimal(str(value)) / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return format(min(max(steps * unit, Decimal(0)), Decimal(maximum)).normalize(), "f")


def _header(
    code: str,
    name: str,
    trade: str | None,
    kind: str = "competition",
    level: str = "city",
    organizer: str = data.CITY,
    rules: dict | None = None,
) -> dict:
    header = {
        "code": code,
        "name": name,
        "kind": kind,
        "level": level,
        "year": 2026,
        "organizer": organizer,
        "rules": RULES if rules is None else rules,
    }
    if trade:
        header["trade"] = trade
    return header


def _crit(
    key: str, name: str, maximum: int, aggregation: str = "trimmed", kind: str = "score", step: str | None = "0.5"
) -> dict:
    criterion = {"key": key, "name": name, "max": str(maximum), "aggregation": aggregation, "kind": kind}
    if step:
        criterion["step"] = step
    return criterion


def _stage(key: str, name: str, weight: str, *criteria: dict) -> dict:
    return {"key": key, "name": name, "weight": weight, "criteria": list(criteria)}


def _theory(weight: str) -> dict:
    return _stage("theory", "理论知识", weight, _crit("exam", "理论考试", 100, "single", step="1"))


def _judges(code: str) -> list[dict]:
    people = {**{k: (v[1], v[2]) for k, v in data.ACCOUNTS.items()}, **data.GUEST_JUDGES}
    return [
        {"ref": ref, "name": people[key][0], "employer": people[key][1], "chief": chief}
        for ref, (key, chief) in PANELS[code].items()
    ]


def _entrant(ref: str, w: WorkerSpec, status: str, team: str = "", seconds: int | None = None) -> dict:
    entrant: dict[str, str | int] = {
        "ref": ref,
        "name": w.name,
        "id_number": w.id_number,
        "employer": w.employer,
        "team": team,
        "status": status,
    }
    if seconds is not None:
        entrant["time_seconds"] = seconds
    return entrant


def _entered(workers: list[WorkerSpec], code: str) -> list[WorkerSpec]:
    return [w for w in workers if code in w.entries]


def _team_of(w: WorkerSpec) -> str:
    """Name the county team a worker flies for, e.g. 晋江市代表队."""
    return data.ENTERPRISES[w.enterprise][1].removesuffix("总工会") + "代表队"


def _doc(header: dict, stages: list[dict], entrants: list[dict], judges=(), marks=()) -> dict:
    return {
        "format": FORMAT,
        "competition": header,
        "stages": stages,
        "entrants": entrants,
        "judges": list(judges),
        "marks": list(marks),
    }


def uav(workers: list[WorkerSpec], rng: random.Random, code: str = data.UAV, year: int = 2026) -> dict:
    """Return a finished drone-pilot competition: every mark in, two entrants absent."""
    pilots = _entered(workers, data.UAV)
    if year != 2026:  # last year's field: a few of this year's pilots had not started yet
        pilots = [w for w in pilots if w.key not in STARS][: len(pilots) - 4] + [w for w in pilots if w.key == "huang"]
    absent = set(rng.sample([w.key for w in pilots if w.key not in STARS], 2))
    entrants, marks = [], []
    for i, w in enumerate(pilots, 1):
        ref, skill = f"E{i:02d}", STARS.get(w.key) or rng.uniform(0.55, 0.92)
        if w.key in absent:
            entrants.append(_entrant(ref, w, "absent", _team_of(w)))
            continue
        seconds = int(900 - 260 * skill + rng.randint(-40, 40))
        entrants.append(_entrant(ref, w, "ok", _team_of(w), seconds))
        marks += _uav_marks(ref, skill, rng)
    practical = _stage(
        "practical",
        "实际操作",
        "70",
        _crit("route", "航线飞行", 40),
        _crit("safety", "安全操作", 10, "mean"),
        _crit("violation", "违规扣分", 10, "mean", "deduction", "1"),
    )
    header = _header(code, f"{year}年泉州市无人机驾驶职工技能竞赛", "无人机驾驶员")
    header["year"] = year
    return _doc(header, [_theory("30"), practical], entrants, _judges(code), marks)


def _uav_marks(ref: str, skill: float, rng: random.Random) -> list[dict]:
    exam = _mark(100 * min(skill + rng.gauss(0, 0.06), 0.99), 100, "1")
    route = 40 * min(skill + rng.gauss(0, 0.04), 0.99)
    safety = 10 * min(skill + rng.gauss(0, 0.05), 1.0)
    faults = (0, 0, 0, 1, 2) if skill < 0.7 else (0, 0, 0, 0, 1)
    # Judges stay within a few points of each other: nothing is flagged for the chief judge.
    out = [("J1", "theory.exam", exam)]
    out += [(j, "practical.route", _mark(route + rng.uniform(-1.8, 1.8), 40)) for j in ("J1", "J2", "J3", "J4")]
    out += [(j, "practical.safety", _mark(safety + rng.uniform(-0.4, 0.4), 10)) for j in ("J3", "J4")]
    out.append(("J2", "practical.violation", str(rng.choice(faults))))
    return [{"entrant": ref, "judge": j, "criterion": k, "value": v} for j, k, v in out]


def tea(workers: list[WorkerSpec], rng: random.Random) -> dict:
    """Return the tea-taster competition under way: theory in, the tasting part-way through."""
    entrants, marks = [], []
    for i, w in enumerate(_entered(workers, data.TEA), 1):
        ref, skill = f"E{i:02d}", rng.uniform(0.6, 0.95)
        entrants.append(_entrant(ref, w, "ok"))
        marks.append(
            {
                "entrant": ref,
                "judge": "J1",
                "criterion": "theory.exam",
                "value": _mark(100 * min(skill + rng.gauss(0, 0.06), 0.99), 100, "1"),
            }
        )
        # The panel has tasted the first ten samples in full and has begun the eleventh.
        panel = ("J1", "J2", "J3", "J4") if i <= 10 else ("J1", "J2") if i == 11 else ()
        marks += _tea_marks(ref, skill, panel, rng)
    tasting = _stage("practical", "茶叶感官审评", "70", *(_crit(k, n, m) for k, n, m in TEA_CRITERIA))
    return _doc(
        _header(data.TEA, "2026年泉州市评茶员职业技能竞赛", "评茶员"),
        [_theory("30"), tasting],
        entrants,
        _judges(data.TEA),
        marks,
    )


def _tea_marks(ref: str, skill: float, panel: tuple[str, ...], rng: random.Random) -> list[dict]:
    marks = []
    for key, _, maximum in TEA_CRITERIA:
        base = maximum * min(skill + rng.gauss(0, 0.04), 0.98)
        for j in panel:
            # One taster scores E05's aroma far below the others: a discrepancy for the chief.
            low = 7 if (ref, key, j) == ("E05", "aroma", "J3") else 0
            marks.append(
                {
                    "entrant": ref,
                    "judge": j,
                    "criterion": f"practical.{key}",
                    "value": _mark(base + rng.uniform(-0.6, 0.6) - low, maximum),
                }
            )
    return marks


def noodle(workers: list[WorkerSpec]) -> dict:
    """Return the rice-noodle competition open for registration, a few requests pending."""
    entrants = [_entrant(f"E{i:02d}", w, "pending") for i, w in enumerate(_entered(workers, data.NOODLE), 1)]
    practical = _stage(
        "practical",
        "实际操作",
        "70",
        _crit("mix", "原料配比与浸泡", 20),
        _crit("press", "磨浆与压条", 30),
        _crit("steam", "蒸制与晾晒", 30),
        _crit("quality", "成品质量", 20),
    )
    return _doc(
        _header(data.NOODLE, "2026年泉州市米粉制作职工技能竞赛", "米粉制作工"), [_theory("30"), practical], entrants
    )


def shoes(workers: list[WorkerSpec]) -> dict:
    """Return Jinjiang's county shoemaking competition: registration closed, entrants approved; its notice
    fixes the number of each award (一等奖1名、二等奖3名、三等奖6名)."""
    entrants = [_entrant(f"E{i:02d}", w, "approved") for i, w in enumerate(_entered(workers, data.SHOE), 1)]
    practical = _stage(
        "practical",
        "实际操作",
        "80",
        _crit("cutting", "鞋面裁断", 30),
        _crit("stitching", "帮面缝制", 40),
        # Judged as WorldSkills does: each judge gives 0–3 (below standard … excellent), worth 30 points.
        {**_crit("finish", "成鞋质量", 3, "mean", step="1"), "worth": "30"},
    )
    header = _header(
        data.SHOE,
        "2026年晋江市制鞋工职工技能竞赛",
        "制鞋工",
        level="county",
        organizer="晋江市总工会",
        rules={**RULES, "award_tiers": PLACE_TIERS},
    )
    return _doc(header, [_theory("20"), practical], entrants)


def ceramic(workers: list[WorkerSpec], rng: random.Random) -> dict:
    """Return the wheel-throwing final under way in Dehua: three pieces each, the best one counts, its score
    multiplied by the difficulty of the shape the thrower declared; totals in points. Most throwers have
    thrown all three; some did not improve on their third (DNI, recorded); two are still at the wheel."""
    throwers = _entered(workers, data.CERAMIC)
    entrants, marks = [], []
    for i, w in enumerate(throwers, 1):
        ref, skill = f"E{i:02d}", rng.uniform(0.7, 0.95)
        shapes = [rng.choice(SHAPES) for _ in range(3)]
        entrant = _entrant(ref, w, "ok")
        entrant["programme"] = {
            f"throwing.piece{n}": {"factor": factor, "label": shape} for n, (shape, factor) in enumerate(shapes, 1)
        }
        third = "DNI" if i % 3 == 1 else "marked"
        if i > len(throwers) - 2:
            third = "waiting"  # the last two are still throwing their third piece
        if third == "DNI":
            entrant["not_taken"] = {"throwing.piece3": "DNI"}
        entrants.append(entrant)
        for n in (1, 2, 3) if third == "marked" else (1, 2):
            base = 100 * min(skill + rng.gauss(0, 0.05), 0.98)
            marks += [
                {
                    "entrant": ref,
                    "judge": j,
                    "criterion": f"throwing.piece{n}",
                    "value": _mark(base + rng.uniform(-2, 2), 100),
                }
                for j in PANELS[data.CERAMIC]
            ]
    pieces = [{**_crit(f"piece{n}", f"第{n}件", 100, "mean"), "factored": True} for n in (1, 2, 3)]
    throwing = {**_stage("throwing", "拉坯成型", "1", *pieces), "best": 1}
    rules = {
        "award_tiers": [{"name": "一等奖", "count": 1}, {"name": "二等奖", "count": 2}, {"name": "三等奖", "count": 3}],
        "award_min_total": "60",
        "tiebreak": ["attempts:throwing"],
        "total": "points",
    }
    header = _header(data.CERAMIC, "2026年泉州市陶瓷拉坯成型职工技能竞赛（德化赛区）", "陶瓷成型工", rules=rules)
    return _doc(header, [throwing], entrants, _judges(data.CERAMIC), marks)


def rating(rng: random.Random) -> dict:
    """Return the rating of the craftsman teams with every mark in."""
    entrants, marks = [], []
    for i, (name, enterprise, _, quality) in enumerate(data.TEAMS, 1):
        ref = f"T{i}"
        entrants.append(
            {
                "ref": ref,
                "name": name,
                "type": "team",
                "team": "",
                "status": "ok",
                "employer": data.ENTERPRISES[enterprise][0],
            }
        )
        for key, _ in SIX:
            base = quality + rng.gauss(0, 2.5)
            marks += [
                {
                    "entrant": ref,
                    "judge": j,
                    "criterion": f"review.{key}",
                    "value": _mark(base + rng.uniform(-3, 3), 100, "1"),
                }
                for j in PANELS[RATING]
            ]
    review = _stage("review", "综合评审", "1", *(_crit(k, n, 100, step="1") for k, n in SIX))
    rules = {"award_tiers": STAR_TIERS, "tiebreak": []}  # a rating has no practical stage and no time
    header = _header(RATING, "2026年度泉州市“六型”工匠班组评定", None, kind="rating", rules=rules)
    return _doc(header, [review], entrants, _judges(RATING), marks)


def anxi_tasters(workers: list[WorkerSpec]) -> list[WorkerSpec]:
    """Return Anxi's tea tasters: the candidates of the county preliminary."""
    return [w for w in workers if w.trade == "评茶员" and data.ENTERPRISES[w.enterprise][1] == "安溪县总工会"]


def tea_preliminary(workers: list[WorkerSpec]) -> dict:
    """Return Anxi's county preliminary: one stage, the online theory exam; its marks come from the sittings."""
    entrants = [_entrant(f"E{i:02d}", w, "ok") for i, w in enumerate(anxi_tasters(workers), 1)]
    # The best twenty who reach 60 go on to the city final.
    rules = {"award_tiers": [{"name": "晋级决赛", "count": 20}], "award_min_total": "60"}
    header = _header(
        data.TEA_PRE,
        "2026年安溪县评茶员职工技能竞赛（初赛）",
        "评茶员",
        level="county",
        organizer="安溪县总工会",
        rules=rules,
    )
    return _doc(header, [_theory("100")], entrants, _judges(data.TEA_PRE))


def documents(workers: list[WorkerSpec], seed: int = data.SEED) -> list[dict]:
    """Return every demo competition's document, in the order they are imported."""
    rng = random.Random(seed)
    documents = [uav(workers, rng), tea(workers, rng), noodle(workers), shoes(workers), rating(rng)]
    # Last year's final comes from its own draw, so adding it leaves this year's marks as they were; so does
    # the ceramics final.
    return documents + [
        uav(workers, random.Random(seed - 1), data.UAV_2025, 2025),
        ceramic(workers, random.Random(seed + 1)),
        tea_preliminary(workers),
    ]
