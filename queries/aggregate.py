"""How each kind of metric is aggregated in DuckDB (``queries.engine.metric`` dispatches here).

A metric file returns unit rows; these functions wrap its SQL as a CTE, group by the requested
dimensions and return the frame with the ``SuppressionSpec`` that says which columns are counts
and which are computed from them. The kinds are described in ``queries.engine``.

With a cell-key ``salt`` (suppression on; ``queries.cell_keys``, ``stats.cell_key``) every count
is replaced by its perturbed, published value before any rate, interval or difference is
computed from it, so derived figures come from what is shown; the spec carries the true counts
for the suppression rule. Without one (``min_cell`` 0, or a warehouse without a salt) the counts
are exact.
"""

from __future__ import annotations

import itertools
from typing import Any

import duckdb
import numpy as np
import polars as pl

from pipelines.query_files import count_expression
from pipelines.query_filters import TRAILING_ORDER_BY
from queries import cell_keys, loader
from stats import inference, suppression
from stats.cell_key import KEY_BASE


def dimension_sql(query: loader.Query, by: tuple[str, ...]) -> list[str]:
    """Select expressions for the ``by`` dimensions. Every identifier here comes from
    ``DIMENSIONS`` (checked in ``queries.engine._check_by``) or from the header of a file in this package
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


def unit_rows(sql: str) -> str:
    """The metric's SQL without its final ``order by``, for use as an aggregated CTE.

    The files sort their unit rows (by episode or unit id) for people reading ``queries.run``
    output; inside ``with units as (...) select ... group by`` the order is meaningless, but
    DuckDB 2.0 still sorts every unit row (at 100,000 patients 170 ms of a 175 ms persistence
    query). A clause that is not a plain trailing ``order by <columns>`` is left as it is.
    """
    return TRAILING_ORDER_BY.sub("", sql.rstrip())


def group_units(
    con: duckdb.DuckDBPyConnection,
    query: loader.Query,
    by: tuple[str, ...],
    params: dict[str, Any],
    measures: list[str],
    key_measures: list[str] | None = None,
    salt: str | None = None,
) -> pl.DataFrame:
    select = [*dimension_sql(query, by), *measures]
    grouping = f"group by {', '.join(by)} order by {', '.join(by)}" if by else ""
    source = "units"
    with_keys = ""
    if salt is not None:
        select += key_measures or []
        with_keys = f",\nkeyed as ({cell_keys.keyed_units_sql(query)})"
        source = "keyed"
        params = {**params, cell_keys.SALT_PARAM: salt}
    # identifiers from DIMENSIONS and this package's headers only; parameters stay bound
    sql = (
        f"with units as (\n{unit_rows(query.sql)}\n){with_keys}\n"
        f"select {', '.join(select)}\nfrom {source}\n{grouping}"
    )
    return con.sql(sql, params=params).pl()


def _key_measures(counts: dict[str, str]) -> list[str]:
    return [cell_keys.key_measure(out, src) for out, src in counts.items()]


def proportion(con, query, by, params, salt=None):
    spec = query.metric
    counts: dict[str, str] = spec["counts"]
    measures = [f"{count_expression(src)}::bigint as {out}" for out, src in counts.items()]
    undefined = spec.get("not_defined")
    if undefined:
        # a rule the instrument does not define (PCL-5 remission): the reason, from a header
        measures.append(f"max({undefined['reason']}) as {NOT_DEFINED}")
    frame = group_units(con, query, by, params, measures, _key_measures(counts), salt)
    attrition: list[dict[str, str]] = spec.get("attrition", [])
    relations: list[tuple[str, tuple[str, ...]]] = []
    ordered = [*by]
    perturbed_counts = list(counts)
    for previous, step in itertools.pairwise(attrition):
        dropped = step.get("dropped")
        ordered.append(previous["count"])
        if dropped:
            frame = frame.with_columns((pl.col(previous["count"]) - pl.col(step["count"])).alias(dropped))
            if salt is not None:  # the dropped units' key: previous minus step (nested sets)
                key_prev, key_step = (cell_keys.key_column(c) for c in (previous["count"], step["count"]))
                frame = frame.with_columns(
                    ((pl.col(key_prev) - pl.col(key_step) + KEY_BASE) % KEY_BASE).alias(cell_keys.key_column(dropped))
                )
            perturbed_counts.append(dropped)
            ordered.append(dropped)
            relations.append((previous["count"], (step["count"], dropped)))
    if attrition:
        ordered.append(attrition[-1]["count"])
    rates: list[dict[str, str]] = spec["rates"]
    true: dict[str, list[int | None]] = {}
    if salt is not None:
        frame, true = cell_keys.perturb_counts(frame, perturbed_counts)
        chain = [(step["count"], previous["count"]) for previous, step in itertools.pairwise(attrition)]
        frame = cell_keys.cap_nested(frame, [*chain, *((r["numerator"], r["denominator"]) for r in rates)])
    headline = rates[0]
    frame = frame.with_columns(
        pl.col(headline["numerator"]).alias("numerator"),
        pl.col(headline["denominator"]).alias("denominator"),
    )
    ordered += [c for c in counts if c not in ordered] + ["numerator", "denominator"]
    frame, derived, nested, rate_columns = add_rates(frame, rates)
    ordered += rate_columns
    if undefined:
        frame = not_defined(frame, rates, tuple(undefined["counts"]))
        ordered.append(NOT_DEFINED)
    derived["numerator"] = (headline["numerator"],)
    derived["denominator"] = (headline["denominator"],)
    count_cols = tuple(c for c in ordered if c in frame.columns and c not in by
                       and c not in derived and c != NOT_DEFINED)
    frame = frame.select(ordered)
    return frame, suppression.SuppressionSpec(
        counts=count_cols, derived=derived, nested=tuple(nested), relations=tuple(relations),
        margins=by,
        aliases={"numerator": headline["numerator"], "denominator": headline["denominator"]},
        true_counts=cell_keys.true_counts_of(true), perturbed=salt is not None,
    )


#: Output column giving why a metric's rule is not defined for the selection (null when it is).
NOT_DEFINED = "not_defined_reason"


def not_defined_reasons(frame: pl.DataFrame) -> list[str]:
    """The distinct reasons a metric's rule is not defined in rows of ``frame`` (PCL-5 remission),
    in order; empty when every rate is defined. The CLI and the dashboard show them instead of a rate."""
    if NOT_DEFINED not in frame.columns:
        return []
    return list(dict.fromkeys(r for r in frame.get_column(NOT_DEFINED).to_list() if r))


def not_defined(frame: pl.DataFrame, rates: list[dict[str, str]], counts: tuple[str, ...]) -> pl.DataFrame:
    """Null the counts a rule does not define, and every rate (with its interval) built on them,
    in the rows that carry a ``not_defined_reason``: "not defined" is no answer, not a 0."""
    columns = [*counts]
    for position, rate in enumerate(rates):
        if rate["numerator"] in counts or rate["denominator"] in counts:
            prefix = "" if position == 0 else f"{rate['name']}_"
            columns += ["rate" if position == 0 else rate["name"], f"{prefix}ci_low", f"{prefix}ci_high"]
            if position == 0:
                columns += ["numerator"] if rate["numerator"] in counts else ["denominator"]
    undefined = pl.col(NOT_DEFINED).is_not_null()
    return frame.with_columns(
        pl.when(undefined).then(None).otherwise(pl.col(c)).alias(c) for c in dict.fromkeys(columns)
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
        low, high = inference.wilson_intervals(k, n)
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


def _t_quantile(p: float, df: np.ndarray) -> np.ndarray:
    from scipy import stats as sps  # imported on first use: about a second, and few pages need it

    return sps.t.ppf(p, df)


def mean(con, query, by, params, salt=None):
    spec = query.metric
    value = spec["value"]
    counts: dict[str, str] = spec.get("counts", {})
    measures = [f"{count_expression(src)}::bigint as {out}" for out, src in counts.items()]
    measures += [
        f"count({value})::bigint as n",
        f"avg({value})::double as mean",
        f"stddev_samp({value})::double as sd",
    ]
    keys = _key_measures({**counts, "n": f"{value} is not null"})
    frame = group_units(con, query, by, params, measures, keys, salt)
    true: dict[str, list[int | None]] = {}
    if salt is not None:
        # the mean and sd are of the units' values; the interval uses the published n
        frame, true = cell_keys.perturb_counts(frame, [*counts, "n"])
    n = frame.get_column("n").to_numpy().astype(float)
    sd = frame.get_column("sd").fill_null(np.nan).to_numpy().astype(float)
    mean = frame.get_column("mean").fill_null(np.nan).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = _t_quantile(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    frame = frame.with_columns(
        pl.Series("ci_low", mean - half).fill_nan(None),
        pl.Series("ci_high", mean + half).fill_nan(None),
    )
    derived = dict.fromkeys(("mean", "sd", "ci_low", "ci_high"), ("n",))
    count_cols = (*counts, "n")
    return frame, suppression.SuppressionSpec(
        counts=count_cols, derived=derived, margins=by,
        true_counts=cell_keys.true_counts_of(true), perturbed=salt is not None,
    )


def survival(con, query, by, params, salt=None):
    spec = query.metric
    measures = [
        f"{spec['time']}::bigint as time_days",
        f"({spec['event']})::boolean as is_event",
        "count(*)::bigint as units",
    ]
    select = [*dimension_sql(query, by), *measures]
    source, with_keys = "units", ""
    if salt is not None:
        select.append(f"sum({cell_keys.RECORD_KEY})::hugeint as _key_sum")
        with_keys = f",\nkeyed as ({cell_keys.keyed_units_sql(query)})"
        source = "keyed"
        params = {**params, cell_keys.SALT_PARAM: salt}
    group = ", ".join([*by, "time_days", "is_event"])
    sql = (  # identifiers from DIMENSIONS and this package's headers only
        f"with units as (\n{unit_rows(query.sql)}\n){with_keys}\nselect {', '.join(select)}\n"
        f"from {source}\ngroup by {group} order by {group}"
    )
    counts = con.sql(sql, params=params).pl()
    from stats.survival import survival_summary  # scipy-heavy; only survival metrics need it

    horizons = tuple(int(h) for h in spec.get("horizons", (180, 365)))
    frame = survival_summary(counts.drop("_key_sum", strict=False), by, horizons)
    true: dict[str, list[int | None]] = {}
    if salt is not None:
        # Kaplan-Meier estimates stay those of the units (docs/privacy.md); n, events and
        # censored are published perturbed.
        frame = _with_survival_keys(frame, counts, by)
        frame, true = cell_keys.perturb_counts(frame, ["n", "events", "censored"])
    derived = {c: ("n", "events") for c in frame.columns if c not in (*by, "n", "events", "censored")}
    return frame, suppression.SuppressionSpec(
        counts=("n", "events", "censored"), derived=derived,
        relations=(("n", ("events", "censored")),), margins=by,
        true_counts=cell_keys.true_counts_of(true), perturbed=salt is not None,
    ), counts.drop("_key_sum", strict=False)


def _with_survival_keys(frame: pl.DataFrame, counts: pl.DataFrame, by: tuple[str, ...]) -> pl.DataFrame:
    """Cell keys of n, events and censored per group, from the (time, event) rows' key sums."""
    event = pl.col("is_event")
    sums = {
        "n": pl.col("_key_sum").sum(),
        "events": pl.col("_key_sum").filter(event).sum(),
        "censored": pl.col("_key_sum").filter(~event).sum(),
    }
    aggs = [(e % KEY_BASE).cast(pl.Int64).alias(cell_keys.key_column(c)) for c, e in sums.items()]
    if not by:
        keys = counts.select(aggs)
        return pl.concat([frame, keys], how="horizontal") if frame.height else frame.with_columns(
            pl.lit(0, pl.Int64).alias(cell_keys.key_column(c)) for c in sums)
    keys = counts.group_by(list(by)).agg(aggs)
    return frame.join(keys, on=list(by), how="left", nulls_equal=True, maintain_order="left")


def count(con, query, by, params, salt=None):
    counts: dict[str, str] = query.metric["counts"]
    measures = [f"{count_expression(src)}::bigint as {out}" for out, src in counts.items()]
    frame = group_units(con, query, by, params, measures, _key_measures(counts), salt)
    true: dict[str, list[int | None]] = {}
    if salt is not None:
        frame, true = cell_keys.perturb_counts(frame, list(counts))
    return frame, suppression.SuppressionSpec(
        counts=tuple(counts), margins=by,
        true_counts=cell_keys.true_counts_of(true), perturbed=salt is not None,
    )


def table(frame: pl.DataFrame, query: loader.Query, salt: str | None = None):
    """A fixed-grain table: Wilson intervals for declared ``rates`` (computed here, replacing a
    rate the SQL may give), then suppression of every ``fmt: count`` column.

    With a salt the counts are perturbed with content keys (no unit rows to key here;
    ``stats.cell_key.content_key``), nested parts capped at their wholes, and every declared
    two-count share (``fmt: pct1`` derived from ``[part, whole]``) recomputed from the
    published counts."""
    rules = query.metric.get("suppression", {})
    derived = {c: tuple(src) for c, src in (rules.get("derived") or {}).items()}
    nested = [tuple(pair) for pair in rules.get("nested") or ()]
    counts = tuple(c for c, col in query.columns.items() if col.get("fmt") == "count")
    true: dict[str, list[int | None]] = {}
    if salt is not None and counts:
        labels = [c for c in frame.columns if c not in counts and c not in derived
                  and not frame.schema[c].is_float()]
        frame = cell_keys.content_keys(frame, salt, query.name, counts, labels)
        frame, true = cell_keys.perturb_counts(frame, counts)
        frame = cell_keys.cap_nested(frame, nested)
        shares = {c: src for c, src in derived.items()
                  if len(src) == 2 and query.columns.get(c, {}).get("fmt") == "pct1"}
        frame = frame.with_columns(
            pl.when(pl.col(whole) > 0).then(pl.col(part) / pl.col(whole)).otherwise(None).alias(c)
            for c, (part, whole) in shares.items()
        )
    rates = query.metric.get("rates") or []
    if rates:
        frame = frame.drop([c for c in ("rate", "ci_low", "ci_high") if c in frame.columns])
        frame, rate_derived, rate_nested, _ = add_rates(frame, rates)
        derived.update(rate_derived)
        nested += rate_nested
    return frame, suppression.SuppressionSpec(
        counts=counts, derived=derived, nested=tuple(nested),
        margins=tuple(rules.get("margins") or ()),
        true_counts=cell_keys.true_counts_of(true), perturbed=bool(true),
    )
