"""Quality-improvement series: standard measures by month or quarter, the measures table, funnels.

Everything here starts from ``queries.metric`` (aggregated in DuckDB, then passed through
``stats.suppression.suppress``), so no figure leaves this module unsuppressed:

* :func:`measure_series` - numerator and denominator per month or quarter, for run and control
  charts. A period whose count is hidden (1-10, or hidden to protect another cell) is **left out
  of the chart** and listed in ``suppressed``: plotting its rate at its denominator would reveal
  the count.
* :func:`measures_table` - each standard measure for a period and the period before it, with its
  target and direction (``higher`` or ``lower`` is better), the change in percentage points and
  whether the target is met.
* :func:`measure_funnel` (in :mod:`queries.qi_funnel`) - clinicians or sites on a funnel, crude or
  case-mix adjusted.

Periods are written ``2025-Q3`` (a quarter), ``2025-07`` (a month) or ``2025`` (a year); a measure's
period is that of its anchor date (the IPSD, the treatment start, the first visit of a DMS
period; see each header).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from queries import engine, loader
from queries.engine import MetricResult, resolve_min_cell

#: The standard measures in meeting-pack order (DOMAIN.md section 4). ``mbc_coverage`` is the
#: utilisation metric of that name (one definition, not a second copy under measures/).
MEASURES: tuple[str, ...] = (
    "amm_acute",
    "amm_continuation",
    "saa_adherence",
    "apm_metabolic_monitoring",
    "drr_response",
    "drr_remission",
    "dms_phq9_monitoring",
    "mbc_coverage",
    "followup_30d_new_rx",
    "apc_concurrent_antipsychotics",
)
#: Targets for measures whose header gives none (mbc_coverage): product defaults, configurable.
DEFAULT_TARGETS: dict[str, float] = {"mbc_coverage": 0.6}
SERIES_GRAINS = ("month", "quarter")
_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


class QIError(ValueError):
    """A request a QI function cannot answer (bad period, unknown measure, too few points)."""


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A reporting period: ``label`` as written, first and last day inclusive."""

    label: str
    start: dt.date
    end: dt.date

    def previous(self) -> Period:
        """The period of the same length just before (Q1 -> Q4 of the year before)."""
        if re.fullmatch(r"\d{4}", self.label):
            return parse_period(str(self.start.year - 1))
        if "-Q" in self.label:
            quarter = (self.start.month - 1) // 3 + 1
            year, quarter = (self.start.year - 1, 4) if quarter == 1 else (self.start.year, quarter - 1)
            return parse_period(f"{year}-Q{quarter}")
        year, month = (self.start.year - 1, 12) if self.start.month == 1 else (self.start.year, self.start.month - 1)
        return parse_period(f"{year}-{month:02d}")


def parse_period(text: str) -> Period:
    """``2025-Q3``, ``2025-07`` or ``2025`` -> :class:`Period`; anything else raises QIError."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise QIError(f"period {text!r}: write a quarter 2025-Q3, a month 2025-07 or a year 2025")
    year = int(match.group(1))
    if match.group(2):
        first_month = 3 * (int(match.group(2)) - 1) + 1
        start, months = dt.date(year, first_month, 1), 3
    elif match.group(3):
        start, months = dt.date(year, int(match.group(3)), 1), 1
    else:
        start, months = dt.date(year, 1, 1), 12
    end_month = start.month + months
    end = (dt.date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)) - dt.timedelta(days=1)
    return Period(text.strip(), start, end)


# --------------------------------------------------------------------------- measure metadata


@dataclass(frozen=True)
class MeasureInfo:
    name: str
    title: str
    description: str
    direction: str  # "higher" or "lower" is better
    target: float | None
    rate_label: str


def measure_info(name: str, targets: dict[str, float] | None = None) -> MeasureInfo:
    """Title, direction and target of a measure (header ``metric.direction``/``target``)."""
    query = loader.describe(name)
    if query.kind != "proportion":
        raise QIError(f"{name} is a {query.kind} metric; QI charts need a proportion (numerator/denominator)")
    spec = query.metric
    target = (targets or {}).get(name, spec.get("target", DEFAULT_TARGETS.get(name)))
    return MeasureInfo(
        name=name,
        title=query.title,
        description=query.description,
        direction=str(spec.get("direction", "higher")),
        target=None if target is None else float(target),
        rate_label=str(spec["rates"][0].get("label", query.title)),
    )


def proportion_metrics() -> list[str]:
    """Every catalogue metric a QI chart can show: the standard measures first, then the rest."""
    others = [n for n, q in loader.catalog().items() if q.kind == "proportion" and n not in MEASURES]
    return [*[m for m in MEASURES if m in loader.catalog()], *others]


# --------------------------------------------------------------------------- series


@dataclass(frozen=True)
class Series:
    """A measure per period, ready for ``stats.spc.qic(events, n, x=x)``.

    ``x``/``events``/``n`` hold only the periods that may be shown; ``suppressed`` lists the
    periods left out because a count was hidden (never their counts).
    """

    name: str
    by: str
    x: list[str]
    events: list[int]
    n: list[int]
    suppressed: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def measure_metric(
    con: duckdb.DuckDBPyConnection, name: str, by: tuple[str, ...], filters: dict[str, Any] | None,
    min_cell: int,
) -> MetricResult:
    query = loader.describe(name)
    given = {k: v for k, v in (filters or {}).items() if v is not None}
    not_declared = [k for k in given if k not in query.params]
    if not_declared:
        raise QIError(f"{name} cannot be filtered by {', '.join(sorted(not_declared))}")
    return engine.metric(con, name, by=by, filters=given, min_cell=min_cell)


def measure_series(
    con: duckdb.DuckDBPyConnection,
    name: str,
    by: str = "month",
    filters: dict[str, Any] | None = None,
    min_cell: int | None = None,
) -> Series:
    """Numerator and denominator of the headline rate per ``month`` or ``quarter`` of the
    measure's anchor date. Periods with no unit at all do not appear (there is nothing to plot);
    periods with a zero denominator (every unit not yet observable) are dropped too.
    ``min_cell`` None: the configured threshold (``queries.engine.resolve_min_cell``)."""
    min_cell = resolve_min_cell(min_cell)[0]
    if by not in SERIES_GRAINS:
        raise QIError(f"--by must be one of {', '.join(SERIES_GRAINS)}, got {by!r}")
    measure_info(name)  # refuses non-proportion metrics with a clear message
    result = measure_metric(con, name, (by,), filters, min_cell)
    frame = result.frame.sort(by)
    x: list[str] = []
    events: list[int] = []
    n: list[int] = []
    suppressed: list[str] = []
    for row in frame.iter_rows(named=True):
        hidden = row["numerator_suppressed"] or row["denominator_suppressed"]
        if hidden:
            suppressed.append(str(row[by]))
        elif row["denominator"]:
            x.append(str(row[by]))
            events.append(int(row["numerator"]))
            n.append(int(row["denominator"]))
    return Series(name, by, x, events, n, suppressed, dict(result.meta))


def phase_breaks(x: list[str], by: str, intervention_dates: list[dt.date]) -> list[int]:
    """1-based ``part`` positions for ``qic``: a new phase starts at the first period on or after
    each intervention date (a change in mid-March starts the phase with March). Dates before the
    first or after the last period are ignored; two dates in one period give one break."""
    starts = [_period_start(label, by) for label in x]
    breaks = set()
    for when in intervention_dates:
        first = next((i for i, s in enumerate(starts) if _period_end(s, by) >= when), None)
        if first is not None and first > 0:
            breaks.add(first)  # a new part starts after point `first` (1-based: first)
    return sorted(b for b in breaks if b < len(x))


def _period_start(label: str, by: str) -> dt.date:
    if by == "quarter":
        year, quarter = label.split("-Q")
        return dt.date(int(year), 3 * (int(quarter) - 1) + 1, 1)
    year, month = label.split("-")
    return dt.date(int(year), int(month), 1)


def _period_end(start: dt.date, by: str) -> dt.date:
    months = 3 if by == "quarter" else 1
    month = start.month + months
    return dt.date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1) - dt.timedelta(days=1)


# --------------------------------------------------------------------------- measures table


def measures_table(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    filters: dict[str, Any] | None = None,
    min_cell: int | None = None,
    names: tuple[str, ...] = MEASURES,
    targets: dict[str, float] | None = None,
) -> pl.DataFrame:
    """One row per measure: this period and the previous one (numerator, denominator, rate;
    hidden counts null with ``*_suppressed`` true), ``change_pp`` (percentage points, null when
    either rate is hidden or missing), the target, the direction and ``meets_target``."""
    min_cell = resolve_min_cell(min_cell)[0]
    previous = period.previous()
    rows = []
    for name in names:
        if name not in loader.catalog():
            continue
        info = measure_info(name, targets)
        row: dict[str, Any] = {
            "measure": name, "title": info.title, "direction": info.direction, "target": info.target,
        }
        for prefix, window in (("this", period), ("previous", previous)):
            window_filters = {**(filters or {}), "start_date": window.start, "end_date": window.end}
            frame = measure_metric(con, name, (), window_filters, min_cell).frame
            first = frame.row(0, named=True) if frame.height else {}
            for column in ("numerator", "denominator", "rate"):
                row[f"{prefix}_{column}"] = first.get(column)
                row[f"{prefix}_{column}_suppressed"] = bool(first.get(f"{column}_suppressed", False))
        this_rate, previous_rate = row["this_rate"], row["previous_rate"]
        row["change_pp"] = (
            None if this_rate is None or previous_rate is None else 100 * (this_rate - previous_rate)
        )
        row["meets_target"] = _meets(this_rate, info.target, info.direction)
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def _meets(rate: float | None, target: float | None, direction: str) -> bool | None:
    if rate is None or target is None:
        return None
    return rate <= target if direction == "lower" else rate >= target


def top_changes(table: pl.DataFrame, limit: int = 5) -> pl.DataFrame:
    """The largest changes since the previous period (by absolute percentage points), with
    ``better`` true when the change goes the measure's good direction. Hidden rates never enter."""
    if table.is_empty():
        return table
    # A period without data has an all-null change column, typed Null: abs() is not defined on it.
    table = table.with_columns(pl.col("change_pp").cast(pl.Float64))
    visible = table.filter(pl.col("change_pp").is_not_null() & (pl.col("change_pp") != 0))
    return (
        visible.with_columns(
            pl.when(pl.col("direction") == "lower")
            .then(pl.col("change_pp") < 0)
            .otherwise(pl.col("change_pp") > 0)
            .alias("better"),
            pl.col("change_pp").abs().alias("size"),
        )
        .sort(["size", "measure"], descending=[True, False])
        .head(limit)
        .drop("size")
    )


__all__ = [
    "MEASURES", "MeasureInfo", "Period", "QIError", "Series", "measure_info", "measure_series",
    "measures_table", "parse_period", "phase_breaks", "proportion_metrics", "top_changes",
]
