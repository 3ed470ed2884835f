"""End to end: ``outcomes serve`` in a subprocess, Debian's chromium driven by Playwright.

Visits every view, changes the period filter, checks the URL carries it and a number changes,
finds no error text, and saves one screenshot per view under the test's tmp_path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.views import VIEWS

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_dashboard_pages import warehouse  # noqa: E402,F401 - the module fixture, reused

CHROMIUM = "/usr/bin/chromium"
READY = "[data-testid=stApp][data-test-script-state=notRunning]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(warehouse):  # noqa: F811
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(warehouse), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.terminate()
        pytest.fail("outcomes serve did not become healthy in 60 s")
    yield url
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_selector(READY, timeout=60_000)


def test_every_view_renders_without_error_text(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    for view in VIEWS:
        page.goto(server + ("/" if view.default else f"/{view.url_path}"))
        _settle(page)
        body = page.inner_text("body")
        for word in ("Traceback", "Error", "Exception"):
            assert word not in body, (view.title, word)
        page.screenshot(path=str(tmp_path / f"{view.url_path}.png"), full_page=True)
        assert (tmp_path / f"{view.url_path}.png").stat().st_size > 10_000


def test_filter_lives_in_the_url_and_changes_a_number(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(server + "/")
    _settle(page)
    tile = page.locator("[data-testid=stMetric]", has_text="New treatment episodes").locator("[data-testid=stMetricValue]")
    before = tile.inner_text()
    page.goto(server + "/?period=All+data")  # bound widgets carry the option label
    _settle(page)
    assert "period=All+data" in page.url
    after = page.locator("[data-testid=stMetric]", has_text="New treatment episodes").locator("[data-testid=stMetricValue]").inner_text()
    assert before != after
    page.get_by_role("link", name="Response & remission", exact=True).click()
    _settle(page)
    assert "period=All+data" in page.url  # the filter travels with the navigation
