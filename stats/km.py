"""Kaplan-Meier survival and the log-rank test (DOMAIN.md sections 5.5 and 7).

Used for persistence (time from episode start to discontinuation, censored at the end of
observation) and time to response.

* the estimate is the one ``scipy.stats.ecdf(CensoredData.right_censored(t, censored))`` gives
  (scipy's flag means *censored*, so a comparison passes ``~event``), computed here from counts;
* the pointwise interval is the log-log (exponential Greenwood) interval by default; ``"log"``
  (R ``survfit``'s default ``conf.type``) and ``"plain"`` are available, all as R's
  ``survfit_confint`` computes them from the Greenwood standard error of ``log S``;
* the median survival time and its interval are those ``print(survfit(...))`` shows (R
  ``survival:::survmean``): the median is the first time with ``S(t) <= 0.5``, except that where
  ``S`` equals 0.5 (within ``sqrt(.Machine$double.eps)``) and later falls below it, it is the
  middle between that time and the time it falls (when the curve stays at 0.5 to the end of
  follow-up, the first time; R's ``quantile()`` would give the middle up to the last follow-up
  time instead); the limits are read off the band the same way (Brookmeyer-Crowley): the
  lower limit where the lower band reaches 0.5, the upper limit where the upper band does. Where
  the band is undefined (``S = 0``; and ``S = 1`` for log-log) it does not count, so the upper
  limit is ``None`` (R's NA) when the upper band never falls to 0.5 while it is defined, even
  if the curve itself drops to 0 at the last time;
* ``scipy.stats.logrank`` returns a signed Z; chi-square is ``Z**2`` on 1 degree of freedom.

SQL returns counts per time, so ``kaplan_meier`` works on aggregated input (``times``,
``n_events``, ``n_censored``); per-patient input is first counted per distinct time. The estimate
is the same arithmetic as ``scipy.stats.ecdf`` on right-censored data (checked against it on
random data in the tests): at each distinct time ``t_j``, ``n_j`` = units with time >= t_j (the
total minus the cumulative events and censorings before t_j), ``d_j`` = events at t_j,
``S(t_j) = prod_{i<=j} (n_i - d_i) / n_i``; Greenwood ``V_j = sum_{i<=j} d_i / (n_i (n_i - d_i))``
and the log-log limits ``exp(-exp(log(-log S) +- z sqrt(V) / |log S|))``. Cumulative sums over the
distinct times keep it linear in their number, not in the number of patients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

ArrayLike = Sequence[float] | np.ndarray


def _censored_data(durations: ArrayLike, events: ArrayLike) -> sps.CensoredData:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.shape != e.shape:
        raise ValueError("durations and events must have the same length")
    if t.size == 0:
        raise ValueError("no observations")
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise ValueError(f"duration at position {int(bad[0])} is not a finite number >= 0")
    return sps.CensoredData.right_censored(t, ~e)


@dataclass(frozen=True)
class KaplanMeierResult:
    """A step function: ``survival[i]`` holds from ``times[i]`` until the next time."""

    times: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    median: float | None
    median_low: float | None
    median_high: float | None
    confidence: float
    ci_method: str = "log-log"

    def survival_at(self, days: ArrayLike) -> dict[str, np.ndarray]:
        """Survival and its interval at given days (e.g. 182 and 365 for % persistent)."""
        d = np.asarray(days, dtype=float)
        # index of the last event/censoring time <= d; before the first time survival is 1
        idx = np.searchsorted(self.times, d, side="right") - 1
        before = idx < 0
        safe = np.clip(idx, 0, None)
        return {
            "days": d,
            "survival": np.where(before, 1.0, self.survival[safe]),
            "ci_low": np.where(before, 1.0, self.ci_low[safe]),
            "ci_high": np.where(before, 1.0, self.ci_high[safe]),
        }

    def to_dict(self) -> dict[str, object]:
        def clean(values: np.ndarray) -> list[float | None]:
            return [None if not math.isfinite(v) else float(v) for v in values]

        return {
            "times": clean(self.times),
            "survival": clean(self.survival),
            "ci_low": clean(self.ci_low),
            "ci_high": clean(self.ci_high),
            "n_at_risk": [int(v) for v in self.n_at_risk],
            "n_events": [int(v) for v in self.n_events],
            "n_censored": [int(v) for v in self.n_censored],
            "median": self.median,
            "median_low": self.median_low,
            "median_high": self.median_high,
            "confidence": self.confidence,
            "ci_method": self.ci_method,
        }


#: R's tolerance for "S equals 0.5", ``sqrt(.Machine$double.eps)``
R_TOLERANCE = math.sqrt(np.finfo(float).eps)
CI_METHODS = ("log-log", "log", "plain")


def r_median_time(times: np.ndarray, curve: np.ndarray, tol: float = R_TOLERANCE) -> float | None:
    """Where ``curve`` first reaches 0.5, ported from the ``minmin`` rule of R
    ``survival:::survmean``, which ``print(survfit(...))`` and ``summary(...)$table`` use for
    ``median``, ``0.95LCL`` and ``0.95UCL``. ``curve`` is S or one side of its band (NaN where
    undefined). Points with NaN are skipped; of the rest, those below ``0.5 + tol`` are kept. The
    answer is the first kept time, except when its value is 0.5 (within ``tol``) and a lower value
    follows: then the middle between it and the first time with that lower value. ``None`` where
    R gives NA (no defined point reaches 0.5)."""
    values = np.asarray(curve, dtype=float)
    keep = ~np.isnan(values) & (values < 0.5 + tol)
    if not keep.any():
        return None
    x, y = np.asarray(times, dtype=float)[keep], values[keep]
    lower = np.flatnonzero(y < y[0])
    if abs(y[0] - 0.5) < tol and lower.size:
        return float((x[0] + x[lower[0]]) / 2)
    return float(x[0])


def confidence_band(
    survival: np.ndarray, greenwood: np.ndarray, confidence: float, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise band as R ``survival:::survfit_confint`` (``logse = TRUE``, ``se = sqrt(V)``):

    * ``log``: ``exp(log S ± z·se)``, the upper limit capped at 1; NaN where S = 0;
    * ``log-log``: ``exp(-exp(log(-log S) ∓ z·se/log S))``; NaN where S is 0 or 1;
    * ``plain``: ``S ± z·se·S`` within [0, 1].
    """
    if method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {', '.join(CI_METHODS)}, got {method!r}")
    z = special.ndtri(1 / 2 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(greenwood)
        if method == "log":
            xx = np.where(survival == 0, np.nan, survival)
            return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        if method == "log-log":
            xx = np.where((survival == 0) | (survival == 1), np.nan, survival)
            se2 = z * se / np.log(xx)
            log_minus_log = np.log(-np.log(xx))
            return np.exp(-np.exp(log_minus_log - se2)), np.exp(-np.exp(log_minus_log + se2))
        half = z * se * survival
        low, high = np.maximum(survival - half, 0.0), np.minimum(survival + half, 1.0)
        return np.where(np.isnan(half), np.nan, low), np.where(np.isnan(half), np.nan, high)


def _counts_per_time(
    durations: ArrayLike, events: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-patient ``(durations, events)`` to sorted distinct times with event and censoring counts."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    _censored_data(t, e)  # validates shapes, emptiness and durations (finite, >= 0)
    times, position = np.unique(t, return_inverse=True)
    n_events = np.bincount(position, weights=e, minlength=times.size).astype(np.int64)
    n_total = np.bincount(position, minlength=times.size).astype(np.int64)
    return times, n_events, n_total - n_events


def _aggregated(
    times: ArrayLike, n_events: ArrayLike, n_censored: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aggregated counts, validated, merged per distinct time, sorted, times with no unit dropped."""
    t = np.asarray(times, dtype=float)
    ev = np.asarray(n_events, dtype=np.int64)
    ce = np.asarray(n_censored, dtype=np.int64)
    if not (t.shape == ev.shape == ce.shape):
        raise ValueError("times, n_events and n_censored must have the same length")
    if (ev < 0).any() or (ce < 0).any():
        raise ValueError("event and censoring counts must be >= 0")
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise ValueError(f"time at position {int(bad[0])} is not a finite number >= 0")
    grid, position = np.unique(t, return_inverse=True)
    ev = np.bincount(position, weights=ev, minlength=grid.size).astype(np.int64)
    ce = np.bincount(position, weights=ce, minlength=grid.size).astype(np.int64)
    observed = (ev + ce) > 0
    if not observed.any():
        raise ValueError("no observations")
    return grid[observed], ev[observed], ce[observed]


def kaplan_meier(
    durations: ArrayLike | None = None,
    events: ArrayLike | None = None,
    *,
    times: ArrayLike | None = None,
    n_events: ArrayLike | None = None,
    n_censored: ArrayLike | None = None,
    confidence: float = 0.95,
    ci_method: str = "log-log",
) -> KaplanMeierResult:
    """Product-limit survival estimate with pointwise intervals (``ci_method``: ``"log-log"``,
    the product's choice; ``"log"``, R ``survfit``'s default; or ``"plain"``).

    Give either per-patient ``durations`` and ``events`` (True = the event, e.g. discontinuation,
    happened; False = censored), or aggregated ``times``, ``n_events``, ``n_censored``.
    Survival is ``prod (n_j - d_j) / n_j`` over the distinct times up to t, where ``n_j`` is the
    number still at risk (time >= t_j) and ``d_j`` the events at t_j (module docstring).
    """
    if durations is None:
        if times is None or n_events is None or n_censored is None:
            raise ValueError("give durations and events, or times, n_events and n_censored")
        grid, d, c = _aggregated(times, n_events, n_censored)
    elif events is None:
        raise ValueError("events is required with durations")
    else:
        grid, d, c = _counts_per_time(durations, events)
    # at risk at t_j: everyone minus those who left (event or censored) at earlier times
    left = d + c
    n = int(left.sum()) - np.concatenate(([0], np.cumsum(left)[:-1]))
    survival = np.cumprod((n - d) / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood; n == d gives inf (S = 0 there, so the band is undefined, as in R and scipy)
        greenwood = np.cumsum(d / (n * (n - d)))
    raw_low, raw_high = confidence_band(survival, greenwood, confidence, ci_method)
    # The median interval reads the band where it is defined (NaN = R's NA, skipped as R does)
    median_low = r_median_time(grid, raw_low)
    median_high = r_median_time(grid, raw_high)
    # For drawing, an undefined band (S exactly 1 or 0) collapses onto S.
    low = np.clip(np.where(np.isnan(raw_low), survival, raw_low), 0, 1)
    high = np.clip(np.where(np.isnan(raw_high), survival, raw_high), 0, 1)
    return KaplanMeierResult(
        times=grid,
        survival=survival,
        ci_low=low,
        ci_high=high,
        n_at_risk=n.astype(np.int64),
        n_events=d,
        n_censored=c,
        median=r_median_time(grid, survival),
        median_low=median_low,
        median_high=median_high,
        confidence=confidence,
        ci_method=ci_method,
    )


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test: signed ``z`` (scipy's statistic), ``chi2 = z**2`` and the p-value."""

    z: float
    chi2: float
    pvalue: float


def logrank(
    group_a: tuple[ArrayLike, ArrayLike], group_b: tuple[ArrayLike, ArrayLike]
) -> LogRankResult:
    """Log-rank test of two groups, each given as ``(durations, events)``.

    ``Z = sum(O - E) / sqrt(sum V)`` over the event times (scipy ``logrank``); ``Z > 0`` means
    group A has more events than expected (shorter survival).
    """
    a = _censored_data(*group_a)
    b = _censored_data(*group_b)
    result = sps.logrank(a, b)
    z = float(result.statistic)
    return LogRankResult(z, z * z, float(result.pvalue))
