"""Continuous outcomes and baseline balance (DOMAIN.md section 7).

* mean difference ``mean1 - mean2`` with a Welch (unequal variances) t interval;
* Cohen's d with the pooled SD and Hedges' g (small-sample corrected);
* standardised mean differences (SMD) for a baseline table: continuous, binary and categorical
  covariates; ``|SMD| > 0.1`` flags imbalance between the groups being compared.

Re-exported by :mod:`stats.inference`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: An |SMD| above this flags a covariate as imbalanced between groups (Austin 2009).
SMD_IMBALANCE_THRESHOLD = 0.1


@dataclass(frozen=True)
class MeanDifference:
    """``mean1 - mean2`` with a Welch interval and t-test, plus Cohen's d and Hedges' g."""

    difference: float
    low: float
    high: float
    df: float
    pvalue: float
    cohens_d: float
    hedges_g: float
    method: str = "Welch (unequal variances)"


def cohens_d(n1: int, mean1: float, sd1: float, n2: int, mean2: float, sd2: float) -> float:
    """``d = (m1 - m2) / s_p`` with ``s_p = sqrt(((n1-1)s1^2 + (n2-1)s2^2) / (n1 + n2 - 2))``."""
    if n1 + n2 <= 2:
        raise ValueError("Cohen's d needs n1 + n2 > 2")
    pooled = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    diff = mean1 - mean2
    if pooled == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / pooled


def hedges_g(n1: int, mean1: float, sd1: float, n2: int, mean2: float, sd2: float) -> float:
    """Hedges' g: Cohen's d times the small-sample correction ``1 - 3/(4(n1+n2) - 9)``."""
    return cohens_d(n1, mean1, sd1, n2, mean2, sd2) * (1 - 3 / (4 * (n1 + n2) - 9))


def mean_difference_from_summary(
    n1: int, mean1: float, sd1: float, n2: int, mean2: float, sd2: float, confidence: float = 0.95
) -> MeanDifference:
    """Welch interval for ``mean1 - mean2`` from summary statistics (SDs with ddof=1).

    Welch-Satterthwaite: ``se = sqrt(s1^2/n1 + s2^2/n2)``, ``df = se^4 / (v1^2/(n1-1) +
    v2^2/(n2-1))`` with ``v_i = s_i^2/n_i``. We use Welch rather than the pooled t interval because
    regimen groups rarely have equal variances or sizes.
    """
    if n1 < 2 or n2 < 2:
        raise ValueError(f"each group needs at least 2 values, got n1={n1}, n2={n2}")
    v1, v2 = sd1**2 / n1, sd2**2 / n2
    diff = mean1 - mean2
    se = math.sqrt(v1 + v2)
    if se == 0:
        low = high = diff
        df, pvalue = math.nan, (1.0 if diff == 0 else 0.0)
    else:
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        from scipy import stats as sps  # imported on first use (about a second)

        t_crit = float(sps.t.ppf(0.5 + 0.5 * confidence, df))
        low, high = diff - t_crit * se, diff + t_crit * se
        pvalue = float(2 * sps.t.sf(abs(diff) / se, df))
    return MeanDifference(
        difference=float(diff),
        low=float(low),
        high=float(high),
        df=float(df),
        pvalue=float(pvalue),
        cohens_d=cohens_d(n1, mean1, sd1, n2, mean2, sd2),
        hedges_g=hedges_g(n1, mean1, sd1, n2, mean2, sd2),
    )


def _finite_values(values: Sequence[object] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name}: value at position {int(bad[0])} is not a finite number")
    return array


def mean_difference(
    x1: Sequence[float] | np.ndarray, x2: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> MeanDifference:
    """Mean of ``x1`` minus mean of ``x2`` (e.g. PHQ-9 change) with a Welch 95% interval."""
    a = _finite_values(x1, "x1")
    b = _finite_values(x2, "x2")
    if a.size < 2 or b.size < 2:
        raise ValueError(f"each group needs at least 2 values, got {a.size} and {b.size}")
    return mean_difference_from_summary(
        a.size,
        float(a.mean()),
        float(a.std(ddof=1)),
        b.size,
        float(b.mean()),
        float(b.std(ddof=1)),
        confidence,
    )


# --------------------------------------------------------------------------- baseline balance


@dataclass(frozen=True)
class SMDResult:
    """A standardised mean difference and whether ``|SMD|`` exceeds the imbalance threshold."""

    smd: float
    kind: str
    imbalanced: bool
    #: for a categorical covariate: the binary SMD of each level (level vs the rest)
    per_level: dict[str, float] = field(default_factory=dict)


def _ratio(diff: float, scale: float) -> float:
    if scale == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / scale


def standardised_mean_difference_from_summary(
    mean1: float, sd1: float, mean2: float, sd2: float
) -> float:
    """Continuous SMD: ``(m1 - m2) / sqrt((s1^2 + s2^2) / 2)`` (Austin 2009)."""
    return _ratio(mean1 - mean2, math.sqrt((sd1**2 + sd2**2) / 2))


def _binary_smd(p1: float, p2: float) -> float:
    """Binary SMD: ``(p1 - p2) / sqrt((p1(1-p1) + p2(1-p2)) / 2)`` (Austin 2009)."""
    return _ratio(p1 - p2, math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2))


def standardised_mean_difference(
    x1: Sequence[object] | np.ndarray,
    x2: Sequence[object] | np.ndarray,
    kind: str = "continuous",
    threshold: float = SMD_IMBALANCE_THRESHOLD,
) -> SMDResult:
    """SMD of one baseline covariate between two groups, for a balance table.

    ``kind``: ``continuous`` (Austin 2009 with the average of the two variances), ``binary``
    (values 0/1 or booleans), or ``categorical`` (labels; the Yang and Dalton 2012 multivariate
    SMD ``sqrt((p1 - p2)' S^-1 (p1 - p2))`` over all levels but the first, with ``S`` the average
    of the two multinomial covariance matrices; ``per_level`` adds each level's binary SMD).
    """
    if kind == "continuous":
        a, b = _finite_values(x1, "x1"), _finite_values(x2, "x2")
        if a.size < 2 or b.size < 2:
            raise ValueError("each group needs at least 2 values")
        smd = standardised_mean_difference_from_summary(
            float(a.mean()), float(a.std(ddof=1)), float(b.mean()), float(b.std(ddof=1))
        )
        return SMDResult(smd, kind, abs(smd) > threshold)
    if kind == "binary":
        a, b = _finite_values(x1, "x1"), _finite_values(x2, "x2")
        for name, arr in (("x1", a), ("x2", b)):
            if arr.size == 0 or not np.isin(arr, (0.0, 1.0)).all():
                raise ValueError(f"{name}: binary covariate needs 0/1 values and at least one row")
        smd = _binary_smd(float(a.mean()), float(b.mean()))
        return SMDResult(smd, kind, abs(smd) > threshold)
    if kind == "categorical":
        g1 = [str(v) for v in x1]
        g2 = [str(v) for v in x2]
        if not g1 or not g2:
            raise ValueError("each group needs at least one row")
        levels = sorted(set(g1) | set(g2))
        p1 = np.array([g1.count(level) / len(g1) for level in levels])
        p2 = np.array([g2.count(level) / len(g2) for level in levels])
        per_level = {lv: _binary_smd(float(p1[i]), float(p2[i])) for i, lv in enumerate(levels)}
        t, c = p1[1:], p2[1:]
        cov = (np.diag(t) - np.outer(t, t) + np.diag(c) - np.outer(c, c)) / 2
        diff = t - c
        # pinv: a level absent from both groups gives a zero row; it then contributes nothing
        smd = float(np.sqrt(max(diff @ np.linalg.pinv(cov) @ diff, 0.0))) if t.size else 0.0
        return SMDResult(smd, kind, smd > threshold, per_level)
    raise ValueError(f"kind must be continuous, binary or categorical, got {kind!r}")
