"""Time, in a real browser, how long every view takes to finish rendering after a filter change.

Usage (100,000-patient target of issue 5)::

    outcomes generate --patients 100000 --seed 1 --out /tmp/big && outcomes ingest /tmp/big --db /tmp/big.duckdb
    python benchmarks/bench_dashboard.py --db /tmp/big.duckdb [--repeat 3]

For each view: open it with the default filters (warms that view's cache), then load it with a
different period in the URL (a filter change: new cache keys, real queries) and measure until
Streamlit reports the script finished (``data-test-script-state=notRunning``). Prints a table;
target < 2 s per view. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from dashboard.views import VIEWS

READY = "[data-testid=stApp][data-test-script-state=notRunning]"
PERIODS = ("All+data", "Last+6+months", "Last+3+months")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--db", args.db, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            print(f"{'view':<28}{'median s':>10}{'max s':>8}   runs")
            for view in VIEWS:
                path = "/" if view.default else f"/{view.url_path}"
                page.goto(base + path)
                page.wait_for_selector(READY, timeout=120_000)
                times = []
                for i in range(args.repeat):
                    start = time.perf_counter()
                    page.goto(f"{base}{path}?period={PERIODS[i % len(PERIODS)]}")
                    page.wait_for_timeout(100)  # let the rerun start before waiting for its end
                    page.wait_for_selector(READY, timeout=120_000)
                    times.append(time.perf_counter() - start)
                print(f"{view.title:<28}{statistics.median(times):>10.2f}{max(times):>8.2f}   {len(times)}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
