"""The editor for issue 17's rules: stages of attempts, factored criteria, totals in raw points."""

from __future__ import annotations

import re

import pytest

from comp.services.results import scheme_of
from tests.setup.test_setup_editor import criterion_row, fragment, row, rules_form, text, url


@pytest.fixture()
def competition(make_competition):
    """Return the small imported competition, back in draft."""
    return make_competition(status="draft")


def practical(competition):
    return next(s for s in competition.stages if s.key == "practical")


def test_a_stage_counts_its_best_attempts(browser, competition):
    stage = practical(competition)
    prefix = f"stage-{stage.id}"
    body = fragment(
        browser.post(
            url(competition, f"/stages/{stage.id}"),
            row(prefix, key="practical", name="实操", weight="70", best="1"),
            htmx=True,
        )
    )
    assert re.search(rf'name="{prefix}-best"[^>]*value="1"', body)
    assert scheme_of(competition).stage("practical").best == 1
    page = text(browser.get(url(competition, "/edit")))
    assert 'value="attempts:practical"' in page  # offered in the tie-break chain


@pytest.mark.parametrize("best, message", [("9", "cannot count the best 9"), ("0", "Count the best 1 or more")])
def test_a_best_count_the_stage_cannot_give_is_refused(browser, competition, best, message):
    stage = practical(competition)
    prefix = f"stage-{stage.id}"
    body = fragment(
        browser.post(
            url(competition, f"/stages/{stage.id}"),
            row(prefix, key="practical", name="实操", weight="70", best=best),
            htmx=True,
        )
    )
    assert message in body and scheme_of(competition).stage("practical").best is None


def test_a_best_count_named_by_the_tiebreak_stays(browser, competition):
    stage = practical(competition)
    prefix = f"stage-{stage.id}"
    values = row(prefix, key="practical", name="实操", weight="70", best="1")
    browser.post(url(competition, f"/stages/{stage.id}"), values, htmx=True)
    saved = fragment(
        browser.post(url(competition, "/rules"), rules_form(**{"tiebreak-0": "attempts:practical"}), htmx=True)
    )
    assert "The rules were saved." in saved
    values[f"{prefix}-best"] = ""
    body = fragment(browser.post(url(competition, f"/stages/{stage.id}"), values, htmx=True))
    assert "attempts:practical" in body and scheme_of(competition).stage("practical").best == 1


def test_a_criterion_multiplied_by_each_entrants_factor(browser, competition):
    route = practical(competition).criteria[0]
    prefix = f"criterion-{route.id}"
    body = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"), criterion_row(prefix, key="route", factored="y"), htmx=True
        )
    )
    assert re.search(rf'name="{prefix}-factored"[^>]*checked|checked[^>]*name="{prefix}-factored"', body)
    assert scheme_of(competition).criterion("practical.route").factored is True
    bad = fragment(
        browser.post(
            url(competition, f"/criteria/{route.id}"),
            criterion_row(prefix, key="route", kind="deduction", factored="y"),
            htmx=True,
        )
    )
    assert (
        "Only a score criterion is multiplied" in bad
        and scheme_of(competition).criterion("practical.route").kind == "score"
    )


def test_totals_in_raw_points_and_an_award_minimum_above_100(browser, competition):
    body = fragment(
        browser.post(url(competition, "/rules"), rules_form(total="points", award_min_total="500"), htmx=True)
    )
    assert "The rules were saved." in body
    assert competition.rules["total"] == "points" and competition.rules["award_min_total"] == "500"
    assert re.search(r'<option selected value="points">|<option value="points" selected>', body)
    refused = fragment(browser.post(url(competition, "/rules"), rules_form(award_min_total="500"), htmx=True))
    assert "at most 100" in refused and competition.rules["total"] == "points"
    browser.post(url(competition, "/rules"), rules_form(), htmx=True)  # out of 100 again: the key goes
    assert "total" not in competition.rules
