"""Propensity-score adjusted comparison of a time-to-event metric (persistence, time to response).

The same covariates, propensity model, weights or matched pairs, balance and overlap checks as
``queries.adjusted`` (``stats.adjusted_comparison`` with ``estimate=False``); the effect is then
a weighted Kaplan-Meier curve per group and a weighted Cox hazard ratio A vs B with a robust
(sandwich) interval (``stats.propensity_effects.weighted_survival``, lifelines). For matching the
weights are 1 for matched episodes; the robust interval ignores the pairing (slightly
conservative, Austin 2013).

Published: the hazard ratio and its interval, its E-value (the hazard ratio is converted to a
risk ratio first when more than 15% of episodes have the event, VanderWeele 2017), and per group
the weighted share without the event at each of the metric's horizons. A share is hidden
("suppressed") unless at least ``min_cell`` episodes of the group are still at risk at that time
and at least ``min_cell`` have had the event by then (the rule of the unadjusted curves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from queries import aggregate, loader
from queries.adjusted import balance_frame, counts_frame, histogram, with_covariates
from queries.engine import MetricError, _bind
from stats import suppression
from stats.adjusted_comparison import AdjustedComparison, adjusted_comparison
from stats.propensity_effects import (
    EValue,
    WeightedSurvival,
    e_values,
    hazard_ratio_as_rr,
    weighted_survival,
)

COMMON_OUTCOME = 0.15


@dataclass(frozen=True)
class AdjustedSurvival:
    analysis: AdjustedComparison
    survival: WeightedSurvival
    horizons: list[int]
    #: per horizon, (share without the event in A, in B); None where hidden
    shares: list[tuple[float | None, float | None]]
    e_value: EValue | None
    event_label: str
    balance: pl.DataFrame
    counts: pl.DataFrame
    histogram: pl.DataFrame
    min_cell: int


def _units(con: duckdb.DuckDBPyConnection, query: loader.Query, filters: dict[str, Any],
           overrides: dict[str, Any]) -> pl.DataFrame:
    spec = query.metric
    # identifiers come from this package's headers only; parameters stay bound
    sql = (f"with units as (\n{aggregate.unit_rows(query.sql)}\n)\n"
           f"select episode_id, {spec['time']}::double as time, "
           f"coalesce({spec['event']}, false)::integer as event from units "
           f"where {spec['time']} is not null")
    return con.sql(sql, params=_bind(query, filters, overrides)).pl()


def _share(times: np.ndarray, survival: np.ndarray, horizon: int) -> float:
    before = times <= horizon
    return float(survival[before][-1]) if before.any() else 1.0


def adjusted_survival(
    con: duckdb.DuckDBPyConnection, name: str, base: dict[str, Any], group_a: dict[str, Any],
    group_b: dict[str, Any], overrides: dict[str, Any], method: str, estimand: str = "ATE",
    trim_percentile: float | None = None, min_cell: int = suppression.DEFAULT_MIN_CELL,
) -> AdjustedSurvival:
    """See the module docstring; MetricError when the comparison cannot be made."""
    query = loader.describe(name)
    if query.kind != "survival" or "episode_id" not in query.columns:
        raise MetricError(f"{name} is not a time-to-event metric counted per episode")
    units_a = _units(con, query, {**base, **group_a}, overrides)
    units_b = _units(con, query, {**base, **group_b}, overrides)
    if min(units_a.height, units_b.height) < max(min_cell, 1):
        raise MetricError(f"a group has fewer than {min_cell} episodes; no adjusted comparison "
                          "(it would reveal a small count)")
    units, cov = with_covariates(con, units_a, units_b, base, group_a, group_b, overrides, min_cell)
    event = units["event"].to_numpy()
    try:
        analysis = adjusted_comparison(event, units["group_a"].to_numpy(), cov, method=method,
                                       estimand=estimand, trim_percentile=trim_percentile,
                                       estimate=False)
    except ValueError as exc:
        raise MetricError(f"no adjusted estimate: {exc}") from None
    kept = analysis.analysed
    time, event = units["time"].to_numpy()[kept], event[kept]
    t, w = analysis.treated, analysis.weights
    survival = weighted_survival(time, event, t, w)
    horizons = [int(h) for h in query.metric.get("horizons", [])]
    shares = []
    for h in horizons:
        row = []
        for group, times, curve in ((t, survival.times_a, survival.survival_a),
                                    (~t, survival.times_b, survival.survival_b)):
            used = group & (w > 0)
            at_risk = int((time[used] >= h).sum())
            events = int(((time[used] <= h) & (event[used] == 1)).sum())
            visible = suppression.is_off(min_cell) or min(at_risk, events) >= min_cell
            row.append(_share(times, curve, h) if visible else None)
        shares.append((row[0], row[1]))
    hr = survival.hazard_ratio
    common = float(event[w > 0].mean()) > COMMON_OUTCOME
    e_value = None
    if hr.low is not None and np.isfinite(hr.value) and hr.value > 0:
        high = hazard_ratio_as_rr(hr.high, common) if hr.high is not None else None
        e_value = e_values(hazard_ratio_as_rr(hr.value, common), hazard_ratio_as_rr(hr.low, common),
                           high, scale="HR converted to RR" if common else "HR (rare outcome, read as RR)")
    return AdjustedSurvival(analysis, survival, horizons, shares, e_value,
                            str(query.metric.get("event_label", "event")),
                            balance_frame(analysis, min_cell), counts_frame(analysis, min_cell),
                            histogram(analysis.scores, t, min_cell), min_cell)
