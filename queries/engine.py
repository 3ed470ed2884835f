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
    ``not_defined: {reason: <column>, counts: [<count>, ...]}`` (optional): where the unit rows
    carry a reason (an instrument without that rule, PCL-5 remission), those counts and every
    rate built on them are null and ``not_defined_reason`` gives the reason: "not defined" is
    not 0. ``queries.aggregate.not_defined_reasons`` lists them for the CLI and the dashboard.
``kind: mean``
    ``value`` is a numeric column: ``n``, ``mean``, ``sd`` and a t-based 95% interval.
``kind: survival``
    ``time`` (days) and ``event`` (flag): DuckDB returns (time, event, count) per group and
    Kaplan-Meier runs on those counts (``stats.km``). ``meta["curve"]`` holds the drawable
    step points per group (``stats.survival.survival_curve``: pooled, cut at small risk sets).
``kind: count``
    ``counts`` maps an output count to ``"*"``, a flag, or ``distinct <column>``.
``kind: table``
    The SQL already returns its published grain; only filters and suppression apply.

Patient-level rows never reach Python: the aggregation is SQL over the metric's SQL as a CTE. Each
kind's aggregation lives in ``queries.aggregate``; this module checks the request, binds the
parameters, dispatches, suppresses and records how the result was computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from pipelines.query_filters import FILTERS
from queries import access, aggregate, cell_keys, loader, snapshots, vocabulary
from stats import suppression

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
__all__ = ["FILTERS", "MetricError", "MetricResult", "dimensions_of", "metric"]


class MetricError(ValueError):
    """A request the metric cannot answer (unknown dimension, filter or parameter)."""


@dataclass(frozen=True)
class MetricResult:
    """A suppressed, aggregated metric and the record of how it was computed."""

    query: loader.Query
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


def dimensions_of(query: loader.Query) -> tuple[str, ...]:
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
    min_cell: int | None = None,
    perturb: bool = True,
    user: access.User | None = None,
    **definition_overrides: Any,
) -> MetricResult:
    """Aggregate metric ``name`` by ``by``, add intervals, and pass the frame through
    ``stats.suppression.suppress``. ``filters`` keys come from ``FILTERS``; other declared
    parameters of the SQL (thresholds, preset, severity) are ``definition_overrides``.
    ``min_cell`` None means the configured threshold (``resolve_min_cell``); the result's meta
    records the threshold and its source. ``user`` (default: an analyst, the trusted local
    caller) is checked by ``queries.access.authorise_metric``: patient-level rows and a lowered
    threshold need a role that allows them (``AccessDenied`` names it).

    ``perturb=False`` gives the per-view method that preceded cell-key perturbation
    (suppression with complementary cells, exact visible counts). It does not protect across
    views; it exists to measure the difference (benchmarks/bench_suppression.py, the
    differencing test), and no page or command uses it."""
    min_cell, min_cell_source = resolve_min_cell(min_cell)
    try:
        query = loader.describe(name)
    except KeyError as exc:
        raise MetricError(str(exc.args[0])) from None
    by_dims = _check_by(query, (by,) if isinstance(by, str) else tuple(by))
    filters = access.authorise_metric(
        user or access.ANALYST, name, patient_level=bool(query.metric.get("patient_level")),
        by=by_dims, filters=dict(filters or {}), min_cell=min_cell,
        default_min_cell=suppression.DEFAULT_MIN_CELL, clinician_filter="clinician_id" in query.params)
    params = _bind(query, filters or {}, definition_overrides)
    suppression.method(min_cell)  # validates min_cell
    # Cell-key perturbation whenever suppression is on and the warehouse has its secret salt;
    # min_cell 0 (local analysis, logged by the CLI) gives exact counts.
    salt = None if suppression.is_off(min_cell) or not perturb else cell_keys.read_salt(con)
    # A result stored at load time for exactly this request (queries.snapshots): the same frame
    # and metadata this function computed then, so nothing below needs to run again.
    key = snapshots.request_key(name, query.sql, by_dims, params, min_cell, perturb,
                                min_cell_source, salt)
    stored = snapshots.lookup(con, key)
    if stored is not None:
        snapshots.offer(key, name, *stored)
        return MetricResult(query, *stored)
    try:
        # A typo matches no row and would read as a true zero: refuse it, naming the closest value.
        vocabulary.check(con, {**(filters or {}), "preset": definition_overrides.get("preset")})
    except vocabulary.UnknownValue as exc:
        raise MetricError(str(exc)) from None
    kind = query.kind
    curve_counts = None  # survival metrics: (group, time, event, units) for the drawable curve
    if kind == "proportion":
        frame, spec = aggregate.proportion(con, query, by_dims, params, salt)
    elif kind == "mean":
        frame, spec = aggregate.mean(con, query, by_dims, params, salt)
    elif kind == "survival":
        frame, spec, curve_counts = aggregate.survival(con, query, by_dims, params, salt)
    elif kind == "count":
        frame, spec = aggregate.count(con, query, by_dims, params, salt)
    elif query.domain == "data_quality":
        # counts of source records: exact for an analyst, else perturbed (queries.published_counts)
        from queries.published_counts import data_quality_spec

        exact = access.may(user or access.ANALYST, "exact_data_quality") or salt is None
        frame = con.sql(query.sql, params=params).pl()
        frame, spec, _ = data_quality_spec(con, name, frame, min_cell, exact=exact)
    else:
        frame = con.sql(query.sql, params=params).pl()
        frame, spec = aggregate.table(frame, query, salt)
    frame = suppression.suppress(frame, spec, min_cell)
    method = suppression.method(min_cell, perturbed=spec.perturbed)
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
        "min_cell_source": min_cell_source,
        "suppression": method,
        "suppression_off": suppression.is_off(min_cell),
        "perturbation": cell_keys.meta(salt, min_cell) if spec.perturbed else None,
        "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if curve_counts is not None:
        from stats.survival import survival_curve

        # Kaplan-Meier step points per group, pooled and cut so no step reveals a small count.
        meta["curve"] = survival_curve(curve_counts, by_dims, min_cell)
    if not query.metric.get("patient_level"):  # aggregates only: unit rows are never stored
        snapshots.offer(key, name, frame, meta)
    return MetricResult(query, frame, meta)


def resolve_min_cell(min_cell: int | None) -> tuple[int, str]:
    """(threshold, source): the caller's ``min_cell`` (a --min-cell option, an argument), else
    ``min_cell`` of ``outcomes.toml`` (``pipelines.definitions.configured_min_cell``), else 11."""
    if min_cell is not None:
        return min_cell, "argument"
    from pipelines.definitions import DefinitionError, configured_min_cell

    try:
        return configured_min_cell()
    except DefinitionError as exc:
        raise MetricError(str(exc)) from None


# --------------------------------------------------------------------------- checks


def _check_by(query: loader.Query, by: tuple[str, ...]) -> tuple[str, ...]:
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
    query: loader.Query, filters: dict[str, Any], overrides: dict[str, Any]
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
        close = [vocabulary.suggest(k, tuple(settable)) for k in bad_overrides]
        hint = "; did you mean " + ", ".join(c for c in close if c) + "?" if any(close) else ""
        raise MetricError(
            f"metric {query.name!r} has no definition parameter {', '.join(bad_overrides)}{hint} "
            f"It takes: {', '.join(settable) or 'none'}"
        )
    given = {k: v for k, v in filters.items() if k in query.params}
    given.update(overrides)
    return loader.check_params(query, given)


# --------------------------------------------------------------------------- metadata


def _formats(query: loader.Query, columns: list[str]) -> dict[str, str | None]:
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
