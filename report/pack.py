"""The meeting pack's content, without any rendering: what ``outcomes report`` and the QI page's
"Download meeting pack" button both show (``report/render.py`` turns it into HTML).

For a reporting period (``2025-Q3``) and optionally one site, :func:`build_pack` gathers:

* the measures table (this period, the previous one, target, direction; ``queries.qi``);
* the top changes since the previous period (hidden rates never enter);
* per measure, a monthly control chart up to the period's end: a p chart, or Laney's p' chart
  when the average monthly denominator is 1,000 or more (large subgroups make p limits too
  narrow, qicharts2's advice); phases split at the saved intervention dates; the signals in
  plain words (``stats.spc_words``); the suppressed months named;
* per measure, a crude funnel by site (or by clinician when one site is chosen) over the 12
  months ending with the period (one quarter holds too few units per clinician), with
  suppressed units named;
* the worklists as counts only: per worklist, the distinct patients listed on the period's end
  (the data end when the period runs past it), of the site when one is chosen; published as
  every count (``queries.published_counts``: perturbed, 1 to ``min_cell - 1`` hidden, as on
  the My patients page); never a patient id;
* the definitions in force (``meta.definitions``), the data span and de-identification mode, the
  suppression threshold and method;
* optionally, regimen comparisons adjusted by propensity score (``report.comparisons``):
  balance verdict first, the effect only when balance was reached.

Every figure comes from ``queries.metric``, so small-cell suppression applies throughout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from queries import cell_keys, published_counts, qi, worklist
from queries.engine import resolve_min_cell
from queries.qi_funnel import MeasureFunnel, measure_funnel
from report.comparisons import ComparisonSection, ComparisonSpec, comparison_section
from stats import spc, suppression

#: Average monthly denominator from which the pack uses Laney's p' instead of p.
LANEY_FROM_N = 1000
#: Fewer monthly points than this (after suppression) and the chart is drawn by quarter.
MIN_MONTHLY_POINTS = 8
#: Funnels cover the 12 months up to the period's end: one quarter is too few units per clinician.
FUNNEL_MONTHS = 12


@dataclass(frozen=True)
class Annotation:
    """An intervention date entered on the QI page; ``measure`` "*" applies to every measure."""

    measure: str
    on: dt.date
    label: str


@dataclass(frozen=True)
class ChartSection:
    name: str
    title: str
    rate_label: str
    direction: str
    target: float | None
    chart: spc.SPCChart | None
    explanations: list[str]
    suppressed: list[str]
    annotations: list[Annotation]
    note: str = ""


@dataclass(frozen=True)
class FunnelSection:
    name: str
    title: str
    by: str
    funnel: MeasureFunnel | None
    note: str = ""


@dataclass(frozen=True)
class WorklistCount:
    """Patients on one worklist: ``patients`` None when hidden (a count of 1 to min_cell - 1)."""

    name: str
    title: str
    patients: int | None
    hidden: bool


@dataclass(frozen=True)
class Pack:
    period: qi.Period
    previous: qi.Period
    site: str | None
    generated_at: str
    min_cell: int
    suppression_method: str
    measures: pl.DataFrame
    top_changes: pl.DataFrame
    charts: list[ChartSection]
    funnels: list[FunnelSection]
    definitions: list[dict[str, Any]]
    deployment: dict[str, str] = field(default_factory=dict)
    data_span: tuple[dt.date | None, dt.date | None] = (None, None)
    worklists: list[WorklistCount] = field(default_factory=list)
    worklists_as_of: dt.date | None = None
    comparisons: list[ComparisonSection] = field(default_factory=list)


def chart_type_for(n: list[int]) -> str:
    """``pp`` (Laney p') when the mean denominator is at least LANEY_FROM_N, else ``p``."""
    return "pp" if n and sum(n) / len(n) >= LANEY_FROM_N else "p"


def control_chart(
    con: duckdb.DuckDBPyConnection,
    name: str,
    filters: dict[str, Any] | None,
    annotations: list[Annotation],
    min_cell: int | None = None,
    chart: str | None = None,
    by: str = "month",
) -> ChartSection:
    """One measure's control chart section (see module docstring)."""
    info = qi.measure_info(name)
    series = qi.measure_series(con, name, by=by, filters=filters, min_cell=min_cell)
    if by == "month" and len(series.x) < MIN_MONTHLY_POINTS:
        # too few months survive suppression: quarters pool more units per point
        quarterly = qi.measure_series(con, name, by="quarter", filters=filters, min_cell=min_cell)
        if len(quarterly.x) > len(series.x):
            series, by = quarterly, "quarter"
    mine = sorted((a for a in annotations if a.measure in (name, "*")), key=lambda a: a.on)
    if len(series.x) < 2:
        return ChartSection(
            name, info.title, info.rate_label, info.direction, info.target, None, [],
            series.suppressed, mine,
            note=f"Not enough periods to chart: {len(series.x)} can be shown after suppression.",
        )
    breaks = qi.phase_breaks(series.x, by, [a.on for a in mine])
    kind = chart or chart_type_for(series.n)
    computed = spc.qic(series.events, series.n, x=series.x, chart=kind, part=breaks, target=info.target)
    return ChartSection(
        name, info.title, info.rate_label, info.direction, info.target, computed,
        computed.explanations(), series.suppressed, mine,
    )


def funnel_section(
    con: duckdb.DuckDBPyConnection, name: str, by: str, filters: dict[str, Any] | None,
    min_cell: int | None = None, adjust: bool = False,
) -> FunnelSection:
    title = qi.measure_info(name).title
    try:
        computed = measure_funnel(con, name, by=by, filters=filters, adjust=adjust, min_cell=min_cell)
    except qi.QIError as exc:
        return FunnelSection(name, title, by, None, note=str(exc))
    return FunnelSection(name, title, by, computed)


def definitions_in_force(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    try:
        return con.sql("select key, value, is_default from meta.definitions order by key").pl().to_dicts()
    except duckdb.Error:
        return []


def _deployment(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in con.sql("select key, value from meta.deployment").fetchall()}
    except duckdb.Error:
        return {}


def _span(con: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    try:
        rows = con.sql("select data_start_on, data_end_on from marts.data_coverage").fetchall()
    except duckdb.Error:
        return (None, None)
    return (rows[0][0], rows[0][1]) if rows else (None, None)


def _month_after(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the month following ``day`` (months < 0: before):
    ``_month_after(2025-09-30, -12)`` is 2024-10-01, the start of the 12 months ending with day."""
    index = day.year * 12 + day.month + months  # month index of the month after `day`, shifted
    return dt.date(index // 12, index % 12 + 1, 1)


def worklist_counts(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None, site: str | None, min_cell: int,
) -> list[WorklistCount]:
    """Distinct patients on each worklist on ``as_of``, published as every count is
    (``queries.published_counts``: perturbed with the patients' record keys, 1 to min_cell - 1
    hidden), so a site's pack, the whole clinic's pack and the dashboard cannot be subtracted
    to give a hidden count. One count per list, no margins: the lists overlap."""
    frame = published_counts.worklist_counts(con, min_cell, as_of=as_of, site_id=site)
    count = published_counts.PATIENTS
    hidden = frame[f"{count}_suppressed"] if f"{count}_suppressed" in frame.columns else \
        pl.Series([False] * frame.height)
    return [
        WorklistCount(name, worklist.query_of(name).title, patients, bool(is_hidden))
        for name, patients, is_hidden in zip(frame["worklist"], frame[count], hidden,
                                             strict=True)
    ]


def _worklists_as_of(period: qi.Period, data_end: dt.date | None) -> dt.date:
    """The period's end, or the data end when the period runs past it (after the data end every
    due test would read as overdue)."""
    return min(period.end, data_end) if data_end else period.end


def build_pack(
    con: duckdb.DuckDBPyConnection,
    period: qi.Period,
    site: str | None = None,
    annotations: list[Annotation] | None = None,
    min_cell: int | None = None,
    names: tuple[str, ...] = qi.MEASURES,
    comparisons: tuple[ComparisonSpec, ...] = (),
    adjust: str = "weighting",
    trim_percentile: float | None = None,
) -> Pack:
    """Everything the meeting pack shows for ``period`` (and ``site``), already suppressed.
    ``min_cell`` None: the configured threshold (``queries.engine.resolve_min_cell``), recorded
    in the pack."""
    min_cell = resolve_min_cell(min_cell)[0]
    names = tuple(n for n in names if n in qi.proportion_metrics())
    site_filter = {"site_id": site} if site else {}
    table = qi.measures_table(con, period, filters=site_filter, min_cell=min_cell, names=names)
    history = {**site_filter, "end_date": period.end}
    charts = [control_chart(con, n, history, annotations or [], min_cell) for n in names]
    funnel_start = _month_after(period.end, -FUNNEL_MONTHS)
    in_period = {**site_filter, "start_date": funnel_start, "end_date": period.end}
    unit = "clinician_id" if site else "site_id"
    funnels = [funnel_section(con, n, unit, in_period, min_cell) for n in names]
    span = _span(con)
    as_of = _worklists_as_of(period, span[1])
    compared = [comparison_section(con, spec, adjust, history, min_cell, trim_percentile)
                for spec in comparisons]
    return Pack(
        period=period,
        previous=period.previous(),
        site=site,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        min_cell=min_cell,
        # the measures come from queries.metric: perturbed whenever the warehouse has its salt
        suppression_method=suppression.method(
            min_cell, perturbed=cell_keys.read_salt(con) is not None),
        measures=table,
        top_changes=qi.top_changes(table),
        charts=charts,
        funnels=funnels,
        definitions=definitions_in_force(con),
        deployment=_deployment(con),
        data_span=span,
        worklists=worklist_counts(con, as_of, site, min_cell),
        worklists_as_of=as_of,
        comparisons=compared,
    )


__all__ = ["Annotation", "ChartSection", "FunnelSection", "Pack", "WorklistCount", "build_pack",
           "chart_type_for", "control_chart", "funnel_section", "worklist_counts"]
