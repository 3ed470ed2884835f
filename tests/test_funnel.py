"""Funnel plot limits, overdispersion and indirect standardisation (stats.funnel)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from stats import funnel


def test_exact_interpolated_limits_by_hand():
    """n = 100, θ0 = 0.2. Upper 95%: r = 28 is the smallest r with F(r) >= 0.975 (F(28) =
    0.979980, F(27) = 0.965848), α = (0.979980 − 0.975)/(0.979980 − 0.965848) = 0.352390, limit
    (28 − 0.352390)/100 = 0.276476. Lower 95%: r = 12 (F(12) = 0.025329, F(11) = 0.012575),
    α = 0.000329/0.012754 = 0.025776, limit 0.119742."""
    assert funnel.exact_limit(100, 0.2, 0.975) == pytest.approx(0.276476, abs=1e-6)
    assert funnel.exact_limit(100, 0.2, 0.025) == pytest.approx(0.119742, abs=1e-6)


def test_exact_limits_for_a_non_integer_n_by_hand():
    """n = 2.5, θ0 = 0.5: F(r) = I_0.5(2.5 − r, r + 1). F(0) = 0.5^2.5 = 0.176777 (b = 1);
    F(1) = 0.5^1.5·(2.5 − 1.5·0.5) = 0.618718 (I_x(a, 2) = x^a(a + 1 − a·x)); F(2) =
    (2√x − 4/3·x^1.5 + 2/5·x^2.5)/B(0.5, 3) = 1.013520/(16/15) = 0.950175; F(3) = 1 (3 >= n).
    p = 0.5: r = 1, α = (0.618718 − 0.5)/(0.618718 − 0.176777) = 0.268629, limit
    (1 − 0.268629)/2.5 = 0.292548. p = 0.975: r = 3, α = 0.025/(1 − 0.950175) = 0.501756,
    limit (3 − 0.501756)/2.5 = 0.999298."""
    assert [funnel.binomial_cdf(r, 2.5, 0.5) for r in range(4)] == pytest.approx(
        [0.176777, 0.618718, 0.950175, 1.0], abs=1e-6
    )
    assert funnel.exact_limit(2.5, 0.5, 0.5) == pytest.approx(0.292548, abs=1e-6)
    assert funnel.exact_limit(2.5, 0.5, 0.975) == pytest.approx(0.999298, abs=1e-6)


@pytest.mark.parametrize("theta0", [0.0, 0.03, 0.2, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("n", [1, 2, 7, 20, 100, 1000])
def test_exact_limits_at_integer_n_are_the_binomial_ones(n, theta0):
    """At integer n, F is the binomial CDF (scipy.stats.binom), so the limits are Spiegelhalter's
    from qbinom/pbinom: r_p = binom.ppf(p), α from binom.cdf."""
    from scipy import stats as sps

    for p in (0.001, 0.025, 0.975, 0.999):
        r_p = sps.binom.ppf(p, n, theta0)
        f_r, f_before = sps.binom.cdf(r_p, n, theta0), sps.binom.cdf(r_p - 1, n, theta0)
        alpha = 0.0 if f_r == f_before else (f_r - p) / (f_r - f_before)
        expected = min(max((r_p - alpha) / n, 0.0), 1.0)
        assert funnel.exact_limit(n, theta0, p) == pytest.approx(expected, abs=1e-12)


def test_exact_contours_are_finite_and_continuous_on_a_real_grid():
    """The contours are drawn on a non-integer grid of n: every limit exists, and approaching
    an integer n from either side gives the integer-n limit (no jump)."""
    rows = funnel.funnel_curve(0.23, np.linspace(1.0, 250.0, 333))
    for row in rows:
        values = [row[k] for k in ("lower_998", "lower_95", "upper_95", "upper_998")]
        assert all(math.isfinite(v) for v in values)
        assert values == sorted(values)
    for n in (10, 57):
        for p in (0.025, 0.975):
            at = funnel.exact_limit(n, 0.23, p)
            assert funnel.exact_limit(n - 1e-9, 0.23, p) == pytest.approx(at, abs=1e-6)
            assert funnel.exact_limit(n + 1e-9, 0.23, p) == pytest.approx(at, abs=1e-6)


def test_funnel_figure_draws_the_exact_limits():
    """The QI page and the meeting pack draw charts.qi.funnel_chart: each of the
    four contours has a finite value at every grid point (they were all NaN before)."""
    from charts.qi import funnel_chart
    from queries.qi_funnel import MeasureFunnel

    result = funnel.proportion_funnel(["A", "B", "C"], [10, 30, 20], [45, 120, 83])
    assert result.method == "exact"
    figure = funnel_chart(MeasureFunnel("m", "site_id", False, result), "Measure")
    contours = [t for t in figure.data if t.legendgroup in ("dash", "dot")]
    assert len(contours) == 4
    for trace in contours:
        assert len(trace.y) == 80 and all(v is not None and math.isfinite(v) for v in trace.y)
    upper_95 = next(t for t in contours if t.name == "95% limits")
    n0, y0 = float(upper_95.x[0]), float(upper_95.y[0])
    assert y0 == pytest.approx(100 * funnel.exact_limit(n0, result.target, 0.975))


def test_normal_limits_by_hand():
    """0.2 ± z·sqrt(0.2*0.8/100) = 0.2 ± z·0.04: 95% upper 0.278399, 99.8% lower 0.076391;
    at n = 4 the 99.8% lower limit 0.2 − 3.090232*0.2 is negative and clipped to 0."""
    assert funnel.normal_limit(100, 0.2, funnel.Z_95) == pytest.approx(0.278399, abs=1e-6)
    assert funnel.normal_limit(100, 0.2, -funnel.Z_998) == pytest.approx(0.076391, abs=1e-6)
    assert funnel.normal_limit(4, 0.2, -funnel.Z_998) == 0.0


def test_target_flags_and_insufficient_data():
    """θ0 = Σr/Σn = 105/460. A (10/100) is below the 99.8% limit; D (5/10) has n < 20 and is
    labelled insufficient data whatever its rate."""
    result = funnel.proportion_funnel(
        ["A", "B", "C", "D", "E"], [10, 30, 20, 5, 40], [100, 120, 80, 10, 150]
    )
    assert result.target == pytest.approx(105 / 460)
    flags = {row["unit"]: row["flag"] for row in result.units}
    assert flags == {
        "A": "below 99.8%",
        "B": "within limits",
        "C": "within limits",
        "D": funnel.INSUFFICIENT,
        "E": "within limits",
    }
    normal = funnel.proportion_funnel(["A", "B"], [10, 30], [100, 120], method="normal")
    assert normal.units[0]["upper_95"] == pytest.approx(
        40 / 220 + funnel.Z_95 * math.sqrt(40 / 220 * 180 / 220 / 100)
    )


def test_overdispersion_tau2_zero_when_units_agree():
    """Every unit at exactly θ0: all z = 0, φ = 0, kφ < k − 1, so τ² = 0 and the limits equal
    the unadjusted arcsine limits sin²(asin(√θ0) ± z/(2√n))."""
    result = funnel.proportion_funnel(
        ["A", "B", "C"], [20, 40, 60], [100, 200, 300], overdispersion=True
    )
    assert result.overdispersion.phi == 0 and result.overdispersion.tau2 == 0
    expected = math.sin(math.asin(math.sqrt(0.2)) + funnel.Z_95 / (2 * math.sqrt(100))) ** 2
    assert result.units[0]["upper_95"] == pytest.approx(expected)


def test_overdispersion_by_hand():
    """Two units, 10/100 and 40/100: θ0 = 0.25, target asin(0.5) = π/6, s = 1/20 each.
    z = (asin(√0.1) − π/6)·20 and (asin(√0.4) − π/6)·20 = -4.036964 and 3.222409 (with k = 2,
    winsorising at 10/90% pulls both ends in: quantiles -3.311027 and 2.496471);
    φ = (3.311027² + 2.496471²)/2 = 8.597635; w = 400 each, Σw − Σw²/Σw = 400;
    τ² = (2φ − 1)/400 = 0.040488."""
    result = funnel.proportion_funnel(["A", "B"], [10, 40], [100, 100], overdispersion=True)
    z = [(math.asin(math.sqrt(p)) - math.pi / 6) * 20 for p in (0.1, 0.4)]
    low, high = z[0] + 0.1 * (z[1] - z[0]), z[0] + 0.9 * (z[1] - z[0])
    phi = (low**2 + high**2) / 2
    assert result.overdispersion.phi == pytest.approx(phi)
    assert result.overdispersion.tau2 == pytest.approx((2 * phi - 1) / 400)
    assert result.overdispersion.tau2 == pytest.approx(0.040488, abs=1e-6)


def test_indirect_standardisation_by_hand():
    """Strata rates pooled over units: mild 11/15, severe 14/30. E_a = 10·11/15 + 10·14/30 = 12,
    E_b = 5·11/15 + 20·14/30 = 13; O/E = 10/12 and 15/13; adjusted = O/E · 25/45."""
    frame = pl.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "stratum": ["mild", "severe", "mild", "severe"],
            "events": [8, 2, 3, 12],
            "n": [10, 10, 5, 20],
        }
    )
    out = funnel.indirect_standardise(frame)
    assert out["expected"].to_list() == pytest.approx([12, 13])
    assert out["ratio"].to_list() == pytest.approx([10 / 12, 15 / 13])
    assert out["adjusted_rate"].to_list() == pytest.approx([10 / 12 * 25 / 45, 15 / 13 * 25 / 45])
    low, high = funnel.byar_interval(10, 12)
    assert out["ratio_low"][0] == pytest.approx(low) and low < 10 / 12 < high


def test_indirect_standardisation_refuses_bad_rows():
    frame = pl.DataFrame({"unit": ["a"], "stratum": ["s"], "events": [5], "n": [3]})
    with pytest.raises(ValueError, match="row 0"):
        funnel.indirect_standardise(frame)


def test_ratio_funnel_limits():
    """E = 25: 95% limits exp(±1.959964/5) = 0.675709 and 1.479927."""
    result = funnel.ratio_funnel(["a", "b"], [20, 40], [25, 30])
    assert result.units[0]["lower_95"] == pytest.approx(0.675709, abs=1e-6)
    assert result.units[0]["upper_95"] == pytest.approx(1.479927, abs=1e-6)


def test_refusals():
    with pytest.raises(ValueError, match="at least 2 units"):
        funnel.proportion_funnel(["A"], [1], [10])
    with pytest.raises(ValueError, match="unit 'B': n must be"):
        funnel.proportion_funnel(["A", "B"], [1, 0], [10, 0])
