"""Opioid with benzodiazepine (DOMAIN.md 13.4, PQA COB) on the prescribing-safety worklist.

From pharmacy fills dispensed in the last 365 days up to the as-of date: two or more opioid
fills on different dates with 15 or more days' supply in total, two or more benzodiazepine fills
on different dates, and 30 or more days covered by the (shifted) supply of both; patients with a
cancer (C00-C96) or sickle cell (D57) diagnosis in the window are not listed. Day n is n days
after 1 January 2024; each expectation follows from the arithmetic in its comment.
"""

from __future__ import annotations

import pytest
from test_models_support import Warehouse, day

from pipelines.definitions import Definitions
from queries.worklist import run_worklist

REASON = "opioid with benzodiazepine"


def _clinic() -> Warehouse:
    warehouse = Warehouse()  # its small drug table lacks opioids: the test's raw rows name the
    # ingredient themselves, as the ingest's normalisation would
    warehouse.con.execute("insert into ref.drugs values "
                          "('oxycodone', 'other', 'opioid_analgesic', null, null, null)")
    warehouse.patient("P1")
    return warehouse


def _listed(warehouse: Warehouse, as_of: int) -> list[dict]:
    rows = run_worklist(warehouse.con, "prescribing-safety", as_of=day(as_of),
                        definitions=Definitions()).frame.to_dicts()
    return [row for row in rows if row["reason"] == REASON]


def _both_from_day_zero(warehouse: Warehouse) -> None:
    # oxycodone filled on days 0 and 5, lorazepam on days 0 and 10, 30 days' supply each: the
    # second fill of each starts when the first runs out (shifted), so each covers days 0..59
    for on in (0, 5):
        warehouse.fill("P1", "oxycodone", on, ingredient="oxycodone")
    for on in (0, 10):
        warehouse.fill("P1", "lorazepam", on)


def test_listed_on_the_day_the_overlap_reaches_thirty_days():
    # as of day 28 the days covered by both are 0..28 = 29 (< 30); as of day 29, 0..29 = 30
    warehouse = _clinic()
    _both_from_day_zero(warehouse)
    warehouse.build()
    assert _listed(warehouse, 28) == []
    rows = _listed(warehouse, 29)
    assert [(r["drug"], r["drug_class"], r["trigger_on"]) for r in rows] == [
        ("oxycodone + lorazepam", "anxiolytic_hypnotic", day(0))]
    assert "2 opioid fills (60 days' supply) and 2 benzodiazepine fills" in rows[0]["facts"]
    assert "both covered on 30 days" in rows[0]["facts"]


def test_a_fill_on_the_same_date_is_one_fill():
    # two oxycodone fills on day 0 cover 0..59 after shifting, but on one date: one opioid fill
    # (< 2), so 59 days together do not list the patient
    warehouse = _clinic()
    warehouse.fill("P1", "oxycodone", 0, ingredient="oxycodone")
    warehouse.fill("P1", "oxycodone", 0, ingredient="oxycodone")
    for on in (0, 10):
        warehouse.fill("P1", "lorazepam", on)
    warehouse.build()
    assert _listed(warehouse, 60) == []


def test_only_fills_dispensed_in_the_rolling_year_count():
    # as of day 364 the window is [0, 364]: every fill counts; as of day 365 it is [1, 365] and
    # the day-0 fills of both drugs fall out: one fill of each (< 2)
    warehouse = _clinic()
    _both_from_day_zero(warehouse)
    warehouse.build()
    assert len(_listed(warehouse, 364)) == 1
    assert _listed(warehouse, 365) == []


@pytest.mark.parametrize(("code", "on", "listed"), [
    ("C50.9", 10, False),   # breast cancer in the window: excluded
    ("D57.1", 10, False),   # sickle cell disease: excluded
    ("F32.1", 10, True),    # depression: no exclusion
    ("D50.9", 10, True),    # iron deficiency anaemia (D50, not D57): no exclusion
    ("C50.9", 80, True),    # a cancer diagnosis after the as-of date (day 60) does not count
])
def test_cancer_and_sickle_cell_diagnoses_exclude(code, on, listed):
    warehouse = _clinic()
    _both_from_day_zero(warehouse)
    warehouse.add("diagnoses", patient_id="P1", diagnosis_date=day(on), icd10_code=code)
    warehouse.build()
    assert bool(_listed(warehouse, 60)) is listed


def test_a_looser_overlap_threshold_lists_earlier():
    # as of day 10 (the second lorazepam fill's day) days 0..10 = 11 are covered by both:
    # under the default 30, at least a configured cob_overlap_min_days of 10
    warehouse = _clinic()
    _both_from_day_zero(warehouse)
    warehouse.build()
    assert _listed(warehouse, 10) == []
    params = dict(Definitions().worklists) | {"cob_overlap_min_days": 10}
    rows = run_worklist(warehouse.con, "prescribing-safety", as_of=day(10),
                        definitions=Definitions(worklists=tuple(params.items()))).frame
    assert rows.filter(rows["reason"] == REASON).height == 1
