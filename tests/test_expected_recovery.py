"""The expected-recovery band (DOMAIN.md 13.1; queries/worklists/expected_recovery.sql) by hand.

Percentiles are linear interpolation between order statistics: for sorted values x_0..x_{n-1}
the q-th percentile is x_i + f * (x_{i+1} - x_i) with i + f = q * (n - 1) (numpy's default
``method="linear"``, Hyndman and Fan type 7, DuckDB's ``quantile_cont``). Day n is n days after
1 January 2024.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_models_support import Warehouse

import queries
from charts.expected_recovery import (
    expected_recovery_figure,
    patient_against_band,
    recovery_status,
)


def _episode(warehouse: Warehouse, patient: str, baseline: int, week_scores: dict[int, int]):
    warehouse.patient(patient)
    for on in (0, 30, 60, 90):
        warehouse.fill(patient, "sertraline", on)
    warehouse.score(patient, 0, baseline)
    for on, total in week_scores.items():
        warehouse.score(patient, on, total)


@pytest.fixture(scope="module")
def clinic():
    warehouse = Warehouse()
    # moderately severe baselines (15-19); week 4 is days 28-34. Changes from baseline in week 4
    # (the latest score of the week): P1 15 - 16 = -1 (day 30 after 10 on day 28), P2 12 - 16 =
    # -4, P3 9 - 18 = -9, P4 15 - 15 = 0, P5 13 - 19 = -6. Sorted: -9, -6, -4, -1, 0.
    _episode(warehouse, "P1", 16, {28: 10, 30: 15, 14: 14})
    _episode(warehouse, "P2", 16, {29: 12, 14: 15})
    _episode(warehouse, "P3", 18, {34: 9})
    _episode(warehouse, "P4", 15, {28: 15})
    _episode(warehouse, "P5", 19, {31: 13})
    # a moderate baseline (10-14): its own band, one episode in week 4
    _episode(warehouse, "P6", 12, {28: 6})
    # a baseline of 9 is not eligible: not in any band
    _episode(warehouse, "P7", 9, {28: 3})
    warehouse.build()
    return warehouse


def _band(clinic, **params) -> pl.DataFrame:
    return queries.metric(clinic.con, "expected_recovery", min_cell=0, min_episodes=3,
                          **params).frame


def test_percentiles_of_the_week_four_change(clinic):
    row = _band(clinic).filter((pl.col("baseline_severity_band") == "moderately_severe")
                               & (pl.col("week_since_start") == 4)).row(0, named=True)
    assert row["episodes"] == 5
    # q * (n - 1) = 1, 2, 3 and 3.6: x_1 = -6, x_2 = -4, x_3 = -1, x_3 + 0.6 * (0 - -1) = -0.4
    assert (row["p25_change"], row["p50_change"], row["p75_change"]) == (-6.0, -4.0, -1.0)
    assert row["p90_change"] == pytest.approx(-0.4)
    changes = [-1, -4, -9, 0, -6]
    assert [row[f"p{q}_change"] for q in (25, 50, 75, 90)] == pytest.approx(
        list(np.percentile(changes, [25, 50, 75, 90], method="linear")))


def test_a_cell_under_the_minimum_episodes_has_no_percentiles(clinic):
    band = _band(clinic)
    # week 2 (days 14-20) of the moderately severe band holds P1 and P2 only: 2 < 3
    week2 = band.filter((pl.col("baseline_severity_band") == "moderately_severe")
                        & (pl.col("week_since_start") == 2)).row(0, named=True)
    assert week2["episodes"] == 2 and week2["p50_change"] is None
    moderate = band.filter(pl.col("baseline_severity_band") == "moderate").row(0, named=True)
    assert (moderate["week_since_start"], moderate["episodes"], moderate["p50_change"]) == (4, 1, None)
    # the ineligible baseline of 9 is in no band
    assert set(band["baseline_severity_band"]) == {"moderate", "moderately_severe"}


def test_counts_under_the_threshold_are_withheld_with_their_percentiles(clinic):
    band = queries.metric(clinic.con, "expected_recovery", min_episodes=3).frame  # threshold 11
    assert band["episodes"].drop_nulls().to_list() == []
    assert band["p50_change"].drop_nulls().to_list() == []


def test_an_episode_counts_only_once_its_weeks_have_passed(clinic):
    # the warehouse's data end is 2025-12-31; with max_week 200 no episode of 2024 is closed
    assert _band(clinic, max_week=200).is_empty()


@pytest.mark.parametrize(("change", "status"), [
    (-4.0, "expected"), (-1.0, "expected"),  # at the 75th percentile is not above it
    (-0.5, "amber"), (-0.4, "amber"),        # above the 75th, at the 90th
    (0.0, "red"), (None, "no band"),
])
def test_a_patients_week_against_the_band(change, status):
    assert recovery_status(change, p75=-1.0, p90=-0.4) == status


def test_the_chart_places_the_patient_against_the_band(clinic):
    band = _band(clinic)
    trajectory = pl.DataFrame({"week_since_start": [2, 4], "change": [-1, 0]})
    placed = patient_against_band(
        band.filter(pl.col("baseline_severity_band") == "moderately_severe"), trajectory)
    assert placed["status"].to_list() == ["no band", "red"]
    figure = expected_recovery_figure(band, trajectory, "moderately_severe", drug="sertraline")
    assert [trace.name for trace in figure.data][-1] == "This patient (sertraline)"
    empty = expected_recovery_figure(band, trajectory, "moderate")
    assert "Insufficient data" in empty.layout.annotations[0].text
