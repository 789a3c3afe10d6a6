"""A person at a tablet or a phone logs in and sees their home page."""

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def test_login_page_renders(page, live_server):
    page.goto(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("#username").is_visible()
    screenshot(page, "login")


def test_wrong_password_says_login_failed(page, live_server, make_user):
    make_user("organizer1", "organizer")
    page.goto(f"{live_server}/login")
    page.fill("#username", "organizer1")
    page.fill("#password", "wrong")
    page.click("#submit")
    assert page.locator(".flash-error").is_visible()
    screenshot(page, "login-failed")


@pytest.mark.parametrize("role", ["organizer", "judge", "worker"])
def test_each_role_reaches_its_home(page, live_server, make_user, make_competition, role):
    make_competition()
    make_user(f"{role}1", role)
    _login(page, live_server, f"{role}1")
    assert page.locator("h1").count() >= 1
    screenshot(page, f"home-{role}")


def test_organizer_results_page(page, live_server, make_user, make_competition):
    competition = make_competition()
    make_user("organizer1", "organizer")
    _login(page, live_server, "organizer1")
    page.goto(f"{live_server}/competitions/{competition.code}/results")
    assert page.locator("table").count() >= 1
    screenshot(page, "results")


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_header_never_scrolls_sideways(page, live_server, make_user, make_competition, locale):
    """English words are longer: at 1024 px the organizer's header once ran to 1,142 px."""
    make_competition()
    make_user("organizer1", "organizer", locale=locale, display_name="泉州市总工会技能竞赛部 林晓红")
    _login(page, live_server, "organizer1")
    for path in ("/", "/c/"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    screenshot(page, f"header-{locale}")
