"""Worklist rules at their edges (DOMAIN.md 13), on tiny hand-built warehouses.

Day n is n days after 1 January 2024 (test_models_support.day). Each case states the rule's
arithmetic in its comment; the expected rows come from that arithmetic, not from the code.
"""

from __future__ import annotations

import pytest
from test_models_support import Warehouse, day

from pipelines.definitions import Definitions
from queries.worklist import run_worklist


def _rows(warehouse: Warehouse, name: str, as_of: int, **kw) -> list[dict]:
    result = run_worklist(warehouse.con, name, as_of=day(as_of), definitions=Definitions(), **kw)
    return result.frame.to_dicts()


def _monthly_fills(warehouse: Warehouse, patient: str, drug: str, first: int, last: int) -> None:
    """30-day fills every 30 days from day ``first`` while the fill day <= ``last``."""
    for on in range(first, last + 1, 30):
        warehouse.fill(patient, drug, on, 30)


# ----------------------------------------------------------------------------- not on track

def _depression_episode(warehouse: Warehouse, patient: str, baseline: int, later: dict[int, int]):
    warehouse.patient(patient)
    _monthly_fills(warehouse, patient, "sertraline", 0, 120)
    warehouse.score(patient, 0, baseline)
    for on, total in later.items():
        warehouse.score(patient, on, total)


@pytest.mark.parametrize(("score", "listed"), [(16, False), (17, True)])
def test_early_non_improvement_at_exactly_twenty_percent(score, listed):
    # baseline 20: 5 * (20 - 16) = 20 is not < 20 (exactly 20% better: on track);
    # 5 * (20 - 17) = 15 < 20 (15% better: listed)
    warehouse = Warehouse()
    _depression_episode(warehouse, "P1", 20, {28: score})
    warehouse.build()
    rows = _rows(warehouse, "not-on-track", as_of=30)
    assert [(r["patient_id"], r["reason"], r["trigger_on"]) for r in rows] == (
        [("P1", "early non-improvement", day(28))] if listed else [])


@pytest.mark.parametrize(("score", "listed"), [(15, False), (16, True)])
def test_not_on_track_at_week_6_at_exactly_twenty_five_percent(score, listed):
    # baseline 20: 4 * (20 - 15) = 20 is not < 20; 4 * (20 - 16) = 16 < 20. The week-6 score
    # (day 42, in [35, 63]) is judged instead of the early one (day 20: 20 -> 19, not on track)
    warehouse = Warehouse()
    _depression_episode(warehouse, "P1", 20, {20: 19, 42: score})
    warehouse.build()
    rows = _rows(warehouse, "not-on-track", as_of=45)
    assert [(r["reason"], r["trigger_on"]) for r in rows] == (
        [("not on track at week 6", day(42))] if listed else [])
    if listed:
        # on track at 4 * (20 - s) >= 20, i.e. s <= 15
        assert rows[0]["clears"].endswith("PHQ-9 of 15 or less")


def test_the_window_edges_and_eligibility():
    warehouse = Warehouse()
    # P1: day 9 is before the early window [10, 35]: nothing to judge yet
    _depression_episode(warehouse, "P1", 20, {9: 20})
    # P2: day 35 is in both windows; the week-6 rule judges it: 4 * (20 - 16) = 16 < 20
    _depression_episode(warehouse, "P2", 20, {35: 16})
    # P3: baseline 9 is below the eligibility of 10: never listed
    _depression_episode(warehouse, "P3", 9, {28: 9})
    # P4: the score on day 28 is after the as-of date (day 27): not yet known
    _depression_episode(warehouse, "P4", 20, {28: 20})
    warehouse.build()
    rows = _rows(warehouse, "not-on-track", as_of=27)
    assert rows == []
    rows = _rows(warehouse, "not-on-track", as_of=40)
    assert sorted((r["patient_id"], r["reason"]) for r in rows) == [
        ("P2", "not on track at week 6"), ("P4", "early non-improvement")]


# ----------------------------------------------------------------------------- item 9

def test_item9_the_last_day_of_the_follow_up_window():
    warehouse = Warehouse()
    for patient in ("P1", "P2", "P3", "P4"):
        warehouse.patient(patient)
        warehouse.score(patient, 100, 14, item_9=2)
    warehouse.visit("P1", 101, clinician_id="C1")  # day +1: the window's last day, followed up
    warehouse.visit("P2", 102, clinician_id="C1")  # day +2: one day late
    warehouse.score("P3", 100, 2, instrument="C-SSRS")  # a same-day risk assessment
    warehouse.build()
    # as of day 101 the window [100, 101] is still open: nobody listed
    assert _rows(warehouse, "item9-follow-up", as_of=101) == []
    rows = _rows(warehouse, "item9-follow-up", as_of=102)
    # P2 and P4: due on day 101, one day overdue on day 102
    assert [(r["patient_id"], r["due_on"], r["days_overdue"], r["item_9"]) for r in rows] == [
        ("P2", day(101), 1, 2), ("P4", day(101), 1, 2)]
    later = _rows(warehouse, "item9-follow-up", as_of=110)
    assert f"first contact after the window on {day(102)}" in later[0]["facts"]


def test_item9_zero_is_not_a_positive_screen():
    warehouse = Warehouse()
    warehouse.patient("P1")
    warehouse.score("P1", 100, 20, item_9=0)
    warehouse.build()
    assert _rows(warehouse, "item9-follow-up", as_of=120) == []


# ----------------------------------------------------------------------------- monitoring

def test_lithium_level_becomes_overdue_the_day_after_due_plus_grace():
    # level on day 10 (first year: every 91 days) -> due day 101; grace 30: overdue from day 132
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=1980)
    _monthly_fills(warehouse, "P1", "lithium", 0, 300)
    warehouse.add("measurements", patient_id="P1", measured_date=day(10),
                  measure="lithium_mmol_l", value=0.6)
    warehouse.build()
    assert _rows(warehouse, "overdue-monitoring", as_of=131) == []
    rows = _rows(warehouse, "overdue-monitoring", as_of=132)
    # renal, thyroid, calcium and weight: never done, first due day 182 -> not yet overdue
    assert [(r["test_group"], r["due_on"], r["days_overdue"]) for r in rows] == [
        ("lithium_level", day(101), 31)]


@pytest.mark.parametrize(("birth_year", "value", "due"), [
    (1980, 0.6, 400 + 182),  # second year: every 182 days
    (1955, 0.6, 400 + 91),   # aged 70 on the as-of date: every 91 days
    (1980, 0.8, 400 + 91),   # last level >= 0.8 mmol/L: every 91 days
])
def test_lithium_level_interval_after_the_first_year(birth_year, value, due):
    warehouse = Warehouse()
    warehouse.patient("P1", birth_year=birth_year)
    _monthly_fills(warehouse, "P1", "lithium", 0, 720)
    for measure in ("lithium_mmol_l", "creatinine_mg_dl", "tsh_miu_l", "calcium_mg_dl", "weight_kg"):
        warehouse.add("measurements", patient_id="P1", measured_date=day(400), measure=measure,
                      value=value if measure == "lithium_mmol_l" else 1.0)
    warehouse.build()
    as_of = due + 30 + 1
    rows = _rows(warehouse, "overdue-monitoring", as_of=as_of)
    level = [r for r in rows if r["test_group"] == "lithium_level"]
    assert [(r["due_on"], r["days_overdue"]) for r in level] == [(day(due), 31)]
    assert _rows(warehouse, "overdue-monitoring", as_of=as_of - 1) == [
        r for r in _rows(warehouse, "overdue-monitoring", as_of=as_of - 1)
        if r["test_group"] != "lithium_level"]


def test_clozapine_anc_weekly_with_three_days_grace_and_the_uk_preset():
    # ANC on day 20 (weekly phase): due day 27, overdue from day 31 (27 + 3 + 1)
    warehouse = Warehouse()
    warehouse.con.execute("insert into ref.drugs values ('clozapine', 'antipsychotic', 'SGA', "
                          "null, null, null)")
    warehouse.patient("P1")
    for on in range(0, 60, 7):
        warehouse.add("dispenses", patient_id="P1", drug="clozapine", ingredient="clozapine",
                      dispense_date=day(on), days_supply=7)
    warehouse.add("measurements", patient_id="P1", measured_date=day(20), measure="anc_per_ul",
                  value=2500.0)
    warehouse.build()
    assert _rows(warehouse, "overdue-monitoring", as_of=30) == []
    rows = _rows(warehouse, "overdue-monitoring", as_of=31)
    assert [(r["drug"], r["test_group"], r["due_on"], r["days_overdue"]) for r in rows] == [
        ("clozapine", "anc", day(27), 4)]


def test_valproate_never_done_is_due_on_day_210():
    warehouse = Warehouse()
    warehouse.con.execute("insert into ref.drugs values ('valproate', 'mood_stabiliser', "
                          "'anticonvulsant', null, null, null)")
    warehouse.patient("P1")
    for on in range(0, 300, 30):
        warehouse.add("dispenses", patient_id="P1", drug="valproate", ingredient="valproate",
                      dispense_date=day(on), days_supply=30)
    # an LFT on day 100 is before day 150, when the 6-month check's window opens: it does not count
    warehouse.add("measurements", patient_id="P1", measured_date=day(100), measure="alt_u_l",
                  value=20.0)
    warehouse.build()
    assert _rows(warehouse, "overdue-monitoring", as_of=240) == []
    rows = _rows(warehouse, "overdue-monitoring", as_of=241)
    assert sorted((r["test_group"], r["due_on"], r["days_overdue"]) for r in rows) == [
        ("fbc", day(210), 31), ("lft", day(210), 31), ("weight", day(210), 31)]
    assert all(r["reason"].endswith("never done") for r in rows)
