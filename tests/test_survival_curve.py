"""Kaplan-Meier curves for drawing: pooled steps and cut-offs so no step reveals a count of 1-10.

Hand-computed case (min_cell 11), 30 episodes of class A:
12 events at day 10, 5 at day 20, 8 at day 30, 5 censored at day 40.

- day 10: 30 at risk, 12 events -> S = 18/30 = 0.6; 12 >= 11 events, drawn.
- day 20: 18 at risk, 5 events -> S = 0.6 * 13/18 = 0.4333; only 5 pooled, not drawn.
- day 30: 13 at risk, 8 events -> S = 0.4333 * 5/13 = 1/6; 5 + 8 = 13 pooled, drawn at day 30.
- day 40: 5 at risk (< 11): the curve stops.
Class B has 10 episodes: no curve at all.
"""

from __future__ import annotations

import polars as pl
import pytest

from stats.survival import survival_curve


def _counts() -> pl.DataFrame:
    rows = [
        ("A", 10, True, 12), ("A", 20, True, 5), ("A", 30, True, 8), ("A", 40, False, 5),
        ("B", 10, True, 6), ("B", 50, False, 4),
    ]
    return pl.DataFrame(rows, schema={"drug_class": pl.String, "time_days": pl.Int64,
                                      "is_event": pl.Boolean, "units": pl.Int64}, orient="row")


def test_steps_are_pooled_to_eleven_events_and_cut_at_small_risk_sets():
    curve = survival_curve(_counts(), ["drug_class"], min_cell=11)
    assert curve["drug_class"].unique().to_list() == ["A"]  # B (10 episodes) is not drawn
    assert curve["day"].to_list() == [0.0, 10.0, 30.0]
    assert curve["survival"].to_list() == pytest.approx([1.0, 0.6, 1 / 6])
    assert set(curve.columns) == {"drug_class", "day", "survival", "ci_low", "ci_high"}  # no at-risk counts
    inner = curve.filter(pl.col("day") > 0)
    assert (inner["ci_low"] < inner["survival"]).all() and (inner["survival"] < inner["ci_high"]).all()


def test_with_suppression_off_every_event_time_is_a_point():
    curve = survival_curve(_counts(), ["drug_class"], min_cell=0)
    a = curve.filter(pl.col("drug_class") == "A")
    assert a["day"].to_list() == [0.0, 10.0, 20.0, 30.0]
    assert a["survival"].to_list() == pytest.approx([1.0, 0.6, 0.6 * 13 / 18, 1 / 6])
    assert curve.filter(pl.col("drug_class") == "B")["survival"].to_list() == pytest.approx([1.0, 0.4])
