"""The worker's phone: "my entries" as readable cards, and her own result page (issue 15, finding 8)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant
from tests.certs.conftest import issued, published  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.registration.conftest import open_competition, tree  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

LONG_NAME = "2026年泉州市民用无人机驾驶员职工职业技能竞赛（决赛）"


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def _no_sideways_scroll(page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: {width} px wide in a {inner} px window"


def test_my_entries_on_a_phone(page, live_server, issued, open_competition, make_user):  # noqa: F811
    competition, certificates = issued(5, name=LONG_NAME)
    first = db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.ref == "E1"))
    # She has also entered a competition still taking registrations, and waits for its approval.
    upcoming = open_competition()
    upcoming.name = "2026年晋江市电工职工技能竞赛暨第三届工匠选拔赛"
    pending = Entrant(
        competition_id=upcoming.id,
        ref="R0001",
        type="person",
        worker_id=first.worker_id,
        name=first.name,
        status="pending",
        employer_id=first.employer_id,
    )
    db.session.add(pending)
    make_user("phone-worker", "worker", worker_id=first.worker_id, display_name=first.name)
    db.session.commit()

    _login(page, live_server, "phone-worker")
    cards = page.locator(".my-entries > li")
    assert cards.count() == 2
    _no_sideways_scroll(page)
    inner = page.evaluate("window.innerWidth")
    for name in (LONG_NAME, upcoming.name):
        link = page.locator(".my-entry-name", has_text=name)
        box = link.bounding_box()
        size = float(link.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        # Not squeezed into a narrow column: the name gets most of the width, a dozen characters a line at least.
        assert box["width"] >= 0.7 * min(inner, 600) and box["width"] / size >= 12, (name, box, size)
        assert box["height"] >= 44
    card = page.locator(f"#entry-{first.id}")
    assert card.locator(".award").is_visible() and "1" in card.locator(".my-rank").inner_text()
    assert card.locator("a[href^='/my/certificates/']").is_visible()
    assert page.locator(f"#entry-{pending.id} .status").inner_text() == "待审核"
    assert page.locator(f"a[href='/competitions/{competition.code}/results']").count() == 0
    screenshot(page, "worker-my-entries")

    page.locator(f"#entry-{first.id} .my-entry-name").click()
    page.wait_for_url(f"{live_server}/my/entries/{first.id}")
    assert page.locator("#my-rank").inner_text() == "1"
    assert page.locator("#my-certificate").is_visible()
    assert page.locator("#my-certificate").bounding_box()["height"] >= 44
    _no_sideways_scroll(page)
    screenshot(page, "worker-my-result")

    page.goto(f"{live_server}/my/entries/{pending.id}")
    assert "等待组委会审核" in page.locator("#my-status").inner_text()
    _no_sideways_scroll(page)
    screenshot(page, "worker-my-entry-pending")
