"""Data bridges for the Quality improvement page, re-exported by ``dashboard.data``.

Kept in their own module so ``data.py`` stays small; views still reach them only as
``data.qi_*``. Series, tables and funnels come from ``queries.qi``/``queries.qi_funnel`` and are
already suppressed; results are cached on (arguments, warehouse file version) like every other
bridge. Interventions live in ``<warehouse>.annotations.json`` (see
``report/interventions.py`` for why not inside the read-only, swapped warehouse).
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import streamlit as st

from dashboard import warehouse as _data


def qi_measures() -> list[str]:
    """Measures first, then every other proportion metric, for the QI picker."""
    from queries.qi import proportion_metrics

    return proportion_metrics()


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _qi_series(name: str, file_version: tuple[int, int], by: str, filter_items: tuple, min_cell: int):  # type: ignore[no-untyped-def]
    del file_version
    from queries.qi import measure_series

    cur = _data.cursor()
    try:
        return measure_series(cur, name, by=by, filters=dict(filter_items), min_cell=min_cell)
    finally:
        cur.close()


def qi_series(name: str, by: str = "month", site_id: str | None = None):  # type: ignore[no-untyped-def]
    """A measure per month or quarter (suppressed periods left out, named in ``suppressed``)."""
    items = (("site_id", site_id),) if site_id else ()
    return _qi_series(name, _data.version(), by, items, _data.MIN_CELL)


def qi_chart(series, chart: str, interventions: tuple | list = ()):  # type: ignore[no-untyped-def]
    """``stats.spc.qic`` over a series (p, pp or run of the rate), phases at the interventions."""
    from queries import qi
    from stats import spc

    breaks = qi.phase_breaks(series.x, series.by, [a.on for a in interventions])
    target = qi.measure_info(series.name).target
    if chart == "run":
        rates = [e / n for e, n in zip(series.events, series.n, strict=True)]
        return spc.qic(rates, x=series.x, chart="run", part=breaks, target=target)
    return spc.qic(series.events, series.n, x=series.x, chart=chart, part=breaks, target=target)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _qi_funnel(name: str, file_version: tuple[int, int], by: str, adjust: bool, filter_items: tuple, min_cell: int):  # type: ignore[no-untyped-def]
    del file_version
    from queries.qi_funnel import measure_funnel

    cur = _data.cursor()
    try:
        return measure_funnel(cur, name, by=by, filters=dict(filter_items), adjust=adjust, min_cell=min_cell)
    finally:
        cur.close()


def qi_funnel(name: str, by: str, adjust: bool, start_date: Any = None, end_date: Any = None,
              site_id: str | None = None):  # type: ignore[no-untyped-def]
    """The measure's funnel by clinician or site; raises ``queries.qi.QIError`` when fewer than
    two units can be shown."""
    items = tuple((k, v) for k, v in (("start_date", start_date), ("end_date", end_date),
                                      ("site_id", site_id)) if v is not None)
    return _qi_funnel(name, _data.version(), by, adjust, items, _data.MIN_CELL)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False)
def _qi_table(file_version: tuple[int, int], period_label: str, site_id: str | None, min_cell: int) -> pl.DataFrame:
    del file_version
    from queries import qi

    cur = _data.cursor()
    try:
        filters = {"site_id": site_id} if site_id else None
        return qi.measures_table(cur, qi.parse_period(period_label), filters=filters, min_cell=min_cell)
    finally:
        cur.close()


def qi_measures_table(period_label: str, site_id: str | None = None) -> pl.DataFrame:
    """Each standard measure this period and the previous one, with target and direction."""
    return _qi_table(_data.version(), period_label, site_id, _data.MIN_CELL)


def qi_interventions() -> list[Any]:
    from report import interventions

    return interventions.load(_data.db_path())


def qi_add_intervention(measure: str, on: Any, label: str) -> list[Any]:
    """Save an intervention date (atomic write of the side file; the warehouse is untouched)."""
    from report import interventions
    from report.pack import Annotation

    return interventions.add(_data.db_path(), Annotation(measure, on, label))


def qi_remove_intervention(annotation: Any) -> list[Any]:
    from report import interventions

    return interventions.remove(_data.db_path(), annotation)


def qi_period_options() -> list[str]:
    """Quarters covered by the data, newest first (the meeting pack's period picker)."""
    if not _data.status().ok:
        return []
    cur = _data.cursor()
    try:
        return quarter_options(cur)
    finally:
        cur.close()


def quarter_options(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``qi_period_options`` on a connection (the load's precomputation asks it too)."""
    from queries.periods import completeness, latest_complete_quarter

    try:
        start, end = con.sql("select data_start_on, data_end_on from marts.data_coverage").fetchall()[0]
        complete = latest_complete_quarter(completeness(con))
    except (duckdb.Error, IndexError):
        return []
    quarters = []
    # newest first from the latest quarter whose follow-up windows have closed (the default)
    year, quarter = (int(complete[:4]), int(complete[-1])) if complete else (end.year, (end.month - 1) // 3 + 1)
    while (year, quarter) >= (start.year, (start.month - 1) // 3 + 1):
        quarters.append(f"{year}-Q{quarter}")
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return quarters


def meeting_pack_html(period_label: str, site_id: str | None = None) -> str:
    """The same HTML as ``outcomes report`` (built on click, not cached: it is stamped)."""
    from queries import qi
    from report import interventions, render_html
    from report.pack import build_pack

    cur = _data.cursor()
    try:
        pack = build_pack(cur, qi.parse_period(period_label), site=site_id,
                          annotations=interventions.load(_data.db_path()), min_cell=_data.MIN_CELL)
    finally:
        cur.close()
    return render_html(pack)
