"""Adherence-drop and prescribing-safety worklists at their edges (DOMAIN.md 13.4, 5).

Day n is n days after 1 January 2024; each expected row follows from the arithmetic in its
comment.
"""

from __future__ import annotations

import pytest
from test_models_support import Warehouse, day

from pipelines.definitions import Definitions
from queries.worklist import run_worklist


def _rows(warehouse: Warehouse, name: str, as_of: int) -> list[dict]:
    return run_worklist(warehouse.con, name, as_of=day(as_of),
                        definitions=Definitions()).frame.to_dicts()


def _fills(warehouse: Warehouse, patient: str, drug: str, days: list[int], supply: int = 30):
    for on in days:
        warehouse.add("dispenses", patient_id=patient, drug=drug, ingredient=drug,
                      dispense_date=day(on), days_supply=supply)


# ----------------------------------------------------------------------------- adherence drop

def test_a_fill_is_overdue_one_day_after_the_grace_period():
    # fills on days 0, 30, 60 cover days 0..89. On day 119 the patient has been 30 days without
    # supply (= the grace: still a current episode), and the last 90 days [30, 119] hold 60
    # covered days: PDC 60/90 < 0.80. On day 120, 31 days without supply > 30: fill overdue.
    warehouse = Warehouse()
    warehouse.patient("P1")
    _fills(warehouse, "P1", "sertraline", [0, 30, 60])
    warehouse.build()
    on_119 = _rows(warehouse, "adherence-drop", 119)
    assert [(r["reason"], r["days_overdue"]) for r in on_119] == [
        ("PDC over the last 90 days below 0.8", None)]
    assert on_119[0]["pdc"] == pytest.approx(60 / 90)
    on_120 = _rows(warehouse, "adherence-drop", 120)
    assert [(r["reason"], r["due_on"], r["days_overdue"]) for r in on_120] == [
        ("fill overdue", day(90), 31)]


def test_pdc_of_exactly_eighty_percent_is_not_a_drop():
    # fills on days 0, 30, 60, 90 cover 0..119. As of day 137 the window [48, 137] holds
    # 48..119 = 72 covered days: 72/90 = 0.80 exactly, not below. As of day 138 the window
    # [49, 138] holds 71: 0.789 < 0.80. (18 and 19 days without supply are within the grace.)
    warehouse = Warehouse()
    warehouse.patient("P1")
    _fills(warehouse, "P1", "sertraline", [0, 30, 60, 90])
    warehouse.build()
    assert _rows(warehouse, "adherence-drop", 137) == []
    rows = _rows(warehouse, "adherence-drop", 138)
    assert [r["pdc"] for r in rows] == [pytest.approx(71 / 90)]


def test_antipsychotics_have_sixty_days_grace_and_a_young_episode_has_no_pdc():
    # quetiapine 0..89: 60 days without supply on day 149 is within the antipsychotic grace;
    # the window [60, 149] holds 30 covered days, so PDC 1/3 lists it. Day 150: 61 days, overdue.
    # sertraline from day 125 (more than 30 days after quetiapine ran out: not a switch) for 30
    # days: on day 149 the episode is 25 days old (< 90), so no PDC, and it is covered: not listed.
    warehouse = Warehouse()
    warehouse.patient("P1")
    _fills(warehouse, "P1", "quetiapine", [0, 30, 60])
    _fills(warehouse, "P1", "sertraline", [125])
    warehouse.build()
    assert [(r["drug"], r["reason"]) for r in _rows(warehouse, "adherence-drop", 149)] == [
        ("quetiapine", "PDC over the last 90 days below 0.8")]
    assert [(r["drug"], r["reason"], r["days_overdue"])
            for r in _rows(warehouse, "adherence-drop", 150)] == [("quetiapine", "fill overdue", 61)]


# ----------------------------------------------------------------------------- prescribing safety

def test_two_antipsychotics_together_for_ninety_days():
    # aripiprazole and quetiapine both from day 0, covered through day 119: on day 88 they have
    # been taken together 89 days (0..88), on day 89 90 days: listed from day 89.
    warehouse = Warehouse()
    warehouse.patient("P1")
    _fills(warehouse, "P1", "aripiprazole", [0, 30, 60, 90])
    _fills(warehouse, "P1", "quetiapine", [0, 30, 60, 90])
    warehouse.build()
    assert _rows(warehouse, "prescribing-safety", 88) == []
    rows = _rows(warehouse, "prescribing-safety", 89)
    assert [(r["reason"], r["drug"], r["trigger_on"]) for r in rows] == [
        ("antipsychotic polypharmacy", "aripiprazole + quetiapine", day(0))]


def test_benzodiazepine_covered_days_in_a_rolling_year():
    # lorazepam fills on days 0, 30, 60, 90 cover 0..119 = 120 days. As of day 364 the window
    # [0, 364] holds all 120 (listed); as of day 365 the window [1, 365] holds 119 (not listed).
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=1950)  # 74 on the as-of date: flagged as an older adult
    _fills(warehouse, "P1", "lorazepam", [0, 30, 60, 90])
    warehouse.build()
    rows = _rows(warehouse, "prescribing-safety", 364)
    assert [(r["reason"], r["drug"]) for r in rows] == [
        ("long-term benzodiazepine, age 65+", "lorazepam")]
    assert rows[0]["facts"].startswith("120 of the last 365 days covered")
    assert _rows(warehouse, "prescribing-safety", 365) == []


def test_overlapping_benzodiazepines_count_each_day_once():
    # lorazepam 0..59 and another 60-day run of a second benzodiazepine (diazepam) 30..89:
    # the union is 0..89 = 90 days, under 120 (the supply adds to 120, the days do not)
    warehouse = Warehouse()
    warehouse.con.execute("insert into ref.drugs values ('diazepam', 'anxiolytic_hypnotic', "
                          "'benzodiazepine', null, null, null)")
    warehouse.patient("P1")
    _fills(warehouse, "P1", "lorazepam", [0, 30])
    _fills(warehouse, "P1", "diazepam", [30, 60])
    warehouse.build()
    assert _rows(warehouse, "prescribing-safety", 100) == []


@pytest.mark.parametrize(("dose", "birth_year", "listed"), [
    (200.0, 1980, False),  # sertraline maximum 200 mg/day: at the maximum is not above it
    (250.0, 1980, True),
])
def test_sertraline_dose_above_the_labelled_maximum(dose, birth_year, listed):
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=birth_year)
    warehouse.prescription("P1", "sertraline", 0, 100, daily_dose_mg=dose, clinician_id="C1")
    warehouse.build()
    rows = _rows(warehouse, "prescribing-safety", 50)
    assert [(r["reason"], r["clinician_id"]) for r in rows] == (
        [("dose above labelled maximum", "C1")] if listed else [])


@pytest.mark.parametrize(("birth_year", "listed"), [
    (1964, False),  # 60 on the as-of date (2024): the general maximum of 40 mg applies
    (1963, True),   # 61: older than 60, so the maximum is 20 mg and 30 mg is above it
])
def test_citalopram_maximum_above_age_sixty(birth_year, listed):
    warehouse = Warehouse()
    warehouse.con.execute("insert into ref.drugs values ('citalopram', 'antidepressant', 'SSRI', "
                          "null, null, null)")
    warehouse.patient("P1", birth_year=birth_year)
    warehouse.add("prescriptions", patient_id="P1", drug="citalopram", ingredient="citalopram",
                  start_date=day(0), end_date=day(100), daily_dose_mg=30.0)
    warehouse.build()
    rows = _rows(warehouse, "prescribing-safety", 50)
    assert [r["facts"].split(";")[1].strip() for r in rows] == (
        ["labelled maximum 20.0 mg/day (above age 60)"] if listed else [])


def test_a_switch_is_not_an_overdue_fill():
    # quetiapine runs out after day 89 and aripiprazole starts on day 95 (a switch: A ends within
    # 30 days of B's start): 61 days without quetiapine on day 150 are a decision, not a lapse
    warehouse = Warehouse()
    warehouse.patient("P1")
    _fills(warehouse, "P1", "quetiapine", [0, 30, 60])
    _fills(warehouse, "P1", "aripiprazole", [95, 125])
    warehouse.build()
    assert _rows(warehouse, "adherence-drop", 150) == []
