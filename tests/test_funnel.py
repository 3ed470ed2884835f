"""Funnel plot limits, overdispersion and indirect standardisation (stats.funnel)."""

from __future__ import annotations

import math

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
