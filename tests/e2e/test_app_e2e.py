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
from queries.periods import completeness

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
    # plotly draws after the script has finished: on a busy machine, a chart read at once can
    # still be empty; wait until every chart on the page has drawn its SVG
    page.wait_for_function("() => Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))"
                           ".every(c => c.querySelector('.main-svg'))", timeout=90_000)


def _tile(page, label: str) -> str:  # type: ignore[no-untyped-def]
    tile = page.locator("[data-testid=stMetric]", has_text=label).locator("[data-testid=stMetricValue]")
    return tile.first.inner_text().strip()


#: Every plotly chart on the page: its trace types and how many points/nodes/links each draws.
CHART_TRACES = """() => {
  // plotly keeps arrays as JS arrays, typed arrays or still-encoded {dtype, bdata} objects
  const arr = v => v == null ? [] : (Array.isArray(v) || ArrayBuffer.isView(v)) ? Array.from(v)
                 : (v.bdata ? [1] : []);
  const count = v => arr(v).flat().filter(x => x !== null && !(typeof x === 'number' && isNaN(x))).length;
  return Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    title: (el.layout && el.layout.title && (el.layout.title.text || el.layout.title)) || '',
    width: el.getBoundingClientRect().width,
    traces: (el.data || []).map(t => ({
      type: t.type || 'scatter', name: t.name || '',
      points: t.type === 'sankey' ? count(t.link && t.link.value)
            : t.type === 'heatmap' ? arr(t.z).map(r => count(r)).reduce((a, b) => a + b, 0)
            : ['sunburst', 'pie'].includes(t.type) ? count(t.values)
            : t.orientation === 'h' ? count(t.x) : count(t.y),
      columns: t.type === 'sankey' ? new Set(arr(t.node && t.node.x).map(x => Number(x).toFixed(3))).size : 0,
      visible: t.visible !== false,
    })),
  }));
}"""
WIDTHS = {"phone": 390, "desktop": 1280}

#: Text the browser cuts off with an ellipsis ("vs prior peri…"): an element drawn on screen whose
#: text-overflow is ellipsis and whose content is wider than its box. Off-screen elements (the
#: collapsed sidebar on a phone) are not seen, so they do not count.
TRUNCATED_TEXT = """() => Array.from(document.querySelectorAll('body *')).filter(el => {
  if (getComputedStyle(el).textOverflow !== 'ellipsis' || !el.innerText.trim()) return false;
  const box = el.getBoundingClientRect();
  if (box.width === 0 || box.left < 0 || box.right > window.innerWidth + 1) return false;
  return el.scrollWidth > el.clientWidth;
}).map(el => el.innerText.trim().slice(0, 60))"""

#: Chart titles that run past their chart's right edge (plotly never wraps a title).
CUT_CHART_TITLES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(el => {
  const right = el.getBoundingClientRect().right;
  return Array.from(el.querySelectorAll('.gtitle')).filter(t => t.getBoundingClientRect().right > right + 1)
    .map(t => t.textContent.slice(0, 60));
})"""


def _charts(page):  # type: ignore[no-untyped-def]
    return page.evaluate(CHART_TRACES)


def _drawn(chart) -> bool:  # type: ignore[no-untyped-def]
    """A chart draws something: a visible trace with points (a message-only figure has none)."""
    return any(t["visible"] and t["points"] > 0 for t in chart["traces"])


@pytest.mark.parametrize("device", list(WIDTHS))
def test_every_view_renders_at_phone_and_desktop_width_with_drawn_charts(server, chromium_browser, shots, device):
    width = WIDTHS[device]
    page = chromium_browser.new_page(viewport={"width": width, "height": 1600 if width > 600 else 844})
    drawn: dict[str, list] = {}
    for view in VIEWS:
        # all data: the sample clinic's complete 12 months are too thin for some pages' charts
        page.goto(server + ("/" if view.default else f"/{view.url_path}") + "?period=All+data")
        _settle(page)
        body = page.inner_text("body")
        for text in ERROR_TEXTS:
            assert text not in body, (view.title, text)
        # nothing sticks out sideways: the page does not scroll horizontally
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (view.title, device, overflow)
        # no label, tile or button text cut off
        assert page.evaluate(TRUNCATED_TEXT) == [], (view.title, device)
        assert page.evaluate(CUT_CHART_TITLES) == [], (view.title, device)
        charts = _charts(page)
        for chart in charts:
            assert chart["width"] <= width, (view.title, chart["title"])
        drawn[view.url_path] = charts
        shot = shots / f"{device}-{view.url_path}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    # the charts the issue names draw their traces at both widths
    kinds = {t["type"] for charts in drawn.values() for c in charts if _drawn(c) for t in c["traces"]}
    assert {"bar", "sankey", "heatmap"} <= kinds, kinds
    sankey = [t for c in drawn["pathways"] for t in c["traces"] if t["type"] == "sankey"]
    assert sankey and sankey[0]["points"] > 0 and sankey[0]["columns"] >= 3  # lines 1, 2 and 3
    km = [c for c in drawn["adherence"] if "Kaplan" in c["title"]]
    assert km and _drawn(km[0])  # persistence curves
    funnels = [c for c in drawn["quality"] if "funnel" in c["title"].lower()]
    assert funnels and sum(1 for t in funnels[0]["traces"] if t["points"] > 0) >= 3  # limits + units
    for view, charts in drawn.items():
        for chart in charts:
            assert chart["title"], (view, "chart without a title")


def test_period_filter_lives_in_the_url_and_changes_a_number(server, chromium_browser, warehouse_path):
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        # "All data" covers the whole span up to the complete end (docs/periods.md): episodes
        # whose follow-up window is still open are maturing and not counted
        complete_end = completeness(con).complete_end
        all_data = queries.metric(con, "episodes", filters={"end_date": complete_end}).frame["new_user_episodes"][0]
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
    assert after == f"{all_data:,}"  # the same number `outcomes metric episodes` gives to the complete end
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
