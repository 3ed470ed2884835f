"""Propensity-score adjustment (stats.propensity, stats.propensity_effects, stats.adjusted_comparison).

(a) Confounding by severity with no drug effect: crude RD clearly non-zero, adjusted CIs contain 0.
(b) Weighted RD, its robust CI and the E-value against an independent numpy computation.
(c) Properties: weights positive, ESS <= n, SMD of identical groups is 0.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stats import propensity as ps_
from stats.adjusted_comparison import adjusted_comparison
from stats.inference import newcombe_difference
from stats.propensity_effects import (
    e_value_rr,
    e_values,
    hazard_ratio_as_rr,
    matched_risks,
    weighted_survival,
)

CONTINUOUS = ["age", "baseline_score"]
CATEGORICAL = ["sex"]


def _cell(severity: str, drug: str, size: int) -> pl.DataFrame:
    """``size`` episodes (a multiple of 10) of one severity and drug. Response depends on
    severity only: 3 in every 10 severe episodes respond, 6 in every 10 moderate ones, whatever
    the drug (B's responders sit at other positions in the cycle, so matched pairs are not all
    concordant). Age cycles 30..70 and sex F/M identically in every cell (no confounding by them)."""
    i = np.arange(size)
    offset = 0 if drug == "A" else 5
    responders_per_10 = 3 if severity == "severe" else 6
    return pl.DataFrame({
        "drug": [drug] * size,
        "baseline_score": [22 if severity == "severe" else 12] * size,
        "age": (30 + 10 * (i % 5)).tolist(),
        "sex": np.where(i % 2 == 0, "F", "M").tolist(),
        "responded": (((i + offset) % 10) < responders_per_10).astype(int).tolist(),
    })


@pytest.fixture()
def confounded() -> pl.DataFrame:
    """Severe patients mostly got drug A (160 of 200), moderate ones mostly drug B (160 of 200).
    Crude: A responds 160*0.3 + 40*0.6 = 72 of 200 (36%), B 40*0.3 + 160*0.6 = 108 of 200 (54%):
    a difference of -18 points that is entirely who got which drug."""
    return pl.concat([_cell("severe", "A", 160), _cell("severe", "B", 40),
                      _cell("moderate", "A", 40), _cell("moderate", "B", 160)])


def _inputs(frame: pl.DataFrame):  # type: ignore[no-untyped-def]
    cov = ps_.encode_covariates(frame, CONTINUOUS, CATEGORICAL)
    treated = (frame["drug"] == "A").to_numpy()
    return frame["responded"].to_numpy(), treated, cov


def test_crude_difference_is_clearly_non_zero(confounded: pl.DataFrame) -> None:
    crude = newcombe_difference(72, 200, 108, 200)
    assert crude.value == pytest.approx(-0.18)
    assert crude.high < -0.05


@pytest.mark.parametrize("method", ["weighting", "matching"])
def test_adjusted_interval_contains_zero_when_the_drug_does_nothing(confounded, method) -> None:  # type: ignore[no-untyped-def]
    y, treated, cov = _inputs(confounded)
    result = adjusted_comparison(y, treated, cov, method=method)
    rd = result.risks.difference
    assert rd.low < 0 < rd.high
    assert abs(rd.value) < 0.02
    assert result.max_smd_after < 0.1
    if method == "weighting":
        assert result.trustworthy, result.warnings
    else:
        # Only 40 severe B exist for 160 severe A: 80 of the 200 A find a partner, and the
        # result says that the matched estimate describes a subset.
        assert result.matched_pairs == 80
        assert [w.split(" ")[0] for w in result.warnings] == ["Fewer"]


def test_every_smd_after_weighting_is_below_0_1_and_severity_was_imbalanced(confounded) -> None:  # type: ignore[no-untyped-def]
    y, treated, cov = _inputs(confounded)
    result = adjusted_comparison(y, treated, cov, method="weighting")
    by_name = {(r.characteristic, r.level): r for r in result.balance}
    # severe share: A 160/200 = 0.8, B 40/200 = 0.2; score SD within each group is 10*0.4 = 4.
    assert by_name[("baseline_score", None)].smd_before > 1
    assert all(abs(r.smd_after) < 0.1 for r in result.balance)


def test_matching_pairs_within_the_same_severity(confounded) -> None:  # type: ignore[no-untyped-def]
    _, treated, cov = _inputs(confounded)
    scores = ps_.fit_propensity(cov.model, treated)
    pairs = ps_.match_on_logit(scores, treated)
    score = confounded["baseline_score"].to_numpy()
    # 40 B in severe and 40 A in moderate: at most 40 pairs in each severity.
    assert len(pairs) == 80
    assert (score[pairs[:, 0]] == score[pairs[:, 1]]).all()
    assert len(set(pairs[:, 1])) == len(pairs)  # without replacement


def test_poor_balance_is_a_warning_not_an_answer() -> None:
    # Severity perfectly separates the groups: no comparable patients exist.
    frame = pl.concat([_cell("severe", "A", 100), _cell("moderate", "B", 100)])
    y, treated, cov = _inputs(frame)
    result = adjusted_comparison(y, treated, cov, method="weighting")
    assert not result.trustworthy
    assert any("overlap" in w.lower() or "balance" in w.lower() for w in result.warnings)


# ----------------------------------------------------------------- (b) independent computation

# A fixed case: 24 episodes; x is a severity score, group A = 1. Stored, not generated.
FIXED_X = np.array([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                    10, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23], dtype=float)
FIXED_T = np.array([0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1,
                    0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
FIXED_Y = np.array([1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1,
                    1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1], dtype=float)


def _numpy_logistic(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Newton-Raphson for logit P(t) = b0 + b1 x, written out (the independent route)."""
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(100):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (t - p)
        hessian = design.T @ (design * (p * (1 - p))[:, None])
        beta = beta + np.linalg.solve(hessian, gradient)
    return 1 / (1 + np.exp(-design @ beta))


def test_weighted_rd_robust_ci_and_e_value_match_a_hand_sandwich() -> None:
    cov = ps_.encode_covariates(pl.DataFrame({"score": FIXED_X}), ["score"], [])
    result = adjusted_comparison(FIXED_Y, FIXED_T, cov, method="weighting", estimand="ATE")
    e = _numpy_logistic(FIXED_X, FIXED_T.astype(float))
    np.testing.assert_allclose(result.scores, e, atol=1e-6)
    w = np.where(FIXED_T, 1 / e, 1 / (1 - e))  # unstabilised: the estimate must not care
    t, y = FIXED_T, FIXED_Y
    m1 = np.sum(w[t] * y[t]) / np.sum(w[t])
    m0 = np.sum(w[~t] * y[~t]) / np.sum(w[~t])
    # HC0 sandwich of each weighted mean: sum w^2 (y - m)^2 / (sum w)^2.
    v1 = np.sum(w[t] ** 2 * (y[t] - m1) ** 2) / np.sum(w[t]) ** 2
    v0 = np.sum(w[~t] ** 2 * (y[~t] - m0) ** 2) / np.sum(w[~t]) ** 2
    z = 1.959963984540054
    rd = result.risks.difference
    assert rd.value == pytest.approx(m1 - m0, abs=1e-6)
    assert rd.low == pytest.approx(m1 - m0 - z * math.sqrt(v1 + v0), abs=1e-6)
    assert rd.high == pytest.approx(m1 - m0 + z * math.sqrt(v1 + v0), abs=1e-6)
    # log RR by the delta method on the same sandwich: var(log m) = var(m) / m^2.
    se_log = math.sqrt(v1 / m1**2 + v0 / m0**2)
    rr = result.risks.ratio
    assert rr.value == pytest.approx(m1 / m0, abs=1e-6)
    assert rr.low == pytest.approx(m1 / m0 * math.exp(-z * se_log), abs=1e-6)
    assert rr.high == pytest.approx(m1 / m0 * math.exp(z * se_log), abs=1e-6)
    big = max(m1 / m0, m0 / m1)
    assert result.e_value.estimate == pytest.approx(big + math.sqrt(big * (big - 1)), abs=1e-6)


def test_e_value_closed_form_on_hand_values() -> None:
    # VanderWeele & Ding 2017: RR 3.9 -> 3.9 + sqrt(3.9 * 2.9) = 7.263...
    assert e_value_rr(3.9) == pytest.approx(3.9 + math.sqrt(3.9 * 2.9))
    assert e_value_rr(3.9) == pytest.approx(7.26, abs=0.005)
    # A protective RR 0.8 is read as 1.25: 1.25 + sqrt(1.25 * 0.25) = 1.809...
    assert e_value_rr(0.8) == pytest.approx(1.25 + math.sqrt(0.3125))
    assert e_value_rr(1.0) == 1.0
    # Interval: the limit closer to 1 (lower limit 1.5 for RR 2) or 1 when it includes 1.
    assert e_values(2.0, 1.5, 2.7).limit == pytest.approx(1.5 + math.sqrt(0.75))
    assert e_values(0.5, 0.3, 0.8).limit == pytest.approx(1.25 + math.sqrt(0.3125))
    assert e_values(1.4, 0.9, 2.1).limit == 1.0


def test_hazard_ratio_for_a_common_outcome_is_converted() -> None:
    hr = 2.0
    expected = (1 - 0.5 ** math.sqrt(2)) / (1 - 0.5 ** math.sqrt(0.5))
    assert hazard_ratio_as_rr(hr, common_outcome=True) == pytest.approx(expected)
    assert hazard_ratio_as_rr(hr, common_outcome=False) == hr


def test_matched_bootstrap_is_reproducible_and_centred() -> None:
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0] * 10, dtype=float)
    pairs = np.arange(80).reshape(-1, 2)  # pairs (0,1), (2,3), ...: A = even index
    first, second = matched_risks(y, pairs), matched_risks(y, pairs)
    assert first == second
    # A (even): 1,1,0,1 per 8 -> 30/40; B (odd): 0,1,0,0 -> 10/40.
    assert first.difference.value == pytest.approx(0.5)
    assert first.difference.low < 0.5 < first.difference.high


def test_weighted_km_with_integer_weights_equals_repeating_the_rows() -> None:
    time = np.array([5, 8, 12, 20, 3, 9, 15, 30], dtype=float)
    event = np.array([1, 0, 1, 1, 1, 1, 0, 1])
    treated = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    weights = np.array([2, 1, 1, 3, 1, 2, 1, 1], dtype=float)
    result = weighted_survival(time, event, treated, weights)
    # Group A repeated: times 5,5 (events), 8 (censored), 12 (event), 20,20,20 (events): 7 at risk.
    # S(5) = 5/7, S(12) = 5/7 * (3/4) , S(20) = 0.
    at = dict(zip(result.times_a, result.survival_a, strict=True))
    assert at[5.0] == pytest.approx(5 / 7)
    assert at[12.0] == pytest.approx(5 / 7 * 3 / 4)
    assert at[20.0] == pytest.approx(0.0)
    assert result.hazard_ratio.low < result.hazard_ratio.value < result.hazard_ratio.high


# ----------------------------------------------------------------- (c) properties


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.02, 0.98), min_size=4, max_size=60), st.sampled_from(["ATE", "ATT"]),
       st.booleans())
def test_weights_are_positive_and_ess_at_most_n(scores, estimand, stabilised) -> None:  # type: ignore[no-untyped-def]
    ps = np.array(scores)
    treated = np.arange(len(ps)) % 2 == 0
    w = ps_.ipw_weights(ps, treated, estimand, stabilised)
    assert (w > 0).all()
    for group in (treated, ~treated):
        assert ps_.kish_ess(w[group]) <= group.sum() + 1e-9
    assert ps_.kish_ess(w) <= len(w) + 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=2, max_size=40), st.booleans())
def test_smd_of_identical_groups_is_zero(values, binary) -> None:  # type: ignore[no-untyped-def]
    x = np.array(values, dtype=float)
    if binary:
        x = (x > 50).astype(float)
    both = np.concatenate([x, x])
    treated = np.arange(len(both)) < len(x)
    assert ps_.smd(both, treated, binary=binary) == pytest.approx(0.0, abs=1e-12)
    weights = np.concatenate([np.arange(1, len(x) + 1)] * 2).astype(float)
    assert ps_.smd(both, treated, weights, binary=binary) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.05, 0.95), min_size=6, max_size=50))
def test_matching_is_one_to_one_within_the_caliper(scores) -> None:  # type: ignore[no-untyped-def]
    ps = np.array(scores)
    treated = np.arange(len(ps)) % 3 == 0
    pairs = ps_.match_on_logit(ps, treated)
    assert len(set(pairs[:, 0])) == len(pairs) == len(set(pairs[:, 1]))
    assert treated[pairs[:, 0]].all() and not treated[pairs[:, 1]].any()
    score = ps_.logit(ps)
    caliper = ps_.CALIPER_SD * np.std(score, ddof=1)
    assert (np.abs(score[pairs[:, 0]] - score[pairs[:, 1]]) <= caliper + 1e-12).all()
