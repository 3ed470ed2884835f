"""Clinician scorecards (DOMAIN.md 13.5; queries.scorecards) on a hand-made clinic.

Three clinicians, each episode a sertraline start on day 0 (1 January 2024) with a PHQ-9 of 20
on day 0 and one follow-up on day 60: 8 for a responder (2 * 8 <= 20), 15 otherwise.
C1: 60 responders of 72; C2: 12 of 72; C3: 12 of 24. The clinic's rate is 84 / 168 = 0.5.
"""

from __future__ import annotations

import pytest
from test_models_support import Warehouse

from queries.access import LEADERSHIP, AccessDenied, User
from queries.scorecards import Scorecard, clinician_scorecard
from stats.funnel import exact_limit

CLINICIANS = {"C1": (60, 72), "C2": (12, 72), "C3": (12, 24)}


def _clinic(cases: list[tuple[str, int, int, int, int, int]]) -> Warehouse:
    """One sertraline episode per patient from day 0 (fills every 30 days to day 90), with a
    baseline PHQ-9 on day 0 and one follow-up on day 60. ``cases``: (clinician, baseline,
    responder's score, other score, responders, episodes)."""
    warehouse = Warehouse()
    number = 0
    for clinician, baseline, responder_score, other_score, responders, episodes in cases:
        for index in range(episodes):
            number += 1
            patient = f"P{number:03d}"
            warehouse.patient(patient)
            warehouse.prescription(patient, "sertraline", 0, clinician_id=clinician)
            for on in (0, 30, 60, 90):
                warehouse.fill(patient, "sertraline", on)
            warehouse.score(patient, 0, baseline)
            warehouse.score(patient, 60, responder_score if index < responders else other_score)
    warehouse.build()
    return warehouse


@pytest.fixture(scope="module")
def clinic():
    return _clinic([(clinician, 20, 8, 15, responders, episodes)
                    for clinician, (responders, episodes) in CLINICIANS.items()])


def _positions(clinic, user=None, min_cell=0) -> tuple[dict[str, dict], Scorecard]:
    card = clinician_scorecard(clinic.con, "response", min_cell=min_cell,
                               **({"user": user} if user else {}))
    return {row["clinician_id"]: row for row in card.positions.to_dicts()}, card


def test_each_clinician_against_the_clinics_funnel_limits(clinic):
    positions, card = _positions(clinic)
    theta0 = 84 / 168
    assert card.clinic_rate == pytest.approx(theta0)
    c1, c2, c3 = positions["C1"], positions["C2"], positions["C3"]
    assert (c1["events"], c1["episodes"], c1["rate"]) == (60, 72, pytest.approx(60 / 72))
    # exact binomial limits at n = 72 around 0.5 (Spiegelhalter's interpolation)
    assert c1["upper_95"] == pytest.approx(exact_limit(72, theta0, 0.975))
    assert c1["lower_95"] == pytest.approx(exact_limit(72, theta0, 0.025))
    # 60/72 = 0.83 is far above the 99.8% limit (about 0.5 + 3.09 * sqrt(0.25 / 72) = 0.68);
    # 12/72 = 0.17 far below (about 0.32)
    assert c1["position"] == "above 99.8%"
    assert c2["position"] == "below 99.8%"
    # 24 episodes < 30: insufficient data, whatever the limits say
    assert (c3["episodes"], c3["position"]) == (24, "insufficient data")


def test_case_mix_adjusted_observed_over_expected(clinic):
    # one stratum (every patient the same age band and diagnosis group): E = n * 0.5, so
    # C1: 60 / 36 = 1.67; C2: 12 / 36 = 0.33
    positions, _ = _positions(clinic)
    assert positions["C1"]["observed_expected"] == pytest.approx(60 / 36)
    assert positions["C2"]["observed_expected"] == pytest.approx(12 / 36)
    assert positions["C3"]["adjusted_position"] == "insufficient data"


def test_trend_by_quarter(clinic):
    _, card = _positions(clinic)
    # every episode starts in 2024-Q1
    c1 = card.trend.filter(card.trend["clinician_id"] == "C1").to_dicts()
    assert [(r["quarter"], r["numerator"], r["denominator"]) for r in c1] == [("2024-Q1", 60, 72)]
    assert card.clinic_trend.select("quarter", "numerator", "denominator").rows() == [
        ("2024-Q1", 84, 168)]


def test_a_clinician_sees_their_own_row_and_leadership_sees_no_patient(clinic):
    own, card = _positions(clinic, User("clinician", "C2"), min_cell=11)
    assert list(own) == ["C2"]
    assert set(card.trend["clinician_id"]) == {"C2"}
    everyone, card = _positions(clinic, LEADERSHIP, min_cell=11)
    # at the default threshold every count here is 12 or more: every clinician is placed
    assert set(everyone) == {"C1", "C2", "C3"}
    assert all(row["position"] for row in everyone.values())
    with pytest.raises(AccessDenied, match="analyst"):
        _positions(clinic, LEADERSHIP, min_cell=0)
    for frame in (card.positions, card.trend, card.clinic_trend):
        assert "patient_id" not in frame.columns
        assert not any(str(value).startswith("P0") for row in frame.rows() for value in row)


#: (clinician, baseline PHQ-9) -> (responders, episodes). Baseline 12 is the moderate band,
#: 22 the severe band (DOMAIN.md 2.1); a responder's day-60 score is at most half the baseline.
BY_SEVERITY = {("C1", 12): (30, 40), ("C1", 22): (2, 10),
               ("C2", 12): (8, 10), ("C2", 22): (10, 40)}


def test_the_adjustment_stratifies_by_baseline_severity():
    # Band rates over the clinic: moderate 38 / 50 = 0.76, severe 12 / 50 = 0.24.
    # C1: O = 32, E = 40 * 0.76 + 10 * 0.24 = 32.8; C2: O = 18, E = 10 * 0.76 + 40 * 0.24 = 17.2.
    # (Ignoring severity would give E = 50 * 0.5 = 25 for both: 1.28 and 0.72.)
    warehouse = _clinic([(clinician, baseline, baseline // 2, baseline - 2, responders, episodes)
                         for (clinician, baseline), (responders, episodes) in BY_SEVERITY.items()])
    positions, _ = _positions(warehouse)
    assert positions["C1"]["observed_expected"] == pytest.approx(32 / 32.8)
    assert positions["C2"]["observed_expected"] == pytest.approx(18 / 17.2)
