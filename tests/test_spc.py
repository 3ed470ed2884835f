"""Run and control charts (stats.spc) against DOMAIN.md 6.1/6.2 and hand-computed series."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from stats import anhoej, spc

# --------------------------------------------------------------------------- Anhøj limits

# DOMAIN.md 6.1, "Longest-run maximum": n_useful ranges and the longest run still random.
LONGEST_RUN_TABLE = [((10, 11), 6), ((12, 22), 7), ((23, 45), 8), ((46, 90), 9), ((91, 100), 10)]

# DOMAIN.md 6.1, "Crossings minimum": row = tens of n_useful, column = units.
CROSSINGS_TABLE = {
    10: [2, 2, 3, 3, 4, 4, 4, 5, 5, 6],
    20: [6, 6, 7, 7, 8, 8, 8, 9, 9, 10],
    30: [10, 11, 11, 11, 12, 12, 13, 13, 14, 14],
    40: [14, 15, 15, 16, 16, 17, 17, 17, 18, 18],
    50: [19, 19, 20, 20, 21, 21, 21, 22, 22, 23],
    60: [23, 24, 24, 25, 25, 25, 26, 26, 27, 27],
    70: [28, 28, 29, 29, 29, 30, 30, 31, 31, 32],
    80: [32, 33, 33, 34, 34, 34, 35, 35, 36, 36],
    90: [37, 37, 38, 38, 39, 39, 39, 40, 40, 41],
    100: [41],
}


@pytest.mark.parametrize("n_useful", range(10, 101))
def test_anhoej_limits_match_the_published_tables(n_useful):
    expected_run = next(v for (lo, hi), v in LONGEST_RUN_TABLE if lo <= n_useful <= hi)
    expected_crossings = CROSSINGS_TABLE[n_useful // 10 * 10][n_useful % 10]
    assert anhoej.longest_run_max(n_useful) == expected_run
    assert anhoej.crossings_min(n_useful) == expected_crossings


# --------------------------------------------------------------------------- run rules


def test_points_on_the_median_are_dropped():
    """y = 1,5,3,3,7,8,3,2,9: median 3. Signs - + 0 0 + + 0 - +; the three points on the median
    are dropped, so 5,7,8 form one run of 3 above. Useful 6, runs [-][+++][-][+]: crossings 3;
    limits round(log2 6)+3 = 6 and qbinom(0.05, 5, 0.5) = 1: no signal."""
    chart = spc.qic([1, 5, 3, 3, 7, 8, 3, 2, 9], chart="run")
    row = chart.summary()[0]
    assert row["CL"] == 3
    assert (row["n.obs"], row["n.useful"]) == (9, 6)
    assert (row["longest.run"], row["longest.run.max"]) == (3, 6)
    assert (row["n.crossings"], row["n.crossings.min"]) == (3, 1)
    assert row["runs.signal"] is False
    assert row["aLCL"] is None and row["aUCL"] is None


def test_shift_gives_runs_signal_and_plain_words():
    """Nine points at 1-2, then 10..20: median (10 + 11)/2 = 10.5, so 10 points below (the nine
    and 10) then 10 above; longest run 10 > round(log2 20) + 3 = 7, crossings 1 < 6."""
    chart = spc.qic([1, 2, 1, 2, 1, 2, 1, 2, 1, *range(10, 21)], chart="run")
    row = chart.summary()[0]
    assert (row["longest.run"], row["longest.run.max"]) == (10, 7)
    assert (row["n.crossings"], row["n.crossings.min"]) == (1, 6)
    assert row["runs.signal"] is True and chart.runs_signal.all()
    words = chart.explanations()
    assert (
        "An unusually long run of 10 points below the centre line (more than 7 expected by "
        "chance) suggests a shift." in words
    )
    assert any("crosses the centre line only 1 times" in w for w in words)


# --------------------------------------------------------------------------- p and Laney p'


def test_p_chart_limits_by_hand():
    """y = 2,4,3,6 of n = 20,40,30,10: p̄ = 15/100 = 0.15. SD_i = sqrt(0.15*0.85/n_i):
    n=20 -> 0.079844, UCL 0.389531; n=40 -> 0.056458, UCL 0.319374, LCL95 0.037084;
    n=10 -> 0.112916, UCL 0.488748 and 6/10 = 0.6 is above it. Every LCL is clipped to 0."""
    chart = spc.qic([2, 4, 3, 6], [20, 40, 30, 10], chart="p")
    assert chart.cl[0] == pytest.approx(0.15)
    np.testing.assert_allclose(chart.ucl, [0.389531, 0.319374, 0.345576, 0.488748], atol=1e-6)
    np.testing.assert_array_equal(chart.lcl, [0, 0, 0, 0])
    assert chart.lcl95[1] == pytest.approx(0.037084, abs=1e-6)
    assert list(chart.sigma_signal) == [False, False, False, True]
    assert chart.summary()[0]["sigma.signal"] == 1


def test_p_chart_upper_limit_capped_at_one():
    """y = 9/10, 1/2: p̄ = 10/12; at n = 2 the UCL 0.8333 + 3*0.2635 = 1.62 is capped to 1."""
    chart = spc.qic([9, 1], [10, 2], chart="p")
    assert chart.ucl[1] == 1.0 and chart.ucl95[1] <= 1.0


def test_laney_p_prime_by_hand():
    """y = 10,20,15,40 of 100 each: p̄ = 0.2125, SD = sqrt(0.2125*0.7875/100) = 0.040908;
    z = -2.750095, -0.305566, -1.527831, 4.583492; σ_z = mean(2.444529, 1.222265, 6.111323)/1.128
    = 2.889515. With equal n, SD·σ_z = mean(|Δp|)/1.128 = (0.40/3)/1.128 = 0.118203:
    UCL = 0.2125 + 3*0.118203 = 0.567110, UCL95 = 0.448907, LCL clipped to 0."""
    chart = spc.qic([10, 20, 15, 40], [100] * 4, chart="pp")
    assert chart.ucl[0] == pytest.approx(0.567110, abs=1e-6)
    assert chart.ucl95[0] == pytest.approx(0.448907, abs=1e-6)
    assert chart.lcl[0] == 0.0
    plain = spc.qic([10, 20, 15, 40], [100] * 4, chart="p")
    assert plain.sigma_signal[3] and not chart.sigma_signal[3]  # overdispersion absorbed


def test_laney_equals_plain_p_when_sigma_z_is_one():
    """p̄ = 0.5, n = 100 (SD 0.05); p alternates 0.5 ± 0.564*0.05 so z = ±0.564 and
    mean |Δz| = 1.128: σ_z = 1 and p' limits equal p limits (Laney 2002)."""
    y = [52.82, 47.18, 52.82, 47.18]
    laney = spc.qic(y, [100] * 4, chart="pp")
    plain = spc.qic(y, [100] * 4, chart="p")
    np.testing.assert_allclose(laney.ucl, plain.ucl, rtol=1e-12)
    np.testing.assert_allclose(laney.lcl, plain.lcl, rtol=1e-12)


def test_u_and_laney_u_prime():
    """u: 3,5,2 events over 10,20,10 patient-months: ū = 10/40 = 0.25; at n = 10
    SD = sqrt(0.25/10) = 0.158114, UCL 0.724342, LCL clipped to 0."""
    chart = spc.qic([3, 5, 2], [10, 20, 10], chart="u")
    assert chart.ucl[0] == pytest.approx(0.724342, abs=1e-6) and chart.lcl[0] == 0
    prime = spc.qic([3, 5, 2], [10, 20, 10], chart="up")
    assert prime.cl[0] == pytest.approx(0.25)


# --------------------------------------------------------------------------- c, i, mr, g


def test_c_chart_by_hand():
    """c̄ = (2+3+4+3)/4 = 3; limits 3 ± 3*sqrt(3) = -2.196 (clipped to 0) and 8.196152."""
    chart = spc.qic([2, 3, 4, 3], chart="c")
    assert chart.ucl[0] == pytest.approx(8.196152, abs=1e-6) and chart.lcl[0] == 0


def test_i_and_mr_constants_by_hand():
    """y = 10,12,11,15,13: mean 12.2; moving ranges 2,1,4,2, MR̄ = 2.25; SD = 2.25/1.128 =
    1.994681, i.e. CL ± 2.66·MR̄: UCL 18.184043, LCL 6.215957. MR chart: CL 2.25,
    UCL 3.267*2.25 = 7.35075, LCL 0, and no moving range for the first point."""
    i_chart = spc.qic([10, 12, 11, 15, 13], chart="i")
    assert i_chart.ucl[0] == pytest.approx(18.184043, abs=1e-6)
    assert i_chart.lcl[0] == pytest.approx(6.215957, abs=1e-6)
    assert i_chart.ucl[0] - i_chart.cl[0] == pytest.approx(3 / 1.128 * 2.25)
    mr_chart = spc.qic([10, 12, 11, 15, 13], chart="mr")
    assert math.isnan(mr_chart.y[0])
    np.testing.assert_allclose(mr_chart.y[1:], [2, 1, 4, 2])
    assert mr_chart.cl[0] == pytest.approx(2.25)
    assert mr_chart.ucl[0] == pytest.approx(7.35075)
    assert mr_chart.lcl[0] == 0
    # qicharts2 measures the 95% line from 0 as well: (3.267/3)*2*2.25 = 4.9005, not
    # 2.25 + 2*(3.267 - 1)/3*2.25 = 5.6505; its lower 95% line is 0
    assert mr_chart.ucl95[0] == pytest.approx(4.9005)
    assert mr_chart.lcl95[0] == 0
    assert not mr_chart.runs_signal.any()


def test_g_chart_by_hand():
    """Cases between events 10,30,5,50,20: mean 23, SD = sqrt(23*24) = 23.494680,
    UCL = 23 + 3*23.494680 = 93.484041, LCL clipped to 0; the centre line shown is the median 20."""
    chart = spc.qic([10, 30, 5, 50, 20], chart="g")
    assert chart.cl[0] == 20
    assert chart.ucl[0] == pytest.approx(93.484041, abs=1e-6)
    assert chart.lcl[0] == 0


def test_g_chart_centre_line_is_the_median_of_the_baseline():
    """3,1,4,2,5,3 then 60,80,55,70, frozen at 6: the baseline's median is 3 (not 4.5, the
    median of all ten) and its mean 18/6 = 3, so UCL = 3 + 3*sqrt(3*4) = 13.392305; the four
    later points are above it. Excluding point 2 of 2,50,3,4 likewise gives median 3 of 2,3,4."""
    chart = spc.qic([3, 1, 4, 2, 5, 3, 60, 80, 55, 70], chart="g", freeze=6)
    assert chart.cl[9] == 3
    assert chart.ucl[9] == pytest.approx(13.392305, abs=1e-6)
    assert chart.summary()[0]["sigma.signal"] == 4
    assert spc.qic([2, 50, 3, 4], chart="g", exclude=[2]).cl[0] == 3


def test_screened_moving_ranges_on_laney_p_prime():
    """p = 20,21,20,21,20,21,20,40,20,21 % of 100 each: p̄ = 224/1000 = 0.224. With equal n,
    SD·σ_z = mean|Δp|/1.128. The moving ranges are seven of 0.01 and two of 0.20: mean 0.47/9 =
    0.052222, UCL 0.224 + 3*0.052222/1.128 = 0.362889. Screened, the two ranges above
    3.267*0.052222 = 0.170609 are dropped: mean 0.01, UCL 0.224 + 3*0.01/1.128 = 0.250596, and
    point 8 (0.40) is outside it."""
    y, n = [20, 21, 20, 21, 20, 21, 20, 40, 20, 21], [100] * 10
    plain = spc.qic(y, n, chart="pp")
    screened = spc.qic(y, n, chart="pp", screened_mr=True)
    assert plain.ucl[0] == pytest.approx(0.362889, abs=1e-6)
    assert screened.ucl[0] == pytest.approx(0.250596, abs=1e-6)
    assert list(np.flatnonzero(screened.sigma_signal)) == [7]
    u_screened = spc.qic(y, n, chart="up", screened_mr=True)
    assert u_screened.ucl[0] < spc.qic(y, n, chart="up").ucl[0]


# --------------------------------------------------------------------------- freeze, part, exclude


def test_freeze_with_part_is_ignored_as_in_qicharts2():
    """qicharts2 sets freeze to Inf when part is given: each part is its own baseline. Part 1
    (1,2,3,4) has CL 2.5 although freeze = 3 would give 2; the chart says so in words."""
    chart = spc.qic([1, 2, 3, 4, 10, 11, 12, 11, 13], chart="i", freeze=3, part=[4])
    assert chart.cl[0] == pytest.approx(2.5) and chart.cl[8] == pytest.approx(11.4)
    assert chart.baseline.all() and chart.options["freeze_ignored_with_part"] is True
    assert any("freeze) was ignored" in sentence for sentence in chart.explanations())


def test_freeze_takes_limits_from_the_first_k_points():
    """freeze = 4 on 1,2,3,4,10,11,12: CL 2.5, MR̄ 1, UCL 2.5 + 3/1.128 = 5.159574;
    the three later points are above it."""
    chart = spc.qic([1, 2, 3, 4, 10, 11, 12], chart="i", freeze=4)
    assert chart.cl[6] == pytest.approx(2.5)
    assert chart.ucl[6] == pytest.approx(5.159574, abs=1e-6)
    assert list(chart.sigma_signal) == [False] * 4 + [True] * 3
    assert list(chart.baseline) == [True] * 4 + [False] * 3


def test_part_recomputes_limits_per_phase():
    """part = [4]: phase 1 as above; phase 2 (10,11,12) CL 11, MR̄ 1, UCL 13.659574; no signal."""
    chart = spc.qic([1, 2, 3, 4, 10, 11, 12], chart="i", part=[4])
    assert list(chart.part) == [1, 1, 1, 1, 2, 2, 2]
    assert chart.cl[6] == pytest.approx(11)
    assert chart.ucl[6] == pytest.approx(13.659574, abs=1e-6)
    summary = chart.summary()
    assert [row["part"] for row in summary] == [1, 2]
    assert [row["sigma.signal"] for row in summary] == [0, 0]
    assert list(summary[0].keys())[1:] == list(spc.SUMMARY_COLUMNS)


def test_exclude_drops_points_from_limits_but_still_flags_them():
    """c chart 2,3,4,3,20 excluding point 5: c̄ = 3, UCL 8.196152; point 5 is still above it,
    and it is not part of the runs analysis (n.obs 4, as qicharts2 counts included points)."""
    chart = spc.qic([2, 3, 4, 3, 20], chart="c", exclude=[5])
    assert chart.cl[0] == pytest.approx(3)
    assert chart.sigma_signal[4]
    assert chart.summary()[0]["n.obs"] == 4


def test_point_exactly_on_a_limit_is_not_a_signal():
    """i chart 1,1,1,1 frozen at 3: MR̄ = 0, so both limits equal the CL (1); every point lies
    exactly on both limits, and signals use strict inequalities."""
    chart = spc.qic([1, 1, 1, 1], chart="i", freeze=3)
    assert not chart.sigma_signal.any()


def test_refusals_name_the_position():
    with pytest.raises(ValueError, match="at least 2 points"):
        spc.qic([1], chart="run")
    with pytest.raises(ValueError, match="n at position 2"):
        spc.qic([1, 2], [5, 0], chart="p")
    with pytest.raises(ValueError, match="y at position 1 is larger"):
        spc.qic([6, 2], [5, 5], chart="p")
    with pytest.raises(ValueError, match="part 1"):
        spc.qic([1, 2, 3, 4], chart="i", part=[2], exclude=[1, 2])
    with pytest.raises(ValueError, match="unknown chart"):
        spc.qic([1, 2], chart="xbar")


def test_to_dict_is_json_with_target():
    chart = spc.qic([2, 4, 3, 6], [20, 40, 30, 10], chart="p", target=0.1)
    payload = json.loads(json.dumps(chart.to_dict()))
    assert payload["points"][3]["sigma_signal"] is True
    assert payload["points"][0]["target"] == 0.1
    assert payload["summary"][0]["CL"] == pytest.approx(0.15)
    assert payload["explanations"][-1] == "The target is 0.1."
