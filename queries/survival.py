"""Kaplan-Meier summaries from the (group, time, event, count) rows DuckDB aggregates.

``queries.engine`` sends no per-patient rows here: the SQL returns, per group, how many units
ended at each day with the event or censored, and ``queries.km.kaplan_meier`` runs on those
counts. Per group we report n, events, censored, the median time with its 95% interval (log-log
band, Brookmeyer-Crowley style) and the survival (share without the event) at fixed horizons with
log-log 95% intervals, e.g. "% persistent at 182 and 365 days".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from queries.km import kaplan_meier


def _group_rows(counts: pl.DataFrame, by: Sequence[str]) -> dict[tuple[object, ...], pl.DataFrame]:
    if not by:
        return {(): counts}
    groups: dict[tuple[object, ...], pl.DataFrame] = {}
    for key, part in counts.group_by(list(by), maintain_order=True):
        groups[tuple(key)] = part
    return dict(sorted(groups.items(), key=lambda item: tuple(str(v) for v in item[0])))


def survival_summary(
    counts: pl.DataFrame, by: Sequence[str], horizons: Sequence[int]
) -> pl.DataFrame:
    """One row per group: ``n, events, censored, median_days, median_ci_low, median_ci_high``
    and ``survival_<h>d`` with ``survival_<h>d_ci_low/high`` for each horizon ``h`` (days).

    ``counts`` has the ``by`` columns, ``time_days``, ``is_event`` and ``units``.
    """
    rows: list[dict[str, object]] = []
    for key, part in _group_rows(counts, by).items():
        per_time = (
            part.group_by("time_days")
            .agg(
                pl.col("units").filter(pl.col("is_event")).sum().alias("events"),
                pl.col("units").filter(~pl.col("is_event")).sum().alias("censored"),
            )
            .sort("time_days")
        )
        events = int(per_time.get_column("events").sum())
        censored = int(per_time.get_column("censored").sum())
        row: dict[str, object] = dict(zip(by, key, strict=True))
        row.update(n=events + censored, events=events, censored=censored)
        if events + censored:
            km = kaplan_meier(
                times=per_time.get_column("time_days").to_numpy(),
                n_events=per_time.get_column("events").to_numpy(),
                n_censored=per_time.get_column("censored").to_numpy(),
            )
            at = km.survival_at(np.asarray(horizons, dtype=float))
            last_time = float(km.times[-1]) if km.times.size else 0.0
            row.update(median_days=km.median, median_ci_low=km.median_low, median_ci_high=km.median_high)
            for i, h in enumerate(horizons):
                # Beyond the last follow-up time the curve is unknown, not flat.
                known = h <= last_time
                row[f"survival_{h}d"] = float(at["survival"][i]) if known else None
                row[f"survival_{h}d_ci_low"] = float(at["ci_low"][i]) if known else None
                row[f"survival_{h}d_ci_high"] = float(at["ci_high"][i]) if known else None
        else:
            row.update(median_days=None, median_ci_low=None, median_ci_high=None)
            for h in horizons:
                row.update({f"survival_{h}d": None, f"survival_{h}d_ci_low": None,
                            f"survival_{h}d_ci_high": None})
        rows.append(row)
    schema: dict[str, pl.DataType | type[pl.DataType]] = {d: counts.schema[d] for d in by}
    schema.update(n=pl.Int64, events=pl.Int64, censored=pl.Int64, median_days=pl.Float64,
                  median_ci_low=pl.Float64, median_ci_high=pl.Float64)
    for h in horizons:
        schema.update({f"survival_{h}d": pl.Float64, f"survival_{h}d_ci_low": pl.Float64,
                       f"survival_{h}d_ci_high": pl.Float64})
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def survival_curve(counts: pl.DataFrame, by: Sequence[str], min_at_risk: int) -> pl.DataFrame:
    """Step points per group (``time_days, survival, ci_low, ci_high, n_at_risk``), cut where
    fewer than ``min_at_risk`` units remain at risk (so no step reveals a small group)."""
    frames = []
    for key, part in _group_rows(counts, by).items():
        per_time = (
            part.group_by("time_days")
            .agg(
                pl.col("units").filter(pl.col("is_event")).sum().alias("events"),
                pl.col("units").filter(~pl.col("is_event")).sum().alias("censored"),
            )
            .sort("time_days")
        )
        if per_time.height == 0:
            continue
        km = kaplan_meier(
            times=per_time.get_column("time_days").to_numpy(),
            n_events=per_time.get_column("events").to_numpy(),
            n_censored=per_time.get_column("censored").to_numpy(),
        )
        keep = km.n_at_risk >= max(min_at_risk, 1)
        frame = pl.DataFrame({
            "time_days": km.times[keep], "survival": km.survival[keep],
            "ci_low": km.ci_low[keep], "ci_high": km.ci_high[keep],
            "n_at_risk": km.n_at_risk[keep],
        })
        frames.append(frame.with_columns(
            [pl.lit(v).alias(d) for d, v in zip(by, key, strict=True)]
        ).select([*by, "time_days", "survival", "ci_low", "ci_high", "n_at_risk"]))
    if not frames:
        return pl.DataFrame(schema={"time_days": pl.Float64, "survival": pl.Float64,
                                    "ci_low": pl.Float64, "ci_high": pl.Float64,
                                    "n_at_risk": pl.Int64})
    return pl.concat(frames, how="vertical_relaxed")
