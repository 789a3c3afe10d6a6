"""The registration upload report in Chinese, in the browser: one language, formulas named, did you mean."""

from __future__ import annotations

import pytest

from comp.extensions import db
from tests.e2e.conftest import screenshot
from tests.e2e.test_registration import _login
from tests.registration.conftest import (  # noqa: F401 (fixtures)
    open_competition,
    organizer_of,
    person,
    sheet,
    tree,
)

pytestmark = pytest.mark.e2e


def test_the_chinese_report_speaks_chinese(page, live_server, open_competition, make_user, tree, tmp_path):  # noqa: F811
    competition = open_competition()
    organizer = organizer_of(make_user, tree.city)
    organizer.locale = None  # the browser's Chinese
    db.session.commit()
    _login(page, live_server, "organizer")
    page.goto(f"{live_server}/competitions/{competition.code}/registrations/upload")
    screenshot(page, "upload-help")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    page.set_input_files("input[type=file]", str(broken))
    page.click("#submit")
    alert = page.locator("[role=alert]").inner_text()
    assert "该文件不是 Excel .xlsx 工作簿" in alert and "BadZip" not in alert
    screenshot(page, "upload-broken")
    path = tmp_path / "reg.xlsx"
    path.write_bytes(sheet([person(1, name="=1+1"), person(2, employer="晋江翔鹭航空"), person(3)]))
    page.set_input_files("input[type=file]", str(path))
    page.click("#submit")
    page.wait_for_url("**/upload/*")
    problems = page.locator("table.reg-problems").inner_text()
    assert "姓名" in problems and "不接受公式" in problems and "您是否要填写“晋江翔鹭航空科技有限公司”" in problems
    assert "Name" not in problems and "Employer" not in problems
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "upload-report")
