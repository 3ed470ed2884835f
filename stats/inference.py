"""Statistics for rates and for comparing two groups (DOMAIN.md section 7).

Pure functions over numpy/scipy; nothing here touches a database or a UI. Notation follows
DOMAIN.md: group 1 has ``a`` events in ``n1`` (``b = n1 - a``), group 2 has ``c`` events in ``n2``
(``d = n2 - c``), ``p_i`` is a group's proportion, and ``z`` is the two-sided normal quantile of
the confidence level (1.959964 at 95%).

Definitions used:

* proportion CI: Wilson score interval (scipy ``binomtest(k, n).proportion_ci(method='wilson')``;
  scipy's default is Clopper-Pearson, which we do not use);
* risk difference ``p1 - p2`` with Newcombe's hybrid score interval (1998, method 10);
* relative risk ``p1 / p2`` with the Katz log interval; with a zero event cell the interval is
  undefined, so it is reported as ``None`` and flagged (no silent 0.5 correction);
* NNT/NNH inverted from the Newcombe limits (Bender 2001), the Altman 1998 wording when the
  interval spans zero;
* Fisher's exact test and Pearson's chi-square without Yates' correction; Fisher is recommended
  when any expected count is below 5;
* mean difference with a Welch (unequal variances) interval, Cohen's d (pooled SD), Hedges' g;
* Benjamini-Hochberg adjusted p-values; Mantel-Haenszel risk difference over strata with the
  Greenland-Robins variance; standardised mean differences for baseline tables;
* exact (chi-square based) Poisson interval for event rates.

Kaplan-Meier and the log-rank test live in :mod:`stats.km` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from stats.nnt import NNTResult, nnt

# scipy.stats (and stats.km, which needs it) are imported where used, not here: importing them
# takes about a second, and the dashboard's first page computes only Wilson intervals (numpy).
_KM_NAMES = ("KaplanMeierResult", "LogRankResult", "kaplan_meier", "logrank")


def __getattr__(name: str) -> Any:
    """Kaplan-Meier and the log-rank test, re-exported from :mod:`stats.km` on first use."""
    if name in _KM_NAMES:
        from stats import km

        return getattr(km, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sps() -> Any:
    from scipy import stats

    return stats


#: ``scipy.special.ndtri(0.975)`` to the last bit (tests/test_stats.py checks it).
Z_95 = 1.959963984540054


def z_for(confidence: float) -> float:
    """Two-sided standard normal quantile, e.g. 1.959964 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    if confidence == 0.95:  # every published interval: no scipy import for it at start-up
        return Z_95
    from scipy.special import ndtri

    return float(ndtri(0.5 + 0.5 * confidence))


def _check_count(k: float, n: float, what: str = "k") -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= {what} <= n, got {what}={k}, n={n}")


# --------------------------------------------------------------------------- proportions


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` events in ``n`` trials.

    Exactly 0.0 as the lower limit when ``k == 0`` and exactly 1.0 as the upper limit when
    ``k == n`` (the closed form gives 0.9999999999999999 there). ``n == 0`` gives ``(nan, nan)``.
    """
    _check_count(k, n)
    if n == 0:
        return (math.nan, math.nan)
    ci = _sps().binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


def wilson_intervals(
    k: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float], confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`wilson_interval`: the same formula as scipy, one array operation.

    Rows with ``n == 0`` (or NaN inputs) give NaN limits; ``k == 0`` gives a lower limit of exactly
    0 and ``k == n`` an upper limit of exactly 1, as scipy does.
    """
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    if np.any((k_arr < 0) | (k_arr > n_arr)):
        raise ValueError("need 0 <= k <= n in every row")
    z = z_for(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        denom = 2 * (n_arr + z**2)
        centre = (2 * n_arr * p + z**2) / denom
        delta = z / denom * np.sqrt(4 * n_arr * p * (1 - p) + z**2)
        low = np.where(k_arr == 0, 0.0, centre - delta)
        high = np.where(k_arr == n_arr, 1.0, centre + delta)
    empty = ~(n_arr > 0)
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return low, high


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval; ``low``/``high`` are None when undefined."""

    value: float
    low: float | None
    high: float | None
    method: str
    flags: tuple[str, ...] = ()


def newcombe_difference(a: int, n1: int, c: int, n2: int, confidence: float = 0.95) -> Estimate:
    """Risk difference ``p1 - p2`` with Newcombe's hybrid score interval (1998, method 10).

    ``L = RD - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` and ``U = RD + sqrt((u1 - p1)^2 + (p2 - l2)^2)``
    where ``(l_i, u_i)`` are the Wilson limits of each group.
    """
    _check_count(a, n1, "a")
    _check_count(c, n2, "c")
    if n1 == 0 or n2 == 0:
        raise ValueError("both groups need at least one patient (n1 > 0 and n2 > 0)")
    p1, p2 = a / n1, c / n2
    l1, u1 = wilson_interval(a, n1, confidence)
    l2, u2 = wilson_interval(c, n2, confidence)
    rd = p1 - p2
    low = rd - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = rd + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Estimate(rd, low, high, "Newcombe hybrid score (method 10)")


def relative_risk(a: int, n1: int, c: int, n2: int, confidence: float = 0.95) -> Estimate:
    """Relative risk ``p1 / p2`` with the Katz interval ``exp(ln RR +- z*sqrt(1/a-1/n1+1/c-1/n2))``.

    With ``a == 0`` or ``c == 0`` the Katz interval is undefined: the estimate is returned with
    ``low = high = None`` and the flag ``zero_cell`` (we never add 0.5 silently). ``RR`` is then
    0 or infinity (NaN when both are zero).
    """
    _check_count(a, n1, "a")
    _check_count(c, n2, "c")
    if n1 == 0 or n2 == 0:
        raise ValueError("both groups need at least one patient (n1 > 0 and n2 > 0)")
    if a == 0 or c == 0:
        value = math.nan if a == c == 0 else (0.0 if a == 0 else math.inf)
        return Estimate(value, None, None, "Katz log interval", ("zero_cell",))
    from scipy.stats.contingency import relative_risk as _scipy_relative_risk

    result = _scipy_relative_risk(int(a), int(n1), int(c), int(n2))
    ci = result.confidence_interval(confidence_level=confidence)
    return Estimate(float(result.relative_risk), float(ci.low), float(ci.high), "Katz log interval")


def _table(a: int, n1: int, c: int, n2: int) -> np.ndarray:
    return np.array([[a, n1 - a], [c, n2 - c]], dtype=np.int64)


def fisher_exact_p(a: int, n1: int, c: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table ``[[a, b], [c, d]]``."""
    _check_count(a, n1, "a")
    _check_count(c, n2, "c")
    return float(_sps().fisher_exact(_table(a, n1, c, n2)).pvalue)


@dataclass(frozen=True)
class ChiSquare:
    """Pearson chi-square (no continuity correction) and the smallest expected count."""

    statistic: float
    pvalue: float
    min_expected: float
    fisher_recommended: bool


def chi_square_p(a: int, n1: int, c: int, n2: int) -> ChiSquare:
    """Pearson's chi-square on the 2x2 table without Yates' correction (``correction=False``).

    When a margin is zero the test is undefined: statistic and p are NaN. Fisher's exact test is
    recommended when any expected count is below 5 (the common convention, DOMAIN.md section 7).
    """
    _check_count(a, n1, "a")
    _check_count(c, n2, "c")
    table = _table(a, n1, c, n2)
    rows, cols, total = table.sum(axis=1), table.sum(axis=0), table.sum()
    expected = np.outer(rows, cols) / total if total else np.zeros((2, 2))
    min_expected = float(expected.min())
    if min_expected == 0:
        return ChiSquare(math.nan, math.nan, 0.0, True)
    result = _sps().chi2_contingency(table, correction=False)
    return ChiSquare(float(result.statistic), float(result.pvalue), min_expected, min_expected < 5)


@dataclass(frozen=True)
class GroupRate:
    """One group's events, size, proportion and Wilson interval."""

    events: int
    n: int
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class ComparisonResult:
    """Everything a two-group comparison of a proportion reports (DOMAIN.md section 7)."""

    group1: GroupRate
    group2: GroupRate
    risk_difference: Estimate
    relative_risk: Estimate
    nnt: NNTResult
    fisher_p: float
    chi_square: ChiSquare
    #: "fisher" when any expected count is < 5, else "chi_square"
    recommended_test: str
    recommended_p: float
    outcome_is_harm: bool
    confidence: float
    flags: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def compare_proportions(
    a: int, n1: int, c: int, n2: int, outcome_is_harm: bool = False, confidence: float = 0.95
) -> ComparisonResult:
    """Compare the proportion with the outcome in group 1 (``a/n1``) with group 2 (``c/n2``).

    ``outcome_is_harm`` says the outcome is bad (e.g. a side effect), which turns a positive risk
    difference into a number needed to harm rather than to treat.
    """
    rd = newcombe_difference(a, n1, c, n2, confidence)
    rr = relative_risk(a, n1, c, n2, confidence)
    chi = chi_square_p(a, n1, c, n2)
    fisher = fisher_exact_p(a, n1, c, n2)
    l1, u1 = wilson_interval(a, n1, confidence)
    l2, u2 = wilson_interval(c, n2, confidence)
    use_fisher = chi.fisher_recommended
    return ComparisonResult(
        group1=GroupRate(int(a), int(n1), a / n1, l1, u1),
        group2=GroupRate(int(c), int(n2), c / n2, l2, u2),
        risk_difference=rd,
        relative_risk=rr,
        nnt=nnt(rd.value, rd.low, rd.high, outcome_is_harm=outcome_is_harm, confidence=confidence),
        fisher_p=fisher,
        chi_square=chi,
        recommended_test="fisher" if use_fisher else "chi_square",
        recommended_p=fisher if use_fisher else chi.pvalue,
        outcome_is_harm=outcome_is_harm,
        confidence=confidence,
        flags=rr.flags,
    )


def mantel_haenszel_risk_difference(
    strata: Sequence[tuple[int, int, int, int]], confidence: float = 0.95
) -> Estimate:
    """Mantel-Haenszel risk difference over strata ``(a_k, n1_k, c_k, n2_k)``.

    ``RD_MH = sum(w_k * (p1_k - p2_k)) / sum(w_k)`` with ``w_k = n1_k * n2_k / N_k``; the variance is
    Greenland and Robins (1985): ``sum((a_k b_k n2_k^3 + c_k d_k n1_k^3) / (n1_k n2_k N_k^2)) /
    (sum w_k)^2`` (as in RevMan). A stratum with an empty group carries no weight; it is counted
    in the flag ``strata_without_both_groups=K`` rather than dropped silently.
    """
    z = z_for(confidence)
    numerator = weight_sum = variance_sum = 0.0
    skipped = 0
    for a, n1, c, n2 in strata:
        _check_count(a, n1, "a")
        _check_count(c, n2, "c")
        if n1 == 0 or n2 == 0:
            skipped += 1
            continue
        total = n1 + n2
        b, d = n1 - a, n2 - c
        weight = n1 * n2 / total
        numerator += (a * n2 - c * n1) / total
        weight_sum += weight
        variance_sum += (a * b * n2**3 + c * d * n1**3) / (n1 * n2 * total**2)
    if weight_sum == 0:
        raise ValueError("no stratum has patients in both groups")
    rd = numerator / weight_sum
    se = math.sqrt(variance_sum) / weight_sum
    flags = (f"strata_without_both_groups={skipped}",) if skipped else ()
    return Estimate(rd, rd - z * se, rd + z * se, "Mantel-Haenszel, Greenland-Robins variance", flags)


def poisson_rate_interval(
    events: int, person_time: float, per: float = 100.0, confidence: float = 0.95
) -> Estimate:
    """Event rate ``events / person_time * per`` with the exact (chi-square based) Poisson interval.

    Lower ``chi2.ppf(alpha/2, 2*O) / 2``, upper ``chi2.ppf(1 - alpha/2, 2*(O + 1)) / 2`` events,
    divided by person-time; the lower limit is 0 when ``O == 0``. With ``per=100`` and person-time
    in patient-months, this is events per 100 patient-months.
    """
    if events < 0 or person_time <= 0:
        raise ValueError(f"need events >= 0 and person_time > 0, got {events}, {person_time}")
    alpha = 1 - confidence
    low_events = 0.0 if events == 0 else float(_sps().chi2.ppf(alpha / 2, 2 * events)) / 2
    high_events = float(_sps().chi2.ppf(1 - alpha / 2, 2 * (events + 1))) / 2
    scale = per / person_time
    return Estimate(events * scale, low_events * scale, high_events * scale, "exact Poisson")


# --------------------------------------------------------------------------- p-values


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (scipy ``false_discovery_control(method='bh')``).

    NaN p-values (tests that could not be run) stay NaN and do not count towards ``m``.
    """
    raw = np.asarray(pvalues, dtype=float)
    adjusted = np.full(raw.shape, np.nan)
    present = ~np.isnan(raw)
    if present.any():
        adjusted[present] = _sps().false_discovery_control(raw[present], method="bh")
    return adjusted



# The continuous-outcome and baseline-balance statistics live in stats.effects (kept apart to
# keep modules small); re-exported so that callers have one import.
from stats.effects import (  # noqa: E402, F401
    SMD_IMBALANCE_THRESHOLD,
    MeanDifference,
    SMDResult,
    cohens_d,
    hedges_g,
    mean_difference,
    mean_difference_from_summary,
    standardised_mean_difference,
    standardised_mean_difference_from_summary,
)
