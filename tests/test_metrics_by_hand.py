"""Every metric pinned by hand (issue 15 item 9): a small warehouse built row by row, and the
numerator, denominator and value each metric must give, derived here in words from its
definition (docs/metrics.md, DOMAIN.md), not captured from the code.

Day n is n days after 1 January 2024; the data run to 31 December 2025 unless a case says
otherwise. Figures are taken with suppression off (min_cell=0): the cases are tiny on purpose.
"""

from __future__ import annotations

import math

import pytest
from test_models_support import Warehouse

import queries


def _metric(warehouse: Warehouse, name: str, **kw) -> dict:  # type: ignore[no-untyped-def]
    frame = queries.metric(warehouse.con, name, min_cell=0, **kw).frame
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def _episode(warehouse: Warehouse, patient: str, scores: list[tuple[int, int]],
             drug: str = "sertraline") -> None:
    """One episode of ``drug`` from day 0 (a 120-day fill) and PHQ-9 scores (day, total)."""
    warehouse.patient(patient)
    warehouse.fill(patient, drug, 0, days_supply=120)
    for on, total in scores:
        warehouse.score(patient, on, total)


@pytest.fixture(scope="module")
def phq9_clinic() -> Warehouse:
    """Six sertraline episodes, PHQ-9 baseline on day 0 and follow-up on day 84 (weeks 6-16):
    P1 16 -> 4   eligible, assessed; response (2*4 <= 16), remission (4 < 5); change -12
    P2 20 -> 12  eligible, assessed; no response (24 > 20), no remission;       change -8
    P3 12 -> 5   eligible, assessed; response (10 <= 12), no remission (5 is not < 5); change -7
    P4  8 -> 2   baseline below 10: ineligible (though it has both scores)
    P5 14 -> -   eligible, no follow-up: counts as not achieved
    P6  - -> 3   no baseline in [-30, +7]: only the follow-up score
    """
    warehouse = Warehouse()
    _episode(warehouse, "P1", [(0, 16), (84, 4)])
    _episode(warehouse, "P2", [(0, 20), (84, 12)])
    _episode(warehouse, "P3", [(0, 12), (84, 5)])
    _episode(warehouse, "P4", [(0, 8), (84, 2)])
    _episode(warehouse, "P5", [(0, 14)])
    _episode(warehouse, "P6", [(84, 3)])
    warehouse.build()
    return warehouse


def test_response_by_hand(phq9_clinic):
    row = _metric(phq9_clinic, "response")
    # attrition: 6 episodes -> 5 with a baseline -> 4 eligible (P4 below 10) -> 3 assessed (P5)
    assert (row["episodes"], row["with_baseline"], row["eligible"], row["assessed"]) == (6, 5, 4, 3)
    # responders P1 and P3 of the 4 eligible (P5's missing follow-up is not achieved)
    assert (row["numerator"], row["denominator"]) == (2, 4)
    assert row["rate"] == pytest.approx(2 / 4)
    assert row["rate_assessed"] == pytest.approx(2 / 3)  # completers: P1, P3 of P1-P3


def test_remission_by_hand(phq9_clinic):
    row = _metric(phq9_clinic, "remission")
    # only P1's 4 is below 5 (P3's 5 is not): 1 of the 4 eligible, 1 of the 3 assessed
    assert (row["numerator"], row["denominator"]) == (1, 4)
    assert row["rate"] == pytest.approx(1 / 4)
    assert row["rate_assessed"] == pytest.approx(1 / 3)
    assert row["not_defined_reason"] is None


def test_score_change_by_hand(phq9_clinic):
    row = _metric(phq9_clinic, "score_change")
    # completers among the eligible: P1 -12, P2 -8, P3 -7 -> mean -9; deviations -3, 1, 2
    # -> sample variance (9 + 1 + 4) / 2 = 7
    assert row["eligible"] == 4 and row["n"] == 3
    assert row["mean"] == pytest.approx(-9)
    assert row["sd"] == pytest.approx(math.sqrt(7))


def test_mbc_coverage_by_hand(phq9_clinic):
    row = _metric(phq9_clinic, "mbc_coverage")
    # whatever the severity: both scores for P1-P4 of 6 episodes; a baseline for P1-P5
    assert (row["numerator"], row["denominator"]) == (4, 6)
    assert row["rate"] == pytest.approx(4 / 6)
    assert row["rate_baseline"] == pytest.approx(5 / 6)


def test_time_to_response_by_hand(phq9_clinic):
    row = _metric(phq9_clinic, "time_to_response")
    # eligible with a score after day 0: P1 and P3 respond on day 84, P2 is censored on day 84;
    # P5 has no score after day 0 and is left out. At day 84: 3 at risk, 2 events -> S = 1/3,
    # so the median is day 84.
    assert (row["n"], row["events"], row["censored"]) == (3, 2, 1)
    assert row["median_days"] == 84


def test_baseline_characteristics_by_hand(phq9_clinic):
    frame = queries.metric(phq9_clinic.con, "baseline_characteristics", min_cell=0).frame
    rows = {(r["characteristic"], r["level"]): r for r in frame.iter_rows(named=True)}
    # the 4 eligible episodes (P1, P2, P3, P5), all women born 1980 starting in 2024: age 44.
    # Baseline scores 16, 20, 12, 14: mean 15.5; PHQ-9 bands 12 and 14 moderate (2 of 4),
    # 16 moderately severe (1), 20 severe (1)
    assert rows[("episodes", None)]["n"] == 4
    assert rows[("age", None)]["mean"] == pytest.approx(44)
    assert rows[("baseline_score", None)]["mean"] == pytest.approx(15.5)
    assert rows[("baseline_severity", "moderate")]["proportion"] == pytest.approx(2 / 4)
    assert rows[("baseline_severity", "moderately_severe")]["n"] == 1
    assert rows[("baseline_severity", "severe")]["n"] == 1
    assert rows[("sex", "F")]["proportion"] == 1.0
