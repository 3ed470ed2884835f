"""Hand-computed cases pinning the statistics of DOMAIN.md section 7 (stats.inference)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from stats import inference

Z95 = 1.959964


# --------------------------------------------------------------------------- Wilson


def test_wilson_8_of_10_by_hand():
    """p = 0.8, n = 10, z^2 = 3.841459: centre = (16 + z^2)/(2(10 + z^2)) = 0.716742,
    half-width = z/(2(10 + z^2)) * sqrt(4*10*0.8*0.2 + z^2) = 0.226576 -> 0.490162 to 0.943318."""
    low, high = inference.wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-6)
    assert high == pytest.approx(0.943318, abs=1e-6)


def test_wilson_edges_exact():
    assert inference.wilson_interval(10, 10)[1] == 1.0
    assert inference.wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in inference.wilson_interval(0, 0))
    with pytest.raises(ValueError):
        inference.wilson_interval(11, 10)


def test_wilson_vectorised_matches_scalar():
    k = np.array([0, 1, 5, 8, 10, 3, 0, 999])
    n = np.array([10, 1, 7, 10, 10, 0 + 40, 0, 1000])
    low, high = inference.wilson_intervals(k, n)
    for i in range(len(k)):
        expected = inference.wilson_interval(int(k[i]), int(n[i]))
        if n[i] == 0:
            assert math.isnan(low[i]) and math.isnan(high[i])
        else:
            assert low[i] == pytest.approx(expected[0], abs=1e-14)
            assert high[i] == pytest.approx(expected[1], abs=1e-14)
    assert high[4] == 1.0 and low[0] == 0.0


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.data())
def test_wilson_properties(n, data):
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = inference.wilson_interval(k, n)
    p_hat = k / n
    assert 0.0 <= low <= p_hat <= high <= 1.0
    if k == n:
        assert high == 1.0
    if k == 0:
        assert low == 0.0
    # the same proportion on four times the patients gives a narrower interval
    low4, high4 = inference.wilson_interval(4 * k, 4 * n)
    assert high4 - low4 < high - low
    vlow, vhigh = inference.wilson_intervals(np.array([k]), np.array([n]))
    assert vlow[0] == pytest.approx(low, abs=1e-12) and vhigh[0] == pytest.approx(high, abs=1e-12)


# --------------------------------------------------------------------------- two groups


def test_newcombe_1998_table_ii_example():
    """Newcombe 1998 (Stat Med 17:873) Table II, 56/70 vs 48/80: RD = 0.8 - 0.6 = 0.2 and the
    hybrid score interval (method 10) 0.0524 to 0.3339.

    By hand with the Wilson limits l1, u1 = 0.691834, 0.876953 and l2, u2 = 0.490455, 0.700382:
    L = 0.2 - sqrt(0.108166^2 + 0.100382^2) = 0.052431; U = 0.2 + sqrt(0.076953^2 + 0.109545^2)
    = 0.333873. (The brief quoted "RD 0.1333, 0.0528 to 0.2401" for this example; 56/70 - 48/80
    is 0.2, so those figures belong to a different table.)"""
    rd = inference.newcombe_difference(56, 70, 48, 80)
    assert rd.value == pytest.approx(0.2, abs=1e-12)
    assert rd.low == pytest.approx(0.0524, abs=5e-5)
    assert rd.high == pytest.approx(0.3339, abs=5e-5)


def test_relative_risk_katz_by_hand():
    """RR = 0.8/0.6 = 1.3333; se(ln RR) = sqrt(1/56 - 1/70 + 1/48 - 1/80) = 0.109109;
    exp(ln 1.3333 -+ 1.959964 * 0.109109) = 1.076626 to 1.651249."""
    rr = inference.relative_risk(56, 70, 48, 80)
    assert rr.value == pytest.approx(4 / 3)
    assert rr.low == pytest.approx(1.076626, abs=1e-6)
    assert rr.high == pytest.approx(1.651249, abs=1e-6)
    assert rr.flags == ()


def test_relative_risk_zero_cell_is_flagged_not_corrected():
    rr = inference.relative_risk(0, 10, 3, 10)
    assert rr.value == 0.0 and rr.low is None and rr.high is None
    assert "zero_cell" in rr.flags
    assert inference.relative_risk(3, 10, 0, 10).value == math.inf


def test_chi_square_without_yates_by_hand():
    """[[56, 14], [48, 32]]: chi2 = N(ad - bc)^2 / (n1 n2 m1 m2)
    = 150 * (1792 - 672)^2 / (70 * 80 * 104 * 46) = 7.023411."""
    chi = inference.chi_square_p(56, 70, 48, 80)
    assert chi.statistic == pytest.approx(7.023411, abs=1e-6)
    assert chi.pvalue == pytest.approx(sps.chi2.sf(7.023411, 1), rel=1e-6)
    assert not chi.fisher_recommended


def test_fisher_by_hand_and_recommendation():
    """[[3, 0], [0, 3]]: the observed table has probability 1/C(6,3) = 1/20, and so does the mirror
    [[0, 3], [3, 0]]; two-sided p = 0.1. Expected counts are 1.5 < 5, so Fisher is recommended."""
    assert inference.fisher_exact_p(3, 3, 0, 3) == pytest.approx(0.1)
    result = inference.compare_proportions(3, 3, 0, 3)
    assert result.recommended_test == "fisher"
    assert result.recommended_p == pytest.approx(0.1)
    assert "zero_cell" in result.flags


def test_compare_proportions_bundles_everything():
    result = inference.compare_proportions(56, 70, 48, 80)
    assert result.group1.rate == pytest.approx(0.8)
    assert result.group2.rate == pytest.approx(0.6)
    assert result.risk_difference.low == pytest.approx(0.0524, abs=5e-5)
    assert result.recommended_test == "chi_square"
    # 1/0.2 = 5; CI [1/0.333873, 1/0.052431] = [2.995, 19.07] shown rounded up
    assert result.nnt.text == "NNTB 5 (95% CI 3 to 20)"
    assert isinstance(result.to_dict(), dict)


# --------------------------------------------------------------------------- NNT


def test_nnt_benefit():
    result = inference.nnt(0.125, 0.05, 0.2)
    assert result.label == "NNTB" and result.value == pytest.approx(8)
    assert (result.low, result.high) == (pytest.approx(5), pytest.approx(20))
    assert result.text == "NNTB 8 (95% CI 5 to 20)"


def test_nnt_interval_spanning_zero_altman():
    """RD 0.05 (-0.04 to 0.10): NNTB 20, CI "NNTB 1/0.10 = 10 to ∞ to NNTH 1/0.04 = 25"."""
    result = inference.nnt(0.05, -0.04, 0.10)
    assert result.ci_spans_zero
    assert result.nntb_bound == pytest.approx(10) and result.nnth_bound == pytest.approx(25)
    assert "NNTB 10 to ∞ to NNTH 25" in result.text
    assert result.text == "NNTB 20 (95% CI NNTB 10 to ∞ to NNTH 25)"


def test_nnt_harm_outcome_flips_direction():
    """A side effect 10 percentage points more often on group 1 (0.05 to 0.20): NNTH 10 (5 to 20)."""
    result = inference.nnt(0.10, 0.05, 0.20, outcome_is_harm=True)
    assert result.label == "NNTH"
    assert result.text == "NNTH 10 (95% CI 5 to 20)"


def test_nnt_interval_below_zero_is_nnth():
    """RD -0.10 (-0.25 to -0.04) on a good outcome: NNTH 10, CI [1/0.25, 1/0.04] = 4 to 25."""
    result = inference.nnt(-0.10, -0.25, -0.04)
    assert result.text == "NNTH 10 (95% CI 4 to 25)"


# --------------------------------------------------------------------------- continuous


def test_mean_difference_welch_and_effect_sizes_by_hand():
    """x1 = 1,2,3,4 (mean 2.5, var 5/3); x2 = 2,3,5,7,8 (mean 5, var 6.5).
    Welch df = (5/12 + 1.3)^2 / ((5/12)^2/3 + 1.3^2/4) = 6.134734.
    s_p = sqrt((3*5/3 + 4*6.5)/7) = sqrt(31/7) = 2.104417; d = -2.5/2.104417 = -1.187977;
    g = d * (1 - 3/(4*9 - 9)) = d * 8/9 = -1.055980."""
    x1, x2 = [1, 2, 3, 4], [2, 3, 5, 7, 8]
    md = inference.mean_difference(x1, x2)
    assert md.difference == pytest.approx(-2.5)
    assert md.df == pytest.approx(6.134734, abs=1e-6)
    assert md.cohens_d == pytest.approx(-1.187977, abs=1e-6)
    assert md.hedges_g == pytest.approx(-1.055980, abs=1e-6)
    welch = sps.ttest_ind(x1, x2, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert (md.low, md.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert md.pvalue == pytest.approx(welch.pvalue)
    assert "Welch" in md.method


def test_mean_difference_refuses_nan():
    with pytest.raises(ValueError, match="position 1"):
        inference.mean_difference([1, float("nan"), 3], [1, 2, 3])


def test_smd_continuous_binary_categorical_by_hand():
    """Continuous: -2.5 / sqrt((5/3 + 6.5)/2) = -1.237179. Binary 0.5 vs 0.25:
    0.25 / sqrt((0.25 + 0.1875)/2) = 0.534522. A two-level categorical SMD equals |binary SMD|."""
    smd = inference.standardised_mean_difference([1, 2, 3, 4], [2, 3, 5, 7, 8])
    assert smd.smd == pytest.approx(-1.237179, abs=1e-6) and smd.imbalanced
    binary = inference.standardised_mean_difference([1, 0, 1, 0], [1, 0, 0, 0], kind="binary")
    assert binary.smd == pytest.approx(0.534522, abs=1e-6)
    categorical = inference.standardised_mean_difference(
        ["m", "f", "m", "f"], ["m", "f", "f", "f"], kind="categorical"
    )
    assert categorical.smd == pytest.approx(0.534522, abs=1e-6)
    balanced = inference.standardised_mean_difference(["a", "b"] * 5, ["b", "a"] * 5, "categorical")
    assert balanced.smd == pytest.approx(0.0) and not balanced.imbalanced


# --------------------------------------------------------------------------- strata, rates, BH


def test_mantel_haenszel_two_strata_by_hand():
    """Stratum 1 (10/20 vs 5/20): w = 10, RD 0.25; stratum 2 (2/10 vs 6/30): w = 7.5, RD 0.
    RD_MH = 2.5/17.5 = 0.142857. Greenland-Robins: (10*10*20^3 + 5*15*20^3)/(20*20*40^2) = 2.1875
    and (2*8*30^3 + 6*24*10^3)/(10*30*40^2) = 1.2; se = sqrt(3.3875)/17.5 = 0.105172."""
    est = inference.mantel_haenszel_risk_difference([(10, 20, 5, 20), (2, 10, 6, 30)])
    assert est.value == pytest.approx(0.142857, abs=1e-6)
    assert est.low == pytest.approx(0.142857 - Z95 * 0.105172, abs=1e-5)
    assert est.high == pytest.approx(0.142857 + Z95 * 0.105172, abs=1e-5)


def test_mantel_haenszel_single_stratum_is_wald_and_records_empty_strata():
    est = inference.mantel_haenszel_risk_difference([(56, 70, 48, 80), (3, 5, 0, 0)])
    se = math.sqrt(0.8 * 0.2 / 70 + 0.6 * 0.4 / 80)
    assert est.value == pytest.approx(0.2)
    assert est.low == pytest.approx(0.2 - Z95 * se, abs=1e-6)
    assert est.flags == ("strata_without_both_groups=1",)


def test_poisson_rate_exact_by_hand():
    """0 events in 100 patient-months: upper = chi2.ppf(0.975, 2)/2 = -ln(0.025) = 3.688879
    per 100 patient-months; 10 events in 200: 5.0 (2.397694 to 9.195178)."""
    zero = inference.poisson_rate_interval(0, 100)
    assert zero.value == 0 and zero.low == 0
    assert zero.high == pytest.approx(-math.log(0.025), abs=1e-6)
    ten = inference.poisson_rate_interval(10, 200)
    assert (ten.value, ten.low, ten.high) == (
        pytest.approx(5.0),
        pytest.approx(2.397694, abs=1e-6),
        pytest.approx(9.195178, abs=1e-6),
    )


def test_benjamini_hochberg_by_hand():
    """Sorted 0.01, 0.03, 0.04, 0.5 (m = 4): p*m/i = 0.04, 0.06, 0.0533, 0.5, then the running
    minimum from the top: 0.04, 0.0533, 0.0533, 0.5. A NaN stays NaN and does not count in m."""
    adjusted = inference.benjamini_hochberg([0.01, 0.04, 0.03, float("nan"), 0.5])
    expected = [0.04, 0.16 / 3, 0.16 / 3, math.nan, 0.5]
    np.testing.assert_allclose(adjusted, expected, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=40))
def test_benjamini_hochberg_properties(pvalues):
    raw = np.array(pvalues)
    adjusted = inference.benjamini_hochberg(raw)
    assert (adjusted >= raw - 1e-15).all() and (adjusted <= 1).all()
    order = np.argsort(raw, kind="stable")
    assert (np.diff(adjusted[order]) >= -1e-15).all()


def test_the_95_percent_quantile_constant_is_scipys_to_the_last_bit():
    """``z_for(0.95)`` skips importing scipy at start-up; it must still be ndtri(0.975) exactly,
    so intervals do not move by a bit between the two paths."""
    from scipy.special import ndtri

    assert inference.z_for(0.95) == float(ndtri(0.975))
    assert inference.z_for(0.95).hex() == float(ndtri(0.975)).hex()
