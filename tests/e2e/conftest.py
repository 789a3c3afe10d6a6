"""Browser tests: a live server on the test database, driven by Playwright in Debian's Chromium.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium. Without
it the tests are skipped with the reason; JIANGXIN_REQUIRE_BROWSER=1 (set by .ci/run) turns
the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORTS = {"tablet": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def browser():
    """Launch headless Chromium once for the run."""
    executable = _chromium()
    if executable is None:
        reason = "Chromium is not installed (apt-get install chromium fonts-wqy-microhei)"
        if os.environ.get("JIANGXIN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and JIANGXIN_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture()
def live_server(app):
    """Serve the app on a free local port for the duration of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser):
    """Open a page at tablet (1024×768) and phone (390×844) size."""
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="zh-CN")
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-{page.viewport_name}.png"
    # caret="initial": the default hides the caret with a style="" on inputs, which htmx copies on a swap and the
    # CSP then refuses, a console error the app never made.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path
