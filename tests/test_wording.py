"""The engine speaks in codes; the application words every one of them, in Chinese first."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from flask_babel import force_locale

from comp import scoring
from comp.scoring import Criterion, Scheme, Stage
from comp.services.common import wording

SCORING = Path(scoring.__file__).parent
# Every way the engine names a problem: ("path", "code", {...}) or MarkError("code", ...).
EMITTED = re.compile(r'\(\s*[^()]*?,\s*f?"([a-z_{}.]+)",\s*\{|MarkError\("([a-z_]+)"')
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _codes() -> set[str]:
    found: set[str] = set()
    for module in SCORING.glob("*.py"):
        for tuple_code, mark_code in EMITTED.findall(module.read_text(encoding="utf-8")):
            found.add(tuple_code or mark_code)
    # An f-string code (tiebreak_no_{kind}) stands for one code per kind the chain knows.
    for code in [c for c in found if "{" in c]:
        found.remove(code)
        found.update(code.replace("{parsed.kind}", kind) for kind in ("stage", "criterion"))
    return found


def test_the_scan_finds_the_engines_codes():
    codes = _codes()
    assert {"no_stages", "min_order", "above_maximum", "tiebreak_no_criterion", "places_order"} <= codes
    assert len(codes) > 40


@pytest.mark.parametrize("code", sorted(_codes()))
def test_every_engine_code_is_worded_in_both_languages(app, code):
    assert code in wording.MESSAGES, f"{code} has no sentence in comp/services/common/wording.py"
    params = dict.fromkeys(re.findall(r"%\((\w+)\)s", str(wording.MESSAGES[code]._args[0])), D("1"))
    with force_locale("zh"):
        chinese = wording.message(code, params)
    with force_locale("en"):
        english = wording.message(code, params)
    assert chinese != english, f"{code} is not translated into Chinese"
    assert not LATIN_WORD.search(chinese), chinese


def test_a_path_is_worded_with_the_schemes_own_names(app):
    scheme = Scheme((Stage("theory", "理论知识", D("30"), (Criterion("theory.paper", "笔试", D("100")),)),))
    with force_locale("zh"):
        assert wording.place("stages[0].criteria[0].max", scheme) == "赛段“理论知识” › 评分项“笔试” › 满分"
        assert wording.place("rules.award_tiers[1].min") == "第 2 个奖项等级 › 最低总成绩"
        assert wording.place("stages[3].weight", scheme) == "第 4 个赛段 › 权重"
    with force_locale("en"):
        assert wording.place("stages[0].criteria[0].max", scheme) == "stage “理论知识” › criterion “笔试” › maximum"


def test_decimals_are_shown_as_the_organizer_wrote_them_and_none_as_a_dash(app):
    with force_locale("en"):
        assert wording.message("above_maximum", {"value": D("45"), "max": D("40.00")}) == "45 is above the maximum 40"
        assert wording.message("out_of_range", {"low": 1, "high": None}) == "must be between 1 and —"
    assert wording.message("a_code_not_worded_yet", {}) == "a_code_not_worded_yet"


def test_the_scheme_problems_an_organizer_sees_are_chinese(app, make_user, tree):
    from comp.services import setup
    from comp.services.setup import lifecycle, scheme

    organizer = make_user("org-zh", "organizer", org_unit_id=tree.city.id)
    draft = setup.create_competition(
        {
            "code": "T-2026-ZH",
            "name": "2026年泉州市茶艺师职工技能竞赛",
            "kind": "competition",
            "level": "city",
            "year": 2026,
            "organizer_unit_id": tree.city.id,
        },
        organizer,
    )
    practical = scheme.add_stage(draft, {"key": "practical", "name": "实操", "weight": "70"}, organizer)
    scheme.add_criterion(
        practical, {"key": "tea", "name": "冲泡", "max_value": "100", "kind": "score", "aggregation": "mean"}, organizer
    )
    scheme.add_stage(draft, {"key": "theory", "name": "理论", "weight": "30"}, organizer)
    with force_locale("zh"):
        problems = lifecycle.scheme_problems(draft)
    assert problems == ["赛段“理论” › 评分项：每个赛段至少需要一个得分类评分项"]
