"""The Compare view's table (dashboard.comparisons.compare_groups) on hand-made aggregates."""

from __future__ import annotations

import polars as pl

from dashboard.comparisons import compare_groups
from stats import inference


def _frame() -> pl.DataFrame:
    # sertraline shown; escitalopram: 16 responders of a denominator hidden to protect the
    # non-responders (complementary); fluoxetine: 7 responders (itself 1-10) of a hidden total.
    return pl.DataFrame({
        "drug": ["sertraline", "escitalopram", "fluoxetine"],
        "numerator": [28, 16, None],
        "numerator_suppressed": [False, False, True],
        "numerator_complementary": [False, False, False],
        "denominator": [77, None, None],
        "denominator_suppressed": [False, True, True],
        "denominator_complementary": [False, True, True],
        "rate": [28 / 77, None, None],
        "rate_suppressed": [False, True, True],
        "ci_low": [0.265, None, None],
        "ci_high": [0.475, None, None],
    })


def test_hidden_figures_read_suppressed_and_only_a_count_of_1_to_10_reads_under_11() -> None:
    table = compare_groups(_frame(), "drug", ["sertraline", "escitalopram", "fluoxetine"])
    rows = {r["group"]: r for r in table.iter_rows(named=True)}
    assert rows["escitalopram"]["rate"] == "suppressed"  # a rate is derived, never "<11"
    assert rows["escitalopram"]["events"] == "16"
    assert rows["escitalopram"]["n"] == "suppressed"  # complementary: its value may be large
    assert rows["escitalopram"]["difference"] == "suppressed"
    assert rows["fluoxetine"]["events"] == "<11"
    assert rows["fluoxetine"]["n"] == "suppressed"


def test_a_shown_pair_gets_the_newcombe_difference_of_queries_stats() -> None:
    frame = pl.DataFrame({"drug": ["a", "b"], "numerator": [40, 25], "denominator": [100, 100],
                          "rate": [0.4, 0.25], "ci_low": [0.3, 0.17], "ci_high": [0.5, 0.34]})
    row = compare_groups(frame, "drug", ["a", "b"]).row(1, named=True)
    rd = inference.compare_proportions(25, 100, 40, 100).risk_difference
    assert row["difference"] == f"{100 * rd.value:+.1f} pp ({100 * rd.low:+.1f} to {100 * rd.high:+.1f})"
    assert row["difference"].startswith("-15.0 pp")
    assert row["n"] == "100" and row["events"] == "25"
