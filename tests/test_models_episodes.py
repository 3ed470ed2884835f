"""Treatment episodes (DOMAIN glossary, 5.5): grace period, new users, switches and augmentation,
regimens, line of therapy, persistence censoring, side-effect attribution. Day n is n days
after 1 January 2024; the data end is 31 December 2025 unless a case says otherwise.
"""

from __future__ import annotations

import datetime as dt

from test_models_support import Warehouse, day


def _episodes(warehouse: Warehouse, patient_id: str = "P1") -> list[dict]:
    return warehouse.rows("select * from marts.fct_treatment_episodes where patient_id = $p "
                          "order by start_on, drug", p=patient_id)


def _two_fills_with_gap(gap_days: int, drug: str = "sertraline", **overrides) -> Warehouse:
    """A 30-day fill on day 0 (covers 0..29), then one after gap_days uncovered days."""
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", drug, 0, 30)
    warehouse.fill("P1", drug, 30 + gap_days, 30)
    warehouse.build(**overrides)
    return warehouse


def test_a_gap_of_exactly_the_grace_period_continues_the_episode():
    episodes = _episodes(_two_fills_with_gap(30))
    assert len(episodes) == 1
    assert (episodes[0]["start_on"], episodes[0]["end_on"]) == (day(0), day(89))


def test_a_gap_of_grace_plus_one_ends_it_on_the_last_covered_day():
    episodes = _episodes(_two_fills_with_gap(31))
    assert [(e["start_on"], e["end_on"]) for e in episodes] == [(day(0), day(29)), (day(61), day(90))]
    assert episodes[0]["is_discontinued"] is True
    assert episodes[0]["days_on_treatment"] == 30


def test_antipsychotics_use_the_longer_grace_period():
    assert len(_episodes(_two_fills_with_gap(60, "aripiprazole"))) == 1
    assert len(_episodes(_two_fills_with_gap(61, "aripiprazole"))) == 2


def test_grace_period_is_configurable():
    assert len(_episodes(_two_fills_with_gap(45, grace_days=60))) == 1


def test_new_user_needs_105_days_without_the_class():
    # sertraline covers 0..29; escitalopram starting 105 days after the last covered day is new
    for start, is_new in ((29 + 105, False), (29 + 106, True)):
        warehouse = Warehouse()
        warehouse.patient("P1")
        warehouse.fill("P1", "sertraline", 0, 30)
        warehouse.fill("P1", "escitalopram", start, 30)
        warehouse.build()
        escitalopram = next(e for e in _episodes(warehouse) if e["drug"] == "escitalopram")
        assert escitalopram["is_new_user"] is is_new, start


def test_another_class_does_not_break_new_use():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "quetiapine", 0, 60)
    warehouse.fill("P1", "sertraline", 30, 30)
    warehouse.build()
    sertraline = next(e for e in _episodes(warehouse) if e["drug"] == "sertraline")
    assert sertraline["is_new_user"] is True


def test_switch_when_a_ends_within_30_days_of_b_starting():
    # sertraline 0..89; escitalopram from day 80 (10 days of overlap < 30): a switch
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 90)
    warehouse.fill("P1", "escitalopram", 80, 90)
    warehouse.build()
    sertraline, escitalopram = _episodes(warehouse)
    assert sertraline["switched_to"] == "escitalopram"
    assert escitalopram["switched_from"] == "sertraline"
    assert escitalopram["added_to"] is None and escitalopram["is_combination"] is False
    assert escitalopram["regimen"] == "escitalopram"
    assert (sertraline["line_of_therapy"], escitalopram["line_of_therapy"]) == (1, 2)


def test_augmentation_when_a_continues_30_days_after_b_starts():
    # sertraline 0..179; aripiprazole added on day 60 while sertraline continues 120 more days
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 180)
    warehouse.fill("P1", "aripiprazole", 60, 90)
    warehouse.build()
    sertraline, aripiprazole = _episodes(warehouse)
    assert aripiprazole["added_to"] == "sertraline"
    assert aripiprazole["is_augmentation"] is True and aripiprazole["is_combination"] is False
    assert aripiprazole["regimen"] == "aripiprazole+sertraline"
    assert sertraline["regimen"] == "sertraline" and sertraline["switched_to"] is None


def test_overlap_of_exactly_30_days_is_a_combination_and_29_a_switch():
    for overlap, is_switch in ((30, False), (29, True)):
        warehouse = Warehouse()
        warehouse.patient("P1")
        warehouse.fill("P1", "sertraline", 0, 100)  # covers 0..99
        warehouse.fill("P1", "escitalopram", 100 - overlap, 90)
        warehouse.build()
        sertraline, escitalopram = _episodes(warehouse)
        assert (sertraline["switched_to"] == "escitalopram") is is_switch, overlap
        assert escitalopram["is_combination"] is (not is_switch), overlap


def test_prescriptions_make_episodes_only_without_fills():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.prescription("P1", "lithium", 0, end=99, daily_dose_mg=600.0, clinician_id="C7")
    warehouse.prescription("P1", "lithium", 100, days_supply=30, refills=1, daily_dose_mg=900.0,
                           stop_reason="adverse_effect")
    warehouse.prescription("P1", "sertraline", 0, days_supply=30)
    warehouse.fill("P1", "sertraline", 5, 30)
    warehouse.prescription("P1", "lorazepam", 0)  # neither end date nor days supply
    warehouse.build()
    lithium, sertraline = _episodes(warehouse)
    assert (lithium["exposure_source"], lithium["end_on"]) == ("prescriptions", day(159))
    assert lithium["max_daily_dose_mg"] == 900.0 and lithium["stop_reason"] == "adverse_effect"
    assert lithium["clinician_id"] == "C7" and lithium["adherence_band"] == "no fills"
    assert (sertraline["exposure_source"], sertraline["start_on"]) == ("dispenses", day(5))
    excluded = warehouse.rows("select reason_code from marts.dq_model_exclusions")
    assert excluded == [{"reason_code": "prescription_without_duration"}]


def test_overlapping_prescriptions_measure_the_gap_from_the_latest_end_so_far():
    # 0..199 holds 10..39 inside it; the gap before day 230 is 230 - 199 - 1 = 30 days (grace),
    # not 230 - 39 - 1 from the exposure just before it: one episode, 0..259
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.prescription("P1", "lithium", 0, end=199)
    warehouse.prescription("P1", "lithium", 10, end=39)
    warehouse.prescription("P1", "lithium", 230, end=259)
    warehouse.build()
    (lithium,) = _episodes(warehouse)
    assert (lithium["start_on"], lithium["end_on"], lithium["exposures"]) == (day(0), day(259), 3)


def test_persistence_is_censored_when_supply_plus_grace_passes_the_data_end():
    warehouse = Warehouse(data_end=dt.date(2024, 3, 15))  # day 74
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)  # 29 + 30 = 59 < 74: discontinued
    warehouse.fill("P1", "escitalopram", 0, 50)  # 49 + 30 = 79 >= 74: censored
    warehouse.build()
    rows = {r["drug"]: r for r in warehouse.rows("select * from marts.fct_persistence")}
    assert (rows["sertraline"]["is_event"], rows["sertraline"]["persistence_days"]) == (True, 30)
    assert (rows["escitalopram"]["is_censored"], rows["escitalopram"]["persistence_days"]) == (True, 75)
    assert rows["escitalopram"]["is_persistent_182"] is None


def test_side_effect_goes_to_the_suspected_drug_else_every_active_episode():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 90)
    warehouse.fill("P1", "quetiapine", 10, 90)
    warehouse.add("side_effects", patient_id="P1", report_date=day(20), effect="sedation",
                  severity="moderate", drug="quetiapine", side_effect_id="SE1")
    warehouse.add("side_effects", patient_id="P1", report_date=day(30), effect="nausea_gi",
                  severity="mild", side_effect_id="SE2")
    warehouse.add("side_effects", patient_id="P1", report_date=day(400), effect="headache",
                  severity="mild", side_effect_id="SE3")
    warehouse.build()
    events = warehouse.rows("select side_effect_id, drug, attribution, days_from_start, "
                            "is_within_window from marts.fct_side_effect_events "
                            "order by side_effect_id, drug")
    assert [(e["side_effect_id"], e["drug"], e["attribution"]) for e in events] == [
        ("SE1", "quetiapine", "suspected_drug"),
        ("SE2", "quetiapine", "active_episode"),
        ("SE2", "sertraline", "active_episode"),
        ("SE3", None, "unattributed"),
    ]
    assert events[0]["days_from_start"] == 10 and events[0]["is_within_window"] is True
    flags = warehouse.rows("select drug, effect_code, max_severity_rank "
                           "from marts.fct_side_effect_episode_flags order by drug, effect_code")
    assert flags == [
        {"drug": "quetiapine", "effect_code": "nausea_gi", "max_severity_rank": 1},
        {"drug": "quetiapine", "effect_code": "sedation", "max_severity_rank": 2},
        {"drug": "sertraline", "effect_code": "nausea_gi", "max_severity_rank": 1},
    ]


def test_side_effect_naming_a_stopped_drug_goes_to_its_latest_episode():
    """Issue 4: the suspected drug when given. Sertraline 0..29 (grace to day 59), again from day
    200; a report on day 74 naming sertraline belongs to the first episode although it has ended
    (day 74 is inside its [0, 90] window); one on day 300 to the second (the latest started);
    an unnamed report on day 74 has no active episode and stays unattributed."""
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P1", "sertraline", 200, 30)
    warehouse.add("side_effects", patient_id="P1", report_date=day(74), effect="decreased libido",
                  severity="moderate", drug="sertraline", side_effect_id="SE1")
    warehouse.add("side_effects", patient_id="P1", report_date=day(74), effect="headache",
                  severity="mild", side_effect_id="SE2")
    warehouse.add("side_effects", patient_id="P1", report_date=day(300), effect="nausea_gi",
                  severity="mild", drug="sertraline", side_effect_id="SE3")
    warehouse.build()
    events = warehouse.rows("select side_effect_id, episode_start_on, attribution, "
                            "days_from_start, is_within_window from marts.fct_side_effect_events "
                            "order by side_effect_id")
    assert [tuple(e.values()) for e in events] == [
        ("SE1", day(0), "suspected_drug", 74, True),
        ("SE2", None, "unattributed", None, False),
        ("SE3", day(200), "suspected_drug", 100, False),
    ]


def test_side_effect_denominator_needs_a_visit_in_days_0_to_90():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.patient("P2")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P2", "sertraline", 0, 30)
    warehouse.visit("P1", 90)
    warehouse.visit("P2", 91)
    warehouse.build()
    flags = {r["patient_id"]: r["has_visit_in_side_effect_window"] for r in warehouse.rows(
        "select patient_id, has_visit_in_side_effect_window from marts.fct_treatment_episodes")}
    assert flags == {"P1": True, "P2": False}


def test_patient_dimensions_age_band_and_longest_prefix_diagnosis():
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=2006)  # 18 in 2024
    warehouse.add("diagnoses", patient_id="P1", diagnosis_date=day(0), icd10_code="F43.10")
    warehouse.add("diagnoses", patient_id="P1", diagnosis_date=day(1), icd10_code="F43.10")
    warehouse.add("diagnoses", patient_id="P1", diagnosis_date=day(2), icd10_code="F32.1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.build()
    episode = _episodes(warehouse)[0]
    assert (episode["age_band"], episode["age_at_start"]) == ("18-25", 18)
    assert episode["diagnosis_group"] == "ptsd"
    patient = warehouse.one("select diagnosis_groups from marts.dim_patients")
    assert patient["diagnosis_groups"] == "major_depression+ptsd"


def test_issue_4_primary_diagnosis_tie_goes_to_the_code_listed_first():
    """A primary and a comorbid code at one intake (one row each, same date) tie on rows and date:
    the group listed first in the extract wins, whatever order the build aggregates in."""
    warehouse = Warehouse()
    for patient_id, codes in (("P1", ("F41.1", "F32.1")), ("P2", ("F32.1", "F41.1"))):
        warehouse.patient(patient_id)
        for line, code in enumerate(codes, start=2):
            warehouse.add("diagnoses", patient_id=patient_id, diagnosis_date=day(0), icd10_code=code,
                          _source_file="diagnoses.csv", _source_line=line + (10 if patient_id == "P2" else 0))
    warehouse.build()
    groups = {r["patient_id"]: r["diagnosis_group"] for r in warehouse.rows(
        "select patient_id, diagnosis_group from marts.dim_patients")}
    assert groups == {"P1": "anxiety", "P2": "major_depression"}


def test_issue_4_nearest_visit_clinician_tie_is_the_same_every_build():
    """Two visits on the episode's start day with different clinicians: the smaller id, always."""
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.visit("P1", 0, clinician_id="C2")
    warehouse.visit("P1", 0, clinician_id="C1")
    warehouse.build()
    episode = _episodes(warehouse)[0]
    assert episode["clinician_id"] == "C1"
