"""PDC the PQA way (DOMAIN 5.1/5.2) in marts.fct_adherence_pdc, and episode PDC over 84 days.

Day n is n days after 1 January 2024, so the 2024 measurement period is days 0..365 (leap year)
and the data end is 31 December 2025 unless a case says otherwise.
"""

from __future__ import annotations

import datetime as dt
import random

from test_models_support import Warehouse, day

YEAR_END = 365  # 31 Dec 2024 is day 365


def _pdc(warehouse: Warehouse, level: str = "ingredient", target: str = "sertraline",
         patient_id: str = "P1", year: int = 2024) -> dict:
    column = "drug" if level == "ingredient" else "drug_class"
    return warehouse.one(
        f"select * from marts.fct_adherence_pdc where patient_id = $p and level = $level "  # noqa: S608
        f"and {column} = $target and measurement_year = $year",  # column from a two-value choice
        p=patient_id, level=level, target=target, year=year)


def test_overlapping_fills_of_one_drug_shift_forward():
    # fills on days 0 and 20, 30 days each: the second starts on day 30, covering 0..59 = 60 days
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P1", "sertraline", 20, 30)
    warehouse.build()
    shifted = warehouse.rows("select cov_start_on, cov_end_on from intermediate.int_fills__shifted "
                             "order by filled_on")
    assert [(r["cov_start_on"], r["cov_end_on"]) for r in shifted] == [(day(0), day(29)), (day(30), day(59))]
    row = _pdc(warehouse)
    assert (row["covered_days"], row["denominator_days"]) == (60, YEAR_END + 1)
    assert row["days_supplied"] == 60


def test_overlapping_fills_of_two_drugs_in_a_class_do_not_shift():
    # sertraline 0..29 and escitalopram 20..49: the class is covered 0..49 = 50 days, not 60
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P1", "sertraline", 200, 30)
    warehouse.fill("P1", "escitalopram", 20, 30)
    warehouse.build()
    row = _pdc(warehouse, "class", "antidepressant")
    assert row["covered_days"] == 50 + 30
    assert row["fills"] == 3


def test_a_patient_with_one_fill_has_no_pdc():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 10, 90)
    warehouse.build()
    row = _pdc(warehouse)
    assert row["pdc"] is None and row["not_evaluable_reason"] == "single_fill_date"


def test_two_fills_on_the_same_date_are_one_fill_date():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 10, 30)
    warehouse.fill("P1", "sertraline", 10, 30)
    warehouse.build()
    assert _pdc(warehouse)["not_evaluable_reason"] == "single_fill_date"


def test_a_fill_before_the_period_does_not_count():
    # a 90-day fill on 15 Dec 2023 carries supply into 2024: ignored (DOMAIN 5.1 step 8)
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", -17, 90)
    warehouse.fill("P1", "sertraline", 100, 30)
    warehouse.fill("P1", "sertraline", 130, 30)
    warehouse.build()
    row = _pdc(warehouse)
    assert row["index_on"] == day(100)
    assert (row["covered_days"], row["denominator_days"]) == (60, YEAR_END - 100 + 1)


def test_index_must_be_at_least_91_days_before_period_end():
    late = Warehouse()
    late.patient("P1")
    late.fill("P1", "sertraline", YEAR_END - 90, 30)
    late.fill("P1", "sertraline", YEAR_END - 60, 30)
    late.build()
    assert _pdc(late)["not_evaluable_reason"] == "index_too_late"

    in_time = Warehouse()
    in_time.patient("P1")
    in_time.fill("P1", "sertraline", YEAR_END - 91, 30)
    in_time.fill("P1", "sertraline", YEAR_END - 61, 30)
    in_time.build()
    row = _pdc(in_time)
    assert row["not_evaluable_reason"] is None
    assert (row["covered_days"], row["denominator_days"]) == (60, 92)


def test_supply_is_truncated_at_the_period_end_and_pdc_never_exceeds_one():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 200, 90)
    warehouse.fill("P1", "sertraline", 210, 90)
    warehouse.build()
    row = _pdc(warehouse)
    assert row["covered_days"] == row["denominator_days"] == YEAR_END - 200 + 1
    assert row["pdc"] == 1.0 and row["is_adherent"] is True
    assert row["mpr"] > 1 and row["mpr_capped"] == 1.0


def test_shifted_supply_past_the_period_end_after_a_gap_is_cut_at_the_end():
    # 0..29, then a gap, then 300..359 and the overlapping day-310 fill shifted to 360..419:
    # covered 30 + 60 + 6 (360..365) = 96 days
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P1", "sertraline", 300, 60)
    warehouse.fill("P1", "sertraline", 310, 60)
    warehouse.build()
    row = _pdc(warehouse)
    assert (row["covered_days"], row["denominator_days"], row["days_supplied"]) == (96, 366, 150)


def test_adherent_means_pdc_at_least_the_threshold():
    # index day 0, period 366 days; 293 covered days = 0.8005 -> adherent; 292 = 0.7978 -> not
    for covered, adherent in ((293, True), (292, False)):
        warehouse = Warehouse()
        warehouse.patient("P1")
        warehouse.fill("P1", "sertraline", 0, 200)
        warehouse.fill("P1", "sertraline", 1, covered - 200)
        warehouse.build()
        assert _pdc(warehouse)["is_adherent"] is adherent


def test_inpatient_days_leave_the_denominator_and_push_supply_when_adjusting():
    # stay days 50..59 (10 days); fills day 0 (60 days) and day 55 (during the stay, 30 days)
    def build(adjust: bool) -> dict:
        warehouse = Warehouse()
        warehouse.patient("P1")
        warehouse.visit("P1", 50, visit_type="inpatient", end_date=day(59))
        warehouse.fill("P1", "sertraline", 0, 60)
        warehouse.fill("P1", "sertraline", 55, 30)
        warehouse.build(pdc_inpatient_adjustment=adjust)
        return _pdc(warehouse)

    plain = build(False)
    assert (plain["covered_days"], plain["denominator_days"], plain["inpatient_days"]) == (90, 366, 10)
    adjusted = build(True)
    # compressed timeline: 356 days; first fill covers compressed 0..59, the second 60..89
    assert (adjusted["covered_days"], adjusted["denominator_days"]) == (90, 356)
    assert adjusted["is_inpatient_adjusted"] is True


def test_a_fill_during_a_stay_that_outlasts_the_period_covers_none_of_it_when_adjusting():
    # stay days 360..370 crosses the year end: the compressed period ends on day 359 (the day
    # before admission) and the day-362 fill maps to the first day after discharge, outside it
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.visit("P1", 360, visit_type="inpatient", end_date=day(370))
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P1", "sertraline", 100, 30)
    warehouse.fill("P1", "sertraline", 362, 30)
    warehouse.build(pdc_inpatient_adjustment=True)
    row = _pdc(warehouse)
    assert (row["covered_days"], row["denominator_days"], row["inpatient_days"]) == (60, 360, 6)


def _simulated_pdc(fills: list[tuple[int, int, str]], period_end: int) -> tuple[int, int]:
    """Day-by-day PQA PDC for one ingredient: walk the fills in order, carrying supply forward."""
    fills = sorted(fills, key=lambda f: (f[0], f[2]))
    index = fills[0][0]
    covered: set[int] = set()
    next_free = -10**9
    for start, supply, _ in fills:
        day_number = max(start, next_free)
        for _ in range(supply):
            covered.add(day_number)
            day_number += 1
        next_free = day_number
    return len({d for d in covered if index <= d <= period_end}), period_end - index + 1


def test_pdc_equals_a_day_by_day_simulation_on_random_fills():
    rng = random.Random(20240101)
    warehouse = Warehouse()
    expected: dict[str, tuple[int, int]] = {}
    for patient_number in range(60):
        patient_id = f"R{patient_number:03d}"
        warehouse.patient(patient_id)
        fills = []
        start = rng.randrange(0, 200)
        for fill_number in range(rng.randrange(2, 9)):
            supply = rng.choice([7, 14, 30, 30, 60, 90])
            dispense_id = f"{patient_id}-{fill_number:02d}"
            warehouse.fill(patient_id, "sertraline", start, supply, dispense_id=dispense_id)
            fills.append((start, supply, dispense_id))
            start += rng.randrange(0, 60)
            if start > YEAR_END:
                break
        if len({f[0] for f in fills}) >= 2 and YEAR_END - min(f[0] for f in fills) >= 91:
            expected[patient_id] = _simulated_pdc(fills, YEAR_END)
    warehouse.build()
    got = {r["patient_id"]: (r["covered_days"], r["denominator_days"]) for r in warehouse.rows(
        "select patient_id, covered_days, denominator_days from marts.fct_adherence_pdc "
        "where level = 'ingredient' and measurement_year = 2024 and pdc is not null")}
    assert len(expected) > 40
    assert got == expected


def test_episode_pdc_over_the_first_84_days():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P1", "sertraline", 40, 30)  # covers 40..69: 60 of the first 84 days
    warehouse.build()
    episode = warehouse.one("select pdc_84, adherence_band from marts.fct_treatment_episodes")
    assert episode["pdc_84"] == 60 / 84
    assert episode["adherence_band"] == "0.5-0.8"


def test_episode_pdc_is_not_observed_when_the_data_ends_first():
    warehouse = Warehouse(data_end=dt.date(2024, 2, 1))
    warehouse.patient("P1")
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.build()
    episode = warehouse.one("select pdc_84, adherence_band from marts.fct_treatment_episodes")
    assert (episode["pdc_84"], episode["adherence_band"]) == (None, "not observed")
