"""Time, in a real browser, the dashboard's cold start, each view's first visit, and filter changes.

Usage (100,000-patient target of issue 18)::

    python3 -m cli.main generate --out /tmp/c100k --patients 100000
    python3 -m cli.main ingest /tmp/c100k --db /tmp/c100k.duckdb
    python3 benchmarks/bench_dashboard.py --db /tmp/c100k.duckdb [--repeat 3]

Headless Chromium (``/usr/bin/chromium``, Playwright) is started *before* the clock: starting a
browser is not the product. So is the project's bytecode compiled (``compileall``), as ``pip
install`` leaves it. Then:

- ``serve -> first page``: from launching ``python -m cli.main serve`` (cold: a new process,
  empty caches, right after the load that wrote the warehouse) until the Overview is fully drawn.
- ``first visit``: right after the first page, each view in turn is opened as a user opens it,
  by a click in the sidebar's navigation (one session, default filters; the Overview's is the
  cold start). ``open by URL``: the view's address loaded afresh (a new session: the frontend's
  bootstrap included), as a shared link opens it;
- per view, ``period change`` picks ``--repeat`` other periods in the
  sidebar (``median``/``max``; each period is new to the view, so its requests are new cache
  keys); ``site change`` picks ``--repeat`` sites (requests never stored at load time: computed
  live from the marts).

"Fully drawn": the script run that the action started has finished
(``data-test-script-state`` went ``running`` then ``notRunning``; watched by a MutationObserver,
so a run that starts late is not missed), the page's title is on the page, no spinner or
skeleton is left, and every Plotly chart has drawn its SVG.

``--hello`` times only what Streamlit itself costs on the machine, the same way: a bare app (a
title and a line of text) started with ``python -m streamlit run`` and the dashboard's own
flags (``cli.launch``), from launch to the page drawn, ``--repeat`` times. The dashboard's cold
start cannot be faster than that floor.

Beside every figure: the server's CPU seconds for that step (``serve`` and its children, all
threads, from ``/proc``), which the machine's load inflates far less than wall-clock time; for
the cold start also the browser's (every Chromium process and Playwright's driver: this
script's other descendants) and the JavaScript it loaded. The
machine's cores and ``uptime`` are printed before and after. Nothing is asserted (targets: issue
18 item 6: serve -> first page < 2 s, first visit and filter change < 1 s, at 100k patients).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dashboard.views import VIEWS

#: Period options as the sidebar shows them; the default (Last 12 months) is not among them.
PERIODS = ("Last 6 months", "Last 3 months", "All data", "Year 2024", "Year 2023")

#: Counts finished script runs (running -> notRunning) in window.__runs, from page load on.
WATCH_RUNS = """
window.__runs = 0;
new MutationObserver((records) => {
  for (const r of records) {
    const now = r.target.getAttribute('data-test-script-state');
    if (r.oldValue === 'running' && now !== 'running') window.__runs += 1;
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
DRAWN = """(n) => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || window.__runs < n || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector('[data-testid=stMain] h1')) return false;
  if (document.querySelector('[data-testid=stSpinner], [data-testid=stSkeleton]')) return false;
  return Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))
    .every(c => c.querySelector('.main-svg'));
}"""


def _drawn(page, runs: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``runs`` script runs have finished since the page loaded and all is drawn."""
    page.wait_for_function(DRAWN, arg=runs, timeout=300_000, polling=50)


def _runs(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("window.__runs"))


def _pick(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def _options(page, label: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=label).click()
    names = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return names


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += (int(stats[current][11]) + int(stats[current][12])) / tick
        todo += children.get(current, [])
    return total


def _installed_like() -> dict[str, str]:
    """The server's environment as after ``pip install``: the project's modules compiled to
    bytecode (here, before the clock), and bytecode allowed. With ``PYTHONDONTWRITEBYTECODE``
    (set in some development shells) every start would compile the project from source."""
    root = Path(__file__).resolve().parents[1]
    packages = [str(root / p) for p in ("cli", "dashboard", "queries", "stats", "charts", "report", "pipelines")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=False, env=env,
                   stdout=subprocess.DEVNULL)
    return env


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def _timed(server: subprocess.Popen, action) -> tuple[float, float]:  # type: ignore[type-arg, no-untyped-def]
    """Wall and server CPU seconds of ``action``; wall is NaN when it timed out (noted, not fatal:
    on a loaded machine one click in a run has been lost, and the other figures still count)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cpu, start = _tree_cpu(server.pid), time.perf_counter()
    try:
        action()
    except PlaywrightTimeout:
        print(f"(a step timed out after {time.perf_counter() - start:.0f} s)")
        return float("nan"), _tree_cpu(server.pid) - cpu
    return time.perf_counter() - start, _tree_cpu(server.pid) - cpu


def _cells(times: list[tuple[float, float]]) -> str:
    if not times:
        return f"{'-':>8}{'-':>7}{'-':>7}"
    walls = [t for t, _ in times]
    return f"{statistics.median(walls):>8.2f}{max(walls):>7.2f}{statistics.median(c for _, c in times):>7.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the warehouse (not needed with --hello)")
    parser.add_argument("--hello", action="store_true",
                        help="time a bare hello-world Streamlit app's cold start instead (the floor)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--views", default="", help="comma-separated view titles (default: all)")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold start, --repeat times (a new server and browser context each)")
    args = parser.parse_args()
    if args.hello:
        return hello(args.repeat)
    if not args.db:
        parser.error("--db is required (or --hello)")
    from playwright.sync_api import sync_playwright

    print(f"machine: {os.cpu_count()} cores, {_cpu_model()}; warehouse {args.db}")
    print(f"before: {_uptime()}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_init_script(WATCH_RUNS)
        page = context.new_page()
        page.goto("about:blank")  # the renderer is up before the clock too
        env = _installed_like()
        if args.cold_only:
            for _ in range(args.repeat):
                server, _base = _cold_start(page, args.db, env)
                _stop(server)
                context.close()
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                context.add_init_script(WATCH_RUNS)
                page = context.new_page()
                page.goto("about:blank")
            browser.close()
            print(f"after: {_uptime()}")
            return 0
        server, base = _cold_start(page, args.db, env)
        try:
            sites = [o for o in _options(page, "Site") if not o.startswith("All")][: args.repeat]
            chosen = [v for v in VIEWS if not args.views or v.title in {t.strip() for t in args.views.split(",")}]
            # first visits as a user makes them: a click in the sidebar, default filters, one session
            first: dict[str, tuple[float, float]] = {}
            for view in chosen:
                if view.default:
                    continue

                def click(title: str = view.title) -> None:
                    runs = _runs(page)
                    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
                    _drawn(page, runs + 1)
                first[view.title] = _timed(server, click)
            print(f"{'':<26}{'first visit':>15}{'open by URL':>15}{'period change':>22}{'site change':>22}")
            print(f"{'view':<26}{'wall s':>8}{'cpu s':>7}{'wall s':>8}{'cpu s':>7}{'med s':>8}{'max s':>7}{'cpu s':>7}"
                  f"{'med s':>8}{'max s':>7}{'cpu s':>7}")
            for view in chosen:
                path = "/" if view.default else f"/{view.url_path}"

                def visit(path: str = path) -> None:
                    page.goto(f"{base}{path}")
                    _drawn(page, 1)

                by_url = _timed(server, visit)
                periods, by_site = [], []
                for option in PERIODS[: args.repeat]:
                    def change(option: str = option) -> None:
                        runs = _runs(page)
                        _pick(page, "Period", option)
                        _drawn(page, runs + 1)
                    periods.append(_timed(server, change))
                visit()  # back to the default period
                for site in sites:
                    def pick_site(site: str = site) -> None:
                        runs = _runs(page)
                        _pick(page, "Site", site)
                        _drawn(page, runs + 1)
                    by_site.append(_timed(server, pick_site))
                visited = (f"{first[view.title][0]:>8.2f}{first[view.title][1]:>7.2f}" if view.title in first
                           else f"{'cold':>8}{'':>7}")
                print(f"{view.title:<26}{visited}{by_url[0]:>8.2f}{by_url[1]:>7.2f}{_cells(periods)}{_cells(by_site)}")
        finally:
            _stop(server)
            browser.close()
    print(f"after: {_uptime()}")
    return 0


def _cold_start(page, db: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Launch ``outcomes serve`` on a free port and open its first page in ``page``; print the
    times. Returns the running server and its address."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    browser_cpu = _tree_cpu(os.getpid()) - time.process_time()  # Chromium and Playwright's driver
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--db", db, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _wait_answering(base, started)
    answering, answering_cpu = time.perf_counter() - started, _tree_cpu(server.pid)
    page.goto(f"{base}/")
    _drawn(page, 1)
    cold = time.perf_counter() - started
    server_cpu = _tree_cpu(server.pid)
    browser_cpu = _tree_cpu(os.getpid()) - server_cpu - time.process_time() - browser_cpu
    script_kb = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.endsWith('.js'))"
                              ".reduce((kb, e) => kb + (e.decodedBodySize || 0) / 1024, 0)")
    print(f"serve -> first page drawn (Overview, cold): {cold:.2f} s "
          f"(server answering after {answering:.2f} s, {answering_cpu:.2f} CPU s; "
          f"server CPU at first page drawn {server_cpu:.2f} s; browser CPU {browser_cpu:.2f} s, "
          f"{script_kb / 1024:.1f} MB of JavaScript)  [{_uptime()}]")
    return server, base


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wait_answering(base: str, started: float) -> None:
    """Until Streamlit's health endpoint answers (at most 300 s after ``started``)."""
    while True:
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
            return
        except OSError:
            if time.perf_counter() - started > 300:
                raise
            time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


HELLO_APP = 'import streamlit as st\nst.title("Hello")\nst.write("A bare Streamlit app.")\n'


def hello(repeat: int) -> int:
    """Launch -> drawn of a bare Streamlit app with the dashboard's flags, ``repeat`` times."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from cli.launch import SECURITY_FLAGS, SPEED_FLAGS

    print(f"machine: {os.cpu_count()} cores, {_cpu_model()}; a bare Streamlit app")
    print(f"before: {_uptime()}")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as pw:
        app = Path(folder) / "hello.py"
        app.write_text(HELLO_APP)
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        for _ in range(repeat):
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            context.add_init_script(WATCH_RUNS)
            page = context.new_page()
            page.goto("about:blank")
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app),
                                       f"--server.port={port}", "--server.address=127.0.0.1",
                                       *SECURITY_FLAGS, *SPEED_FLAGS],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait_answering(base, started)
                answering = time.perf_counter() - started
                page.goto(f"{base}/")
                _drawn(page, 1)
                drawn = time.perf_counter() - started
                print(f"hello world: serve -> drawn {drawn:.2f} s (answering after {answering:.2f} s; "
                      f"server CPU {_tree_cpu(server.pid):.2f} s)")
            finally:
                server.terminate()
                server.wait(timeout=15)
                context.close()
        browser.close()
    print(f"after: {_uptime()}")
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
