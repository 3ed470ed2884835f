"""Episode outcomes (DOMAIN 3): baseline latest in [-30, +7], follow-up latest in [+42, +112],
response 2*fu <= base, remission PHQ-9 < 5, eligibility baseline >= 10. Day 0 is the first fill.
"""

from __future__ import annotations

import pytest
from test_models_support import Warehouse, day


def _outcome(warehouse: Warehouse, preset: str = "clinic_w6_16", instrument: str = "PHQ-9",
             patient_id: str = "P1") -> dict:
    return warehouse.one(
        "select * from marts.fct_episode_outcomes "
        "where patient_id = $p and preset = $preset and instrument = $instrument",
        p=patient_id, preset=preset, instrument=instrument)


def _episode_with_scores(scores: list[tuple[int, int]], instrument: str = "PHQ-9") -> Warehouse:
    """One sertraline episode starting on day 0 (a 120-day supply) and the given (day, total) scores."""
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, days_supply=120)
    for on, total in scores:
        warehouse.score("P1", on, total, instrument=instrument)
    warehouse.build()
    return warehouse


def test_followup_of_exactly_half_the_baseline_is_a_response():
    outcome = _outcome(_episode_with_scores([(0, 16), (84, 8)]))
    assert (outcome["baseline_score"], outcome["followup_score"]) == (16, 8)
    assert outcome["is_response"] is True
    assert outcome["change"] == -8


def test_followup_one_point_above_half_is_not_a_response():
    assert _outcome(_episode_with_scores([(0, 17), (84, 9)]))["is_response"] is False


def test_a_phq9_of_5_is_not_a_remission_and_4_is():
    assert _outcome(_episode_with_scores([(0, 20), (84, 5)]))["is_remission"] is False
    assert _outcome(_episode_with_scores([(0, 20), (84, 4)]))["is_remission"] is True


def test_a_baseline_of_9_is_ineligible_and_10_eligible():
    ineligible = _outcome(_episode_with_scores([(0, 9), (84, 2)]))
    assert ineligible["is_eligible"] is False
    assert ineligible["not_evaluable_reason"] == "ineligible_baseline"
    assert ineligible["is_response"] is None and ineligible["is_remission"] is None
    assert _outcome(_episode_with_scores([(0, 10), (84, 2)]))["is_eligible"] is True


def test_the_latest_of_two_scores_in_each_window_counts():
    outcome = _outcome(_episode_with_scores([(-20, 12), (3, 18), (50, 6), (100, 10)]))
    assert (outcome["baseline_score"], outcome["baseline_on"]) == (18, day(3))
    assert (outcome["followup_score"], outcome["followup_on"]) == (10, day(100))
    assert outcome["is_response"] is False


@pytest.mark.parametrize(("baseline_day", "inside"), [(-31, False), (-30, True), (7, True), (8, False)])
def test_baseline_window_edges_are_inclusive(baseline_day, inside):
    outcome = _outcome(_episode_with_scores([(baseline_day, 15), (84, 5)]))
    assert outcome["has_baseline"] is inside


@pytest.mark.parametrize(("followup_day", "inside"), [(41, False), (42, True), (112, True), (113, False)])
def test_followup_window_edges_are_inclusive(followup_day, inside):
    outcome = _outcome(_episode_with_scores([(0, 15), (followup_day, 5)]))
    assert outcome["has_followup"] is inside


def test_eligible_without_followup_counts_as_not_achieved():
    outcome = _outcome(_episode_with_scores([(0, 15)]))
    assert outcome["not_evaluable_reason"] == "no_followup"
    assert outcome["is_response"] is False and outcome["is_remission"] is False


def test_no_baseline_is_the_first_reason():
    outcome = _outcome(_episode_with_scores([(84, 3)]))
    assert outcome["not_evaluable_reason"] == "no_baseline"
    assert outcome["is_eligible"] is False


def test_phq_a_is_scored_as_phq9():
    outcome = _outcome(_episode_with_scores([(0, 14), (60, 7)], instrument="PHQ-A"))
    assert outcome["is_response"] is True


def test_same_day_duplicates_keep_the_higher_total_and_are_logged():
    warehouse = _episode_with_scores([(0, 12), (0, 16), (84, 8)])
    assert _outcome(warehouse)["baseline_score"] == 16
    logged = warehouse.rows("select * from marts.dq_model_exclusions "
                            "where reason_code = 'same_day_duplicate_score'")
    assert len(logged) == 1


def test_a_same_day_tie_keeps_the_smaller_id_and_phq_a_is_the_same_family():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.score("P1", 0, 12, assessment_id="A2")
    warehouse.score("P1", 0, 12, instrument="PHQ-A", assessment_id="A1")
    warehouse.score("P1", 0, 9, instrument="GAD-7", assessment_id="A3")  # another family: kept
    warehouse.score("P1", 1, 7, assessment_id="A4")  # another day: kept
    warehouse.build()
    kept = warehouse.rows("select assessment_id, instrument, instrument_as_sent "
                          "from staging.stg_assessments order by assessment_id")
    assert [tuple(r.values()) for r in kept] == [
        ("A1", "PHQ-9", "PHQ-A"), ("A3", "GAD-7", "GAD-7"), ("A4", "PHQ-9", "PHQ-9")]
    dropped = warehouse.rows("select assessment_id, kept_assessment_id "
                             "from staging.stg_assessments__duplicates")
    assert dropped == [{"assessment_id": "A2", "kept_assessment_id": "A1"}]


def test_every_preset_has_its_own_row_and_window():
    warehouse = _episode_with_scores([(0, 20), (84, 4), (200, 12)])
    clinic = _outcome(warehouse, "clinic_w6_16")
    drr = _outcome(warehouse, "hedis_drr_e")
    assert clinic["is_default_preset"] is True and drr["is_default_preset"] is False
    assert (clinic["followup_score"], clinic["is_remission"]) == (4, True)
    assert (drr["followup_score"], drr["is_remission"], drr["is_response"]) == (12, False, False)
    presets = {r["preset"] for r in warehouse.rows("select preset from marts.fct_episode_outcomes")}
    assert presets == {"clinic_w6_16", "hedis_drr_e", "six_months", "twelve_months"}


def test_time_to_response_is_the_first_responding_score_else_censored_at_the_last():
    responded = _outcome(_episode_with_scores([(0, 20), (28, 12), (56, 10), (84, 4)]))
    assert (responded["days_to_response"], responded["is_response_event"]) == (56, True)
    censored = _outcome(_episode_with_scores([(0, 20), (28, 15), (70, 11)]))
    assert (censored["days_to_response"], censored["is_response_event"]) == (70, False)


def test_time_to_response_is_cut_at_each_presets_end():
    # first responding score on day 150: after the default window's end (112), inside DRR-E's (240)
    warehouse = _episode_with_scores([(0, 20), (30, 15), (100, 12), (150, 9), (300, 5)])
    clinic = _outcome(warehouse, "clinic_w6_16")
    assert (clinic["days_to_response"], clinic["is_response_event"]) == (100, False)
    drr = _outcome(warehouse, "hedis_drr_e")
    assert (drr["days_to_response"], drr["is_response_event"]) == (150, True)


def test_time_to_response_needs_a_score_after_day_0():
    # eligible on a day -3 baseline with no later score: no time at risk, neither event nor censored
    row = _outcome(_episode_with_scores([(-3, 20)]))
    assert row["is_eligible"] is True
    assert (row["days_to_response"], row["is_response_event"]) == (None, None)


def test_hamd17_remission_is_at_most_7():
    warehouse = _episode_with_scores([(0, 22), (84, 7)], instrument="HAM-D17")
    outcome = _outcome(warehouse, instrument="HAM-D17")
    assert (outcome["is_eligible"], outcome["is_remission"], outcome["cutoff_id"]) == (True, True, "HAM-D17<=7")


def test_configured_eligibility_threshold_is_used():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, days_supply=120)
    warehouse.score("P1", 0, 10)
    warehouse.build(eligibility_min={"PHQ-9": 11})
    assert _outcome(warehouse)["is_eligible"] is False


def test_issue_4_no_baseline_has_no_severity_band():
    """An episode without a baseline score has no baseline severity band (not 'severe')."""
    outcome = _outcome(_episode_with_scores([(84, 8)]))
    assert outcome["has_baseline"] is False
    assert outcome["baseline_severity_band"] is None
