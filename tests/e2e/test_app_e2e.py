"""End to end: ``outcomes serve`` in a subprocess, Debian's chromium driven by Playwright.

Visits every view, finds no error text, saves one screenshot per view under the test's output
folder; then changes the period in the sidebar as a user would, checks that the URL carries it,
that the "New episodes" tile changes to the value ``queries.metric`` gives for the new period,
and that the filter travels with navigation to another view.

The browser is launched here with its own ``sync_playwright`` (fixture ``chromium_browser``) rather
than pytest-playwright's ``browser``: that plugin keeps a session-wide Playwright running, which
would make any later test that starts its own (``test_report_e2e.py``) fail inside its event loop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

import queries
from dashboard.views import VIEWS

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
READY = "[data-testid=stApp][data-test-script-state=notRunning]"
ERROR_TEXTS = ("Traceback", "Error", "Exception", "encountered an error")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(warehouse_path: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--db", str(warehouse_path), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("outcomes serve did not become healthy in 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def chromium_browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM,
                                      args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                            "--disable-background-networking", "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture()
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The test's output folder: pytest-playwright's ``--output`` when given, else tmp_path."""
    output = request.config.getoption("--output", default=None)
    folder = Path(output) / request.node.name if output and output != "test-results" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(READY, timeout=90_000)
    page.wait_for_timeout(400)
    page.wait_for_selector(READY, timeout=90_000)


def _tile(page, label: str) -> str:  # type: ignore[no-untyped-def]
    tile = page.locator("[data-testid=stMetric]", has_text=label).locator("[data-testid=stMetricValue]")
    return tile.first.inner_text().strip()


def test_every_view_renders_without_error_text(server, chromium_browser, shots):
    page = chromium_browser.new_page(viewport={"width": 1280, "height": 1600})
    for view in VIEWS:
        page.goto(server + ("/" if view.default else f"/{view.url_path}"))
        _settle(page)
        body = page.inner_text("body")
        for text in ERROR_TEXTS:
            assert text not in body, (view.title, text)
        shot = shots / f"{view.url_path}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000


def test_period_filter_lives_in_the_url_and_changes_a_number(server, chromium_browser, warehouse_path):
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        all_data = queries.metric(con, "episodes").frame["new_user_episodes"][0]
    finally:
        con.close()
    page = chromium_browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(server + "/")
    _settle(page)
    before = _tile(page, "New episodes")
    # pick "All data" in the sidebar's Period box, as a user would
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Period").click()
    page.get_by_role("option", name="All data", exact=True).click()
    _settle(page)
    assert "period=All+data" in page.url
    after = _tile(page, "New episodes")
    assert after != before
    assert after == f"{all_data:,}"  # the same number `outcomes metric episodes` gives for all data
    page.get_by_role("link", name="Response & remission", exact=True).click()
    _settle(page)
    assert "period=All+data" in page.url  # the filter travels with the navigation
    # and a shared link opens with it: a fresh page on that URL shows the same tile value
    fresh = chromium_browser.new_page(viewport={"width": 1280, "height": 1200})
    fresh.goto(server + "/?period=All+data")
    _settle(fresh)
    assert _tile(fresh, "New episodes") == after


def test_issue_18_no_request_leaves_the_machine(server, chromium_browser):
    """Every request a page makes goes to the dashboard's own server: no fonts, icons or scripts
    from the internet (they fail offline and tell a third party the dashboard was opened)."""
    page = chromium_browser.new_page(viewport={"width": 1280, "height": 1200})
    elsewhere: list[str] = []
    page.on("request", lambda request: None if request.url.startswith((server, "data:", "blob:", "about:"))
            else elsewhere.append(request.url.split("?")[0]))
    for view in VIEWS:
        page.goto(server + ("/" if view.default else f"/{view.url_path}"))
        _settle(page)
    assert elsewhere == []
