"""A worker registers in the browser; an organizer takes 200 registrations from a sheet and approves them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import Entrant
from tests.conftest import PASSWORD, valid_id
from tests.e2e.conftest import screenshot
from tests.registration.conftest import (  # noqa: F401 (fixtures)
    make_worker_account,
    open_competition,
    organizer_of,
    person,
    sheet,
    tree,
)

pytestmark = pytest.mark.e2e


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/")


def statuses(competition) -> dict[str, int]:
    """Count the competition's entrants by status."""
    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(Entrant.status, sa.func.count())
            .where(Entrant.competition_id == competition.id)
            .group_by(Entrant.status)
        ).all()
    )


def test_worker_registers_and_sees_pending(page, live_server, open_competition, make_worker_account):  # noqa: F811
    competition = open_competition(capacity=60, eligibility={"min_grade": 3, "age_min": 18, "age_max": 60})
    user = make_worker_account("w1", 1)
    user.locale = None  # the browser's Chinese
    db.session.commit()
    _login(page, live_server, "w1")
    screenshot(page, "registration-worker-home-open")
    page.click(f"a[href='/competitions/{competition.code}/register']")
    page.wait_for_selector("#register")
    screenshot(page, "registration-register")
    page.click("#register")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("span.status.entrant-pending").first.is_visible()
    assert page.locator(".my-entries > li", has_text=competition.name).is_visible()
    screenshot(page, "registration-worker-home-pending")
    assert statuses(competition) == {"pending": 1}

    masters = open_competition(eligibility={"min_grade": 1, "trades": ["评茶师"]})
    page.goto(f"{live_server}/competitions/{masters.code}/register")
    assert page.locator(".reg-refused li").count() == 2 and page.locator("#register").count() == 0
    screenshot(page, "registration-refused")


def test_new_worker_gives_details_then_registers(page, live_server, open_competition, make_user, tree):  # noqa: F811
    competition = open_competition()
    make_user("w2", "worker")
    _login(page, live_server, "w2")
    page.goto(f"{live_server}/competitions/{competition.code}/register")
    page.fill("#name", "陈晓东")
    page.fill("#id_number", valid_id(5)[:-1] + ("0" if valid_id(5)[-1] != "0" else "1"))
    page.fill("#phone", "13900000005")
    page.select_option("#employer", label="晋江翔鹭航空科技有限公司")
    page.fill("#trade", "无人机驾驶员")
    page.select_option("#grade", "3")
    page.click("#submit")
    assert page.locator("#id_number[aria-invalid=true]").is_visible()
    screenshot(page, "registration-profile-error")
    page.fill("#id_number", valid_id(5))
    page.click("#submit")
    page.click("#register")
    page.wait_for_url(f"{live_server}/")
    assert statuses(competition) == {"pending": 1}


def two_hundred_rows(path) -> None:
    """Write a 200-row sheet with 3 bad rows: a wrong check digit, a missing name, an unknown employer."""
    rows = [person(n) for n in range(1, 201)]
    good = valid_id(50)
    rows[49][1] = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows[99][0] = None
    rows[149][3] = "不存在的公司"
    path.write_bytes(sheet(rows))


def test_organizer_imports_200_rows_and_approves_them(
    page,
    live_server,
    open_competition,  # noqa: F811
    make_user,
    tree,  # noqa: F811
    tmp_path,
):
    competition = open_competition(capacity=300)
    user = organizer_of(make_user, tree.city)
    user.locale = None
    db.session.commit()
    path = tmp_path / "报名表.xlsx"
    two_hundred_rows(path)
    _login(page, live_server, "organizer")
    page.goto(f"{live_server}/competitions/{competition.code}/registrations/upload")
    screenshot(page, "registration-upload")
    page.set_input_files("input[type=file]", str(path))
    page.click("input[type=submit][name=submit]")
    page.wait_for_url("**/upload/*")
    problems = page.locator("table.reg-problems tbody tr")
    assert problems.count() == 3
    assert [problems.nth(i).locator("td").first.inner_text() for i in range(3)] == ["51", "101", "151"]
    assert page.locator("button[value=all]").is_disabled()
    screenshot(page, "registration-preview")

    page.uncheck("input[name=approve]")
    page.click("button[value=valid]")
    page.wait_for_url(f"**/competitions/{competition.code}/registrations")
    assert statuses(competition) == {"pending": 197}

    first = page.locator("table.reg-table tbody tr").first
    first.locator("summary").click()
    first.locator("input[name=reason]").fill("证书不清晰")
    first.locator("button.secondary").click()
    page.wait_for_selector("table.reg-table tbody tr:first-child span.entrant-rejected")
    assert statuses(competition) == {"pending": 196, "rejected": 1}

    page.click("nav.reg-filter a[href$='status=pending']")
    page.wait_for_selector("nav.reg-filter a[aria-current][href$='status=pending']")
    page.check("input[data-select-all]")
    assert page.locator("input[name=ids]:checked").count() == 196
    page.click("form#bulk button[value=approve]")
    page.wait_for_selector(".flash-success")
    assert statuses(competition) == {"approved": 196, "rejected": 1}
    page.goto(f"{live_server}/competitions/{competition.code}/registrations")
    screenshot(page, "registration-queue")
