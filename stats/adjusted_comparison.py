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

from dataclasses import dataclass, field, replace

import numpy as np

from stats import propensity as ps_
from stats.nnt import NNTResult, nnt
from stats.propensity_effects import AdjustedRisks, EValue, e_values, matched_risks, weighted_risks

METHODS = ("weighting", "matching")


@dataclass(frozen=True)
class AdjustedComparison:
    """``n_a``/``n_b``: episodes of each group; ``trimmed_a``/``_b``: those excluded by trimming;
    ``used_a``/``used_b``: those that carry the estimate (after trimming; for matching, the
    matched ones; the rest are unmatched). ``analysed`` marks the episodes kept by trimming;
    ``scores``, ``treated`` and ``weights`` are theirs."""

    method: str
    estimand: str
    covariates: list[str]
    n_a: int
    n_b: int
    used_a: int
    used_b: int
    trimmed_a: int
    trimmed_b: int
    balance: list[ps_.BalanceRow]
    ess_a: float
    ess_b: float
    overlap: ps_.Overlap
    analysed: np.ndarray
    scores: np.ndarray
    treated: np.ndarray
    weights: np.ndarray
    risks: AdjustedRisks | None
    nnt: NNTResult | None
    e_value: EValue | None
    matched_pairs: int | None = None
    trim_percentile: float | None = None
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
    trim_percentile: float | None = None,
    outcome_is_harm: bool = False,
    estimate: bool = True,
) -> AdjustedComparison:
    """See the module docstring. ``y`` is 0/1 per episode; ``treated`` is True for group A.
    ``estimate=False`` stops after the diagnostics (``risks`` None), for time-to-event outcomes
    whose effect is estimated from ``weights`` by the caller."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    y = np.asarray(y, dtype=float)
    t = np.asarray(treated, dtype=bool)
    if t.all() or (~t).all():
        raise ValueError("both groups need episodes")
    n_a, n_b = int(t.sum()), int((~t).sum())
    scores = ps_.fit_propensity(cov.model, t)
    analysed = np.ones(len(t), dtype=bool)
    full_cov, full_t = cov, t
    if trim_percentile is not None:
        analysed = ps_.common_support(scores, t, trim_percentile)
        if t[analysed].all() or (~t[analysed]).all():
            raise ValueError("no episodes of one group are left after trimming")
        y, t, cov = y[analysed], t[analysed], ps_.subset(cov, analysed)
        scores = ps_.fit_propensity(cov.model, t)  # re-fitted in the trimmed population
    pairs = None
    if method == "weighting":
        weights = ps_.ipw_weights(scores, t, estimand, stabilised=True)
        used_a, used_b = int(t.sum()), int((~t).sum())
    else:
        estimand = "ATT (matched)"
        pairs = ps_.match_on_logit(scores, t)
        weights = ps_.matched_weights(pairs, len(t))
        used_a = used_b = len(pairs)
    ess_a, ess_b = ps_.kish_ess(weights[t]), ps_.kish_ess(weights[~t])
    # "Before" is the whole comparison as the crude estimate sees it (before trimming too).
    # and every SMD is scaled by that population's pooled SD, so before and after compare.
    spreads = [ps_.pooled_sd(full_cov.balance[:, j], full_t, bool(full_cov.binary[j]))
               for j in range(len(full_cov.labels))]
    before = ps_.balance(full_cov, full_t, np.ones(len(full_t)), spreads)
    rows = [replace(r, smd_before=b.smd_before, count_a=b.count_a, count_b=b.count_b,
                    analysed_a=r.count_a, analysed_b=r.count_b)
            for r, b in zip(ps_.balance(cov, t, weights, spreads), before, strict=True)]
    overlap = ps_.overlap(scores, t)
    warnings = _warnings(method, overlap, ess_a / max(t.sum(), 1), ess_b / max((~t).sum(), 1),
                         None if pairs is None else len(pairs) / max(t.sum(), 1), rows)
    risks = nnt_result = evalue = None
    try:
        if estimate:
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
        n_a=n_a, n_b=n_b, used_a=used_a, used_b=used_b, trimmed_a=n_a - int(t.sum()),
        trimmed_b=n_b - int((~t).sum()), balance=rows, ess_a=ess_a, ess_b=ess_b,
        overlap=overlap, analysed=analysed, scores=scores, treated=t, weights=weights,
        risks=risks, nnt=nnt_result, e_value=evalue,
        matched_pairs=None if pairs is None else len(pairs), trim_percentile=trim_percentile,
        warnings=warnings,
    )


def _warnings(method, overlap, ess_share_a, ess_share_b, matched_share, rows) -> list[str]:
    """Why the adjusted effect should not be read as the answer (empty when it may be)."""
    out = []
    if overlap.poor:
        out.append(
            f"Poor overlap: {100 * overlap.outside_a:.0f}% of A and {100 * overlap.outside_b:.0f}% "
            "of B have propensity scores outside the other group's range (no comparable patients "
            "in the other group)."
        )
    if method == "weighting" and min(ess_share_a, ess_share_b) < ps_.MIN_ESS_SHARE:
        out.append("Extreme weights: the effective sample size fell below a quarter of a group, "
                   "so a few episodes carry the estimate.")
    if matched_share is not None and matched_share < ps_.MIN_MATCHED_SHARE:
        out.append("Fewer than half of group A found a match within the caliper; the matched "
                   "estimate describes a small, unusual subset.")
    imbalanced = [r for r in rows if not abs(r.smd_after) <= ps_.SMD_THRESHOLD]
    if imbalanced:
        names = ", ".join(r.characteristic + (f"={r.level}" if r.level else "") for r in imbalanced[:5])
        out.append(
            f"Balance not reached: {len(imbalanced)} covariate(s) still have |SMD| > "
            f"{ps_.SMD_THRESHOLD} after adjustment ({names}{', ...' if len(imbalanced) > 5 else ''})."
        )
    return out
