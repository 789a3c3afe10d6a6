"""An organizer creates a rating campaign and nominates two units in the browser."""

import pytest

from comp.extensions import db
from comp.models import OrgUnit
from comp.models.rating import Unit
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def _world(make_user) -> None:
    city = OrgUnit(kind="city", name="泉州市总工会")
    county = OrgUnit(kind="county", name="泉港区总工会", parent=city)
    petro = OrgUnit(kind="enterprise", name="泉港石化公司", parent=county)
    db.session.add_all(
        [
            city,
            county,
            petro,
            Unit(kind="team", name="裂解车间一班", enterprise=petro),
            Unit(kind="team", name="聚丙烯车间三班", enterprise=petro),
            Unit(kind="team", name="储运部安全班组", enterprise=petro),
            Unit(kind="studio", name="陈明创新工作室", enterprise=petro),
        ]
    )
    db.session.commit()
    make_user("organizer1", "organizer", org_unit_id=city.id)


def test_organizer_creates_a_rating_and_nominates_two_teams(page, live_server, make_user):
    _world(make_user)
    page.goto(f"{live_server}/login")
    page.fill("#username", "organizer1")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/competitions/ratings/new")
    year = page.input_value("#year")
    assert page.input_value("#code") == f"RT-{year}-TEAM"
    page.select_option("#unit_kind", "studio")
    assert page.input_value("#code") == f"RT-{year}-STUDIO"  # the suggested code follows the rated units
    page.select_option("#unit_kind", "team")
    page.fill("#code", "QZ-2026-TEAM")
    page.select_option("#unit_kind", "studio")
    assert page.input_value("#code") == "QZ-2026-TEAM"  # a code one typed stays
    page.select_option("#unit_kind", "team")
    page.select_option("#organizer_unit_id", label="泉州市总工会")
    screenshot(page, "ratings-new")
    page.locator("form.rating-form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/competitions/QZ-2026-TEAM/edit")
    assert page.locator("input[value='和谐型']").count() == 1

    page.goto(f"{live_server}/competitions/QZ-2026-TEAM/nominations")
    assert page.locator("#nominations").get_by_text("陈明创新工作室").count() == 0
    page.fill("#unit-query", "车间")
    page.locator(".unit-choice", has_text="储运部安全班组").wait_for(state="detached")
    url = page.url
    page.locator(".unit-choice", has_text="裂解车间一班").click()
    page.locator(".unit-choice", has_text="聚丙烯车间三班").click()
    screenshot(page, "ratings-choose")
    page.locator("form.nominate-form button[type=submit]").click()
    page.locator("#nominations .flash-success").wait_for()
    rows = page.locator(".nominated-table tbody tr")
    assert rows.count() == 2 and "U0001" in rows.first.inner_text()
    assert page.url == url  # htmx swapped the list in place
    screenshot(page, "ratings-nominations")
