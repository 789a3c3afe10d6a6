"""An organizer sets up a competition in the browser: details, scheme in place, rules, opening."""

import pytest

from comp.extensions import db
from comp.models import OrgUnit
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _add_stage(page, key: str, name: str, weight: str) -> None:
    page.fill("#new-stage-key", key)
    page.fill("#new-stage-name", name)
    page.fill("#new-stage-weight", weight)
    page.locator("#new-stage button[type=submit]").click()
    page.locator(f"form.stage-row input[value='{key}']").wait_for()


def _add_criterion(page, stage: str, key: str, name: str, maximum: str, aggregation: str) -> None:
    form = page.locator("article.stage", has=page.locator(f"input[value='{stage}']")).locator("form.new-row")
    form.locator("input[name$='-key']").fill(key)
    form.locator("input[name$='-name']").fill(name)
    form.locator("input[name$='-max_value']").fill(maximum)
    form.locator("select[name$='-aggregation']").select_option(aggregation)
    form.locator("button[type=submit]").click()
    page.locator(f"form.criterion-row:not(.new-row) input[value='{key}']").wait_for()


def test_organizer_sets_up_and_opens_a_competition(page, live_server, make_user):
    city = OrgUnit(kind="city", name="泉州市总工会")
    db.session.add(city)
    db.session.commit()
    make_user("organizer1", "organizer", org_unit_id=city.id)
    _login(page, live_server, "organizer1")

    page.click("a[href='/competitions/new']")
    page.fill("#code", "QZ-2027-TEA")
    page.fill("#name", "2027年泉州市评茶师职工技能竞赛")
    page.fill("#year", "2027")
    page.fill("#trade", "评茶师")
    page.select_option("#organizer_unit_id", label="泉州市总工会")
    page.fill("#trades", "评茶师, 茶艺师")
    screenshot(page, "setup-new")
    page.locator("form.details-form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/competitions/QZ-2027-TEA")
    assert page.locator(".status-draft").first.is_visible()

    page.goto(f"{live_server}/competitions/QZ-2027-TEA/edit")
    editor_url = page.url
    page.evaluate("window.notReloaded = true")
    _add_stage(page, "practical", "实际操作", "70")
    _add_criterion(page, "practical", "taste", "感官审评", "40", "trimmed")
    _add_criterion(page, "practical", "brew", "冲泡规范", "10", "mean")
    assert page.url == editor_url and page.evaluate("window.notReloaded") is True
    assert page.locator("form.criterion-row:not(.new-row)").count() == 2

    _add_stage(page, "theory", "理论知识", "30")
    _add_criterion(page, "theory", "exam", "理论考试", "100", "single")
    shares = page.locator("#weight-shares")
    shares.get_by_text("30 %").wait_for()  # the preview recomputed the shares: 70 + 30
    assert "70 %" in shares.inner_text() and page.locator("#weight-total").inner_text() == "100"

    page.fill("#preview-n", "25")
    page.locator("#preview-body[data-entrants='25']").wait_for()
    counts = page.locator("#award-counts tbody td:last-child").all_inner_texts()
    assert counts == ["3", "5", "7"]
    assert page.url == editor_url and page.evaluate("window.notReloaded") is True

    page.fill("#award_min_total", "55")
    page.locator("#rules button[value=save]").click()
    page.locator("#rules .flash-success").wait_for()
    screenshot(page, "setup-editor")

    page.goto(f"{live_server}/competitions/QZ-2027-TEA")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("button[value=open]").click()  # dismissed: nothing happens
    assert asked == ["开放报名？职工和企业从现在起即可报名。"]
    assert page.locator(".flash-success").count() == 0 and page.locator("button[value=open]").is_enabled()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("button[value=open]").click()
    page.locator(".flash-success").wait_for()
    assert page.locator(".status-open").first.is_visible()
    screenshot(page, "setup-overview")


def test_refused_row_shows_its_error_in_place(page, live_server, make_user, make_competition):
    competition = make_competition(status="draft")
    make_user("organizer1", "organizer")
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{competition.code}/edit")
    row = page.locator("form.criterion-row:not(.new-row)").first
    row.locator("input[name$='-max_value']").fill("10.555")
    row.locator("button[type=submit]").first.click()
    error = page.locator("form.criterion-row .field-error").first
    error.wait_for()
    assert "10.555" in error.inner_text()
    screenshot(page, "setup-editor-error")


def test_awards_by_a_fixed_number_of_places(page, live_server, make_user, make_competition):
    # A county notice: 一等奖1名、二等奖3名、三等奖6名. Choosing "by a fixed number of places" swaps the fields.
    competition = make_competition(status="draft")
    make_user("organizer1", "organizer")
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{competition.code}/edit")
    page.evaluate("window.notReloaded = true")
    page.select_option("#measure", "count")
    page.locator("#rules input[name='tiers-0-count']").wait_for()
    assert page.locator("#rules input[name$='-share']").count() == 0
    for index, places in enumerate(("1", "3", "6")):
        page.fill(f"#rules input[name='tiers-{index}-count']", places)
    page.locator("#rules button[value=save]").click()
    page.locator("#rules .flash-success").wait_for()
    page.fill("#preview-n", "8")
    page.locator("#preview-body[data-entrants='8']").wait_for()
    assert page.locator("#award-counts tbody td:last-child").all_inner_texts() == ["1", "3", "4"]
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "setup-award-places")
