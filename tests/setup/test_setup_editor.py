"""The scheme and rules editor over htmx: rows saved in place, errors inside the row, the preview."""

from __future__ import annotations

import html
import re

import pytest

from comp.extensions import db
from comp.services import setup
from comp.services.results import scheme_of


def text(response) -> str:
    """Return the answer's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def fragment(response) -> str:
    """Return an htmx answer's HTML after checking it is a fragment, not a page."""
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    return body


def row(prefix: str, **values) -> dict:
    """Return a row's form fields under its prefix."""
    return {f"{prefix}-{name}": value for name, value in values.items()}


def criterion_row(prefix: str, **values) -> dict:
    """Return a criterion row with sensible values, overridden."""
    data = {"key": "safety", "name": "安全操作", "kind": "score", "max_value": "10", "aggregation": "mean", "step": ""}
    return row(prefix, **(data | values))


@pytest.fixture()
def competition(make_competition):
    """Return the small imported competition, back in draft."""
    return make_competition(status="draft")


def url(competition, tail: str = "") -> str:
    """Return a URL under the competition."""
    return f"/competitions/{competition.code}{tail}"


def test_editor_page_shows_every_row_and_the_preview(browser, competition):
    page = text(browser.get(url(competition, "/edit")))
    assert page.count('class="scheme-row stage-row"') == 2 and page.count('class="scheme-row criterion-row"') == 3
    assert 'hx-trigger="scheme-changed from:body"' in page and 'id="preview-n"' in page
    assert 'id="rules"' in page and "stage:practical" in page


def test_save_a_stage_row_in_place(browser, competition):
    stage = competition.stages[0]
    response = browser.post(
        url(competition, f"/stages/{stage.id}"),
        row(f"stage-{stage.id}", key="theory", name="理论", weight="25"),
        htmx=True,
    )
    body = fragment(response)
    assert body.lstrip().startswith(f'<form id="stage-row-{stage.id}"') and 'value="25"' in body
    assert response.headers["HX-Trigger"] == "scheme-changed"
    assert scheme_of(competition).stages[0].weight == 25


@pytest.mark.parametrize("weight, message", [("-3", "must not be negative"), ("1.234", "more than 2 decimal places")])
def test_a_bad_stage_row_comes_back_with_its_error(browser, competition, weight, message):
    stage = competition.stages[0]
    response = browser.post(
        url(competition, f"/stages/{stage.id}"),
        row(f"stage-{stage.id}", key="theory", name="理论", weight=weight),
        htmx=True,
    )
    body = fragment(response)
    assert message in body and 'aria-invalid="true"' in body and "HX-Trigger" not in response.headers
    assert scheme_of(competition).stages[0].weight == 30


def test_a_duplicate_stage_key_is_refused_in_the_row(browser, competition):
    stage = competition.stages[0]
    body = fragment(
        browser.post(
            url(competition, f"/stages/{stage.id}"),
            row(f"stage-{stage.id}", key="practical", name="理论", weight="30"),
            htmx=True,
        )
    )
    assert "Another stage already has the key “practical”" in body


def test_add_a_stage_answers_with_the_whole_scheme(browser, competition):
    response = browser.post(
        url(competition, "/stages"), row("new-stage", key="interview", name="答辩", weight="10"), htmx=True
    )
    body = fragment(response)
    assert body.lstrip().startswith('<div id="scheme"') and 'value="interview"' in body
    assert response.headers["HX-Trigger"] == "scheme-changed"
    assert [s.key for s in scheme_of(competition).stages] == ["theory", "practical", "interview"]


def test_a_bad_new_stage_keeps_what_was_typed(browser, competition):
    body = fragment(
        browser.post(url(competition, "/stages"), row("new-stage", key="x y", name="答辩", weight="10"), htmx=True)
    )
    assert "The key is 1 to 32 letters" in body and 'value="x y"' in body


def test_add_a_criterion_answers_with_its_stage(browser, competition):
    practical = competition.stages[1]
    prefix = f"new-criterion-{practical.id}"
    response = browser.post(
        url(competition, f"/stages/{practical.id}/criteria"),
        criterion_row(prefix, key="tidy", max_value="5", step="1", fixed_scale="y"),
        htmx=True,
    )
    body = fragment(response)
    assert body.lstrip().startswith(f'<article id="stage-{practical.id}"') and 'value="tidy"' in body
    assert response.headers["HX-Trigger"] == "scheme-changed"
    assert scheme_of(competition).criterion("practical.tidy").step == 1


@pytest.mark.parametrize(
    "values, message",
    [
        ({"key": "route"}, "already has the key “route”"),
        ({"max_value": "0"}, "must be greater than 0"),
        ({"max_value": "12.345"}, "more than 2 decimal places"),
        ({"step": "-1"}, "must be greater than 0"),
        ({"fixed_scale": "y"}, "A fixed scale needs a step"),
    ],
)
def test_a_bad_criterion_comes_back_with_its_error(browser, competition, values, message):
    practical = competition.stages[1]
    prefix = f"new-criterion-{practical.id}"
    response = browser.post(
        url(competition, f"/stages/{practical.id}/criteria"), criterion_row(prefix, **values), htmx=True
    )
    body = fragment(response)
    assert message in body and "HX-Trigger" not in response.headers
    assert len(scheme_of(competition).stages[1].criteria) == 2


def test_a_trimmed_mean_dropping_two_marks_from_each_end(browser, competition):
    route = competition.stages[1].criteria[0]
    prefix = f"criterion-{route.id}"
    body = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"),
            criterion_row(prefix, key="route", aggregation="trimmed-2"),
            htmx=True,
        )
    )
    assert scheme_of(competition).criterion("practical.route").trim == 2
    assert re.search(r'<option selected value="trimmed-2">|<option value="trimmed-2" selected>', body)
    body = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"), criterion_row(prefix, key="route", aggregation="mean"), htmx=True
        )
    )
    assert scheme_of(competition).criterion("practical.route").trim == 1  # a mean drops nothing


def test_a_wider_trim_from_an_import_is_offered_as_it_is(browser, competition):
    route = competition.stages[1].criteria[0]
    route.aggregation, route.trim = "trimmed", 4
    db.session.commit()
    page = text(browser.get(url(competition, "/edit")))
    assert re.search(r'<option selected value="trimmed-4">|<option value="trimmed-4" selected>', page)


def test_a_judgement_scale_worth_points_and_a_signed_scale_in_the_editor(browser, competition):
    route = competition.stages[1].criteria[0]
    prefix = f"criterion-{route.id}"
    body = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"),
            criterion_row(prefix, key="route", max_value="3", step="1", worth="40"),
            htmx=True,
        )
    )
    rule = scheme_of(competition).criterion("practical.route")
    assert (rule.max, rule.low, rule.worth, rule.points) == (3, 0, 40, 40)
    assert re.search(rf'name="{prefix}-worth"[^>]*value="40"', body)
    body = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"),
            criterion_row(prefix, key="route", max_value="3", step="1", low_value="-3"),
            htmx=True,
        )
    )
    rule = scheme_of(competition).criterion("practical.route")
    assert (rule.low, rule.worth) == (-3, None)  # the points left empty: the top mark
    assert re.search(rf'name="{prefix}-low_value"[^>]*value="-3"', body)
    bad = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"),
            criterion_row(prefix, key="route", max_value="3", low_value="3"),
            htmx=True,
        )
    )
    assert "The lowest mark 3 must be below the maximum 3." in bad
    assert scheme_of(competition).criterion("practical.route").low == -3  # nothing of the refused row is kept


def test_save_a_criterion_row_in_place(browser, competition):
    route = competition.stages[1].criteria[0]
    prefix = f"criterion-{route.id}"
    response = browser.post(
        url(competition, f"/criteria/{route.id}"),
        criterion_row(prefix, key="route", name="航线", max_value="50", aggregation="median"),
        htmx=True,
    )
    body = fragment(response)
    assert body.lstrip().startswith(f'<form id="criterion-{route.id}"') and 'value="50"' in body
    assert scheme_of(competition).criterion("practical.route").aggregation == "median"
    bad = fragment(
        browser.post(url(competition, f"/criteria/{route.id}"), criterion_row(prefix, max_value="-1"), htmx=True)
    )
    assert "must be greater than 0" in bad and f'id="criterion-{route.id}"' in bad


def test_move_and_remove_rows(browser, competition):
    theory, practical = competition.stages
    body = fragment(browser.post(url(competition, f"/stages/{practical.id}/move"), {"offset": "-1"}, htmx=True))
    assert body.index('value="practical"') < body.index('value="theory"')
    route, safety = practical.criteria
    response = browser.post(url(competition, f"/criteria/{safety.id}/move"), {"offset": "-1"}, htmx=True)
    assert response.headers["HX-Trigger"] == "scheme-changed"
    assert [c.key for c in scheme_of(competition).criteria] == ["practical.safety", "practical.route", "theory.exam"]
    fragment(browser.post(url(competition, f"/criteria/{route.id}/remove"), htmx=True))
    fragment(browser.post(url(competition, f"/stages/{theory.id}/remove"), htmx=True))
    assert [c.key for c in scheme_of(competition).criteria] == ["practical.safety"]


def test_a_refused_removal_says_why_inside_the_stage(browser, competition):
    competition.rules = {"tiebreak": ["stage:practical", "criterion:practical.route"]}
    db.session.commit()
    practical = competition.stages[1]
    body = fragment(browser.post(url(competition, f"/criteria/{practical.criteria[0].id}/remove"), htmx=True))
    assert "The tie-break chain names “criterion:practical.route”" in body
    assert len(scheme_of(competition).stages[1].criteria) == 2


def test_a_plain_post_gets_the_page(browser, competition):
    stage = competition.stages[0]
    ok = browser.post(
        url(competition, f"/stages/{stage.id}"), row(f"stage-{stage.id}", key="theory", name="理论", weight="20")
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/edit#stage-{stage.id}")
    bad = browser.post(
        url(competition, f"/stages/{stage.id}"), row(f"stage-{stage.id}", key="theory", name="理论", weight="-1")
    )
    assert bad.status_code == 422 and "<html" in text(bad) and "must not be negative" in text(bad)


def test_once_running_the_editor_is_read_only_and_says_why(browser, make_competition):
    competition = make_competition(status="running")
    page = text(browser.get(url(competition, "/edit")))
    assert "cannot change once the competition is running" in page
    assert 'id="new-stage"' not in page and "disabled" in page and 'value="save"' not in page
    stage = competition.stages[0]
    body = fragment(
        browser.post(
            url(competition, f"/stages/{stage.id}"),
            row(f"stage-{stage.id}", key="theory", name="理论", weight="20"),
            htmx=True,
        )
    )
    assert "cannot change once the competition is running" in body
    assert scheme_of(competition).stages[0].weight == 30


def test_rows_of_another_competition_are_not_found(browser, competition, make_competition):
    other = make_competition(status="draft")
    stage = other.stages[0]
    response = browser.post(url(competition, f"/stages/{stage.id}"), row(f"stage-{stage.id}", key="x"), htmx=True)
    assert response.status_code == 404


# ---------------------------------------------------------------- rules


def rules_form(**overrides) -> dict:
    """Return the rules form as the browser posts it."""
    data = {
        "tiers-0-name": "一等奖",
        "tiers-0-share": "10",
        "tiers-1-name": "二等奖",
        "tiers-1-share": "20",
        "tiers-2-name": "三等奖",
        "tiers-2-share": "30",
        "award_min_total": "60",
        "tiebreak-0": "stage:practical",
        "tiebreak-1": "time",
        "team_counted": "3",
        "discrepancy_share": "20",
        "notice_days": "5",
        "action": "save",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_save_rules(browser, competition):
    response = browser.post(
        url(competition, "/rules"),
        rules_form(
            **{
                "tiers-0-share": "5",
                "tiebreak-0": "criterion:practical.route",
                "team_counted": "4",
                "discrepancy_share": "15",
                "notice_days": "7",
                "award_min_total": "55.5",
            }
        ),
        htmx=True,
    )
    body = fragment(response)
    assert "The rules were saved." in body and response.headers["HX-Trigger"] == "scheme-changed"
    assert competition.rules == {
        "award_tiers": [
            {"name": "一等奖", "share": "0.05"},
            {"name": "二等奖", "share": "0.2"},
            {"name": "三等奖", "share": "0.3"},
        ],
        "award_min_total": "55.5",
        "tiebreak": ["criterion:practical.route", "time"],
        "team_counted": 4,
        "discrepancy_share": "0.15",
        "notice_days": 7,
    }


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"tiers-2-share": "80"}, "The shares add up to 110 %, more than 100 %."),
        ({"tiers-1-share": "0"}, "Every share must be greater than 0 %."),
        ({"tiers-1-name": ""}, "Every award tier needs a name and a figure."),
        ({"tiebreak-0": "stage:nowhere"}, "there is no stage “nowhere”"),
        ({"tiebreak-1": "stage:practical"}, "appears more than once"),
        ({"tiers-1-name": "一等奖"}, "appears more than once"),
        ({"discrepancy_share": "0"}, "The discrepancy flag must be above 0 %."),
        ({"team_counted": "0"}, "Number must be at least 1"),
    ],
)
def test_bad_rules_are_refused_next_to_their_field(browser, competition, overrides, message):
    response = browser.post(url(competition, "/rules"), rules_form(**overrides), htmx=True)
    body = fragment(response)
    assert message in body and "HX-Trigger" not in response.headers
    assert competition.rules == {}


def test_the_tiebreak_error_sits_in_its_row(browser, competition):
    body = fragment(browser.post(url(competition, "/rules"), rules_form(**{"tiebreak-1": "stage:gone"}), htmx=True))
    rows = re.findall(r'<li class="list-row">.*?</li>', body, re.DOTALL)
    assert "no stage “gone”" in rows[1] and "no stage" not in rows[0]


def test_add_and_remove_tiers_without_saving(browser, competition):
    body = fragment(browser.post(url(competition, "/rules"), rules_form(action="add-tier"), htmx=True))
    assert body.count('class="list-row tier-row"') == 4 and "HX-Trigger" not in body
    body = fragment(browser.post(url(competition, "/rules"), rules_form(action="remove-tier-0"), htmx=True))
    assert body.count('class="list-row tier-row"') == 2 and "一等奖" not in body
    body = fragment(browser.post(url(competition, "/rules"), rules_form(action="add-tiebreak"), htmx=True))
    assert body.count('<li class="list-row">') == 3
    assert competition.rules == {}


def test_recusal_by_declared_conflicts_only(browser, competition):
    page = text(browser.get(url(competition, "/edit")))
    box = re.search(r'<input[^>]*name="declared_only"[^>]*>', page)[0]
    assert "checked" not in box  # by default a judge marks no entrant of their own employer
    body = fragment(browser.post(url(competition, "/rules"), rules_form(declared_only="y"), htmx=True))
    assert "The rules were saved." in body and competition.rules["recusal"] == "declared"
    assert "checked" in re.search(r'<input[^>]*name="declared_only"[^>]*>', body)[0]
    browser.post(url(competition, "/rules"), rules_form(), htmx=True)  # unticked: back to the default
    assert "recusal" not in competition.rules


def test_every_criterion_kept_to_two_decimal_places(browser, competition):
    page = text(browser.get(url(competition, "/edit")))
    assert re.search(r'<option selected value="">exact|<option value="" selected>exact', page)
    body = fragment(browser.post(url(competition, "/rules"), rules_form(criterion_places="2"), htmx=True))
    assert "The rules were saved." in body and competition.rules["criterion_places"] == 2
    assert re.search(r'<option selected value="2">|<option value="2" selected>', body)
    browser.post(url(competition, "/rules"), rules_form(), htmx=True)  # exact again: the key goes
    assert "criterion_places" not in competition.rules
    # An imported 3 or 4 is offered as it is, so saving another rule keeps it.
    competition.rules = {"criterion_places": 3}
    db.session.commit()
    page = text(browser.get(url(competition, "/edit")))
    assert re.search(r'<option selected value="3">|<option value="3" selected>', page)
    browser.post(url(competition, "/rules"), rules_form(criterion_places="3", notice_days="7"), htmx=True)
    assert competition.rules["criterion_places"] == 3 and competition.rules["notice_days"] == 7


def _places(**overrides) -> dict:
    """Return the rules form with tiers by fixed number of places: 一等奖 1 名, 二等奖 3 名, 三等奖 6 名."""
    data = rules_form(
        **{"measure": "count", "tiers-0-count": "1", "tiers-1-count": "3", "tiers-2-count": "6"},
        **{f"tiers-{i}-share": None for i in range(3)},
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_tiers_by_a_fixed_number_of_places(browser, competition):
    switched = fragment(
        browser.post(url(competition, "/rules"), rules_form(action="measure", measure="count"), htmx=True)
    )
    assert 'name="tiers-0-count"' in switched and 'name="tiers-0-share"' not in switched
    assert "(by a fixed number of places)" in switched and competition.rules == {}
    select = re.search(r'<select[^>]*id="measure"[^>]*>', switched)[0]
    assert 'hx-post="/competitions/' in select and 'hx-trigger="change"' in select
    body = fragment(browser.post(url(competition, "/rules"), _places(), htmx=True))
    assert "The rules were saved." in body
    assert competition.rules["award_tiers"] == [
        {"name": "一等奖", "count": 1},
        {"name": "二等奖", "count": 3},
        {"name": "三等奖", "count": 6},
    ]
    page = text(browser.get(url(competition, "/edit")))
    assert re.search(r'<option selected value="count">|<option value="count" selected>', page)
    assert re.search(r'name="tiers-1-count"[^>]*value="3"', page) and 'name="tiers-1-share"' not in page
    preview = fragment(browser.get(url(competition, "/preview?n=8"), htmx=True))
    # Eight ranked entrants: 1 + 3, and the last tier gets what is left of its 6 places.
    assert re.findall(r'<td class="num" data-cutoff="(\d+)"><strong>(\d+)</strong>', preview) == [
        ("1", "1"),
        ("4", "3"),
        ("10", "4"),
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"tiers-1-count": ""}, "Every award tier needs a name and a figure."),
        ({"tiers-1-count": "0"}, "Number must be at least 1"),
        ({"tiers-1-count": "2.5"}, "Not a valid integer value."),
    ],
)
def test_bad_numbers_of_places_are_refused(browser, competition, overrides, message):
    body = fragment(browser.post(url(competition, "/rules"), _places(**overrides), htmx=True))
    assert message in body and competition.rules == {}


def test_rating_rules_take_minima(browser, organizer, tree):
    rating = setup.create_competition(
        {
            "code": "R-2027",
            "name": "2027年创新工作室评定",
            "kind": "rating",
            "unit_kind": "studio",
            "level": "city",
            "year": 2027,
            "organizer_unit_id": tree["city"].id,
        },
        organizer,
    )
    page = text(browser.get(url(rating, "/edit")))
    assert "五星" in page and 'name="tiers-0-min"' in page and 'name="tiers-0-share"' not in page
    data = {
        "tiers-0-name": "五星",
        "tiers-0-min": "85",
        "tiers-1-name": "四星",
        "tiers-1-min": "90",
        "award_min_total": "60",
        "team_counted": "3",
        "discrepancy_share": "20",
        "notice_days": "5",
    }
    body = fragment(browser.post(url(rating, "/rules"), data, htmx=True))
    assert "the minimum 90 must be below the tier above it (85)" in body


# ---------------------------------------------------------------- preview


def test_preview_counts_awards_for_n_entrants(browser, competition):
    body = fragment(browser.get(url(competition, "/preview?n=25"), htmx=True))
    counts = re.findall(r'<td class="num" data-cutoff="(\d+)"><strong>(\d+)</strong>', body)
    assert counts == [("3", "3"), ("8", "5"), ("15", "7")]
    assert "30 %" in body and "70 %" in body and 'id="weight-total">100<' in body


def test_preview_follows_saved_rules_and_weights(browser, competition):
    browser.post(
        url(competition, "/rules"),
        rules_form(**{"tiers-0-share": "20", "tiers-1-share": "30", "tiers-2-share": "50"}),
        htmx=True,
    )
    theory = competition.stages[0]
    browser.post(
        url(competition, f"/stages/{theory.id}"),
        row(f"stage-{theory.id}", key="theory", name="理论", weight="10"),
        htmx=True,
    )
    body = fragment(browser.get(url(competition, "/preview?n=10"), htmx=True))
    assert re.findall(r"<strong>(\d+)</strong>", body) == ["2", "3", "5"]
    assert "12.5 %" in body and "87.5 %" in body


def test_preview_of_a_bad_n_uses_the_default(browser, competition):
    body = fragment(browser.get(url(competition, "/preview?n=lots"), htmx=True))
    assert 'data-entrants="50"' in body
