"""Standard QI measures (DOMAIN.md section 4) on tiny hand-made warehouses.

Each case is written in day numbers from 1 January 2024 (``day(n)``) and the expected figure is
worked out by hand in the comment beside it. The real models build the marts; the measure SQL
runs as ``queries.run`` (unit level) or ``queries.metric`` (aggregated, suppression off).
"""

from __future__ import annotations

from test_models_support import Warehouse, day

import queries


def _units(warehouse: Warehouse, name: str, **params) -> dict[str, dict]:
    return {row["unit_id"]: row for row in queries.run(warehouse.con, name, **params).to_dicts()}


def _depressed_adult(warehouse: Warehouse, patient_id: str, birth_year: int = 1980) -> None:
    warehouse.patient(patient_id, birth_year=birth_year)
    warehouse.add("diagnoses", patient_id=patient_id, diagnosis_date=day(0), icd10_code="F32.1")


# --------------------------------------------------------------------------- AMM


def test_amm_treatment_days_are_the_union_of_antidepressant_coverage_in_0_to_114():
    warehouse = Warehouse()
    _depressed_adult(warehouse, "P1")
    # sertraline covers days 0-59, then 75-104; escitalopram 90-119 overlaps 90-104:
    # union = 0-59 (60) + 75-114 (40, clipped at day 114) = 100 treatment days
    warehouse.fill("P1", "sertraline", 0, days_supply=60)
    warehouse.fill("P1", "sertraline", 75, days_supply=30)
    warehouse.fill("P1", "escitalopram", 90, days_supply=30)
    warehouse.build()
    unit = _units(warehouse, "amm_acute")["P1|2024-01-01"]
    assert unit["treatment_days"] == 100
    assert unit["is_observed"] and unit["is_numerator"]


def test_amm_acute_needs_84_treatment_days_and_83_is_not_enough():
    warehouse = Warehouse()
    _depressed_adult(warehouse, "P84")
    _depressed_adult(warehouse, "P83")
    warehouse.fill("P84", "sertraline", 0, days_supply=84)  # days 0-83: 84 days
    warehouse.fill("P83", "sertraline", 0, days_supply=83)  # days 0-82: 83 days
    warehouse.build()
    units = _units(warehouse, "amm_acute")
    assert units["P84|2024-01-01"]["is_numerator"] is True
    assert units["P83|2024-01-01"]["is_numerator"] is False


def test_amm_continuation_counts_180_days_in_0_to_231_and_early_refills_shift_forward():
    warehouse = Warehouse()
    _depressed_adult(warehouse, "P1")
    # 90 days from day 0, an early refill on day 60 of 90 days shifts to start on day 90:
    # covered 0-179 = 180 days (not 150, which summing from the fill dates would wrongly cap)
    warehouse.fill("P1", "sertraline", 0, days_supply=90)
    warehouse.fill("P1", "sertraline", 60, days_supply=90)
    warehouse.build()
    unit = _units(warehouse, "amm_continuation")["P1|2024-01-01"]
    assert unit["treatment_days"] == 180
    assert unit["is_numerator"] is True


def test_amm_excludes_children_patients_without_depression_and_prior_users():
    warehouse = Warehouse()
    _depressed_adult(warehouse, "CHILD", birth_year=2010)  # 14 in 2024
    warehouse.patient("NODX")
    _depressed_adult(warehouse, "PRIOR")
    for pid in ("CHILD", "NODX"):
        warehouse.fill(pid, "sertraline", 0, days_supply=120)
    # PRIOR: fluoxetine ends day 99 (within 105 days before the sertraline start on day 200,
    # but the gap of 100 days > grace 30 splits the episodes): sertraline is not a new user
    warehouse.fill("PRIOR", "fluoxetine", 70, days_supply=30)
    warehouse.fill("PRIOR", "sertraline", 200, days_supply=120)
    warehouse.build()
    units = _units(warehouse, "amm_acute")
    assert set(units) == {"PRIOR|2024-03-11"}  # the fluoxetine start itself is the new-user IPSD


def test_amm_start_too_close_to_the_data_end_is_not_observed():
    warehouse = Warehouse(data_end=day(100))
    _depressed_adult(warehouse, "P1")
    warehouse.fill("P1", "sertraline", 0, days_supply=100)
    warehouse.build()
    result = queries.metric(warehouse.con, "amm_acute", min_cell=0).frame.row(0, named=True)
    assert (result["starts"], result["observed"], result["not_observed"]) == (1, 0, 1)


# --------------------------------------------------------------------------- SAA


def test_saa_pdc_is_the_union_of_antipsychotics_from_ipsd_to_31_december():
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=1980)
    warehouse.add("diagnoses", patient_id="P1", diagnosis_date=day(0), icd10_code="F20.0")
    # 2024 has 366 days; IPSD day 10 -> treatment period 10..365 = 356 days.
    # aripiprazole 10-209, haloperidol 100-249: union 10-249 = 240 days; 240/356 = 0.674 < 0.80
    warehouse.fill("P1", "aripiprazole", 10, days_supply=200)
    warehouse.fill("P1", "haloperidol", 100, days_supply=150)
    warehouse.build()
    unit = _units(warehouse, "saa_adherence")["P1|2024"]
    assert (unit["covered_days"], unit["treatment_days"]) == (240, 356)
    assert unit["is_numerator"] is False
    # lowering the threshold to 0.67 makes 240/356 = 0.674 adherent
    assert _units(warehouse, "saa_adherence", pdc_threshold=0.67)["P1|2024"]["is_numerator"] is True


def test_saa_needs_two_dispensings_and_schizophrenia():
    warehouse = Warehouse()
    warehouse.patient("ONE", birth_year=1980)
    warehouse.add("diagnoses", patient_id="ONE", diagnosis_date=day(0), icd10_code="F20.0")
    warehouse.fill("ONE", "aripiprazole", 0, days_supply=365)
    warehouse.patient("BIPOLAR", birth_year=1980)
    warehouse.add("diagnoses", patient_id="BIPOLAR", diagnosis_date=day(0), icd10_code="F31.1")
    warehouse.fill("BIPOLAR", "aripiprazole", 0, days_supply=180)
    warehouse.fill("BIPOLAR", "aripiprazole", 180, days_supply=180)
    warehouse.build()
    assert _units(warehouse, "saa_adherence") == {}


def test_saa_exactly_80_percent_is_adherent():
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=1980)
    warehouse.add("diagnoses", patient_id="P1", diagnosis_date=day(0), icd10_code="F20.9")
    # IPSD day 266 (23 Sep 2024) -> period 266..365 = 100 days; 80 covered days = 0.80 exactly
    warehouse.fill("P1", "quetiapine", 266, days_supply=40)
    warehouse.fill("P1", "quetiapine", 306, days_supply=40)
    warehouse.build()
    unit = _units(warehouse, "saa_adherence")["P1|2024"]
    assert (unit["covered_days"], unit["treatment_days"], unit["is_numerator"]) == (80, 100, True)


# --------------------------------------------------------------------------- APM


def test_apm_needs_glucose_or_hba1c_and_ldl_or_cholesterol_in_the_year():
    warehouse = Warehouse()
    for pid in ("BOTH", "GLUCOSE_ONLY", "TRIGLYCERIDES"):
        warehouse.patient(pid, birth_year=2012)  # 12 in 2024: stratum 12-17
        warehouse.fill(pid, "aripiprazole", 0, days_supply=30)
        warehouse.fill(pid, "aripiprazole", 30, days_supply=30)
    warehouse.add("measurements", patient_id="BOTH", measured_date=day(200), measure="hba1c_pct", value=5.4)
    warehouse.add("measurements", patient_id="BOTH", measured_date=day(300), measure="total_cholesterol_mg_dl", value=170.0)
    warehouse.add("measurements", patient_id="GLUCOSE_ONLY", measured_date=day(5), measure="glucose_mg_dl", value=90.0)
    warehouse.add("measurements", patient_id="TRIGLYCERIDES", measured_date=day(5), measure="glucose_mg_dl", value=90.0)
    warehouse.add("measurements", patient_id="TRIGLYCERIDES", measured_date=day(5), measure="triglycerides_mg_dl", value=120.0)
    warehouse.build()
    units = _units(warehouse, "apm_metabolic_monitoring")
    assert units["BOTH|2024"]["is_numerator"] is True
    assert units["BOTH|2024"]["age_stratum"] == "12-17"
    assert (units["GLUCOSE_ONLY|2024"]["has_glucose"], units["GLUCOSE_ONLY|2024"]["is_numerator"]) == (True, False)
    # triglycerides are not one of the APM cholesterol tests
    assert units["TRIGLYCERIDES|2024"]["has_lipids"] is False
    frame = queries.metric(warehouse.con, "apm_metabolic_monitoring", by="age_band", min_cell=0).frame
    row = frame.row(0, named=True)
    assert (row["age_band"], row["both_tested"], row["observed"], row["glucose_tested"]) == ("0-17", 1, 3, 3)


# --------------------------------------------------------------------------- APC


def test_apc_counts_90_consecutive_days_on_two_antipsychotics_and_89_is_not_enough():
    warehouse = Warehouse()
    warehouse.patient("P89", birth_year=2010)
    warehouse.fill("P89", "aripiprazole", 0, days_supply=200)
    warehouse.fill("P89", "quetiapine", 50, days_supply=60)  # 50-109
    warehouse.fill("P89", "quetiapine", 110, days_supply=29)  # 110-138: concurrent 50-138 = 89
    warehouse.patient("P90", birth_year=2010)
    warehouse.fill("P90", "aripiprazole", 0, days_supply=200)
    warehouse.fill("P90", "haloperidol", 50, days_supply=90)  # 50-139 = 90 days
    warehouse.fill("P90", "quetiapine", 60, days_supply=10)  # a third drug inside the run
    warehouse.patient("SHORT", birth_year=2010)
    warehouse.fill("SHORT", "aripiprazole", 0, days_supply=89)  # < 90 continuous days
    warehouse.build()
    units = _units(warehouse, "apc_concurrent_antipsychotics")
    assert units["P89|2024"]["longest_concurrent_days"] == 89
    assert units["P89|2024"]["is_numerator"] is False
    assert units["P90|2024"]["longest_concurrent_days"] == 90
    assert units["P90|2024"]["is_numerator"] is True
    assert units["SHORT|2024"]["is_denominator"] is False
    row = queries.metric(warehouse.con, "apc_concurrent_antipsychotics", min_cell=0).frame.row(0, named=True)
    assert (row["patient_years"], row["continuous_90d"], row["concurrent_90d"]) == (3, 2, 1)
    assert row["rate"] == 0.5
    assert queries.describe("apc_concurrent_antipsychotics").metric["direction"] == "lower"


# --------------------------------------------------------------------------- DRR


def test_drr_response_and_remission_at_4_to_8_months():
    warehouse = Warehouse()
    for pid, followup in (("HALF", 8), ("REMIT", 4), ("NOFU", None), ("EARLY", 2)):
        _depressed_adult(warehouse, pid)
        warehouse.fill(pid, "sertraline", 0, days_supply=90)
        warehouse.score(pid, 0, 16)
        if followup is not None:
            warehouse.score(pid, 200, followup)
    warehouse.score("EARLY", 100, 2)  # day 100 is before the window [+120, +240]
    warehouse.build()
    response = _units(warehouse, "drr_response")
    remission = _units(warehouse, "drr_remission")
    key = "{}|sertraline|2024-01-01"
    # 8 = 16 / 2 is a response but not a remission; 4 is both; no follow-up = not achieved
    assert response[key.format("HALF")]["is_numerator"] is True
    assert remission[key.format("HALF")]["is_numerator"] is False
    assert remission[key.format("REMIT")]["is_numerator"] is True
    assert response[key.format("NOFU")]["is_numerator"] is False
    assert response[key.format("EARLY")]["followup_score"] == 2  # day 200 score, latest in window
    row = queries.metric(warehouse.con, "drr_response", min_cell=0).frame.row(0, named=True)
    assert (row["observed"], row["responders"], row["followed_up"]) == (4, 3, 3)


def test_drr_excludes_bipolar_low_baselines_and_children_under_12():
    warehouse = Warehouse()
    _depressed_adult(warehouse, "BIPOLAR")
    warehouse.add("diagnoses", patient_id="BIPOLAR", diagnosis_date=day(0), icd10_code="F31.1")
    _depressed_adult(warehouse, "LOW")
    _depressed_adult(warehouse, "CHILD", birth_year=2013)  # 11 in 2024
    for pid, baseline in (("BIPOLAR", 20), ("LOW", 9), ("CHILD", 20)):
        warehouse.fill(pid, "sertraline", 0)
        warehouse.score(pid, 0, baseline)
    warehouse.build()
    assert _units(warehouse, "drr_response") == {}


# --------------------------------------------------------------------------- DMS


def test_dms_counts_a_phq9_in_the_same_four_month_period():
    warehouse = Warehouse(data_end=day(250))
    _depressed_adult(warehouse, "P1")
    warehouse.visit("P1", 10, visit_type="follow_up", clinician_id="C1")  # 2024-P1 (Jan-Apr)
    warehouse.score("P1", 100, 12)  # 10 April: same period
    warehouse.visit("P1", 130, visit_type="follow_up", clinician_id="C2")  # 2024-P2, no PHQ-9
    warehouse.visit("P1", 200, visit_type="inpatient")  # inpatient visits do not count
    warehouse.visit("P1", 245, visit_type="telehealth")  # 2024-P3 ends after the data end (day 250)
    warehouse.build()
    units = _units(warehouse, "dms_phq9_monitoring")
    assert units["P1|2024-P1"]["is_numerator"] is True
    assert units["P1|2024-P1"]["clinician_id"] == "C1"
    assert units["P1|2024-P2"]["is_numerator"] is False
    assert units["P1|2024-P3"]["is_observed"] is False
    assert len(units) == 3


def test_visit_flags_a_phq9_on_the_same_day_and_in_the_same_period():
    warehouse = Warehouse()
    _depressed_adult(warehouse, "P1")
    same_day = warehouse.visit("P1", 100)  # PHQ-9 on day 100 (10 April, 2024-P1)
    same_period = warehouse.visit("P1", 20)  # 2024-P1, but a different day
    neither = warehouse.visit("P1", 130)  # 9 May: 2024-P2, no PHQ-9 there
    gad7_only = warehouse.visit("P1", 140)  # a GAD-7 that day is not a PHQ-9
    warehouse.score("P1", 100, 12)
    warehouse.score("P1", 140, 9, instrument="GAD-7")
    warehouse.build()
    flags = {r["visit_id"]: (r["dms_period"], r["has_phq9_same_day"], r["has_phq9_same_period"])
             for r in warehouse.rows("select * from marts.fct_visits")}
    assert flags[same_day] == ("2024-P1", True, True)
    assert flags[same_period] == ("2024-P1", False, True)
    assert flags[neither] == ("2024-P2", False, False)
    assert flags[gad7_only] == ("2024-P2", False, False)


# --------------------------------------------------------------------------- follow-up


def test_followup_visit_on_day_30_counts_and_on_day_31_or_day_0_does_not():
    warehouse = Warehouse()
    for pid in ("D30", "D31"):
        warehouse.patient(pid)
        warehouse.fill(pid, "sertraline", 0)
    warehouse.visit("D30", 30)
    warehouse.visit("D31", 0)
    warehouse.visit("D31", 31)
    warehouse.build()
    units = _units(warehouse, "followup_30d_new_rx")
    assert units["D30|sertraline|2024-01-01"]["is_numerator"] is True
    assert units["D31|sertraline|2024-01-01"]["is_numerator"] is False
    by_month = queries.metric(warehouse.con, "followup_30d_new_rx", by="month", min_cell=0).frame
    assert by_month.select("month", "numerator", "denominator").rows() == [("2024-01", 1, 2)]


def test_measure_counts_of_1_to_10_are_suppressed_by_default():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0)
    warehouse.visit("P1", 10)
    warehouse.build()
    row = queries.metric(warehouse.con, "followup_30d_new_rx").frame.row(0, named=True)
    assert row["numerator"] is None and row["numerator_suppressed"] is True
    assert row["rate"] is None
