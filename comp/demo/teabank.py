"""The demo's question bank for the tea-taster trade (评茶员): 200 items built from the trade's own facts.

The facts follow what a 评茶员 learns for the national occupational standard: the six tea classes and the
famous teas of each, where they grow, the key step of each class's processing, the sensory evaluation
method of GB/T 23776-2018 (sample weights, water, brewing times, the factors and their weights), tea
chemistry, storage and the trade's code of conduct. Questions are rows of the bank's xlsx layout
(题型 / 题干 / 选项 / 答案 / 解析 / 难度 / 知识点 / 来源) as dicts; a seeded draw picks the distractors, so the
bank is the same on every run.
"""

from __future__ import annotations

import random

SOURCE = "评茶员国家职业技能标准；GB/T 23776-2018 茶叶感官审评方法"
CLASSES = ("绿茶", "白茶", "黄茶", "青茶（乌龙茶）", "红茶", "黑茶")

# Famous tea → (class, origin, difficulty 1–5)
TEAS = {
    "铁观音": ("青茶（乌龙茶）", "福建安溪", 1),
    "黄金桂": ("青茶（乌龙茶）", "福建安溪", 2),
    "本山": ("青茶（乌龙茶）", "福建安溪", 3),
    "毛蟹": ("青茶（乌龙茶）", "福建安溪", 3),
    "永春佛手": ("青茶（乌龙茶）", "福建永春", 2),
    "大红袍": ("青茶（乌龙茶）", "福建武夷山", 1),
    "凤凰单丛": ("青茶（乌龙茶）", "广东潮州", 2),
    "冻顶乌龙": ("青茶（乌龙茶）", "台湾南投", 2),
    "西湖龙井": ("绿茶", "浙江杭州", 1),
    "洞庭碧螺春": ("绿茶", "江苏苏州", 1),
    "黄山毛峰": ("绿茶", "安徽黄山", 1),
    "信阳毛尖": ("绿茶", "河南信阳", 2),
    "六安瓜片": ("绿茶", "安徽六安", 2),
    "祁门红茶": ("红茶", "安徽祁门", 1),
    "正山小种": ("红茶", "福建武夷山", 2),
    "滇红工夫": ("红茶", "云南", 2),
    "坦洋工夫": ("红茶", "福建福安", 3),
    "白毫银针": ("白茶", "福建福鼎", 2),
    "白牡丹": ("白茶", "福建政和", 3),
    "寿眉": ("白茶", "福建福鼎", 3),
    "君山银针": ("黄茶", "湖南岳阳", 3),
    "蒙顶黄芽": ("黄茶", "四川雅安", 4),
    "霍山黄芽": ("黄茶", "安徽霍山", 4),
    "普洱熟茶": ("黑茶", "云南", 2),
    "安化黑茶": ("黑茶", "湖南安化", 2),
    "六堡茶": ("黑茶", "广西梧州", 3),
}
ORIGINS = sorted({origin for _, origin, _ in TEAS.values()})

# Class → (the key step of its first processing, why)
KEY_STEPS = {
    "绿茶": ("杀青", "高温钝化酶的活性，制止多酚类氧化，保持绿叶绿汤"),
    "红茶": ("发酵", "多酚类在酶促作用下充分氧化，形成红叶红汤"),
    "青茶（乌龙茶）": ("做青（摇青）", "叶缘摩擦损伤、局部氧化，形成绿叶红镶边与花果香"),
    "白茶": ("萎凋", "不炒不揉，长时间萎凋后干燥，保持白毫显露"),
    "黄茶": ("闷黄", "湿热作用下多酚类非酶性氧化，形成黄叶黄汤"),
    "黑茶": ("渥堆", "湿热和微生物作用下内含物转化，形成黑茶特有品质"),
}
STEPS = ("杀青", "发酵", "做青（摇青）", "萎凋", "闷黄", "渥堆", "揉捻", "干燥")

# GB/T 23776-2018 factor weights (品质因子评分系数, %), by class: 外形 汤色 香气 滋味 叶底.
FACTORS = ("外形", "汤色", "香气", "滋味", "叶底")
WEIGHTS = {
    "绿茶": (25, 10, 25, 30, 10),
    "工夫红茶": (25, 10, 25, 25, 15),
    "乌龙茶": (20, 5, 30, 35, 10),
}

# Numeric facts: (stem, answer, tolerance, explanation, area, difficulty)
NUMERIC = (
    ("柱形杯审评法审评绿茶，称取代表性茶样多少克？", "3", None, "红绿茶用 3 g 茶样、150 mL 沸水。", "审评方法", 1),
    ("柱形杯审评法审评绿茶，注入沸水多少毫升？", "150", None, "3 g 茶样配 150 mL 沸水，茶水比 1:50。", "审评方法", 1),
    ("柱形杯审评法的茶水比为 1:x，x 等于多少？", "50", None, "3 g 茶样配 150 mL 沸水。", "审评方法", 2),
    ("柱形杯审评法审评绿茶，冲泡时间为多少分钟？", "4", None, "绿茶冲泡 4 min。", "审评方法", 2),
    ("柱形杯审评法审评红茶，冲泡时间为多少分钟？", "5", None, "红茶冲泡 5 min。", "审评方法", 2),
    ("盖碗审评法审评乌龙茶，称取茶样多少克？", "5", None, "乌龙茶盖碗法用 5 g 茶样、110 mL 盖碗。", "审评方法", 2),
    ("盖碗审评法审评乌龙茶，所用盖碗容量为多少毫升？", "110", None, "110 mL 盖碗。", "审评方法", 3),
    ("盖碗审评法审评乌龙茶，共冲泡几次？", "3", None, "冲泡三次，时间依次为 2、3、5 min。", "审评方法", 2),
    ("盖碗审评法审评乌龙茶，第一泡时间为多少分钟？", "2", None, "三次冲泡依次为 2、3、5 min。", "审评方法", 3),
    ("盖碗审评法审评乌龙茶，第三泡时间为多少分钟？", "5", None, "三次冲泡依次为 2、3、5 min。", "审评方法", 3),
    ("审评用水应煮至沸腾，其温度约为多少摄氏度（海平面）？", "100", None, "审评用沸水。", "审评方法", 1),
    (
        "成品绿茶的含水量一般不超过百分之多少？",
        "7",
        None,
        "成品茶含水量一般控制在 7% 以下，利于贮存。",
        "贮存与安全",
        3,
    ),
    ("评茶员国家职业资格共设几个等级？", "5", None, "五级（初级工）至一级（高级技师）。", "职业道德", 2),
    (
        "某茶样外形 90 分、汤色 92 分、香气 88 分、滋味 90 分、叶底 86 分，按绿茶系数计算总分（保留一位小数）。",
        "89.3",
        "0.05",
        "90×25%+92×10%+88×25%+90×30%+86×10% = 89.3。",
        "审评方法",
        5,
    ),
    (
        "某乌龙茶外形 88、汤色 90、香气 92、滋味 94、叶底 90，按乌龙茶系数计算总分（保留一位小数）。",
        "91.6",
        "0.05",
        "88×20%+90×5%+92×30%+94×35%+90×10% = 91.6。",
        "审评方法",
        5,
    ),
    (
        "审评时称样 3.0 g，允许的称量误差为 ±0.1 g。称得 3.08 g 是否合格？合格填 1，不合格填 0。",
        "1",
        None,
        "3.08 g 在 2.9～3.1 g 之内。",
        "审评方法",
        4,
    ),
)

# True/false statements: (statement, true?, explanation, area, difficulty)
STATEMENTS = (
    ("乌龙茶属于半发酵茶。", True, "乌龙茶部分发酵，介于绿茶与红茶之间。", "茶叶分类", 1),
    ("红茶属于全发酵茶。", True, "红茶经充分发酵。", "茶叶分类", 1),
    ("绿茶属于后发酵茶。", False, "黑茶才是后发酵茶，绿茶不发酵。", "茶叶分类", 2),
    ("白茶的初制一般不经过揉捻。", True, "白茶只萎凋、干燥。", "加工工艺", 2),
    ("茶叶审评室宜采用北向自然光，避免阳光直射。", True, "北向光线均匀稳定。", "审评方法", 2),
    ("评茶前可以使用香水，以免异味干扰。", False, "评茶前不得使用化妆品、香水，不得吸烟。", "职业道德", 1),
    ("茶叶应避光、防潮、密封、低温贮存。", True, "光、热、水分、氧气加速茶叶陈化。", "贮存与安全", 1),
    ("优质绿茶的汤色以红艳明亮为佳。", False, "红艳明亮是优质红茶的汤色。", "审评术语", 2),
    ("“绿叶红镶边”是乌龙茶叶底的典型特征。", True, "做青使叶缘红变。", "审评术语", 2),
    ("“冷后浑”是红茶品质好的表现之一。", True, "茶黄素等与咖啡碱络合，茶汤冷后浑浊。", "审评术语", 3),
    ("茶叶审评时，内质审评包括汤色、香气、滋味、叶底四项。", True, "外形另审。", "审评方法", 1),
    ("外形审评的因子中不包括净度。", False, "外形因子：嫩度、形状、色泽、整碎、净度。", "审评方法", 2),
    ("闻香时应一嗅到底，长时间深吸。", False, "应短暂多次轻嗅，每次 2～3 s。", "审评方法", 3),
    ("评茶员在审评中可以凭个人喜好打分。", False, "应按标准科学、公正审评。", "职业道德", 1),
    ("茶多酚是茶汤苦涩味的主要来源。", True, "儿茶素等多酚类呈苦涩味。", "茶叶化学", 2),
    ("茶氨酸是茶汤鲜爽味的重要来源。", True, "氨基酸呈鲜味。", "茶叶化学", 2),
    ("咖啡碱使茶汤呈甜味。", False, "咖啡碱呈苦味。", "茶叶化学", 3),
    ("茶黄素主要在红茶发酵中形成。", True, "多酚类酶促氧化形成茶黄素、茶红素。", "茶叶化学", 3),
    ("普洱熟茶的加工工序包括渥堆。", True, "渥堆是熟普的关键工序。", "加工工艺", 2),
    ("铁观音的“观音韵”是其品种香与工艺共同形成的。", True, "俗称“音韵”。", "审评术语", 3),
    ("武夷岩茶的“岩韵”指的是茶汤的颜色。", False, "岩韵是滋味与香气的综合品质特征。", "审评术语", 3),
    ("审评用水以含铁量高的井水为佳。", False, "宜用洁净软水，铁离子使汤色发暗。", "审评方法", 3),
    ("同一批茶样应在相同条件下冲泡、审评。", True, "保证可比。", "审评方法", 1),
    ("茶叶吸附性强，不能与有异味的物品混放。", True, "茶叶易吸收异味。", "贮存与安全", 1),
    ("评茶员应遵守“忠于职守、爱岗敬业”的职业守则。", True, "职业守则之一。", "职业道德", 1),
    ("审评时汤色应在香气之后、最后才看。", False, "倒出茶汤后先看汤色，以免汤色氧化变化。", "审评方法", 4),
    ("叶底审评主要看嫩度、色泽和匀度。", True, "叶底三要素。", "审评方法", 3),
    ("乌龙茶盖碗审评中，每次冲泡后都要闻盖香。", True, "闻盖香辨香气高低、持久与类型。", "审评方法", 3),
)

# Single-choice terms and chemistry: (stem, right, wrong options, explanation, area, difficulty)
TERMS = (
    (
        "“观音韵”是哪种茶特有的品质特征？",
        "铁观音",
        ("大红袍", "西湖龙井", "祁门红茶"),
        "安溪铁观音的音韵。",
        "审评术语",
        1,
    ),
    (
        "“岩韵”是哪类茶特有的品质特征？",
        "武夷岩茶",
        ("安溪铁观音", "凤凰单丛", "冻顶乌龙"),
        "武夷岩茶的岩骨花香。",
        "审评术语",
        2,
    ),
    (
        "“金圈”是指哪类茶汤碗沿的金黄色光圈？",
        "红茶",
        ("绿茶", "白茶", "黄茶"),
        "优质红茶汤色红艳，碗沿现金圈。",
        "审评术语",
        3,
    ),
    ("“祁门香”属于哪类香气？", "蜜糖香（祁门香）", ("板栗香", "兰花香", "陈香"), "祁红特有的蜜糖香。", "审评术语", 4),
    (
        "茶叶中含量最多的生物碱是什么？",
        "咖啡碱",
        ("可可碱", "茶叶碱", "茶氨酸"),
        "茶叶生物碱以咖啡碱为主。",
        "茶叶化学",
        2,
    ),
    ("茶多酚的主体成分是什么？", "儿茶素", ("黄酮", "花青素", "酚酸"), "儿茶素占茶多酚的 70% 左右。", "茶叶化学", 3),
    ("茶汤鲜爽味主要来自哪类物质？", "氨基酸", ("咖啡碱", "茶多酚", "可溶性糖"), "茶氨酸等氨基酸。", "茶叶化学", 2),
    ("审评时判断茶叶嫩度主要看哪一项？", "叶底", ("汤色", "香气", "滋味"), "叶底最能反映原料嫩度。", "审评方法", 3),
    (
        "审评干茶外形时，使用什么盘？",
        "评茶盘（样盘）",
        ("叶底盘", "审评碗", "盖碗"),
        "干茶放样盘中把盘看外形。",
        "审评方法",
        2,
    ),
    (
        "评茶员的职业守则不包括下列哪一项？",
        "个人喜好优先",
        ("忠于职守", "科学严谨", "遵纪守法"),
        "守则要求科学、公正。",
        "职业道德",
        1,
    ),
)


def items(seed: int = 20261206) -> list[dict]:
    """Return the 200 questions, each a dict of the bank's fields, in a fixed order."""
    rng = random.Random(seed)
    out: list[dict] = []

    def add(kind: str, stem: str, options: list[str], answer: str, explanation: str, area: str, level: int) -> None:
        out.append(
            {
                "code": f"PC{len(out) + 1:03d}",
                "kind": kind,
                "stem": stem,
                "options": options,
                "answer": answer,
                "tolerance": None,
                "explanation": explanation,
                "area": area,
                "difficulty": level,
                "source": SOURCE,
            }
        )

    def choice(stem: str, right: str, pool: list[str], explanation: str, area: str, level: int) -> None:
        wrong = rng.sample([p for p in pool if p != right], 3)
        options = [right, *wrong]
        rng.shuffle(options)
        add("single", stem, options, "ABCD"[options.index(right)], explanation, area, level)

    # 1. Which class is this tea? (26)
    for tea, (cls, origin, level) in TEAS.items():
        choice(f"{tea}属于哪一类茶？", cls, list(CLASSES), f"{tea}产于{origin}，属{cls}。", "茶叶分类", level)
    # 2. Where does it grow? (26)
    for tea, (_cls, origin, level) in TEAS.items():
        choice(f"{tea}的主要产地是哪里？", origin, ORIGINS, f"{tea}产于{origin}。", "名茶知识", min(5, level + 1))
    # 3. Key steps, asked both ways (12)
    for cls, (step, why) in KEY_STEPS.items():
        choice(f"{cls}初制的关键工序是什么？", step, list(STEPS), f"{step}：{why}。", "加工工艺", 2)
    for cls, (step, why) in KEY_STEPS.items():
        others = [c for c in CLASSES if c != cls]
        choice(f"以“{step}”为关键工序的是哪类茶？", cls, [cls, *others], f"{step}：{why}。", "加工工艺", 3)
    # 4. Which of these teas is of the class? (12)
    for cls in CLASSES:
        members = [t for t, (c, _, _) in TEAS.items() if c == cls]
        strangers = [t for t, (c, _, _) in TEAS.items() if c != cls]
        for asked, right in zip((f"下列茶叶中属于{cls}的是哪一种？", f"以下哪一种茶是{cls}？"), rng.sample(members, 2)):
            wrong = rng.sample(strangers, 3)
            options = [right, *wrong]
            rng.shuffle(options)
            add("single", asked, options, "ABCD"[options.index(right)], f"{right}属{cls}。", "茶叶分类", 2)
    # 5. Terms and chemistry (10)
    for stem, term, distractors, explanation, area, level in TERMS:
        options = [term, *distractors]
        rng.shuffle(options)
        add("single", stem, options, "ABCD"[options.index(term)], explanation, area, level)
    # 6. Multiple choice: which teas are of the class (6), processing steps (3), factors (2), conduct (1) … (22)
    for cls in CLASSES:
        members = [t for t, (c, _, _) in TEAS.items() if c == cls]
        strangers = [t for t, (c, _, _) in TEAS.items() if c != cls]
        picked = rng.sample(members, min(len(members), rng.choice((2, 3))))
        options = picked + rng.sample(strangers, 5 - len(picked))
        rng.shuffle(options)
        letters = "".join(sorted("ABCDE"[options.index(r)] for r in picked))
        add(
            "multiple",
            f"下列茶叶中属于{cls}的有哪些？",
            options,
            letters,
            f"{'、'.join(picked)}属{cls}。",
            "茶叶分类",
            3,
        )
    multiples = (
        (
            "铁观音初制工序包括哪些？",
            ["晒青", "摇青", "杀青", "包揉"],
            ["渥堆", "闷黄"],
            "加工工艺",
            3,
            "铁观音：晒青、晾青、摇青、杀青、揉捻（包揉）、烘干。",
        ),
        (
            "外形审评的因子包括哪些？",
            ["嫩度", "形状", "色泽", "整碎", "净度"],
            ["汤色", "叶底"],
            "审评方法",
            2,
            "外形五因子。",
        ),
        ("内质审评的因子包括哪些？", ["汤色", "香气", "滋味", "叶底"], ["嫩度", "整碎"], "审评方法", 2, "内质四因子。"),
        (
            "审评室的要求包括哪些？",
            ["北向自然光", "无异味", "干燥清洁"],
            ["阳光直射", "靠近厨房"],
            "审评方法",
            2,
            "审评室应光线均匀、无异味、干燥清洁。",
        ),
        (
            "影响茶叶贮存品质的主要因素有哪些？",
            ["温度", "水分", "氧气", "光线"],
            ["包装颜色", "茶叶产地"],
            "贮存与安全",
            2,
            "温、湿、氧、光加速陈化。",
        ),
        (
            "评茶员的职业守则包括哪些？",
            ["忠于职守，爱岗敬业", "科学严谨，不断进取", "遵纪守法，讲究公德"],
            ["个人喜好优先", "只看包装定等级"],
            "职业道德",
            1,
            "评茶员职业守则。",
        ),
        (
            "红茶初制工序包括哪些？",
            ["萎凋", "揉捻", "发酵", "干燥"],
            ["杀青", "渥堆"],
            "加工工艺",
            2,
            "工夫红茶：萎凋、揉捻、发酵、干燥。",
        ),
        (
            "绿茶初制工序包括哪些？",
            ["杀青", "揉捻", "干燥"],
            ["发酵", "渥堆", "闷黄"],
            "加工工艺",
            2,
            "绿茶：杀青、揉捻、干燥。",
        ),
        (
            "茶汤的苦涩味主要与哪些物质有关？",
            ["茶多酚", "咖啡碱"],
            ["茶氨酸", "可溶性糖", "果胶"],
            "茶叶化学",
            3,
            "多酚类涩、咖啡碱苦。",
        ),
        (
            "描述香气的审评术语有哪些？",
            ["花香", "栗香", "清香"],
            ["红艳", "嫩匀", "紧结"],
            "审评术语",
            3,
            "红艳述汤色，嫩匀述叶底，紧结述外形。",
        ),
        (
            "描述汤色的审评术语有哪些？",
            ["橙黄明亮", "红艳", "嫩绿"],
            ["鲜爽", "醇厚", "紧结"],
            "审评术语",
            3,
            "鲜爽、醇厚述滋味；紧结述外形。",
        ),
        (
            "描述滋味的审评术语有哪些？",
            ["醇厚", "鲜爽", "回甘"],
            ["匀整", "油润", "明亮"],
            "审评术语",
            3,
            "匀整述外形，油润述色泽，明亮述汤色。",
        ),
        (
            "盖碗审评法适用于哪些茶？",
            ["铁观音", "大红袍", "凤凰单丛"],
            ["西湖龙井", "祁门红茶"],
            "审评方法",
            3,
            "盖碗法用于乌龙茶。",
        ),
        (
            "茶叶中的主要呈味物质有哪些？",
            ["茶多酚", "氨基酸", "咖啡碱", "可溶性糖"],
            ["叶绿素", "纤维素"],
            "茶叶化学",
            4,
            "叶绿素、纤维素不溶或不呈味。",
        ),
        (
            "造成茶叶异味的原因可能有哪些？",
            ["烟焦", "霉变", "吸附异味"],
            ["萎凋适度", "发酵充分"],
            "贮存与安全",
            3,
            "烟焦、霉变、吸附异味都是品质弊病。",
        ),
        (
            "评茶前应做到哪些？",
            ["不吸烟", "不用香水", "不吃刺激性食物"],
            ["多喝咖啡", "涂护手霜"],
            "职业道德",
            2,
            "避免气味与味觉干扰。",
        ),
    )
    for stem, rights, wrongs, area, level, explanation in multiples:
        options = [*rights, *wrongs]
        rng.shuffle(options)
        letters = "".join(sorted("ABCDEFGH"[options.index(r)] for r in rights))
        add("multiple", stem, options, letters, explanation, area, level)
    # 7. Factor weights of GB/T 23776-2018 (15 numeric) and the numeric facts (16)
    for cls, weights in WEIGHTS.items():
        for factor, weight in zip(FACTORS, weights):
            add(
                "numeric",
                f"按 GB/T 23776-2018，{cls}“{factor}”的评分系数是百分之多少？",
                [],
                str(weight),
                f"{cls}系数：" + "、".join(f"{f}{w}%" for f, w in zip(FACTORS, weights)) + "。",
                "审评方法",
                4,
            )
    for stem, answer, tolerance, explanation, area, level in NUMERIC:
        add("numeric", stem, [], answer, explanation, area, level)
        out[-1]["tolerance"] = tolerance
    # 8. True or false: the statements (28), and the tea classes stated rightly or wrongly (26)
    for statement, true, explanation, area, level in STATEMENTS:
        add("truefalse", statement, [], "T" if true else "F", explanation, area, level)
    for i, (tea, (cls, _origin, level)) in enumerate(TEAS.items()):
        stated = cls if i % 2 == 0 else rng.choice([c for c in CLASSES if c != cls])
        add(
            "truefalse", f"{tea}属于{stated}。", [], "T" if stated == cls else "F", f"{tea}属{cls}。", "茶叶分类", level
        )
    # 9. Where the tea grows, stated rightly or wrongly, until the bank holds 200
    for i, (tea, (_cls, origin, level)) in enumerate(TEAS.items()):
        if len(out) >= 200:
            break
        stated = origin if i % 2 else rng.choice([o for o in ORIGINS if o != origin])
        add(
            "truefalse",
            f"{tea}的主要产地是{stated}。",
            [],
            "T" if stated == origin else "F",
            f"{tea}产于{origin}。",
            "名茶知识",
            min(5, level + 1),
        )
    return out
