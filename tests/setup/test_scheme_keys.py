"""Keys left empty in the scheme editor are made from the name (issue 15, finding 12), and explained."""

from __future__ import annotations

import html

import pytest

from comp.blueprints.setup.scheme import generated_key
from comp.services.results import scheme_of
from tests.setup.test_setup_editor import criterion_row, fragment, row, url


@pytest.fixture()
def competition(make_competition):
    """Return the small imported competition, back in draft."""
    return make_competition(status="draft")


@pytest.mark.parametrize(
    ("name", "taken", "prefix", "key"),
    [
        ("理论知识", [], "s", "s1"),
        ("航线飞行", ["c1", "c2"], "c", "c3"),
        ("航线飞行", ["c1", "c3"], "c", "c2"),
        ("CAD 制图", [], "c", "cad"),
        ("Practical exam", [], "s", "practical-exam"),
        ("Theory", ["theory"], "s", "theory-2"),
        ("Theory", ["Theory", "theory-2"], "s", "theory-3"),
        ("第2项", [], "c", "c1"),  # digits alone are no name
        ("A" * 40, [], "c", "a" * 32),
    ],
)
def test_generated_key(name, taken, prefix, key):
    assert generated_key(name, taken, prefix) == key


def test_a_new_criterion_without_a_key_gets_one_unique_in_the_competition(browser, competition):
    stage = competition.stages[0]
    prefix = f"new-criterion-{stage.id}"
    body = fragment(
        browser.post(url(competition, f"/stages/{stage.id}/criteria"), criterion_row(prefix, key=""), htmx=True)
    )
    assert 'value="c1"' in body
    # The next one, in the other stage, does not repeat it even though keys need only differ within a stage.
    other = competition.stages[1]
    prefix = f"new-criterion-{other.id}"
    browser.post(
        url(competition, f"/stages/{other.id}/criteria"), criterion_row(prefix, key="  ", name="动作"), htmx=True
    )
    keys = [c.key for c in scheme_of(competition).criteria]
    assert "theory.c1" in keys and "practical.c2" in keys


def test_a_new_stage_without_a_key_takes_the_latin_words_of_its_name(browser, competition):
    body = fragment(
        browser.post(
            url(competition, "/stages"), row("new-stage", key="", name="Interview 答辩", weight="10"), htmx=True
        )
    )
    assert 'value="interview"' in body
    assert [s.key for s in scheme_of(competition).stages] == ["theory", "practical", "interview"]


def test_a_saved_row_emptied_of_its_key_keeps_it(browser, competition):
    stage = competition.stages[0]
    browser.post(
        url(competition, f"/stages/{stage.id}"), row(f"stage-{stage.id}", key="", name="理论", weight="25"), htmx=True
    )
    assert [s.key for s in scheme_of(competition).stages][0] == "theory"
    assert scheme_of(competition).stages[0].name == "理论"


def test_a_key_still_has_to_be_valid_when_given(browser, competition):
    body = fragment(
        browser.post(url(competition, "/stages"), row("new-stage", key="x y", name="答辩", weight="10"), htmx=True)
    )
    assert "The key is 1 to 32 letters" in body


def test_the_editor_explains_the_key_and_the_fixed_scale(browser, competition):
    page = html.unescape(browser.get(url(competition, "/edit")).get_data(as_text=True))
    assert "exchange files and the tie-break rules" in page
    assert "Judges tap one of the marks from 0 to the maximum" in page
    assert 'placeholder="auto"' in page
    # One head of columns per stage; each field keeps its own label.
    assert page.count('class="criteria-head"') == 2
    assert page.count('<span class="label-text">Key</span>') == 2 + 3 + 2 + 1  # stages, criteria, new rows
