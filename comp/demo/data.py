"""The fixed facts of the Quanzhou demo: unions, enterprises, people, studios and teams.

Counties, trades and the kinds of enterprise follow the city union's own report; the
enterprises and people are invented, so no real person's data is shown.
"""

from __future__ import annotations

PASSWORD = "jiangxin2026"
SEED = 20261130
CITY = "泉州市总工会"

# County-level unions with the ID-card region code of the place (台商投资区 lies in 惠安).
COUNTIES = {
    "鲤城区总工会": "350502",
    "丰泽区总工会": "350503",
    "洛江区总工会": "350504",
    "泉港区总工会": "350505",
    "石狮市总工会": "350581",
    "晋江市总工会": "350582",
    "南安市总工会": "350583",
    "惠安县总工会": "350521",
    "安溪县总工会": "350524",
    "永春县总工会": "350525",
    "德化县总工会": "350526",
    "泉州台商投资区总工会": "350521",
}

# Short enterprise keys → (full name, county union).
ENTERPRISES = {
    "petro": ("泉州湄洲湾石化有限公司", "泉港区总工会"),
    "tea": ("安溪县凤山茶业有限公司", "安溪县总工会"),
    "noodle": ("安溪县湖头米粉食品有限公司", "安溪县总工会"),
    "foshou": ("永春县北溪佛手茶业有限公司", "永春县总工会"),
    "ceramics": ("德化县瓷都陶瓷有限公司", "德化县总工会"),
    "aviation": ("晋江翔鹭航空科技有限公司", "晋江市总工会"),
    "shoes": ("晋江市陈埭群峰鞋业有限公司", "晋江市总工会"),
    "shoes2": ("晋江市安海恒达鞋服有限公司", "晋江市总工会"),
    "garment": ("石狮市锦绣服装有限公司", "石狮市总工会"),
    "uav": ("泉州洛江飞鹰无人机技术有限公司", "洛江区总工会"),
    "lowalt": ("南安市天翼低空科技有限公司", "南安市总工会"),
    "power": ("泉州鲤城供电服务有限公司", "鲤城区总工会"),
    "media": ("泉州丰泽融媒新媒体有限公司", "丰泽区总工会"),
    "oldtown": ("泉州古城文化旅游发展有限公司", "鲤城区总工会"),
    "equip": ("泉州台商投资区智能装备制造有限公司", "泉州台商投资区总工会"),
    "xiping": ("安溪县西坪铁观音茶业有限公司", "安溪县总工会"),
    "gande": ("安溪县感德镇茶叶专业合作社联合社", "安溪县总工会"),
}

# Workshops (车间) and, inside them, teams (班组) in the org tree: enterprise → workshop → teams.
WORKSHOPS = {
    "petro": ("常减压车间", ("常减压装置运行一班", "常减压装置运行二班")),
    "aviation": ("无人机应用中心", ("无人机巡检班组",)),
    "power": ("配电运检工区", ("配网带电作业班",)),
    "tea": ("精制车间", ("茶叶审评班组",)),
}

UAV, TEA, NOODLE, SHOE = "QZ-2026-UAV", "QZ-2026-TEA", "QZ-2026-NOODLE", "JJ-2026-SHOE"
UAV_2025 = "QZ-2025-UAV"  # last year's final: archived, its honours confirmed
CERAMIC = "QZ-2026-CERAMIC"  # three pieces thrown, the best counts × the shape's declared difficulty
# Anxi's county preliminary for tea tasters: a theory exam sat online, on phones, feeding the theory stage.
TEA_PRE = "AX-2026-TEA"
# 以赛促升: what the drone finals' results earn.
UAV_OUTCOMES = {
    "rules": [
        {"places": [1, 1], "honours": ["技术能手", "五一劳动奖章"]},
        {"places": [1, 3], "promote": 1},
        {"places": [4, 10], "grade": 3},
    ]
}

# Workers named here carry the demo's story: studio leaders, mentors, the demo worker account.
# key: (name, gender, birth year, enterprise, trade, grade, entries, mentor key, honours)
FEATURED = {
    "lin": (
        "林国栋",
        "M",
        1975,
        "petro",
        "石油化工操作工",
        1,
        (),
        None,
        (("劳动模范", 2020, "福建省人民政府"), ("泉州工匠", 2022, "泉州市人民政府")),
    ),
    "liu": ("刘振宇", "M", 1994, "petro", "石油化工操作工", 3, (), "lin", ()),
    "chen": (
        "陈素华",
        "F",
        1972,
        "tea",
        "评茶师",
        1,
        (),
        None,
        (("泉州工匠", 2023, "泉州市人民政府"), ("五一劳动奖章", 2024, "福建省总工会")),
    ),
    "wang": ("王雅芬", "F", 1996, "tea", "评茶员", 3, (TEA,), "chen", ()),
    "huang": (
        "黄志鹏",
        "M",
        1985,
        "aviation",
        "无人机驾驶员",
        2,
        (UAV,),
        None,
        (("技术能手", 2025, "泉州市人力资源和社会保障局"),),
    ),
    "su": ("苏雅婷", "F", 1998, "aviation", "无人机驾驶员", 3, (UAV,), "huang", ()),
    "xu": (
        "许德华",
        "M",
        1970,
        "ceramics",
        "陶瓷成型工",
        1,
        (),
        None,
        (("泉州工匠", 2021, "泉州市人民政府"), ("劳动模范", 2025, "泉州市人民政府")),
    ),
    "shi": (
        "施晓雯",
        "F",
        1993,
        "media",
        "新媒体运营",
        3,
        (),
        None,
        (("技术能手", 2024, "泉州市人力资源和社会保障局"),),
    ),
}

# Rank-and-file workers: (enterprise, trade, how many, grades to draw from, competitions entered).
GROUPS = (
    ("aviation", "无人机驾驶员", 5, (2, 3, 4), (UAV,)),
    ("uav", "无人机驾驶员", 6, (3, 4, 5), (UAV,)),
    ("lowalt", "无人机驾驶员", 5, (3, 4, 5), (UAV,)),
    ("power", "无人机驾驶员", 3, (2, 3, 4), (UAV,)),
    ("petro", "无人机驾驶员", 3, (3, 4), (UAV,)),
    ("tea", "评茶员", 10, (2, 3, 4, 5), (TEA,)),
    ("foshou", "评茶员", 7, (3, 4, 5), (TEA,)),
    ("noodle", "米粉制作工", 5, (3, 4, 5), (NOODLE,)),
    ("petro", "石油化工操作工", 1, (2, 3), ()),
    ("media", "新媒体运营", 1, (4,), ()),
    ("oldtown", "簪花妆造", 1, (4,), ()),
    ("oldtown", "古城讲解员", 2, (3, 4), ()),
    ("equip", "电工", 3, (2, 3, 4), ()),
    ("power", "电工", 1, (2,), ()),
    ("ceramics", "陶瓷成型工", 3, (2, 3, 4), (CERAMIC,)),
    ("shoes", "制鞋工", 3, (3, 4, 5), (SHOE,)),
    ("shoes2", "制鞋工", 3, (3, 4, 5), (SHOE,)),
    ("garment", "服装制版师", 1, (3,), ()),
    # Added last, so the workers drawn before keep their names: the wheel-throwers of the Dehua porcelain works.
    ("ceramics", "陶瓷成型工", 6, (3, 4, 5), (CERAMIC,)),
    # And after them, Anxi's tea tasters who sat the county preliminary's online theory exam.
    ("xiping", "评茶员", 28, (2, 3, 4, 5), (TEA_PRE,)),
    ("gande", "评茶员", 24, (2, 3, 4), (TEA_PRE,)),
)

SURNAMES = "陈林黄王吴张李郑蔡洪许苏庄施杨曾刘傅周谢颜柯卢郭邱骆潘龚戴"
GIVEN = {
    "M": (
        "志强",
        "建华",
        "伟杰",
        "文斌",
        "俊辉",
        "国栋",
        "家豪",
        "明辉",
        "晓东",
        "振宇",
        "荣华",
        "德胜",
        "永福",
        "金水",
        "炳坤",
        "少杰",
        "宏伟",
        "清泉",
        "育才",
        "泽民",
        "海滨",
        "宗南",
        "锦程",
        "鸿达",
        "子轩",
        "世杰",
        "天佑",
        "嘉诚",
        "培德",
        "春生",
    ),
    "F": (
        "秀英",
        "丽娟",
        "雅琴",
        "美玲",
        "婷婷",
        "思颖",
        "晓燕",
        "惠珍",
        "淑芬",
        "碧霞",
        "玉兰",
        "丽萍",
        "佳怡",
        "梦瑶",
        "雪梅",
        "秋月",
        "巧玲",
        "诗涵",
        "静怡",
        "燕华",
        "凤娇",
        "晓琳",
        "慧敏",
        "佩珊",
    ),
}

# Demo accounts: username → (role, display name, org unit name). Judges' names appear on panels.
ACCOUNTS = {
    "admin": ("admin", "系统管理员", CITY),
    "organizer": ("organizer", "市总工会竞赛组委会", CITY),
    "jinjiang": ("organizer", "晋江市总工会竞赛办", "晋江市总工会"),
    "judge1": ("judge", "林秀琴", "安溪县总工会"),
    "judge2": ("judge", "蔡文博", CITY),
    "judge3": ("judge", "吴建平", "洛江区总工会"),
    "judge4": ("judge", "郑雅芳", "永春县总工会"),
    "liaison": ("liaison", "王丽华（湖头米粉工会）", "安溪县湖头米粉食品有限公司"),
}
WORKER_ACCOUNT = ("worker", "su")  # username, featured worker it belongs to
# A worker who signed up herself: her record is on file, her claim waits for the organizer.
CLAIM_ACCOUNT = ("wangyf", "wang", "13905951234")  # username, featured worker claimed, phone given
# A judge invited by the city union who has not opened her activation link yet.
INVITED = ("judge5", "judge", "洪丽娟", CITY)
# The demo worker asks her union to correct her phone number.
CHANGE_REQUEST = {"phone": "13859901234"}

# Judges who are not demo accounts keep the accounts the import makes for them.
GUEST_JUDGES = {
    "uav3": ("庄明辉", "泉州台商投资区总工会"),
    "uav4": ("施国华", "石狮市总工会"),
    "tea3": ("苏清泉", CITY),
    "tea4": ("黄美玉", "德化县总工会"),
    "cer2": ("郭德顺", "德化县总工会"),
    "cer3": ("颜春华", "永春县总工会"),
}

# Innovation studios: (name, enterprise, leader key, level, founded, member keys, achievements).
STUDIOS = (
    (
        "林国栋劳模创新工作室",
        "petro",
        "lin",
        "province",
        "2019-05-01",
        ("liu",),
        (
            (2025, "method", "林国栋常减压装置平稳操作法"),
            (2025, "patent", "一种常减压装置塔顶注剂防腐装置（实用新型专利）"),
            (2026, "training", "开展石化装置操作培训12期，培训职工360人次"),
        ),
    ),
    (
        "陈素华劳模工匠创新工作室",
        "tea",
        "chen",
        "national",
        "2016-09-01",
        ("wang",),
        (
            (2024, "method", "铁观音感官审评“五步法”"),
            (2025, "project", "安溪铁观音拼配工艺优化"),
            (2026, "training", "名师带徒32名，其中8人取得评茶员职业技能等级证书"),
        ),
    ),
    (
        "黄志鹏无人机工匠创新工作室",
        "aviation",
        "huang",
        "city",
        "2022-03-15",
        ("su",),
        (
            (2025, "project", "输电线路无人机自主巡检航线规划"),
            (2026, "patent", "一种无人机电池快速更换装置（实用新型专利）"),
        ),
    ),
    (
        "许德华陶瓷技艺创新工作室",
        "ceramics",
        "xu",
        "province",
        "2018-06-01",
        (),
        (
            (2024, "method", "德化白瓷手工拉坯“三稳”操作法"),
            (2025, "project", "高白度瓷泥配方改良"),
            (2026, "training", "举办陶瓷成型技艺培训班6期"),
        ),
    ),
)

# Craftsman teams rated in PJ-2026-TEAM: (name, enterprise, workshop, quality 0–100 for the marks).
TEAMS = (
    ("常减压装置运行一班", "petro", "常减压车间", 93),
    ("无人机巡检班组", "aviation", "无人机应用中心", 88),
    ("茶叶审评班组", "tea", "精制车间", 85),
    ("配网带电作业班", "power", "配电运检工区", 82),
    ("米粉制作班组", "noodle", "生产车间", 76),
    ("手工成型班组", "ceramics", "成型车间", 72),
    ("电气维修班组", "equip", "设备部", 64),
)
