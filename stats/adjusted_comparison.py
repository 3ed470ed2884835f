"""One propensity-score adjusted comparison of a binary outcome between groups A and B.

``adjusted_comparison`` fits the propensity model, builds weights (``method="weighting"``) or
matched pairs (``method="matching"``), checks balance and overlap, and only then estimates the
effect (``stats.propensity`` and ``stats.propensity_effects`` hold the definitions).

**Balance first.** The result is ``trustworthy`` only when every covariate's |SMD| after
adjustment is at most 0.1 and the overlap is not poor (``stats.propensity``: more than 10% of a
group outside the other's score range, an effective sample size below a quarter of a group, or
matches for fewer than half of group A). Otherwise ``warnings`` says why, and callers show the
warning above the effect and do not present the effect as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from queries.stats import NNTResult, nnt
from stats import propensity as ps_
from stats.propensity_effects import AdjustedRisks, EValue, e_values, matched_risks, weighted_risks

METHODS = ("weighting", "matching")


@dataclass(frozen=True)
class AdjustedComparison:
    method: str
    estimand: str
    covariates: list[str]
    n_a: int
    n_b: int
    balance: list[ps_.BalanceRow]
    ess_a: float
    ess_b: float
    overlap: ps_.Overlap
    scores: np.ndarray
    treated: np.ndarray
    weights: np.ndarray
    risks: AdjustedRisks | None
    nnt: NNTResult | None
    e_value: EValue | None
    matched_pairs: int | None = None
    truncate_percentile: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def max_smd_after(self) -> float:
        return max((abs(r.smd_after) for r in self.balance), default=0.0)

    @property
    def trustworthy(self) -> bool:
        return not self.warnings


def adjusted_comparison(
    y: np.ndarray,
    treated: np.ndarray,
    cov: ps_.Covariates,
    method: str = "weighting",
    estimand: str = "ATE",
    truncate_percentile: float | None = None,
    outcome_is_harm: bool = False,
) -> AdjustedComparison:
    """See the module docstring. ``y`` is 0/1 per episode; ``treated`` is True for group A."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    y = np.asarray(y, dtype=float)
    t = np.asarray(treated, dtype=bool)
    if t.all() or (~t).all():
        raise ValueError("both groups need episodes")
    scores = ps_.fit_propensity(cov.model, t)
    warnings: list[str] = []
    pairs = None
    if method == "weighting":
        weights = ps_.ipw_weights(scores, t, estimand, True, truncate_percentile)
    else:
        estimand = "ATT (matched)"
        pairs = ps_.match_on_logit(scores, t)
        weights = ps_.matched_weights(pairs, len(t))
    ess_a, ess_b = ps_.kish_ess(weights[t]), ps_.kish_ess(weights[~t])
    rows = ps_.balance(cov, t, weights)
    overlap = ps_.overlap(scores, t)
    n_a, n_b = int(t.sum()), int((~t).sum())
    if overlap.poor:
        warnings.append(
            f"Poor overlap: {100 * overlap.outside_a:.0f}% of A and {100 * overlap.outside_b:.0f}% "
            "of B have propensity scores outside the other group's range (no comparable patients "
            "in the other group)."
        )
    if method == "weighting" and min(ess_a / n_a, ess_b / n_b) < ps_.MIN_ESS_SHARE:
        warnings.append(
            "Extreme weights: the effective sample size fell below a quarter of a group, so a few "
            "episodes carry the estimate."
        )
    if pairs is not None and len(pairs) < ps_.MIN_MATCHED_SHARE * n_a:
        warnings.append("Fewer than half of group A found a match within the caliper; the matched "
                        "estimate describes a small, unusual subset.")
    imbalanced = [r for r in rows if not abs(r.smd_after) <= ps_.SMD_THRESHOLD]
    if imbalanced:
        names = ", ".join(r.characteristic + (f"={r.level}" if r.level else "") for r in imbalanced[:5])
        warnings.append(
            f"Balance not reached: {len(imbalanced)} covariate(s) still have |SMD| > "
            f"{ps_.SMD_THRESHOLD} after adjustment ({names}{', ...' if len(imbalanced) > 5 else ''})."
        )
    risks = nnt_result = evalue = None
    try:
        risks = weighted_risks(y, t, weights) if pairs is None else matched_risks(y, pairs)
    except ValueError as exc:
        warnings.append(f"No effect estimate: {exc}.")
    if risks is not None:
        rd = risks.difference
        nnt_result = nnt(rd.value, rd.low, rd.high, outcome_is_harm=outcome_is_harm)
        rr = risks.ratio
        if rr.low is not None and rr.value > 0 and np.isfinite(rr.value):
            evalue = e_values(rr.value, rr.low, rr.high)
    return AdjustedComparison(
        method=method, estimand=estimand, covariates=list(dict.fromkeys(c for c, _ in cov.labels)),
        n_a=n_a, n_b=n_b, balance=rows, ess_a=ess_a, ess_b=ess_b, overlap=overlap,
        scores=scores, treated=t, weights=weights, risks=risks, nnt=nnt_result, e_value=evalue,
        matched_pairs=None if pairs is None else len(pairs),
        truncate_percentile=truncate_percentile, warnings=warnings,
    )
