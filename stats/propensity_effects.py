"""Effects after propensity-score adjustment: risks, RD, RR, HR with 95% intervals; E-values.

**Weighting** (binary outcome ``y``, group A ``t = 1``, weights ``w``): the adjusted risk of each
group is its weighted mean of ``y`` (Hajek). The risk difference is the coefficient of ``t`` in
a weighted least-squares fit ``y ~ 1 + t`` (statsmodels WLS); the relative risk is ``exp`` of
the coefficient of ``t`` in a weighted Poisson GLM with log link ``y ~ 1 + t`` (statsmodels GLM,
``var_weights = w``; Zou's "modified Poisson"). Both intervals use the **HC0** robust sandwich
``(X'WX)^-1 (sum_i w_i^2 r_i^2 x_i x_i') (X'WX)^-1``. Why HC0: it is the M-estimation
sandwich that the IPW literature and R's ``survey``/``WeightIt`` use; HC1 would only multiply
the variance by ``n/(n-2)``, negligible at clinic sizes. The weights are treated as known:
ignoring that the propensity score was estimated makes the ATE interval conservative
(slightly too wide; Lunceford & Davidian 2004); for ATT it can err either way, slightly.

**Matching**: with ``k`` matched pairs, the risk difference is the mean of ``y_A - y_B`` over
pairs and the relative risk ``sum y_A / sum y_B``. The 95% interval is the 2.5th and 97.5th
percentiles over ``BOOTSTRAP_REPLICATES`` resamples of the *pairs* with replacement (Austin &
Small 2014), with the fixed seed ``BOOTSTRAP_SEED`` so a result is reproducible.

**Time to event**: weighted Kaplan-Meier and a weighted Cox model with the robust (sandwich)
variance (lifelines ``KaplanMeierFitter(weights=)``, ``CoxPHFitter(robust=True)``).

**E-value** (VanderWeele & Ding 2017): for a relative risk ``RR >= 1``,
``E = RR + sqrt(RR (RR - 1))``; for ``RR < 1`` apply it to ``1/RR``. For the interval, the limit
closer to 1: ``E`` of that limit, or 1 when the interval includes 1. A risk difference is
converted through the relative risk of the same analysis. A hazard ratio for a common outcome
(more than 15% with the event) is first converted with
``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_REPLICATES = 2000
BOOTSTRAP_SEED = 20170
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Effect:
    """Point estimate with its 95% interval (None when undefined) and how it was computed."""

    value: float
    low: float | None
    high: float | None
    method: str


@dataclass(frozen=True)
class AdjustedRisks:
    risk_a: float
    risk_b: float
    difference: Effect
    ratio: Effect


def _design(treated: np.ndarray) -> np.ndarray:
    t = np.asarray(treated, dtype=float)
    return np.column_stack([np.ones(len(t)), t])


def weighted_risks(y: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> AdjustedRisks:
    """Weighted risks, RD (WLS, HC0) and RR (Poisson GLM with log link, HC0)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    t = np.asarray(treated, dtype=bool)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    y, t, w = y[keep], t[keep], w[keep]
    x = _design(t)
    risk_a = float(np.average(y[t], weights=w[t]))
    risk_b = float(np.average(y[~t], weights=w[~t]))
    wls = sm.WLS(y, x, weights=w).fit(cov_type="HC0")
    rd = float(wls.params[1])
    se = float(np.sqrt(wls.cov_params()[1, 1]))
    difference = Effect(rd, rd - Z95 * se, rd + Z95 * se, "IPW, WLS with HC0 robust SE")
    if risk_a == 0 or risk_b == 0:
        ratio = Effect(risk_a / risk_b if risk_b else math.inf, None, None,
                       "undefined: a group has no events")
    else:
        glm = sm.GLM(y, x, family=sm.families.Poisson(), var_weights=w).fit(cov_type="HC0")
        log_rr = float(glm.params[1])
        se_log = float(np.sqrt(glm.cov_params()[1, 1]))
        ratio = Effect(math.exp(log_rr), math.exp(log_rr - Z95 * se_log),
                       math.exp(log_rr + Z95 * se_log), "IPW, Poisson GLM (log link) with HC0 robust SE")
    return AdjustedRisks(risk_a, risk_b, difference, ratio)


def matched_risks(
    y: np.ndarray,
    pairs: np.ndarray,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
) -> AdjustedRisks:
    """Risks over matched pairs, with percentile bootstrap intervals over the pairs."""
    y = np.asarray(y, dtype=float)
    ya, yb = y[pairs[:, 0]], y[pairs[:, 1]]
    k = len(pairs)
    if k == 0:
        raise ValueError("no matched pairs")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, k, size=(replicates, k))
    sum_a, sum_b = ya[draws].sum(axis=1), yb[draws].sum(axis=1)
    rd_draws = (sum_a - sum_b) / k
    rd = float(ya.mean() - yb.mean())
    low, high = (float(v) for v in np.percentile(rd_draws, [2.5, 97.5]))
    method = f"matched pairs, percentile bootstrap ({replicates} resamples of pairs, seed {seed})"
    difference = Effect(rd, low, high, method)
    if ya.sum() == 0 or yb.sum() == 0:
        ratio = Effect(ya.sum() / yb.sum() if yb.sum() else math.inf, None, None,
                       "undefined: a group has no events")
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rr_draws = sum_a / sum_b
        rr_draws = np.where(np.isnan(rr_draws), 1.0, rr_draws)  # 0/0 resample: no information
        rr_low, rr_high = (float(v) for v in np.percentile(rr_draws, [2.5, 97.5]))
        ratio = Effect(float(ya.sum() / yb.sum()), rr_low, rr_high, method)
    return AdjustedRisks(float(ya.mean()), float(yb.mean()), difference, ratio)


def e_value_rr(rr: float) -> float:
    """E-value of a relative risk (VanderWeele & Ding 2017): RR + sqrt(RR(RR-1)), RR >= 1."""
    if not rr > 0 or not math.isfinite(rr):
        raise ValueError("the E-value needs a positive, finite relative risk")
    r = rr if rr >= 1 else 1 / rr
    return r + math.sqrt(r * (r - 1))


@dataclass(frozen=True)
class EValue:
    """E-values for the estimate and for the confidence limit closer to the null."""

    estimate: float
    limit: float | None
    scale: str


def e_values(rr: float, low: float | None, high: float | None, scale: str = "RR") -> EValue:
    """``estimate``: E of ``rr``. ``limit``: 1 if (low, high) includes 1, otherwise E of the limit
    closer to 1 (None without an interval)."""
    estimate = e_value_rr(rr)
    if low is None or high is None:
        return EValue(estimate, None, scale)
    if low <= 1 <= high:
        return EValue(estimate, 1.0, scale)
    closer = low if rr > 1 else high
    return EValue(estimate, e_value_rr(closer), scale)


def hazard_ratio_as_rr(hr: float, common_outcome: bool) -> float:
    """VanderWeele 2017: for a common outcome, ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``."""
    if not common_outcome:
        return hr
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


@dataclass(frozen=True)
class WeightedSurvival:
    """Weighted KM curves (time, survival per group) and the weighted Cox hazard ratio A vs B."""

    times_a: np.ndarray
    survival_a: np.ndarray
    times_b: np.ndarray
    survival_b: np.ndarray
    hazard_ratio: Effect


def weighted_survival(
    time: np.ndarray, event: np.ndarray, treated: np.ndarray, weights: np.ndarray
) -> WeightedSurvival:
    """Weighted Kaplan-Meier per group and a Cox model ``h(t) = h0(t) exp(b t)`` with robust SE."""
    import warnings

    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter

    t = np.asarray(treated, dtype=bool)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    curves = []
    for group in (t, ~t):
        mask = group & keep
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines warns about the variance; only S(t) is used
            km = KaplanMeierFitter().fit(np.asarray(time)[mask], np.asarray(event)[mask],
                                         weights=w[mask])
        sf = km.survival_function_
        curves.append((sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)))
    frame = pd.DataFrame({"time": np.asarray(time, dtype=float)[keep],
                          "event": np.asarray(event, dtype=int)[keep],
                          "group_a": t[keep].astype(float), "w": w[keep]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns that robust=True is advised with weights
        cox = CoxPHFitter().fit(frame, duration_col="time", event_col="event",
                                weights_col="w", robust=True)
    beta = float(cox.params_["group_a"])
    se = float(cox.standard_errors_["group_a"])
    hr = Effect(math.exp(beta), math.exp(beta - Z95 * se), math.exp(beta + Z95 * se),
                "weighted Cox model, robust (sandwich) SE")
    return WeightedSurvival(curves[0][0], curves[0][1], curves[1][0], curves[1][1], hr)
