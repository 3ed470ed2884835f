"""The meeting pack opens from disk in headless chromium with no network and no errors.

``outcomes report`` writes the pack for the session warehouse; Playwright opens it with every
request that is not ``file:`` aborted and recorded, then checks: no console errors, no page
errors, no network request attempted, every chart drawn by plotly, the key sections present.
``--pdf`` writes a non-empty PDF.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
SECTIONS = ("measures", "changes", "control-charts", "funnels", "definitions")


@pytest.fixture(scope="module")
def pack(warehouse_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack") / "pack.html"
    pdf_wanted = CHROMIUM.exists()
    args = ["report", "--db", str(warehouse_path), "--period", "2025-Q3", "--out", str(out)]
    assert main([*args, "--pdf"] if pdf_wanted else args) == 0
    return out


def test_pdf_is_written_beside_the_html(pack: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed")
    pdf = pack.with_suffix(".pdf")
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_pack_opens_offline_without_errors_and_draws_its_charts(pack: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    requests: list[str] = []
    console_errors: list[str] = []
    page_errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page()

            def route(request_route) -> None:  # type: ignore[no-untyped-def]
                url = request_route.request.url
                if url.startswith("file:"):
                    request_route.continue_()
                else:
                    requests.append(url)
                    request_route.abort()

            page.route("**/*", route)
            page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(pack.resolve().as_uri(), wait_until="load")
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0")
            plotted = page.locator(".js-plotly-plot").count()
            charts_in_html = page.locator("div.plotly-graph-div").count()
            svg_drawn = page.locator(".js-plotly-plot .main-svg").count()
            headings = set(page.locator("h2").evaluate_all("els => els.map(e => e.id)"))
            text = page.inner_text("body")
        finally:
            browser.close()
    assert requests == [], f"network requests attempted: {requests}"
    assert console_errors == [] and page_errors == [], (console_errors, page_errors)
    assert plotted == charts_in_html and plotted >= 2
    assert svg_drawn >= plotted
    assert set(SECTIONS) <= headings
    assert "Small-cell suppression" in text and "threshold 11" in text
    assert "Definition parameters used to build the warehouse" in text
