"""Funnels of a measure by clinician or site, crude or case-mix adjusted, with suppression.

* **Crude** (``adjust=False``): ``queries.metric(by=unit)`` gives each unit's numerator and
  denominator, already suppressed; :func:`stats.funnel.proportion_funnel` draws exact binomial
  limits (Spiegelhalter's interpolation) around the overall rate of all units.
* **Case-mix adjusted** (``adjust=True``): indirect standardisation
  (:func:`stats.funnel.indirect_standardise`) over strata of baseline severity band, age band and
  diagnosis group (those the measure returns). DuckDB counts units per unit x stratum (no
  patient rows reach Python); the reference rate of a stratum pools all units; the funnel plots
  ``O/E`` against ``E`` (:func:`stats.funnel.ratio_funnel`), 1 = as expected for the case mix.

A unit whose count is hidden (1-10, the remainder n - events 1-10, or hidden to protect another
unit, DOMAIN.md section 10) is **not plotted** - its position would give the count away - and is
listed in ``suppressed`` to be shown as "suppressed (1-10)". Units too small to judge (n < 20,
or E < 5 when adjusted) are plotted but labelled "insufficient data" by the funnel module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from queries import loader
from queries.engine import resolve_min_cell
from queries.qi import QIError, measure_info, measure_metric
from stats import funnel
from stats.suppression import SuppressionSpec, suppress

#: Units a funnel compares; formatted into SQL only from this allow-list.
FUNNEL_UNITS = ("clinician_id", "site_id")
#: Case-mix strata, in this order, each with the column names a query may give it (allow-listed):
#: QI measures call the baseline severity band ``severity_band``, the outcome metrics (response,
#: remission) ``baseline_severity_band``. A query uses the first name of each stratum it returns.
STRATA: tuple[tuple[str, ...], ...] = (
    ("severity_band", "baseline_severity_band"), ("age_band",), ("diagnosis_group",))


@dataclass(frozen=True)
class MeasureFunnel:
    """A funnel of one measure: the computed funnel over visible units and the hidden units."""

    name: str
    by: str
    adjusted: bool
    result: funnel.FunnelResult
    suppressed: list[str] = field(default_factory=list)
    strata: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


def measure_funnel(
    con: duckdb.DuckDBPyConnection,
    name: str,
    by: str = "clinician_id",
    filters: dict[str, Any] | None = None,
    adjust: bool = False,
    min_cell: int | None = None,
    method: str = "exact",
    overdispersion: bool = False,
    min_n: int = funnel.DEFAULT_MIN_N,
) -> MeasureFunnel:
    """The funnel of measure ``name`` by ``clinician_id`` or ``site_id`` (see module docstring).
    ``min_cell`` None: the configured threshold (``queries.engine.resolve_min_cell``)."""
    min_cell = resolve_min_cell(min_cell)[0]
    if by not in FUNNEL_UNITS:
        raise QIError(f"--by must be one of {', '.join(FUNNEL_UNITS)}, got {by!r}")
    info = measure_info(name)
    if adjust:
        return _adjusted(con, name, by, filters, min_cell, overdispersion)
    result = measure_metric(con, name, (by,), filters, min_cell)
    frame = result.frame.sort(by)
    hidden = frame.filter(pl.col("numerator_suppressed") | pl.col("denominator_suppressed"))
    shown = frame.filter(
        ~(pl.col("numerator_suppressed") | pl.col("denominator_suppressed")) & (pl.col("denominator") > 0)
    )
    if shown.height < 2:
        raise QIError(
            f"{name} by {by}: fewer than 2 units can be shown ({hidden.height} suppressed); "
            "widen the period or remove filters"
        )
    overall = measure_metric(con, name, (), filters, min_cell).frame.row(0, named=True)
    # The target is the overall rate of all units, hidden ones included (it is published anyway
    # as the headline); with the headline itself hidden, fall back to the shown units' rate.
    target = None if overall.get("rate_suppressed") else overall.get("rate")
    computed = funnel.proportion_funnel(
        shown[by].to_list(), shown["numerator"].to_list(), shown["denominator"].to_list(),
        method=method, overdispersion=overdispersion, target=target, min_n=min_n,
    )
    meta = {**result.meta, "rate_label": info.rate_label, "direction": info.direction}
    return MeasureFunnel(name, by, False, computed, [str(u) for u in hidden[by].to_list()], (), meta)


def _strata_of(name: str) -> tuple[str, ...]:
    columns = loader.describe(name).columns
    return tuple(next(n for n in names if n in columns)
                 for names in STRATA if any(n in columns for n in names))


def _flag_columns(name: str) -> tuple[str, str]:
    """The unit-level flag columns behind the headline numerator and denominator counts
    (``"*"`` = every unit -> ``true``). They come from a header in this package."""
    spec = loader.describe(name).metric
    headline = spec["rates"][0]
    counts = spec["counts"]
    numerator, denominator = counts[headline["numerator"]], counts[headline["denominator"]]
    return ("true" if numerator == "*" else numerator, "true" if denominator == "*" else denominator)


def unit_strata_counts(
    con: duckdb.DuckDBPyConnection, name: str, by: str, filters: dict[str, Any] | None
) -> pl.DataFrame:
    """Denominator units and numerator units per unit x stratum (aggregated in DuckDB).

    Internal: the counts are unsuppressed and feed only the standardisation."""
    query = loader.describe(name)
    strata = _strata_of(name)
    numerator, denominator = _flag_columns(name)
    given = {k: v for k, v in (filters or {}).items() if v is not None}
    params = loader.check_params(query, given)
    stratum = " || ' / ' || ".join(f"coalesce({s}, 'unknown')" for s in strata) or "'all'"
    # Identifiers: `by` from FUNNEL_UNITS, strata from STRATA, flags from this package's headers.
    sql = (
        f"with units as (\n{query.sql}\n)\n"
        f"select {by} as unit, {stratum} as stratum,\n"
        f"    count(*) filter (where {denominator} and {numerator})::bigint as events,\n"
        f"    count(*) filter (where {denominator})::bigint as n\n"
        f"from units group by all having n > 0 order by unit, stratum"
    )
    return con.sql(sql, params=params).pl()


def _adjusted(
    con: duckdb.DuckDBPyConnection, name: str, by: str, filters: dict[str, Any] | None,
    min_cell: int, overdispersion: bool,
) -> MeasureFunnel:
    counts = unit_strata_counts(con, name, by, filters)
    if counts.is_empty():
        raise QIError(f"{name} by {by}: no units in the denominator")
    standardised = funnel.indirect_standardise(counts)
    standardised = standardised.with_columns(pl.col("observed").cast(pl.Int64), pl.col("n").cast(pl.Int64))
    true_counts: dict[str, tuple[int | None, ...]] = {}
    published = measure_metric(con, name, (by,), filters, min_cell)
    if published.meta.get("perturbation"):
        # Publish each unit's observed and n as every other view does (the same units, so the
        # same perturbed counts as the crude funnel and `metric --by`); the expected count is
        # the case-mix model's and stays exact. Rates and O/E come from what is published.
        true_counts = {c: tuple(standardised[c].to_list()) for c in ("observed", "n")}
        shown_counts = published.frame.select(
            pl.col(by).cast(pl.String).alias("unit"),
            pl.col("numerator").alias("_observed"), pl.col("denominator").alias("_n"),
            pl.col("numerator_suppressed").alias("_hidden"),
        )
        overall = standardised["adjusted_rate"] / standardised["ratio"]  # R_overall per row
        standardised = standardised.with_columns(pl.col("unit").cast(pl.String), overall.alias("_r"))
        standardised = standardised.join(shown_counts, on="unit", how="left").with_columns(
            pl.when(pl.col("_hidden")).then(pl.col("observed")).otherwise(pl.col("_observed")).alias("observed"),
            pl.when(pl.col("_hidden")).then(pl.col("n")).otherwise(pl.col("_n")).alias("n"),
        ).with_columns(
            (pl.col("observed") / pl.col("n")).alias("crude_rate"),
            (pl.col("observed") / pl.col("expected")).alias("ratio"),
        ).with_columns((pl.col("ratio") * pl.col("_r")).alias("adjusted_rate")
        ).drop("_observed", "_n", "_hidden", "_r")
    checked = suppress(
        standardised,
        SuppressionSpec(
            counts=("observed", "n"),
            derived=dict.fromkeys(("expected", "ratio", "ratio_low", "ratio_high", "crude_rate", "adjusted_rate"), ("observed", "n")),
            nested=(("observed", "n"),),
            margins=("unit",),
            true_counts=true_counts, perturbed=bool(true_counts),
        ),
        min_cell,
    )
    hidden_mask = pl.col("observed_suppressed") | pl.col("n_suppressed")
    shown = checked.filter(~hidden_mask & (pl.col("expected") > 0))
    hidden = checked.filter(hidden_mask)
    if shown.height < 2:
        raise QIError(
            f"{name} by {by} (adjusted): fewer than 2 units can be shown ({hidden.height} suppressed)"
        )
    computed = funnel.ratio_funnel(
        shown["unit"].to_list(), shown["observed"].to_list(), shown["expected"].to_list(),
        overdispersion=overdispersion,
    )
    for row, extra in zip(computed.units, shown.iter_rows(named=True), strict=True):
        row["n"] = extra["n"]
        row["adjusted_rate"] = extra["adjusted_rate"]
        row["crude_rate"] = extra["crude_rate"]
    strata = _strata_of(name)
    info = measure_info(name)
    meta = {
        "metric": name, "title": loader.describe(name).title, "rate_label": info.rate_label,
        "direction": info.direction, "strata": list(strata), "min_cell": min_cell,
        "method": "indirect standardisation; O/E funnel (Byar intervals)",
    }
    return MeasureFunnel(name, by, True, computed, [str(u) for u in hidden["unit"].to_list()], strata, meta)


__all__ = ["FUNNEL_UNITS", "STRATA", "MeasureFunnel", "measure_funnel", "unit_strata_counts"]
