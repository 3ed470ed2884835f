"""Exact funnel limits against an independent computation in R (tests/parity/
funnel_exact_limits.json): Spiegelhalter's interpolated limits with the binomial CDF from R's
``pbeta`` for any real n (a linear search for r_p, where the product bisects), and at integer n
also from ``qbinom``/``pbinom``. Re-run live when ``Rscript`` is installed."""

from __future__ import annotations

import pytest
from parity_support import reference, same, stored

from stats import funnel

STORED = stored("funnel_exact_limits.json")


def assert_matches(rows: list[dict]) -> None:
    assert len(rows) == len(reference.FUNNEL_N) * len(reference.FUNNEL_THETA) * len(
        reference.FUNNEL_P)
    for row in rows:
        ours = funnel.exact_limit(row["n"], row["theta0"], row["p"])
        where = f"n={row['n']} θ0={row['theta0']} p={row['p']}"
        assert same(ours, row["limit"], rel=1e-9, abs_=1e-12), where
        if row["n"] == round(row["n"]):  # integer n: the plain binomial gives the same limit
            assert same(ours, row["binom_limit"], rel=1e-9, abs_=1e-12), where
        else:
            assert row["binom_limit"] is None


def test_exact_limits_match_r():
    assert_matches(STORED["limits"])


def test_non_integer_n_are_covered():
    assert any(row["n"] != round(row["n"]) and 0 < row["limit"] < 1 for row in STORED["limits"])


def test_exact_limits_match_r_run_live():
    if reference.rscript() is None:
        pytest.skip("Rscript is not installed")
    live = reference.compute_funnel()
    assert_matches(live)
    assert live == STORED["limits"]
