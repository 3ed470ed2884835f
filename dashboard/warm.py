"""Warm the caches when serving starts, so the first pages a user opens are already computed.

Two moments (docs/dashboard.md, "Speed"):

- **At boot** (``at_boot``, run by ``dashboard.server`` in a thread beside Streamlit's server
  start, before any browser connects): import what the pages import (plotly's figure
  validators included), open the DuckDB connection, read what the sidebar asks for (data span,
  completeness, the filter options), then the first page's results and the other pages' defaults
  (stored at load time in ``meta.metric_snapshots``, so these are reads), then every other
  period of the sidebar (stored too), and last one pass over the marts, so the first filter
  change that has to be computed does not also pay DuckDB's first read of them.
- **After the first page is drawn** (``start``, called at the end of ``app.py``; the only warming
  under a plain ``streamlit run`` or AppTest): the other pages' default figures, once per
  warehouse version, in a background thread.

The results land in ``data``'s ``st.cache_data`` caches (process-wide), so the pages find them.
Warming is best effort: a failure is logged at debug level and the page computes as before.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

import streamlit as st

from dashboard import data

LOG = logging.getLogger(__name__)

#: (metric, by, definition overrides) the pages ask for under the default filters, first page first.
OVERVIEW_TILES = ("active_patients", "episodes", "response", "remission", "adherence", "side_effects", "mbc_coverage")
PAGES: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    ("response", ("drug_class",), {}), ("side_effects", ("drug_class",), {}),
    ("remission", ("drug_class",), {}), ("adherence", ("drug_class",), {}), ("persistence", ("drug_class",), {}),
    ("adherence", ("drug_class",), {"level": "class"}), ("adherence", ("drug_class", "adherence_band"), {"level": "class"}),
    ("adherence", ("drug",), {"level": "ingredient"}), ("episodes", ("drug_class",), {}),
    ("score_trajectory", (), {}), ("time_to_response", ("drug_class",), {}), ("response", ("adherence_band",), {}),
    ("side_effect_heatmap", (), {"min_severity": "mild"}), ("side_effect_severity", (), {}),
    ("side_effect_actions", (), {}), ("weight_change_12w", ("drug",), {}), ("metabolic_monitoring", ("drug_class",), {}),
    ("pathway_transitions", (), {}), ("pathways", (), {}),
    # Compare regimens (default: drugs) and Clinicians
    ("response", ("drug",), {}), ("remission", ("drug",), {}), ("side_effects", ("drug",), {}),
    ("persistence", ("drug",), {}),
    ("response", ("clinician_id",), {}), ("remission", ("clinician_id",), {}),
)


def calls(f: Any, overview: bool = False) -> list[tuple[str, Any, tuple[str, ...], dict[str, Any]]]:
    """Every (metric, filters, by, overrides) to warm, in the order the pages need them. The
    Overview's own tiles only with ``overview`` (the page being drawn computes them itself, and
    computing them twice at once would only slow it on a small machine)."""
    out: list[tuple[str, Any, tuple[str, ...], dict[str, Any]]] = []
    for name in OVERVIEW_TILES if overview else ():
        out.append((name, f, (), {}))
        if f.previous() is not None:
            out.append((name, f.previous(), (), {}))
        if data.supports(name, "quarter"):
            out.append((name, dataclasses.replace(f, start_date=None), ("quarter",), {}))
    without_class = f.without("drug_class")
    out += [(name, without_class if name in ("response", "side_effects", "remission") else f, by, overrides)
            for name, by, overrides in PAGES]
    return [c for c in out if data.available(c[0])]


def _warm(f: Any) -> None:
    for name, filters, by, overrides in calls(f):
        try:
            data.metric(name, filters, by, **overrides)
        except Exception:  # warming is best effort; the page reports real errors
            LOG.debug("warming %s failed", name, exc_info=True)


@st.cache_resource(show_spinner=False, max_entries=1)
def _started(file_version: tuple[int, int], f: Any) -> threading.Thread:
    thread = threading.Thread(target=_warm, args=(f,), name="outcomes-warm", daemon=True)
    thread.start()
    return thread


#: Set by ``at_boot`` when it runs (the server warms), and by ``start`` once a page is drawn.
_BOOTING = threading.Event()
#: Metrics whose warming failed (for the log and the tests; the page computes them when asked).
_FAILED: list[str] = []
_FIRST_PAGE_DRAWN = threading.Event()


def start(f: Any) -> None:
    """After a page is drawn: let ``at_boot`` go on to the rest; without it (a plain
    ``streamlit run``), start warming the other pages once per warehouse version."""
    _FIRST_PAGE_DRAWN.set()
    if not _BOOTING.is_set() and data.status().ok:
        _started(data.version(), f)


#: Pause between the end of the first page's script and the rest of the warming: the browser
#: draws the page's charts then, on the same (small) machine.
AFTER_FIRST_PAGE_S = 2.0

#: Modules the pages import on their first run; imported at boot instead.
PAGE_MODULES = ("plotly.graph_objects", "plotly.io", "charts", "queries.labels", "dashboard.components",
                "dashboard.filters", "dashboard.qi_data", "dashboard.worklist_data", "queries.periods",
                "queries.vocabulary", "stats.suppression")


def at_boot(wait_s: float = 120.0, first_page_s: float = 60.0) -> None:
    """Warm what a first visitor and their first filter changes need (see the module docstring)
    as soon as Streamlit's runtime exists: the first page's at once, the rest once the first page
    is drawn (or after ``first_page_s`` without a visitor), so that it does not compete with the
    first page for the interpreter. Returns when done; never raises."""
    from streamlit import runtime

    _BOOTING.set()
    deadline = time.monotonic() + wait_s
    while not runtime.exists():  # the caches live in the runtime; before it they would be lost
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    try:
        began = time.monotonic()
        _import_pages()
        if not data.status().ok:
            return
        f = _default_filters()
        first = first_page_calls(f)
        for call in first:
            _metric(*call)
        _sidebar_and_notices(f)
        LOG.info("warmed the first page in %.1f s", time.monotonic() - began)
        if _FIRST_PAGE_DRAWN.wait(first_page_s):
            time.sleep(AFTER_FIRST_PAGE_S)  # the script has ended; the browser is still drawing
        for call in calls(f, overview=True):
            if call not in first:
                _metric(*call)
        _quality_defaults(f)
        _worklist_pages(f)
        from dashboard import filters as sidebar

        for key in sidebar.period_options():
            if key != f.period:
                start, end = sidebar.resolve_period(key)
                other = dataclasses.replace(f, period=key, start_date=start, end_date=end)
                for call in calls(other, overview=True):
                    _metric(*call)
                _quality_funnel(other)
        _read_marts()
        LOG.info("warmed the other pages, periods and marts in %.1f s", time.monotonic() - began)
    except Exception:  # warming must never take the server down
        LOG.debug("warming at boot failed", exc_info=True)


def first_page_calls(f: Any) -> list[tuple[str, Any, tuple[str, ...], dict[str, Any]]]:
    """The Overview's requests (tiles, then its by-class charts and table) among ``calls``."""
    by_class = {"response", "side_effects", "remission", "adherence", "persistence"}
    return [c for c in calls(f, overview=True)
            if (c[0] in OVERVIEW_TILES and c[2] in ((), ("quarter",)) and not c[3])
            or (c[0] in by_class and c[2] == ("drug_class",) and not c[3])]


def _metric(name: str, f: Any, by: tuple[str, ...], overrides: dict[str, Any]) -> None:
    try:
        data.metric(name, f, by, **overrides)
    except Exception:
        LOG.debug("warming %s failed", name, exc_info=True)
        _FAILED.append(name)


def _import_pages() -> None:
    import importlib

    for module in PAGE_MODULES:
        importlib.import_module(module)
    import plotly.graph_objects as go

    # plotly builds its property validators on first use: a bar and a line chart's worth
    go.Figure([go.Bar(x=["a"], y=[1], error_y={"array": [0.1]}), go.Scatter(x=[1], y=[1], mode="lines")],
              layout={"title": {"text": "t"}, "xaxis": {"title": {"text": "x"}}}).to_json()


def _default_filters() -> Any:
    """``filters.current()`` of a session that has chosen nothing (the first visitor's)."""
    from dashboard import filters

    start, end = filters.resolve_period(filters.DEFAULT_PERIOD)
    return filters.Filters(period=filters.DEFAULT_PERIOD, start_date=start, end_date=end)


def _sidebar_and_notices(f: Any) -> None:
    """What the frame of every page reads: the filter options, the last load, the maturing count."""
    from dashboard import filters

    for field in filters.FIELDS:
        filters.options(field)
    data.deployment()
    data.last_load()
    filters.maturing_words(f)


def _quality_defaults(f: Any) -> None:
    """The Quality improvement page as first opened (stored at load time: ``precompute``)."""
    quarters = data.qi_period_options()
    names = data.qi_measures()
    if not quarters or not names:
        return
    for call in (lambda: data.qi_measures_table(quarters[0], f.site_id),
                 lambda: data.qi_series(names[0], "month", f.site_id)):
        try:
            call()
        except Exception:
            LOG.debug("warming the quality page failed", exc_info=True)
    _quality_funnel(f)


def _worklist_pages(f: Any) -> None:
    """My patients' and Clinicians' counts and scorecards (computed, not stored: worklists are
    evaluated on the data end date and the scorecards' funnels are not metric results)."""
    from dashboard import worklist_data as worklists

    for call in (worklists.worklist_counts, worklists.worklist_counts_by_clinician,
                 lambda: worklists.scorecard("response", f.query_filters()),
                 lambda: worklists.scorecard("remission", f.query_filters())):
        try:
            call()
        except Exception:
            LOG.debug("warming the worklist pages failed", exc_info=True)


def _quality_funnel(f: Any) -> None:
    """The Quality improvement page's funnel (first measure, by site) under the filters."""
    names = data.qi_measures()
    try:
        if names:
            data.qi_funnel(names[0], "site_id", False, f.start_date, f.end_date, f.site_id)
    except Exception:
        LOG.debug("warming the quality funnel failed", exc_info=True)


def _read_marts() -> None:
    """Read every column of every mart once: DuckDB's first read of a table (from the file into
    its buffer pool) then happens here, not in the first filter change a user makes."""
    from dashboard.warehouse import cursor

    cur = cursor()
    try:
        tables = [t for (t,) in cur.sql(
            "select table_name from information_schema.tables where table_catalog = 'warehouse' "
            "and table_schema = 'marts' and table_type = 'BASE TABLE'").fetchall()]
        for table in tables:
            # names from the catalogue itself, quoted; nothing a user typed
            cur.sql(f'select max(columns(*)) from marts."{table}"').fetchall()  # noqa: S608
    finally:
        cur.close()
