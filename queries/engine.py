"""``metric()``: aggregate a unit-level metric query by allow-listed dimensions, in DuckDB.

A metric file returns one row per unit (an evaluable episode, a patient-period, ...) carrying its
dimension columns and boolean flags, already restricted by the standard filter parameters. The
header's ``metric`` block says how to aggregate it:

``kind: proportion``
    ``counts`` maps an output count to a flag column (``"*"`` counts every unit); ``attrition``
    lists the nested steps (each a subset of the one before; the drop between two steps is
    published as ``dropped``); ``rates`` lists ``{name, numerator, denominator, label}``, the
    first being the headline ``rate`` with its Wilson 95% interval ``ci_low``/``ci_high``.
    ``numerator`` and ``denominator`` columns always hold the headline's counts.
``kind: mean``
    ``value`` is a numeric column: ``n``, ``mean``, ``sd`` and a t-based 95% interval.
``kind: survival``
    ``time`` (days) and ``event`` (flag): DuckDB returns (time, event, count) per group and
    Kaplan-Meier runs on those counts (``queries.km``). ``meta["curve"]`` holds the drawable
    step points per group (``queries.survival.survival_curve``: pooled, cut at small risk sets).
``kind: count``
    ``counts`` maps an output count to ``"*"``, a flag, or ``distinct <column>``.
``kind: table``
    The SQL already returns its published grain; only filters and suppression apply.

Patient-level rows never reach Python: the aggregation is SQL over the metric's SQL as a CTE.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import polars as pl
from scipy import stats as sps

import queries
from queries import stats, suppression

#: The dimensions ``by`` may name (docs/architecture.md). Only these identifiers are ever
#: formatted into SQL text, so a user-supplied ``by`` cannot inject SQL.
DIMENSIONS: tuple[str, ...] = (
    "drug_class", "drug_subclass", "drug", "regimen", "site_id", "clinician_id",
    "diagnosis_group", "age_band", "sex", "month", "quarter", "year", "adherence_band",
    "patient_id",
)
#: Internal stratifiers (``queries.compare`` adjusts for them); accepted by ``metric()`` when the
#: metric returns the column, formatted into SQL under the same allow-list rule as DIMENSIONS.
STRATIFIERS: tuple[str, ...] = ("baseline_severity_band",)
#: Calendar dimensions, computed from the metric's anchor date column (``metric.date``).
CALENDAR = ("month", "quarter", "year")
#: Filters ``metric()`` accepts; each is a declared ``$param`` of the SQL file.
FILTERS: tuple[str, ...] = (
    "start_date", "end_date", "site_id", "clinician_id", "diagnosis_group", "age_band", "sex",
    "drug_class", "drug", "instrument",
)


class MetricError(ValueError):
    """A request the metric cannot answer (unknown dimension, filter or parameter)."""


@dataclass(frozen=True)
class MetricResult:
    """A suppressed, aggregated metric and the record of how it was computed."""

    query: queries.Query
    frame: pl.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.query.name

    def formats(self) -> dict[str, str | None]:
        return _formats(self.query, self.frame.columns)

    def display(self) -> pl.DataFrame:
        """Strings for tables: counts with thousands separators, rates as %, '<11' marks."""
        return suppression.display(self.frame, self.formats(), self.meta["min_cell"])


def dimensions_of(query: queries.Query) -> tuple[str, ...]:
    """The ``by`` dimensions this metric supports: allow-listed columns it returns, plus the
    calendar ones when it has an anchor date."""
    if query.kind == "table":
        return ()
    dims = [d for d in DIMENSIONS if d in query.columns]
    if query.metric.get("date"):
        dims += list(CALENDAR)
    return tuple(d for d in DIMENSIONS if d in dims)


def metric(
    con: duckdb.DuckDBPyConnection,
    name: str,
    by: tuple[str, ...] | list[str] | str = (),
    filters: dict[str, Any] | None = None,
    min_cell: int = suppression.DEFAULT_MIN_CELL,
    **definition_overrides: Any,
) -> MetricResult:
    """Aggregate metric ``name`` by ``by``, add intervals, and pass the frame through
    ``queries.suppression.suppress``. ``filters`` keys come from ``FILTERS``; other declared
    parameters of the SQL (thresholds, preset, severity) are ``definition_overrides``."""
    try:
        query = queries.describe(name)
    except KeyError as exc:
        raise MetricError(str(exc.args[0])) from None
    by_dims = _check_by(query, (by,) if isinstance(by, str) else tuple(by))
    params = _bind(query, filters or {}, definition_overrides)
    method = suppression.method(min_cell)  # validates min_cell
    kind = query.kind
    curve_counts = None  # survival metrics: (group, time, event, units) for the drawable curve
    if kind == "proportion":
        frame, spec = _proportion(con, query, by_dims, params)
    elif kind == "mean":
        frame, spec = _mean(con, query, by_dims, params)
    elif kind == "survival":
        frame, spec, curve_counts = _survival(con, query, by_dims, params)
    elif kind == "count":
        frame, spec = _count(con, query, by_dims, params)
    else:
        frame = con.sql(query.sql, params=params).pl()
        frame, spec = _table(frame, query)
    frame = suppression.suppress(frame, spec, min_cell)
    meta = {
        "metric": query.name,
        "title": query.title,
        "definition": query.description,
        "kind": kind,
        "by": list(by_dims),
        "filters": {k: _jsonable(v) for k, v in (filters or {}).items() if v is not None},
        "parameters": {k: _jsonable(v) for k, v in params.items()},
        "preset": params.get("preset"),
        "definitions": _definitions_in_force(con),
        "min_cell": min_cell,
        "suppression": method,
        "suppression_off": suppression.is_off(min_cell),
        "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if curve_counts is not None:
        from queries.survival import survival_curve

        # Kaplan-Meier step points per group, pooled and cut so no step reveals a small count.
        meta["curve"] = survival_curve(curve_counts, by_dims, min_cell)
    return MetricResult(query, frame, meta)


# --------------------------------------------------------------------------- checks


def _check_by(query: queries.Query, by: tuple[str, ...]) -> tuple[str, ...]:
    by = tuple(d.strip() for d in by if d and d.strip())
    unknown = [d for d in by if d not in DIMENSIONS and d not in STRATIFIERS]
    if unknown:
        raise MetricError(
            f"unknown dimension {', '.join(unknown)}; dimensions are: {', '.join(DIMENSIONS)}"
        )
    supported = dimensions_of(query) + tuple(s for s in STRATIFIERS if s in query.columns)
    unsupported = [d for d in by if d not in supported]
    if unsupported:
        raise MetricError(
            f"metric {query.name!r} cannot be grouped by {', '.join(unsupported)}; "
            f"it supports: {', '.join(supported) or 'no grouping (fixed grain)'}"
        )
    if len(set(by)) != len(by):
        raise MetricError(f"dimension repeated in --by: {', '.join(by)}")
    return by


def _bind(
    query: queries.Query, filters: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    unknown_filters = [k for k in filters if k not in FILTERS]
    if unknown_filters:
        raise MetricError(
            f"unknown filter {', '.join(unknown_filters)}; filters are: {', '.join(FILTERS)}"
        )
    unsupported = [k for k, v in filters.items() if v is not None and k not in query.params]
    if unsupported:
        declared = [p for p in query.params if p in FILTERS]
        raise MetricError(
            f"metric {query.name!r} cannot be filtered by {', '.join(unsupported)}; "
            f"its filters: {', '.join(declared) or 'none'}"
        )
    bad_overrides = [k for k in overrides if k in FILTERS or k not in query.params]
    if bad_overrides:
        settable = [p for p in query.params if p not in FILTERS]
        raise MetricError(
            f"metric {query.name!r} has no definition parameter {', '.join(bad_overrides)}; "
            f"it takes: {', '.join(settable) or 'none'}"
        )
    given = {k: v for k, v in filters.items() if k in query.params}
    given.update(overrides)
    return queries.check_params(query, given)


# --------------------------------------------------------------------------- aggregation


def _dimension_sql(query: queries.Query, by: tuple[str, ...]) -> list[str]:
    """Select expressions for the ``by`` dimensions. Every identifier here comes from
    ``DIMENSIONS`` (checked in ``_check_by``) or from the header of a file in this package
    (``metric.date``), never from free user text, which is why formatting them is safe."""
    date = query.metric.get("date")
    expressions = []
    for dim in by:
        if dim == "month":
            expressions.append(f"strftime({date}, '%Y-%m') as month")
        elif dim == "quarter":
            expressions.append(f"year({date})::varchar || '-Q' || quarter({date}) as quarter")
        elif dim == "year":
            expressions.append(f"year({date})::bigint as year")
        else:
            expressions.append(dim)
    return expressions


def _count_expression(source: str) -> str:
    # ``source`` is a flag column name, "*" or "distinct <column>" from a header in this package.
    if source == "*":
        return "count(*)"
    if source.startswith("distinct "):
        return f"count({source})"
    return f"count(*) filter (where {source})"


#: A trailing top-level ``order by`` of plain column names (no parentheses, so not a window's;
#: nothing after it, so no ``limit`` depends on it).
_TRAILING_ORDER_BY = re.compile(
    r"\border\s+by\s+[a-z_][a-z0-9_.]*(\s+(asc|desc))?(\s+nulls\s+(first|last))?"
    r"(\s*,\s*[a-z_][a-z0-9_.]*(\s+(asc|desc))?(\s+nulls\s+(first|last))?)*\s*;?\s*$",
    re.IGNORECASE,
)


def _unit_rows(sql: str) -> str:
    """The metric's SQL without its final ``order by``, for use as an aggregated CTE.

    The files sort their unit rows (by episode or unit id) for people reading ``queries.run``
    output; inside ``with units as (...) select ... group by`` the order is meaningless, but
    DuckDB 2.0 still sorts every unit row (at 100,000 patients 170 ms of a 175 ms persistence
    query). A clause that is not a plain trailing ``order by <columns>`` is left as it is.
    """
    return _TRAILING_ORDER_BY.sub("", sql.rstrip())


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    query: queries.Query,
    by: tuple[str, ...],
    params: dict[str, Any],
    measures: list[str],
) -> pl.DataFrame:
    select = [*_dimension_sql(query, by), *measures]
    grouping = f"group by {', '.join(by)} order by {', '.join(by)}" if by else ""
    # identifiers from DIMENSIONS and this package's headers only; parameters stay bound
    sql = f"with units as (\n{_unit_rows(query.sql)}\n)\nselect {', '.join(select)}\nfrom units\n{grouping}"
    return con.sql(sql, params=params).pl()


def _proportion(con, query, by, params):  # type: ignore[no-untyped-def]
    spec = query.metric
    counts: dict[str, str] = spec["counts"]
    measures = [f"{_count_expression(src)}::bigint as {out}" for out, src in counts.items()]
    frame = _aggregate(con, query, by, params, measures)
    attrition: list[dict[str, str]] = spec.get("attrition", [])
    relations: list[tuple[str, tuple[str, ...]]] = []
    ordered = [*by]
    for previous, step in zip(attrition, attrition[1:], strict=False):
        dropped = step.get("dropped")
        ordered.append(previous["count"])
        if dropped:
            frame = frame.with_columns((pl.col(previous["count"]) - pl.col(step["count"])).alias(dropped))
            ordered.append(dropped)
            relations.append((previous["count"], (step["count"], dropped)))
    if attrition:
        ordered.append(attrition[-1]["count"])
    rates: list[dict[str, str]] = spec["rates"]
    headline = rates[0]
    frame = frame.with_columns(
        pl.col(headline["numerator"]).alias("numerator"),
        pl.col(headline["denominator"]).alias("denominator"),
    )
    ordered += [c for c in counts if c not in ordered] + ["numerator", "denominator"]
    frame, derived, nested, rate_columns = add_rates(frame, rates)
    ordered += rate_columns
    derived["numerator"] = (headline["numerator"],)
    derived["denominator"] = (headline["denominator"],)
    count_cols = tuple(c for c in ordered if c in frame.columns and c not in by and c not in derived)
    frame = frame.select(ordered)
    return frame, suppression.SuppressionSpec(
        counts=count_cols, derived=derived, nested=tuple(nested), relations=tuple(relations),
        margins=by,
        aliases={"numerator": headline["numerator"], "denominator": headline["denominator"]},
    )


def add_rates(
    frame: pl.DataFrame, rates: list[dict[str, str]]
) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]], list[tuple[str, str]], list[str]]:
    """Add each rate with its Wilson 95% interval. The first rate is named ``rate`` with
    ``ci_low``/``ci_high``; the others ``<name>`` with ``<name>_ci_low``/``<name>_ci_high``.
    Returns the frame, the derived-column sources, the nested pairs and the new column names."""
    derived: dict[str, tuple[str, ...]] = {}
    nested: list[tuple[str, str]] = []
    added: list[str] = []
    for position, rate in enumerate(rates):
        rate_col = "rate" if position == 0 else rate["name"]
        prefix = "" if position == 0 else f"{rate['name']}_"
        k = frame.get_column(rate["numerator"]).fill_null(0).to_numpy().astype(float)
        n = frame.get_column(rate["denominator"]).fill_null(0).to_numpy().astype(float)
        low, high = stats.wilson_intervals(k, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
        frame = frame.with_columns(
            pl.Series(rate_col, value, dtype=pl.Float64).fill_nan(None),
            pl.Series(f"{prefix}ci_low", low, dtype=pl.Float64).fill_nan(None),
            pl.Series(f"{prefix}ci_high", high, dtype=pl.Float64).fill_nan(None),
        )
        for col in (rate_col, f"{prefix}ci_low", f"{prefix}ci_high"):
            derived[col] = (rate["numerator"], rate["denominator"])
            added.append(col)
        nested.append((rate["numerator"], rate["denominator"]))
    return frame, derived, nested, added


def _mean(con, query, by, params):  # type: ignore[no-untyped-def]
    spec = query.metric
    value = spec["value"]
    counts: dict[str, str] = spec.get("counts", {})
    measures = [f"{_count_expression(src)}::bigint as {out}" for out, src in counts.items()]
    measures += [
        f"count({value})::bigint as n",
        f"avg({value})::double as mean",
        f"stddev_samp({value})::double as sd",
    ]
    frame = _aggregate(con, query, by, params, measures)
    n = frame.get_column("n").to_numpy().astype(float)
    sd = frame.get_column("sd").fill_null(np.nan).to_numpy().astype(float)
    mean = frame.get_column("mean").fill_null(np.nan).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = sps.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    frame = frame.with_columns(
        pl.Series("ci_low", mean - half).fill_nan(None),
        pl.Series("ci_high", mean + half).fill_nan(None),
    )
    derived = {c: ("n",) for c in ("mean", "sd", "ci_low", "ci_high")}
    count_cols = (*counts, "n")
    return frame, suppression.SuppressionSpec(counts=count_cols, derived=derived, margins=by)


def _survival(con, query, by, params):  # type: ignore[no-untyped-def]
    spec = query.metric
    measures = [
        f"{spec['time']}::bigint as time_days",
        f"({spec['event']})::boolean as is_event",
        "count(*)::bigint as units",
    ]
    select = [*_dimension_sql(query, by), *measures]
    group = ", ".join([*by, "time_days", "is_event"])
    sql = (  # identifiers from DIMENSIONS and this package's headers only
        f"with units as (\n{_unit_rows(query.sql)}\n)\nselect {', '.join(select)}\nfrom units\n"
        f"group by {group} order by {group}"
    )
    counts = con.sql(sql, params=params).pl()
    from queries.survival import survival_summary  # scipy-heavy; only survival metrics need it

    horizons = tuple(int(h) for h in spec.get("horizons", (180, 365)))
    frame = survival_summary(counts, by, horizons)
    derived = {c: ("n", "events") for c in frame.columns if c not in (*by, "n", "events", "censored")}
    return frame, suppression.SuppressionSpec(
        counts=("n", "events", "censored"), derived=derived,
        relations=(("n", ("events", "censored")),), margins=by,
    ), counts


def _count(con, query, by, params):  # type: ignore[no-untyped-def]
    counts: dict[str, str] = query.metric["counts"]
    measures = [f"{_count_expression(src)}::bigint as {out}" for out, src in counts.items()]
    frame = _aggregate(con, query, by, params, measures)
    return frame, suppression.SuppressionSpec(counts=tuple(counts), margins=by)


def _table(frame: pl.DataFrame, query: queries.Query):  # type: ignore[no-untyped-def]
    """A fixed-grain table: Wilson intervals for declared ``rates`` (computed here, replacing a
    rate the SQL may give), then suppression of every ``fmt: count`` column."""
    rules = query.metric.get("suppression", {})
    derived = {c: tuple(src) for c, src in (rules.get("derived") or {}).items()}
    nested = [tuple(pair) for pair in rules.get("nested") or ()]
    rates = query.metric.get("rates") or []
    if rates:
        frame = frame.drop([c for c in ("rate", "ci_low", "ci_high") if c in frame.columns])
        frame, rate_derived, rate_nested, _ = add_rates(frame, rates)
        derived.update(rate_derived)
        nested += rate_nested
    counts = tuple(c for c, col in query.columns.items() if col.get("fmt") == "count")
    return frame, suppression.SuppressionSpec(
        counts=counts, derived=derived, nested=tuple(nested),  # type: ignore[arg-type]
        margins=tuple(rules.get("margins") or ()),
    )


# --------------------------------------------------------------------------- metadata


def _formats(query: queries.Query, columns: list[str]) -> dict[str, str | None]:
    """Display format per output column: counts, percentages, days or the metric's value format."""
    spec = query.metric
    counts = set(spec.get("counts", {})) | {"numerator", "denominator", "n", "events", "censored"}
    counts |= {step["dropped"] for step in spec.get("attrition", []) if step.get("dropped")}
    value_fmt = spec.get("fmt", "num1")
    out: dict[str, str | None] = {}
    for col in columns:
        if query.kind == "table" and col in query.columns:
            out[col] = query.fmt(col)
        elif query.kind == "table" and col.startswith("ci_"):
            out[col] = "pct1"
        elif col in counts:
            out[col] = "count"
        elif col.startswith(("rate", "survival_")) or (col.startswith("ci_") and query.kind == "proportion"):
            out[col] = "pct1"
        elif col.startswith("median"):
            out[col] = "days"
        elif col in ("mean", "sd", "ci_low", "ci_high"):
            out[col] = value_fmt
        else:
            out[col] = query.fmt(col)
    return out


def _definitions_in_force(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The definition parameters the warehouse was built with (``meta.definitions``)."""
    try:
        rows = con.sql("select key, value, is_default from meta.definitions order by key").fetchall()
    except duckdb.Error:
        return {}
    return {key: {"value": value, "is_default": bool(is_default)} for key, value, is_default in rows}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
