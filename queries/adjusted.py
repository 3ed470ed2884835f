"""Propensity-score adjusted comparison of a rate metric between two groups: the data side.

The statistics are ``stats.adjusted_comparison`` (pure); this module gathers, in DuckDB, one row
per unit of the metric's denominator for each group (its outcome flag from the metric's own
SQL, so the adjusted comparison uses exactly the metric's definition) and joins the baseline
covariates of ``queries/outcomes/comparison_covariates.sql`` by ``episode_id``.

Unit rows stay inside this function: what leaves it is balance statistics, weighted risks and
effects, and counts that pass through ``stats.suppression.suppress`` (matched and unmatched
episodes; the SMD of a covariate level held by 1 to ``min_cell - 1`` episodes of a group).

Covariates (DOMAIN.md 7, "Confounding"): age at start, sex, baseline score on the metric's
instrument (missing -> mean plus a missing indicator), diagnosis group, line of therapy, number
of earlier episodes, site and start year. A covariate that defines a group (``--a sex=F``) is
left out, since it cannot be balanced. Levels of a categorical covariate with fewer than
``min_cell`` episodes in both groups together are pooled into ``other``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import numpy as np
import polars as pl

from queries import aggregate, loader
from queries.engine import MetricError, _bind
from stats import propensity as ps_
from stats import suppression
from stats.adjusted_comparison import AdjustedComparison, adjusted_comparison

CONTINUOUS = ("age_at_start", "baseline_score", "line_of_therapy", "prior_episodes", "start_year")
CATEGORICAL = ("sex", "diagnosis_group", "site_id")
#: A group filter on one of these keys makes the covariate constant within the groups.
DEFINED_BY = {"sex": "sex", "age_band": "age_at_start", "diagnosis_group": "diagnosis_group",
              "site_id": "site_id"}
COVARIATE_LABELS = {
    "age_at_start": "age", "baseline_score": "baseline score", "line_of_therapy": "line of therapy",
    "prior_episodes": "earlier episodes", "start_year": "start year", "sex": "sex",
    "diagnosis_group": "diagnosis group", "site_id": "site",
}
POOLED_LEVEL = "other (small levels pooled)"


@dataclass(frozen=True)
class AdjustedResult:
    """The adjusted comparison and what may be published of it.

    ``balance``: one row per covariate (level) with ``smd_before``/``smd_after`` (null where
    hidden). ``counts``: a one-row frame of episodes per group, trimmed, used and unmatched,
    after suppression. ``histogram``: per group, propensity-score bin counts after
    suppression (bins of width 0.05)."""

    analysis: AdjustedComparison
    balance: pl.DataFrame
    counts: pl.DataFrame
    histogram: pl.DataFrame
    min_cell: int


def unit_outcomes(
    con: duckdb.DuckDBPyConnection, name: str, filters: dict[str, Any], overrides: dict[str, Any],
    rate: str | None = None,
) -> pl.DataFrame:
    """``episode_id, outcome`` for every unit in the denominator of metric ``name``'s rate
    ``rate`` (a declared rate name, e.g. ``rate_assessed``; None = the headline rate)."""
    query = loader.describe(name)
    if "episode_id" not in query.columns:
        raise MetricError(f"{name} is not counted per episode; no adjusted comparison")
    rates = {r["name"]: r for r in query.metric["rates"]}
    if rate is not None and rate not in rates:
        raise MetricError(f"{name} has no rate {rate!r}; its rates: {', '.join(rates)}")
    headline = rates[rate] if rate else query.metric["rates"][0]
    counts = query.metric["counts"]
    numerator, denominator = counts[headline["numerator"]], counts[headline["denominator"]]
    where = "" if denominator == "*" else f"where {denominator}"
    # identifiers come from this package's headers only; parameters stay bound
    sql = (f"with units as (\n{aggregate.unit_rows(query.sql)}\n)\n"
           f"select episode_id, coalesce({numerator}, false)::integer as outcome from units {where}")
    return con.sql(sql, params=_bind(query, filters, overrides)).pl()


def _pool_small_levels(frame: pl.DataFrame, columns: list[str], min_cell: int) -> pl.DataFrame:
    for column in columns:
        counts = frame.group_by(column).len()
        small = counts.filter(pl.col("len") < max(min_cell, 1))[column].to_list()
        if small:
            frame = frame.with_columns(
                pl.when(pl.col(column).is_in(small)).then(pl.lit(POOLED_LEVEL))
                .otherwise(pl.col(column)).alias(column))
    return frame


def with_covariates(
    con: duckdb.DuckDBPyConnection, units_a: pl.DataFrame, units_b: pl.DataFrame,
    base: dict[str, Any], group_a: dict[str, Any], group_b: dict[str, Any],
    overrides: dict[str, Any], min_cell: int,
) -> tuple[pl.DataFrame, ps_.Covariates]:
    """Both groups' unit rows (``episode_id`` + outcome columns) with ``group_a`` and the
    baseline covariates joined, and the covariates coded (module docstring)."""
    if units_a.join(units_b, on="episode_id", how="semi").height:
        raise MetricError("the two groups share episodes; adjusted comparisons need separate groups")
    covariate_query = loader.describe("comparison_covariates")
    params = {k: v for k, v in {"instrument": base.get("instrument"),
                                "preset": overrides.get("preset")}.items()
              if k in covariate_query.params and v is not None}
    covariates = loader.run(con, "comparison_covariates", **params)
    units = pl.concat([units_a.with_columns(group_a=pl.lit(True)),
                       units_b.with_columns(group_a=pl.lit(False))]).join(
        covariates, on="episode_id", how="left")
    dropped = {DEFINED_BY[k] for k in (*group_a, *group_b, *base) if k in DEFINED_BY
               and (k in group_a or k in group_b or base.get(k) is not None)}
    continuous = [c for c in CONTINUOUS if c not in dropped]
    categorical = [c for c in CATEGORICAL if c not in dropped]
    units = _pool_small_levels(units, categorical, min_cell).rename(
        {c: COVARIATE_LABELS[c] for c in (*continuous, *categorical)})
    cov = ps_.encode_covariates(units, [COVARIATE_LABELS[c] for c in continuous],
                                [COVARIATE_LABELS[c] for c in categorical])
    return units, cov


def adjusted(
    con: duckdb.DuckDBPyConnection,
    name: str,
    base: dict[str, Any],
    group_a: dict[str, Any],
    group_b: dict[str, Any],
    overrides: dict[str, Any],
    method: str,
    estimand: str = "ATE",
    trim_percentile: float | None = None,
    outcome_is_harm: bool = False,
    min_cell: int = suppression.DEFAULT_MIN_CELL,
    rate: str | None = None,
) -> AdjustedResult:
    """Run the adjusted comparison (module docstring). Raises MetricError with a reason when
    it cannot be run (no per-episode units, overlapping groups, a model that cannot be fitted)."""
    units_a = unit_outcomes(con, name, {**base, **group_a}, overrides, rate)
    units_b = unit_outcomes(con, name, {**base, **group_b}, overrides, rate)
    units, cov = with_covariates(con, units_a, units_b, base, group_a, group_b, overrides, min_cell)
    treated = units["group_a"].to_numpy()
    try:
        analysis = adjusted_comparison(units["outcome"].to_numpy(), treated, cov, method=method,
                                       estimand=estimand, trim_percentile=trim_percentile,
                                       outcome_is_harm=outcome_is_harm)
    except ValueError as exc:
        raise MetricError(f"no adjusted estimate: {exc}") from None
    if reveals_small_event_count(analysis, min_cell):
        # Published once here, so the CLI, the Compare page, the CSV and the pack all withhold it.
        analysis = replace(analysis, risks=None, nnt=None, e_value=None, warnings=[
            *analysis.warnings,
            f"The matched rates are not shown: with {analysis.matched_pairs} pairs they would "
            f"reveal a count of 1-{min_cell - 1} events (small-cell rule)."])
    return AdjustedResult(analysis, balance_frame(analysis, min_cell), counts_frame(analysis, min_cell),
                          histogram(analysis.scores, analysis.treated, min_cell), min_cell)


def reveals_small_event_count(analysis: AdjustedComparison, min_cell: int) -> bool:
    """Matching: a matched risk times the published number of pairs is a count of events; True
    when that count, or its complement, is 1 to ``min_cell - 1`` in either group, so the risks
    (and the effect and E-value built on them) must not be published."""
    if suppression.is_off(min_cell):
        return False
    if analysis.method != "matching" or analysis.risks is None or not analysis.matched_pairs:
        return False
    pairs = analysis.matched_pairs
    for risk in (analysis.risks.risk_a, analysis.risks.risk_b):
        events = round(risk * pairs)
        if any(0 < k < min_cell for k in (events, pairs - events)):
            return True
    return False


def balance_frame(analysis: AdjustedComparison, min_cell: int) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{"covariate": r.characteristic, "level": r.level, "count_a": r.count_a,
          "count_b": r.count_b, "analysed_a": r.analysed_a, "analysed_b": r.analysed_b,
          "smd_before": r.smd_before, "smd_after": r.smd_after} for r in analysis.balance],
        schema={"covariate": pl.String, "level": pl.String, "count_a": pl.Int64,
                "count_b": pl.Int64, "analysed_a": pl.Int64, "analysed_b": pl.Int64,
                "smd_before": pl.Float64, "smd_after": pl.Float64},
    )
    counts = ("count_a", "count_b", "analysed_a", "analysed_b")
    spec = suppression.SuppressionSpec(
        counts=counts, derived={"smd_before": counts, "smd_after": counts})
    out = suppression.suppress(frame, spec, min_cell)
    # The level counts are for suppression only; the love plot publishes SMDs.
    return out.select("covariate", "level", "smd_before", "smd_after",
                      "smd_before_suppressed", "smd_after_suppressed")


def counts_frame(analysis: AdjustedComparison, min_cell: int) -> pl.DataFrame:
    """Per group (suffix _a, _b): ``n`` episodes = ``trimmed`` (outside common support) +
    ``used`` (carrying the estimate) + ``unmatched`` (matching only), suppressed; the relation
    is declared so that a hidden count of 1-10 cannot be derived from the others."""
    a = analysis
    frame = pl.DataFrame({
        "n_a": [a.n_a], "trimmed_a": [a.trimmed_a], "used_a": [a.used_a],
        "unmatched_a": [a.n_a - a.trimmed_a - a.used_a],
        "n_b": [a.n_b], "trimmed_b": [a.trimmed_b], "used_b": [a.used_b],
        "unmatched_b": [a.n_b - a.trimmed_b - a.used_b],
    })
    spec = suppression.SuppressionSpec(
        counts=tuple(frame.columns),
        relations=(("n_a", ("trimmed_a", "used_a", "unmatched_a")),
                   ("n_b", ("trimmed_b", "used_b", "unmatched_b"))),
    )
    return suppression.suppress(frame, spec, min_cell)


def histogram(scores: np.ndarray, treated: np.ndarray, min_cell: int, width: float = 0.05) -> pl.DataFrame:
    """Propensity-score histogram, one row per group (A, B) with columns ``n`` and one count per
    bin ``[k*width, (k+1)*width)``, suppressed (a lone hidden bin of a known total is recoverable,
    so the relation ``n = sum of bins`` triggers complementary suppression)."""
    edges = np.linspace(0, 1, round(1 / width) + 1)
    names = [f"{lo:.2f}-{hi:.2f}" for lo, hi in itertools.pairwise(edges)]
    rows = []
    for label, mask in (("A", treated), ("B", ~treated)):
        counts, _ = np.histogram(scores[mask], bins=edges)
        rows.append({"group": label, "n": int(mask.sum()), **dict(zip(names, counts.tolist(), strict=True))})
    frame = pl.DataFrame(rows)
    spec = suppression.SuppressionSpec(counts=("n", *names), relations=(("n", tuple(names)),))
    return suppression.suppress(frame, spec, min_cell)
