"""Kaplan-Meier and log-rank (stats.km, re-exported by stats.inference): hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stats import inference

# Ten patients: durations in days, True = discontinued, False = censored.
DURATIONS = [1, 2, 2, 3, 5, 6, 8, 8, 9, 12]
EVENTS = [True, True, False, True, False, True, True, True, False, True]


def test_product_limit_by_hand():
    """S(1) = 9/10; S(2) = 0.9*8/9 = 0.8 (one event, one censored at 2); S(3) = 0.8*6/7;
    5 censored; S(6) = S(3)*4/5 = 0.548571; S(8) = 0.548571*2/4 = 0.274286; 9 censored;
    S(12) = 0. The median is the first time with S <= 0.5: day 8."""
    km = inference.kaplan_meier(DURATIONS, EVENTS)
    np.testing.assert_allclose(km.times, [1, 2, 3, 5, 6, 8, 9, 12])
    np.testing.assert_allclose(
        km.survival, [0.9, 0.8, 0.685714, 0.685714, 0.548571, 0.274286, 0.274286, 0.0], atol=1e-6
    )
    assert list(km.n_at_risk) == [10, 9, 7, 6, 5, 4, 2, 1]
    assert list(km.n_events) == [1, 1, 1, 0, 1, 2, 0, 1]
    assert km.median == 8.0


def test_log_log_interval_by_hand():
    """At t = 1: Greenwood V = 1/(10*9); se of log(-log S) = sqrt(V)/|ln 0.9| = 1.000462;
    limits 0.9^exp(+-1.959964*1.000462) = 0.473009 and 0.985281."""
    km = inference.kaplan_meier(DURATIONS, EVENTS)
    assert km.ci_low[0] == pytest.approx(0.473009, abs=1e-6)
    assert km.ci_high[0] == pytest.approx(0.985281, abs=1e-6)
    # the median interval is read off the band: the lower band first reaches 0.5 at day 1.
    # The upper band stays above 0.5 while it is defined (at day 9, S = 0.274286 has upper
    # limit > 0.5); at day 12 S = 0 and the band is undefined, so the upper limit is NA (None),
    # as R's print(survfit(...)) shows, not day 12.
    assert km.median_low == 1.0
    assert km.ci_high[6] > 0.5
    assert km.median_high is None


def test_survival_at_days():
    at = inference.kaplan_meier(DURATIONS, EVENTS).survival_at([0, 2, 7, 100])
    np.testing.assert_allclose(at["survival"], [1.0, 0.8, 0.548571, 0.0], atol=1e-6)
    assert at["ci_low"][0] == 1.0


def test_aggregated_input_equals_per_patient():
    per_patient = inference.kaplan_meier(DURATIONS, EVENTS)
    aggregated = inference.kaplan_meier(
        times=[1, 2, 3, 5, 6, 8, 9, 12],
        n_events=[1, 1, 1, 0, 1, 2, 0, 1],
        n_censored=[0, 1, 0, 1, 0, 0, 1, 0],
    )
    np.testing.assert_allclose(aggregated.survival, per_patient.survival)
    np.testing.assert_allclose(aggregated.ci_low, per_patient.ci_low)
    assert aggregated.to_dict()["median"] == 8.0


def test_no_median_when_survival_stays_above_half():
    km = inference.kaplan_meier([5, 10, 10, 10], [True, False, False, False])
    assert km.median is None and km.median_high is None


def test_logrank_by_hand():
    """A: events at 1 and 2; B: events at 3 and 4. At t=1: n=4, n_A=2, E_A=0.5,
    V=2*2*1*3/(16*3)=0.25; at t=2: n=3, n_A=1, E_A=1/3, V=1*2*1*2/(9*2)=2/9; later n_A = 0.
    Z = (2 - 5/6)/sqrt(0.25 + 2/9) = 1.697749 (A has more events than expected), chi2 = 2.882353."""
    result = inference.logrank(([1, 2], [True, True]), ([3, 4], [True, True]))
    assert result.z == pytest.approx(1.697749, abs=1e-6)
    assert result.chi2 == pytest.approx(2.882353, abs=1e-6)
    assert result.pvalue == pytest.approx(math.erfc(1.697749 / math.sqrt(2)), abs=1e-6)


def test_refuses_negative_duration():
    with pytest.raises(ValueError, match="position 1"):
        inference.kaplan_meier([3, -1], [True, True])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), st.booleans()), min_size=1, max_size=60
    )
)
def test_km_survival_non_increasing_within_unit_interval(rows):
    durations = [t for t, _ in rows]
    events = [e for _, e in rows]
    km = inference.kaplan_meier(durations, events)
    assert ((km.survival >= 0) & (km.survival <= 1)).all()
    assert (np.diff(km.survival) <= 1e-15).all()
    assert ((km.ci_low <= km.survival + 1e-12) & (km.survival <= km.ci_high + 1e-12)).all()


@pytest.mark.parametrize("seed", range(6))
def test_cumulative_sums_equal_scipy_ecdf_on_random_censored_data(seed):
    """The product-limit estimate from per-time counts (cumulative sums) equals
    scipy.stats.ecdf(CensoredData.right_censored(t, ~event)).sf, with its log-log band: same
    distinct times, survival, at-risk counts and limits (NaN limits where S is 0 or 1 replaced by
    S, as kaplan_meier documents). Many ties (days 0..n/3), a few heavy-censoring samples."""
    import warnings

    from scipy import stats as sps

    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 3000))
    durations = rng.integers(0, max(size // 3, 2), size).astype(float)
    events = rng.random(size) < rng.uniform(0.05, 0.95)
    km = inference.kaplan_meier(durations, events)
    sf = sps.ecdf(sps.CensoredData.right_censored(durations, ~events)).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(0.95, method="log-log")
    np.testing.assert_array_equal(km.times, sf.quantiles)
    np.testing.assert_allclose(km.survival, sf.probabilities, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(km.n_at_risk, [(durations >= t).sum() for t in km.times])
    np.testing.assert_array_equal(km.n_events, [((durations == t) & events).sum() for t in km.times])
    low = np.where(np.isnan(band.low.probabilities), sf.probabilities, band.low.probabilities)
    high = np.where(np.isnan(band.high.probabilities), sf.probabilities, band.high.probabilities)
    np.testing.assert_allclose(km.ci_low, low, rtol=1e-12, atol=0)
    np.testing.assert_allclose(km.ci_high, high, rtol=1e-12, atol=0)
    # aggregated input (unsorted, a repeated time, a time with no unit) gives the same curve
    order = rng.permutation(km.times.size)
    times = np.concatenate([km.times[order], [km.times[0], 10_000.0]])
    ev = np.concatenate([km.n_events[order], [0, 0]])
    ce = np.concatenate([km.n_censored[order], [0, 0]])
    aggregated = inference.kaplan_meier(times=times, n_events=ev, n_censored=ce)
    np.testing.assert_array_equal(aggregated.times, km.times)
    np.testing.assert_array_equal(aggregated.survival, km.survival)
    np.testing.assert_array_equal(aggregated.ci_low, km.ci_low)


def test_aggregated_counts_are_validated():
    with pytest.raises(ValueError, match="same length"):
        inference.kaplan_meier(times=[1, 2], n_events=[1], n_censored=[0, 0])
    with pytest.raises(ValueError, match=">= 0"):
        inference.kaplan_meier(times=[1], n_events=[-1], n_censored=[0])
    with pytest.raises(ValueError, match="position 1"):
        inference.kaplan_meier(times=[1, float("nan")], n_events=[1, 1], n_censored=[0, 0])
    with pytest.raises(ValueError, match="no observations"):
        inference.kaplan_meier(times=[3], n_events=[0], n_censored=[0])
