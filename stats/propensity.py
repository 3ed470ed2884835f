"""Propensity scores for two-group regimen comparisons: model, weights, matching, balance.

Definitions (Rosenbaum & Rubin 1983; Austin 2011; Austin & Stuart 2015):

- **Propensity score** ``e(x) = P(group A | x)``, from a logistic regression of group membership
  on the baseline covariates (statsmodels GLM, binomial family, logit link; maximum likelihood).
- **Inverse-probability weights.** ATE (what if everyone got A vs everyone got B): A gets
  ``1/e``, B gets ``1/(1-e)``. ATT (what if the patients who got A had got B): A gets 1, B gets
  ``e/(1-e)``. *Stabilised* (Robins 2000; Xu 2010): multiplied by the share of the group (ATE:
  ``P(A)`` and ``P(B)``; ATT: B's weights rescaled to sum to B's size), so that weights average
  about 1 and a weight reads as "this episode stands for w episodes". Stabilising rescales each
  group by a constant, so it changes neither the weighted risks nor their sandwich variance.
  *Trimming* (Stürmer et al. 2010, asymmetric): optionally, episodes whose score is below the
  ``p``-th percentile of group A's scores or above the ``(100-p)``-th percentile of group B's are
  excluded (they have no comparable patients in the other group) and the model is re-fitted on
  the rest; the estimate then describes the trimmed population. Off by default. Weights are
  not truncated (capping them changes the estimand without saying so).
- **Matching.** 1:1 greedy nearest-neighbour matching on the logit of the propensity score,
  without replacement, within a caliper of 0.2 standard deviations of the logit (Austin 2011).
  Deterministic: A episodes are matched from the highest score down (the hardest to match
  first; scores rounded to 9 decimals so that float noise cannot reorder equal scores), ties by
  input order; each takes the closest unmatched B episode, ties by input order.
- **Standardised mean difference** of a covariate: ``(m_A - m_B) / sqrt((s_A^2 + s_B^2)/2)``
  with weighted means after adjustment. The denominator is always the *unadjusted* pooled SD
  (of the whole comparison, before any trimming), so before and after are on the same scale
  (as in R's cobalt). Binary covariates use
  ``p(1-p)``, continuous ones the sample variance. ``|SMD| > 0.1`` is imbalance (Austin 2009).
- **Effective sample size** (Kish 1965): ``(sum w)^2 / sum w^2``, at most the number of units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

SMD_THRESHOLD = 0.1
CALIPER_SD = 0.2
#: Overlap is poor when more than this share of either group lies outside the other group's
#: range of propensity scores (no comparable episodes exist for them).
MAX_OUTSIDE_SUPPORT = 0.10
#: ... or when weighting leaves either group an effective size below this share of its size
#: (a few episodes with extreme weights carry the estimate).
MIN_ESS_SHARE = 0.25
#: ... or when matching finds a partner for fewer than this share of group A.
MIN_MATCHED_SHARE = 0.5
ESTIMANDS = ("ATE", "ATT")


@dataclass(frozen=True)
class Covariates:
    """The baseline covariates of every episode, numerically coded.

    ``balance`` has one column per continuous covariate and per level of each categorical one
    (every level, for the love plot); ``model`` drops each categorical covariate's reference
    (most frequent) level, constant columns and columns identical to an earlier one.
    ``labels`` are (characteristic, level or None) for each balance column.
    """

    balance: np.ndarray
    labels: list[tuple[str, str | None]]
    binary: np.ndarray
    model: np.ndarray
    model_names: list[str]


def encode_covariates(
    frame: pl.DataFrame, continuous: list[str], categorical: list[str]
) -> Covariates:
    """Code ``frame``'s covariates. A missing continuous value is set to the mean and flagged by
    a ``<name> missing`` indicator (kept only when some value is missing); a missing category
    becomes the level ``missing``."""
    columns: list[np.ndarray] = []
    labels: list[tuple[str, str | None]] = []
    binary: list[bool] = []
    model_cols: list[np.ndarray] = []
    model_names: list[str] = []
    for name in continuous:
        values = frame.get_column(name).cast(pl.Float64).to_numpy()
        missing = np.isnan(values)
        filled = np.where(missing, np.nanmean(values) if (~missing).any() else 0.0, values)
        columns.append(filled)
        labels.append((name, None))
        binary.append(False)
        model_cols.append(filled)
        model_names.append(name)
        if missing.any():
            columns.append(missing.astype(float))
            labels.append((name, "missing"))
            binary.append(True)
            model_cols.append(missing.astype(float))
            model_names.append(f"{name}=missing")
    for name in categorical:
        level_of_row = frame.get_column(name).cast(pl.String).fill_null("missing").to_list()
        levels, counts = np.unique(np.array(level_of_row, dtype=object), return_counts=True)
        reference = levels[np.argmax(counts)]
        for level in levels:
            indicator = np.array([v == level for v in level_of_row], dtype=float)
            columns.append(indicator)
            labels.append((name, str(level)))
            binary.append(True)
            if level != reference:
                model_cols.append(indicator)
                model_names.append(f"{name}={level}")
    n = frame.height
    kept: list[np.ndarray] = []
    kept_names: list[str] = []
    for column, label in zip(model_cols, model_names, strict=True):
        if np.ptp(column) == 0 or any(np.array_equal(column, k) for k in kept):
            continue  # a constant or duplicated column carries no information and breaks the fit
        kept.append(column)
        kept_names.append(label)
    return Covariates(
        balance=np.column_stack(columns) if columns else np.empty((n, 0)),
        labels=labels,
        binary=np.array(binary, dtype=bool),
        model=np.column_stack(kept) if kept else np.empty((n, 0)),
        model_names=kept_names,
    )


def fit_propensity(model: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """``P(group A | x)`` from a logistic regression with an intercept (statsmodels GLM).

    Continuous columns are centred and scaled before fitting (the scores do not change; it
    only helps the optimiser). Raises ValueError when the model cannot be fitted.
    """
    import warnings

    import statsmodels.api as sm

    treated = np.asarray(treated, dtype=float)
    x = np.asarray(model, dtype=float)
    if x.shape[1]:
        sd = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    design = np.column_stack([np.ones(len(treated)), x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation is reported as poor overlap, not a warning
        try:
            fit = sm.GLM(treated, design, family=sm.families.Binomial()).fit(maxiter=100)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise ValueError(f"the propensity model could not be fitted ({exc})") from None
    scores = np.asarray(fit.fittedvalues, dtype=float)
    if not np.all(np.isfinite(scores)):
        raise ValueError("the propensity model gave non-finite scores")
    return np.clip(scores, 1e-12, 1 - 1e-12)


def ipw_weights(
    ps: np.ndarray,
    treated: np.ndarray,
    estimand: str = "ATE",
    stabilised: bool = True,
) -> np.ndarray:
    """Inverse-probability weights for ``estimand`` (module docstring); all positive."""
    if estimand not in ESTIMANDS:
        raise ValueError(f"estimand must be one of {ESTIMANDS}, got {estimand!r}")
    ps = np.asarray(ps, dtype=float)
    t = np.asarray(treated, dtype=bool)
    if estimand == "ATE":
        w = np.where(t, 1 / ps, 1 / (1 - ps))
        if stabilised:
            share = t.mean()
            w = w * np.where(t, share, 1 - share)
    else:
        w = np.where(t, 1.0, ps / (1 - ps))
        if stabilised and (~t).any():
            w[~t] *= (~t).sum() / w[~t].sum()
    return w


def common_support(ps: np.ndarray, treated: np.ndarray, percentile: float) -> np.ndarray:
    """Stürmer's asymmetric trimming: True for the episodes kept (module docstring)."""
    if not 0 <= percentile < 50:
        raise ValueError("the trimming percentile must be from 0 to below 50")
    ps = np.asarray(ps, dtype=float)
    t = np.asarray(treated, dtype=bool)
    low = np.percentile(ps[t], percentile)
    high = np.percentile(ps[~t], 100 - percentile)
    return (ps >= low) & (ps <= high)


def subset(cov: Covariates, keep: np.ndarray) -> Covariates:
    """The covariates of the kept episodes (model columns that became constant dropped)."""
    model = cov.model[keep]
    varying = [j for j in range(model.shape[1]) if np.ptp(model[:, j]) > 0]
    return Covariates(cov.balance[keep], cov.labels, cov.binary, model[:, varying],
                      [cov.model_names[j] for j in varying])


def logit(ps: np.ndarray) -> np.ndarray:
    ps = np.asarray(ps, dtype=float)
    return np.log(ps / (1 - ps))


def match_on_logit(
    ps: np.ndarray, treated: np.ndarray, caliper_sd: float = CALIPER_SD
) -> np.ndarray:
    """1:1 nearest-neighbour pairs ``(index of A, index of B)``, as an (k, 2) int array, in the
    order they were made (module docstring). The caliper is ``caliper_sd`` times the SD of the
    logit over both groups."""
    score = logit(ps)
    t = np.asarray(treated, dtype=bool)
    caliper = caliper_sd * float(np.std(score, ddof=1)) if len(score) > 1 else 0.0
    a_index = np.flatnonzero(t)
    b_index = np.flatnonzero(~t)
    available = np.ones(len(b_index), dtype=bool)
    # Rounded so that scores equal up to floating-point noise tie, and ties go by input order.
    rounded = np.round(score, 9)
    order = a_index[np.lexsort((a_index, -rounded[a_index]))]
    pairs: list[tuple[int, int]] = []
    for i in order:
        if not available.any():
            break
        distance = np.where(available, np.abs(rounded[b_index] - rounded[i]), np.inf)
        j = int(np.argmin(distance))  # first minimum = lowest input order among ties
        if distance[j] <= caliper:
            pairs.append((int(i), int(b_index[j])))
            available[j] = False
    return np.array(pairs, dtype=int).reshape(-1, 2)


def matched_weights(pairs: np.ndarray, n: int) -> np.ndarray:
    """Weight 1 for matched episodes, 0 for the rest (balance and ESS on the matched set)."""
    w = np.zeros(n)
    w[pairs.ravel()] = 1.0
    return w


def kish_ess(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 for no weight)."""
    w = np.asarray(weights, dtype=float)
    total = float((w**2).sum())
    return 0.0 if total == 0 else float(w.sum() ** 2 / total)


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.average(x, weights=w)) if w.sum() > 0 else math.nan


def pooled_sd(x: np.ndarray, treated: np.ndarray, binary: bool = False) -> float:
    """``sqrt((s_A^2 + s_B^2) / 2)``, unweighted: ``p(1-p)`` for binary, sample variance else."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(treated, dtype=bool)
    xa, xb = x[t], x[~t]
    if binary:
        var_a, var_b = xa.mean() * (1 - xa.mean()), xb.mean() * (1 - xb.mean())
    else:
        var_a = xa.var(ddof=1) if len(xa) > 1 else 0.0
        var_b = xb.var(ddof=1) if len(xb) > 1 else 0.0
    return math.sqrt((var_a + var_b) / 2)


def smd(
    x: np.ndarray, treated: np.ndarray, weights: np.ndarray | None = None, binary: bool = False,
    spread: float | None = None,
) -> float:
    """Standardised mean difference A - B (module docstring); 0 when both groups are constant
    at the same value, +-inf when constant at different values. ``spread``: the denominator,
    when it comes from another population (the untrimmed one); default ``pooled_sd(x)``."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(treated, dtype=bool)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    diff = _weighted_mean(x[t], w[t]) - _weighted_mean(x[~t], w[~t])
    if spread is None:
        spread = pooled_sd(x, t, binary)
    if spread == 0 or not math.isfinite(spread):
        return 0.0 if abs(diff) < 1e-12 else math.copysign(math.inf, diff)
    return diff / spread


@dataclass(frozen=True)
class BalanceRow:
    """One covariate (or level) of the love plot. ``count_a``/``count_b`` are the episodes in
    the level before adjustment and ``analysed_a``/``_b`` those in the analysed (e.g. trimmed)
    population (None for continuous covariates), for small-cell suppression."""

    characteristic: str
    level: str | None
    smd_before: float
    smd_after: float
    count_a: int | None
    count_b: int | None
    analysed_a: int | None = None
    analysed_b: int | None = None


def balance(
    cov: Covariates, treated: np.ndarray, weights: np.ndarray,
    spreads: list[float] | None = None,
) -> list[BalanceRow]:
    """SMD of every balance column before (unweighted) and after (``weights``) adjustment.
    ``spreads``: per column, the SMD denominator (default: this population's pooled SD)."""
    t = np.asarray(treated, dtype=bool)
    rows = []
    for j, (characteristic, level) in enumerate(cov.labels):
        x = cov.balance[:, j]
        is_binary = bool(cov.binary[j])
        spread = None if spreads is None else spreads[j]
        count_a = int(x[t].sum()) if is_binary else None
        count_b = int(x[~t].sum()) if is_binary else None
        rows.append(BalanceRow(characteristic, level, smd(x, t, None, is_binary, spread),
                               smd(x, t, weights, is_binary, spread), count_a, count_b,
                               count_a, count_b))
    return rows


@dataclass(frozen=True)
class Overlap:
    """How far the two groups' propensity scores overlap.

    ``outside_a``: share of group A with a score outside group B's range (and vice versa);
    ``quantiles_a``/``_b``: the 5th, 50th and 95th percentiles of each group's scores.
    """

    outside_a: float
    outside_b: float
    quantiles_a: tuple[float, float, float]
    quantiles_b: tuple[float, float, float]

    @property
    def poor(self) -> bool:
        return max(self.outside_a, self.outside_b) > MAX_OUTSIDE_SUPPORT


def overlap(ps: np.ndarray, treated: np.ndarray) -> Overlap:
    ps = np.asarray(ps, dtype=float)
    t = np.asarray(treated, dtype=bool)
    a, b = ps[t], ps[~t]
    outside_a = float(np.mean((a < b.min()) | (a > b.max())))
    outside_b = float(np.mean((b < a.min()) | (b > a.max())))
    qa = tuple(float(q) for q in np.percentile(a, [5, 50, 95]))
    qb = tuple(float(q) for q in np.percentile(b, [5, 50, 95]))
    return Overlap(outside_a, outside_b, qa, qb)  # type: ignore[arg-type]
