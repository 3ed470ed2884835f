"""Kaplan-Meier summaries from the (group, time, event, count) rows DuckDB aggregates.

``queries.engine`` sends no per-patient rows here: the SQL returns, per group, how many units
ended at each day with the event or censored, and ``stats.km.kaplan_meier`` runs on those
counts. Per group we report n, events, censored, the median time with its 95% interval (log-log
band, read off as R ``print(survfit(...))`` does; None where R says NA) and the survival (share without the event) at fixed horizons with
log-log 95% intervals, e.g. "% persistent at 182 and 365 days".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from stats.km import kaplan_meier


def _group_rows(counts: pl.DataFrame, by: Sequence[str]) -> dict[tuple[object, ...], pl.DataFrame]:
    if not by:
        return {(): counts}
    groups: dict[tuple[object, ...], pl.DataFrame] = {}
    for key, part in counts.group_by(list(by), maintain_order=True):
        groups[tuple(key)] = part
    return dict(sorted(groups.items(), key=lambda item: tuple(str(v) for v in item[0])))


def _events_by_time(part: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct time: the units with the event then (``events``) and the units
    censored then (``censored``), sorted by time."""
    return (
        part.group_by("time_days")
        .agg(
            pl.col("units").filter(pl.col("is_event")).sum().alias("events"),
            pl.col("units").filter(~pl.col("is_event")).sum().alias("censored"),
        )
        .sort("time_days")
    )


def survival_summary(
    counts: pl.DataFrame, by: Sequence[str], horizons: Sequence[int]
) -> pl.DataFrame:
    """One row per group: ``n, events, censored, median_days, median_ci_low, median_ci_high``
    and ``survival_<h>d`` with ``survival_<h>d_ci_low/high`` for each horizon ``h`` (days).

    ``counts`` has the ``by`` columns, ``time_days``, ``is_event`` and ``units``.
    """
    rows: list[dict[str, object]] = []
    for key, part in _group_rows(counts, by).items():
        per_time = _events_by_time(part)
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


def survival_curve(counts: pl.DataFrame, by: Sequence[str], min_cell: int) -> pl.DataFrame:
    """Kaplan-Meier step points per group (``day, survival, ci_low, ci_high``), safe to draw.

    With suppression on (``min_cell`` > 1), no point may reveal a count from 1 to
    ``min_cell - 1``:

    - a group with fewer than ``min_cell`` units gets no curve;
    - consecutive event times are pooled until the pooled step holds at least ``min_cell``
      events; the step is drawn at the last event time of the pool with the exact product-limit
      value there (between drawn points the curve is flat, so it can only lag, never lead, the
      unpooled curve); events left over at the end that do not fill a pool are not drawn;
    - the curve stops before the first time fewer than ``min_cell`` units remain at risk.

    Numbers at risk are not returned. Every curve starts at day 0 with survival 1.
    With ``min_cell`` 0 or 1 (suppression off) every event time is a point.
    """
    threshold = max(min_cell, 1)
    frames = []
    for key, part in _group_rows(counts, by).items():
        per_time = _events_by_time(part)
        total = int(per_time.get_column("events").sum()) + int(per_time.get_column("censored").sum())
        if total == 0 or total < threshold:
            continue
        km = kaplan_meier(
            times=per_time.get_column("time_days").to_numpy(),
            n_events=per_time.get_column("events").to_numpy(),
            n_censored=per_time.get_column("censored").to_numpy(),
        )
        days, surv, low, high = [0.0], [1.0], [1.0], [1.0]
        pooled = 0
        for i in range(km.times.size):
            if km.n_at_risk[i] < threshold:
                break
            pooled += int(km.n_events[i])
            if pooled >= threshold and km.n_events[i] > 0:
                days.append(float(km.times[i]))
                surv.append(float(km.survival[i]))
                low.append(float(km.ci_low[i]))
                high.append(float(km.ci_high[i]))
                pooled = 0
        if len(days) < 2:
            continue  # no step of at least min_cell events: nothing safe to draw
        frame = pl.DataFrame({"day": days, "survival": surv, "ci_low": low, "ci_high": high})
        frames.append(frame.with_columns(
            [pl.lit(v, dtype=counts.schema[d]).alias(d) for d, v in zip(by, key, strict=True)]
        ).select([*by, "day", "survival", "ci_low", "ci_high"]))
    if not frames:
        schema: dict[str, pl.DataType | type[pl.DataType]] = {d: counts.schema[d] for d in by}
        schema.update(day=pl.Float64, survival=pl.Float64, ci_low=pl.Float64, ci_high=pl.Float64)
        return pl.DataFrame(schema=schema)
    return pl.concat(frames, how="vertical_relaxed")
