"""Time, in a real browser, the dashboard's cold start, each view's first visit, and filter changes.

Usage (100,000-patient target of issue 18)::

    python3 -m cli.main generate --out /tmp/c100k --patients 100000
    python3 -m cli.main ingest /tmp/c100k --db /tmp/c100k.duckdb
    python3 benchmarks/bench_dashboard.py --db /tmp/c100k.duckdb [--repeat 3]

First ``serve -> first page s``: from starting ``outcomes serve`` (cold: a new process, empty
caches) to the Overview fully drawn in headless Chromium. Then, for each view, in one browser
session as a user works: open the view (``first visit s``: a fresh page load, frontend
bootstrap included, default filters), then change the period in the sidebar
``--repeat`` times to periods not seen before (new cache keys, so the queries really run) and
time each from the click until Streamlit reports the script finished
(``data-test-script-state=notRunning``) and every Plotly chart on the page is drawn
(``filter s``: the issue's "after a filter change" figure). Prints a table; target < 2 s per view.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dashboard.views import VIEWS

READY = "[data-testid=stApp][data-test-script-state=notRunning]"
RUNNING = "[data-testid=stApp][data-test-script-state=running]"
#: Period options as the sidebar shows them; cycled so every change is a new cache key per view.
PERIODS = ("Last 6 months", "Last 3 months", "All data", "Year 2024", "Year 2023", "Last 12 months")


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    # the rerun may start a moment after the click; wait for it so we time the whole run
    with contextlib.suppress(Exception):
        page.wait_for_selector(RUNNING, timeout=1500)
    page.wait_for_selector(READY, timeout=120_000)
    # charts are drawn by the browser after the script ends: wait until every Plotly div has its SVG
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))"
        ".every(c => c.querySelector('.main-svg'))", timeout=120_000)


def _pick_period(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Period").click()
    page.get_by_role("option", name=label, exact=True).click()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from playwright.sync_api import sync_playwright

    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, {_cpu_model()}; load average {load}; warehouse {args.db}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--db", args.db, "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.25)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{base}/")
            _settle(page)
            print(f"serve -> first page drawn (Overview, cold): {time.perf_counter() - started:.2f} s")
            page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            print(f"{'view':<28}{'first visit s':>14}{'filter median s':>17}{'filter max s':>14}   runs")
            for view in VIEWS:
                path = "/" if view.default else f"/{view.url_path}"
                start = time.perf_counter()
                page.goto(f"{base}{path}")
                _settle(page)
                load = time.perf_counter() - start
                times = []
                for i in range(args.repeat):
                    start = time.perf_counter()
                    _pick_period(page, PERIODS[i % len(PERIODS)])
                    _settle(page)
                    times.append(time.perf_counter() - start)
                print(f"{view.title:<28}{load:>14.2f}{statistics.median(times):>17.2f}{max(times):>14.2f}   {len(times)}")
        finally:
            server.terminate()
            server.wait(timeout=15)
            browser.close()
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
