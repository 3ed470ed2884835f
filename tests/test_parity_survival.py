"""Parity with R ``survival``: the Kaplan-Meier median and its 95% interval as
``print(survfit(Surv(time, status) ~ 1, conf.type = ...))`` shows them, and the pointwise band,
for conf.type "log" (R's default), "log-log" (the product's) and "plain".

Always compared with the values R printed (tests/parity/survival_median_ci.json); re-run live
when ``Rscript`` and the survival package are installed. NA in R is ``None`` in the product:
an upper limit where the upper band never reaches 0.5 while it is defined (a curve that drops to
0 at its last time included), and everything when the curve stays above 0.5.
"""

from __future__ import annotations

import math

import pytest
from parity_support import reference, same, stored

from stats import km as km_module
from stats import survival

STORED = stored("survival_median_ci.json")
CASES = {f"{c['name']}/{c['conf_type']}": c for c in STORED["cases"]}


def product_fit(case: dict) -> km_module.KaplanMeierResult:
    return km_module.kaplan_meier(case["time"], [bool(s) for s in case["status"]],
                                  ci_method=case["conf_type"])


def assert_matches(fit: km_module.KaplanMeierResult, expected: dict) -> None:
    table = expected["median"][0]
    assert same(fit.median, table["median"]), f"median {fit.median} != {table['median']}"
    assert same(fit.median_low, table["lcl"]), f"0.95LCL {fit.median_low} != {table['lcl']}"
    assert same(fit.median_high, table["ucl"]), f"0.95UCL {fit.median_high} != {table['ucl']}"
    curve = expected["curve"]
    assert [row["time"] for row in curve] == list(fit.times)
    for i, row in enumerate(curve):
        assert same(float(fit.survival[i]), row["surv"], rel=1e-12)
        # R's NA band (S = 0, or S = 1 on log-log) is drawn as S itself by the product
        low = row["lower"] if row["lower"] is not None else row["surv"]
        high = row["upper"] if row["upper"] is not None else row["surv"]
        assert same(float(fit.ci_low[i]), low), f"lower at {row['time']}"
        assert same(float(fit.ci_high[i]), high), f"upper at {row['time']}"


def test_stored_cases_are_the_case_list():
    names = sorted({(c["name"], c["conf_type"]) for c in STORED["cases"]})
    assert names == sorted((c["name"], t) for c in reference.KM_CASES for t in
                           reference.KM_CONF_TYPES)


@pytest.mark.parametrize("key", list(CASES))
def test_matches_values_printed_by_r_survival(key):
    assert_matches(product_fit(CASES[key]), CASES[key])


def test_edge_cases_read_straight_from_r():
    """What R printed, in words: the curve that ends at 0 has no upper limit (NA), not day 12;
    S exactly 0.5 from day 2 to 3 gives the median 2.5; S at 0.5 to the end gives 2; a curve
    that stays above 0.5 has no median and no upper limit, though its lower band reaches 0.5
    at day 5."""
    assert CASES["ends_at_zero/log"]["median"][0] == {"median": 8, "lcl": 3, "ucl": None}
    assert CASES["exactly_half_then_falls/log-log"]["median"][0]["median"] == 2.5
    assert CASES["exactly_half_to_the_end/log"]["median"][0]["median"] == 2
    assert CASES["never_half/log"]["median"][0] == {"median": None, "lcl": 5, "ucl": None}


def test_survival_summary_reports_r_na_as_missing():
    """The per-group summary the product shows carries R's NA as a missing value."""
    import polars as pl

    case = CASES["ends_at_zero/log-log"]
    counts = pl.DataFrame({"time_days": case["time"], "is_event": [bool(s) for s in case["status"]],
                           "units": [1] * len(case["time"])})
    row = survival.survival_summary(counts, [], [7]).row(0, named=True)
    assert (row["median_days"], row["median_ci_low"]) == (8.0, 1.0)
    assert row["median_ci_high"] is None or math.isnan(row["median_ci_high"])


@pytest.fixture(scope="module")
def live_survival():
    if not reference.r_has_package("survival"):
        pytest.skip("Rscript with the survival package is not installed")
    return reference.compute_km(reference.KM_CASES)


@pytest.mark.parametrize("key", list(CASES))
def test_matches_r_survival_run_live(live_survival, key):
    live = live_survival[key]
    assert_matches(product_fit(CASES[key]), live)
    assert live["median"] == CASES[key]["median"] and live["curve"] == CASES[key]["curve"]
