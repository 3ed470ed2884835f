"""What the dashboard's pages show under the default filters, computed at load time.

``outcomes ingest`` (``cli/ingest.py``) calls ``precompute(con)`` on the warehouse being built,
before it is published: every metric the pages ask for under the default sidebar filters (the
Overview's tiles with their previous period and quarterly trend, the by-class charts and tables
of every page, the maturing count) and the Quality improvement page's defaults (the measures
table of the default quarter, the first measure's monthly series and funnel by site), the
Clinicians page's scorecards and the worklist counts, under each period of the sidebar and each
site under the default period, run through
``queries.metric`` as the pages run them, and ``queries.snapshots`` stores the results in
``meta.metric_snapshots``. The first visit to a page then reads stored results instead of
aggregating the marts (docs/dashboard.md, "Speed").

No Streamlit session is needed: the default filters are resolved from the warehouse with the
same functions the sidebar uses (``filters.period_dates``), and the requests are those of
``warm.calls``, so a page that changes what it asks for changes what is precomputed.

**Two stages on a large clinic.** The other periods and the sites are about nine tenths of the
work (at 1,000,000 patients several CPU minutes), and no first page needs them. From
``BACKGROUND_FROM_PATIENTS`` patients on, the load stores only the default period's results
(``precompute(con, first_only=True)``), publishes, and ``in_background`` starts ``complete``
in a detached, lower-priority process: it reads the published warehouse (read-only, like any
dashboard), computes the rest (the stored results are read back, not recomputed), and then,
under the load's lock, publishes a copy with every result exactly as a one-stage load would
(``pipelines.publish.build_then_swap``: DuckDB allows one writer or many readers, so the live
file is never written). Until then the dashboard computes those requests live, as it does for
any request not stored. A load that starts meanwhile wins: ``complete`` gives up when the
warehouse it read is no longer the live one, or when a load holds the lock.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from dashboard import filters, warm
from dashboard.qi_data import quarter_options
from dashboard.warehouse import MIN_CELL

LOG = logging.getLogger(__name__)


def default_filters(con: duckdb.DuckDBPyConnection) -> filters.Filters:
    """The sidebar's filters when nothing is chosen (period ``last_12m``, instrument PHQ-9)."""
    return period_filters(con)[0]


def period_filters(con: duckdb.DuckDBPyConnection) -> list[filters.Filters]:
    """The sidebar's filters for each period choice, all else at its default; the default
    period first (the first page), then the others in the sidebar's order."""
    from queries.periods import completeness

    info = completeness(con)
    span = (info.data_start, info.data_end)
    keys = filters.period_keys(span)
    keys.sort(key=lambda k: k != filters.DEFAULT_PERIOD)
    out = []
    for key in keys:
        start, end = filters.period_dates(key, span, info)
        out.append(filters.Filters(period=key, start_date=start, end_date=end))
    return out


def site_filters(con: duckdb.DuckDBPyConnection, base: filters.Filters) -> list[filters.Filters]:
    """``base`` (the default period) with each site the sidebar offers (the same distinct values
    as ``data.dimension_values``), at most ``MAX_SITES`` of them: a site is the commonest filter
    change after the period, and computed live it costs the Overview 26 requests."""
    rows = con.sql("select distinct site_id from marts.fct_treatment_episodes "
                   "where site_id is not null order by 1").fetchall()
    return [dataclasses.replace(base, site_id=str(site)) for (site,) in rows[:MAX_SITES]]


#: Sites precomputed at load time (each adds about a quarter of the default period's requests
#: after de-duplication); a clinic with more sites has the first ones stored, the rest live.
MAX_SITES = 32


def requests(con: duckdb.DuckDBPyConnection, periods: bool = True,
             sites: bool = True) -> list[tuple[str, Any, tuple[str, ...], dict[str, Any]]]:
    """(metric, Filters, by, definition overrides) of the pages under the default filters, then
    (``periods``) under each other period of the sidebar: a period change is the commonest
    filter change, and at 100,000 patients a page's live queries take a few CPU seconds; then
    (``sites``) under the default period with each site. Requests that bind the same parameters
    are listed once."""
    from queries.periods import completeness

    chosen = period_filters(con) if periods else period_filters(con)[:1]
    if sites:
        chosen += site_filters(con, chosen[0])
    span = completeness(con).maturing_span()
    out = []
    for f in chosen:
        out += warm.calls(f, overview=True)
        if span is not None:  # the "maturing" notice under every title (filters.maturing_count)
            out.append(("episodes", dataclasses.replace(f, start_date=span[0], end_date=span[1]), (), {}))
    return _distinct(out)


def _distinct(requests: list[tuple[str, Any, tuple[str, ...], dict[str, Any]]]) -> list[tuple[str, Any, tuple[str, ...], dict[str, Any]]]:
    import queries

    seen, out = set(), []
    for name, f, by, overrides in requests:
        declared = queries.describe(name).params
        key = (name, tuple(sorted((k, v) for k, v in f.query_filters().items() if k in declared)), by,
               tuple(sorted(overrides.items())))
        if key not in seen:
            seen.add(key)
            out.append((name, f, by, overrides))
    return out


def precompute(con: duckdb.DuckDBPyConnection, min_cell: int = MIN_CELL, first_only: bool = False) -> int:
    """Compute and store the pages' results in ``meta.metric_snapshots``; returns how many were
    stored. ``first_only``: the default period's only (the first stage; ``complete`` adds the
    rest). Best effort: a request that fails is left to be computed when asked."""
    from queries import snapshots

    with snapshots.recording() as recorded:
        _compute(con, min_cell, first_only)
    return snapshots.store(con, recorded)


def _compute(con: duckdb.DuckDBPyConnection, min_cell: int, first_only: bool) -> None:
    import queries
    from queries.access import user_for

    user = user_for(None, "dashboard")  # the role the pages act as without sign-in
    con.execute("set enable_progress_bar = false")  # the load reports this step in one line

    def run(name: str, f: filters.Filters, by: tuple[str, ...] = (), **overrides: Any) -> Any:
        declared = queries.describe(name).params
        chosen = {k: v for k, v in f.query_filters().items() if k in declared}
        return _attempt(name, queries.metric, con, name, by=by, filters=chosen, min_cell=min_cell,
                        user=user, **overrides)

    for name, f, by, overrides in requests(con, periods=not first_only, sites=not first_only):
        run(name, f, by, **overrides)
    _compare_baselines(run, default_filters(con))
    periods = period_filters(con)
    if first_only:
        periods = periods[:1]
    sites = [] if first_only else site_filters(con, periods[0])
    _quality_defaults(con, periods, min_cell, sites=not first_only)
    _clinician_pages(con, [*periods, *sites], min_cell)
    if not first_only:
        _data_quality_tables(con, min_cell)


def _compare_baselines(run: Callable[..., Any], f: filters.Filters) -> None:
    """The Compare view as first opened: the baseline table of each default group (the drugs
    with the most episodes, ``comparisons.candidate_groups``), one request per drug."""
    from dashboard.comparisons import DEFAULT_GROUPS, candidate_groups

    response = run("response", f, ("drug",))
    if response is None:
        return
    for drug in candidate_groups(response.frame, "drug")[:DEFAULT_GROUPS]:
        run("baseline_characteristics", dataclasses.replace(f, drug=drug))


#: The Data & loads page's tables that read the marts (every score: seconds at 1,000,000
#: patients). The others read the load's own records, small; ``load_history`` and
#: ``data_freshness`` read the load log, which the publish step after this one completes.
MART_DATA_QUALITY_TABLES = ("scale_completeness",)


def _data_quality_tables(con: duckdb.DuckDBPyConnection, min_cell: int) -> None:
    """Each of ``MART_DATA_QUALITY_TABLES`` as published for an analyst (exact) and for others."""
    from queries.published_counts import stored_data_quality_table

    for name in MART_DATA_QUALITY_TABLES:
        for exact in (True, False):
            _attempt(name, stored_data_quality_table, con, name, min_cell, exact=exact)


#: From this many patients on, a load stores the default period's results and leaves the other
#: periods and the sites to ``complete`` in the background (at 100,000 patients the whole step
#: costs about a minute of CPU, at 1,000,000 several; below, it is done in the load as before).
BACKGROUND_FROM_PATIENTS = 50_000


def needs_background(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the clinic is large enough for the two stages (``BACKGROUND_FROM_PATIENTS``)."""
    try:
        patients = con.sql("select count(*) from marts.dim_patients").fetchall()[0][0]
    except duckdb.Error:
        return False
    return bool(patients >= BACKGROUND_FROM_PATIENTS)


def identity(path: Path) -> str:
    """The published file's identity (inode and modification time): a new load changes it."""
    info = path.stat()
    return f"{info.st_ino}:{info.st_mtime_ns}"


def in_background(live: Path) -> subprocess.Popen[bytes]:
    """Start ``complete`` on the warehouse just published, detached from the load (which
    returns at once) and at a lower CPU priority than the dashboard it serves."""
    live = Path(live).resolve()
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.precompute", str(live), identity(live)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def complete(live: Path, expected: str, min_cell: int = MIN_CELL) -> int | None:
    """The second stage: every result of a one-stage load stored in ``live``, if it is still
    the file ``expected`` names (``identity``); returns how many are stored, or None when a
    newer load has replaced it or holds the lock (that load stores its own)."""
    from pipelines.ingest import IngestError
    from pipelines.publish import build_then_swap
    from queries import snapshots

    live = Path(live).resolve()
    if not live.exists() or identity(live) != expected:
        return None
    reader = duckdb.connect(":memory:")
    try:
        reader.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(live)])
        reader.execute("USE warehouse")
        with snapshots.recording() as recorded:
            _compute(reader, min_cell, first_only=False)
    finally:
        reader.close()
    try:
        with build_then_swap(live) as con:
            if identity(live) != expected:  # replaced while we computed; the lock is ours now
                raise _Stale
            return snapshots.store(con, recorded)
    except (_Stale, IngestError):
        return None


class _Stale(Exception):
    """The live warehouse is no longer the one the results were computed on."""


def main(argv: list[str]) -> int:
    """``python -m dashboard.precompute LIVE IDENTITY`` (started by ``in_background``)."""
    import logging as logs
    import signal

    os.nice(10)  # the dashboard being served goes first on a small machine
    # stopped (a shutdown, a user): unwind, so build_then_swap removes its copy of the warehouse
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # Outside a server Streamlit warns once per cached function; nothing here uses its caches.
    logs.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logs.ERROR)
    stored = complete(Path(argv[0]), argv[1])
    return 0 if stored is not None else 1


def _clinician_pages(con: duckdb.DuckDBPyConnection, variants: list[filters.Filters], min_cell: int) -> None:
    """My patients' and Clinicians' published counts (the five worklists on the data end: seconds
    at 1,000,000 patients, the same under every filter) and the Clinicians page's two scorecards
    (funnel positions and quarterly trends) under each period and each site."""
    from queries import published_counts
    from queries.scorecards import clinician_scorecard

    _attempt("worklist counts", published_counts.worklist_counts, con, min_cell)
    _attempt("worklist counts by clinician", published_counts.worklist_counts_by_clinician, con, min_cell)
    for f in variants:
        for measure in ("response", "remission"):
            chosen = {k: v for k, v in f.query_filters().items() if v is not None}
            _attempt(f"{measure} scorecard", clinician_scorecard, con, measure, filters=chosen,
                     min_cell=min_cell)


def _quality_defaults(con: duckdb.DuckDBPyConnection, periods: list[filters.Filters], min_cell: int,
                      sites: bool = True) -> None:
    """The Quality improvement page as first opened (``views/quality.py`` via ``qi_data``), its
    funnel under each of ``periods``; then (``sites``), for each site, the page under that site
    (measures table, series and funnel of the default period)."""
    from queries import qi
    from queries.qi_funnel import measure_funnel

    quarters = quarter_options(con)
    names = qi.proportion_metrics()
    sites_chosen = [None, *(f.site_id for f in site_filters(con, periods[0]))] if sites else [None]
    for site in sites_chosen:
        by_site = {"site_id": site} if site else {}
        if quarters:
            _attempt("QI measures table", qi.measures_table, con, qi.parse_period(quarters[0]),
                     filters=by_site or None, min_cell=min_cell)
        if not names:
            continue
        name = names[0]
        _attempt(name, qi.measure_series, con, name, by="month", filters=by_site, min_cell=min_cell)
        for f in periods if site is None else periods[:1]:
            window = {k: v for k, v in (("start_date", f.start_date), ("end_date", f.end_date)) if v is not None}
            _attempt(name, measure_funnel, con, name, by="site_id", filters={**window, **by_site},
                     adjust=False, min_cell=min_cell)


def _attempt(what: str, compute: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``compute(*args, **kwargs)``, or None when it fails."""
    try:
        return compute(*args, **kwargs)
    except Exception:  # precomputing is best effort; the page reports real errors when asked
        LOG.debug("precomputing %s failed", what, exc_info=True)
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
