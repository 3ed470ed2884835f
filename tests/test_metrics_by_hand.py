"""Every metric pinned by hand (issue 15 item 9): a small warehouse built row by row, and the
numerator, denominator and value each metric must give, derived here in words from its
definition (docs/metrics.md, DOMAIN.md), not captured from the code.

Day n is n days after 1 January 2024; the data run to 31 December 2025 unless a case says
otherwise. Figures are taken with suppression off (min_cell=0): the cases are tiny on purpose.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from test_models_support import Warehouse, day

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


# --------------------------------------------------------------------------- adherence


@pytest.fixture(scope="module")
def fills_clinic() -> Warehouse:
    """Sertraline fills in 2024 (366 days, a leap year); PQA PDC per patient and class:
    P1 30-day fills on days 0, 30, 60: covered 0..89 = 90 days of 366 (index day 0) -> 90/366
    P2 a 180-day fill on day 0 and a 186-day fill on day 180: covered 0..365 = 366/366 -> 1
    P3 one fill only (day 10): not evaluable (single fill date)
    P4 30-day fills on days 300 and 330: index day 300, 365 - 300 = 65 < 91 days: index too late
    """
    warehouse = Warehouse()
    for patient in ("P1", "P2", "P3", "P4"):
        warehouse.patient(patient)
    for on in (0, 30, 60):
        warehouse.fill("P1", "sertraline", on, 30)
    warehouse.fill("P2", "sertraline", 0, 180)
    warehouse.fill("P2", "sertraline", 180, 186)
    warehouse.fill("P3", "sertraline", 10, 30)
    warehouse.fill("P4", "sertraline", 300, 30)
    warehouse.fill("P4", "sertraline", 330, 30)
    warehouse.build()
    return warehouse


def test_adherence_by_hand(fills_clinic):
    row = _metric(fills_clinic, "adherence")
    # 4 patient-classes with a 2024 fill; evaluable P1 and P2; adherent (PDC >= 0.80) P2 only
    assert (row["patient_targets"], row["evaluable"]) == (4, 2)
    assert (row["numerator"], row["denominator"]) == (1, 2)
    assert row["rate"] == pytest.approx(1 / 2)


def test_mpr_by_hand(fills_clinic):
    row = _metric(fills_clinic, "mpr")
    # evaluable P1 and P2: P1 supplied 90 days over 366; P2 supplied 366 over 366 (capped at 1)
    assert row["n"] == 2
    assert row["mean"] == pytest.approx((90 / 366 + 1) / 2)


def test_persistence_by_hand():
    # data end 30 June 2025; grace 30 days (sertraline), 60 (haloperidol, an antipsychotic)
    # P1 sertraline 30 days from day 0, nothing after: last covered day 29 -> discontinued,
    #    persistence 30 days (day 0..29)
    # P2 sertraline 60 days from day 0 and 60 days from day 80 (a 20-day gap, within grace):
    #    covered to day 139, then no more -> discontinued, persistence 140 days
    # P3 haloperidol 30 days from day 0 and from day 80 (a 50-day gap, within the 60-day
    #    antipsychotic grace): covered to day 109 -> discontinued, persistence 110 days
    # P4 sertraline 90 days on day 480 (24 Apr 2025): supply + grace runs past the data end
    #    (day 546) -> censored at 546 - 480 + 1 = 67 days
    warehouse = Warehouse(data_end=dt.date(2025, 6, 30))
    for patient in ("P1", "P2", "P3", "P4"):
        warehouse.patient(patient)
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P2", "sertraline", 0, 60)
    warehouse.fill("P2", "sertraline", 80, 60)
    warehouse.fill("P3", "haloperidol", 0, 30)
    warehouse.fill("P3", "haloperidol", 80, 30)
    warehouse.fill("P4", "sertraline", 480, 90)
    warehouse.build()
    units = {r["patient_id"]: (r["persistence_days"], r["is_event"])
             for r in queries.run(warehouse.con, "persistence").iter_rows(named=True)}
    assert units == {"P1": (30, True), "P2": (140, True), "P3": (110, True), "P4": (67, False)}
    row = _metric(warehouse, "persistence")
    # Kaplan-Meier: 4 at risk; events at 30, 110, 140; P4 censored at 67.
    # S(30) = 3/4; S(110) = 3/4 * (1 - 1/2) = 3/8 (2 at risk after the censoring); median 110
    assert (row["n"], row["events"], row["censored"]) == (4, 3, 1)
    assert row["median_days"] == 110


# --------------------------------------------------------------------------- safety


@pytest.fixture(scope="module")
def side_effect_clinic() -> Warehouse:
    """Sertraline episodes from day 0 (90-day fills):
    P1 visit day 10; nausea_gi (mild) reported day 20 naming sertraline, action dose_reduced
    P2 visit day 10; no report
    P3 no visit in [0, 90]; sedation (moderate) reported day 5, no drug named, no action
    P4 visit day 40; sexual_dysfunction (severe) day 30 naming sertraline, action discontinued
    """
    warehouse = Warehouse()
    for patient in ("P1", "P2", "P3", "P4"):
        warehouse.patient(patient)
        warehouse.fill(patient, "sertraline", 0, 90)
    warehouse.visit("P1", 10)
    warehouse.visit("P2", 10)
    warehouse.visit("P4", 40)
    warehouse.add("side_effects", patient_id="P1", report_date=dt.date(2024, 1, 21),
                  effect="nausea_gi", severity="mild", drug="sertraline", action="dose_reduced")
    warehouse.add("side_effects", patient_id="P3", report_date=dt.date(2024, 1, 6),
                  effect="sedation", severity="moderate")
    warehouse.add("side_effects", patient_id="P4", report_date=dt.date(2024, 1, 31),
                  effect="sexual_dysfunction", severity="severe", drug="sertraline",
                  action="discontinued")
    warehouse.build()
    return warehouse


def test_side_effects_by_hand(side_effect_clinic):
    row = _metric(side_effect_clinic, "side_effects")
    # 4 episodes; with a visit in [0, 90]: P1, P2, P4 (reviewed); with a report among them: P1, P4
    # -> 2 of 3; with a report at all: P1, P3, P4 -> 3 of 4 episodes
    assert (row["episodes"], row["numerator"], row["denominator"]) == (4, 2, 3)
    assert row["rate"] == pytest.approx(2 / 3)
    assert row["rate_all_episodes"] == pytest.approx(3 / 4)


def test_side_effects_of_one_code_and_a_minimum_severity_by_hand(side_effect_clinic):
    # only nausea_gi: P1 among the 3 reviewed
    row = _metric(side_effect_clinic, "side_effects", effect_code="nausea_gi")
    assert (row["numerator"], row["denominator"]) == (1, 3)
    # moderate or worse: P4's severe report among the reviewed (P3's moderate one was not reviewed)
    row = _metric(side_effect_clinic, "side_effects", min_severity="moderate")
    assert (row["numerator"], row["denominator"]) == (1, 3)


def test_side_effect_severity_and_actions_by_hand(side_effect_clinic):
    severity = {r["severity"]: r for r in queries.metric(
        side_effect_clinic.con, "side_effect_severity", min_cell=0).frame.iter_rows(named=True)}
    # three reports, each attributed to one antidepressant episode: one of each severity
    assert {k: (v["drug_class"], v["reports"]) for k, v in severity.items()} == {
        "mild": ("antidepressant", 1), "moderate": ("antidepressant", 1),
        "severe": ("antidepressant", 1)}
    actions = {r["action"]: r["reports"] for r in queries.metric(
        side_effect_clinic.con, "side_effect_actions", min_cell=0).frame.iter_rows(named=True)}
    # P1 dose_reduced, P4 discontinued, P3 sent no action: not_recorded
    assert actions == {"dose_reduced": 1, "discontinued": 1, "not_recorded": 1}


def test_safety_flags_by_hand():
    # PHQ-9 scores with item 9 on day 0. Follow-up (DOMAIN 13.3): a C-SSRS or a visit in [0, +1]
    # days. P1 item 9 = 1, a visit on day 1 (the window's last day): followed up. P2 item 9 = 2,
    # a visit on day 2 (a day late): not. P5 item 9 = 3, a C-SSRS the same day: followed up.
    # P3 item 9 = 0 (not positive); P4 item 9 not recorded (not in the denominator).
    # P6 item 9 = 1 on day 730, the data end: its window [730, 731] is still open, so it is
    # maturing, a positive screen but not an evaluable one.
    # Scores with item 9: 5; positive: P1, P2, P5, P6 -> 4 of 5; evaluable positives: P1, P2, P5;
    # followed up: P1, P5 -> 2 of the 3 evaluable.
    # With a 2-day window (--set item9_followup_days=2) P2 is followed up too: 3 of 3.
    warehouse = Warehouse()
    for patient, item_9 in (("P1", 1), ("P2", 2), ("P3", 0), ("P4", None), ("P5", 3)):
        warehouse.patient(patient)
        warehouse.score(patient, 0, 12, item_9=item_9)
    warehouse.patient("P6")
    warehouse.score("P6", 730, 12, item_9=1)
    warehouse.visit("P1", 1)
    warehouse.visit("P2", 2)
    warehouse.score("P5", 0, 10, instrument="C-SSRS")
    warehouse.build()
    row = _metric(warehouse, "safety_flags")
    assert (row["numerator"], row["denominator"]) == (4, 5)
    assert row["rate"] == pytest.approx(4 / 5)
    assert (row["evaluable"], row["followed_up"]) == (3, 2)
    assert row["rate_followed_up"] == pytest.approx(2 / 3)
    wider = _metric(warehouse, "safety_flags", item9_followup_days=2)
    assert (wider["evaluable"], wider["followed_up"]) == (3, 3)
    assert wider["rate_followed_up"] == pytest.approx(1.0)


def _measure(warehouse: Warehouse, patient: str, on: int, measure: str, value: float) -> None:
    warehouse.add("measurements", patient_id=patient, measured_date=day(on), measure=measure,
                  value=value)


def test_weight_change_12w_by_hand():
    # aripiprazole episodes from day 0. Baseline = latest weight in [-90, +30], follow-up = latest
    # in [+56, +140]:
    # P1 70 kg (day -10) -> 77 kg (day 84): +7 kg, a 10% gain (>= 7%)
    # P2 80 kg (day 0) and 81 kg (day 20, the latest baseline) -> 83 kg (day 100): +2 kg, 2.5%
    # P3 60 kg (day 0), no follow-up weight: a unit with a baseline weight, no change
    # P4 no weight at all: not a unit
    # mean change of the completers (P1, P2) = 4.5 kg; sd = sqrt((2.5^2 + 2.5^2) / 1)
    warehouse = Warehouse()
    for patient in ("P1", "P2", "P3", "P4"):
        warehouse.patient(patient)
        warehouse.fill(patient, "aripiprazole", 0, 150)
    _measure(warehouse, "P1", -10, "weight_kg", 70)
    _measure(warehouse, "P1", 84, "weight_kg", 77)
    _measure(warehouse, "P2", 0, "weight_kg", 80)
    _measure(warehouse, "P2", 20, "weight_kg", 81)
    _measure(warehouse, "P2", 100, "weight_kg", 83)
    _measure(warehouse, "P3", 0, "weight_kg", 60)
    warehouse.build()
    row = _metric(warehouse, "weight_change_12w")
    assert (row["with_baseline_weight"], row["n"], row["gained_7pct"]) == (3, 2, 1)
    assert row["mean"] == pytest.approx(4.5)
    assert row["sd"] == pytest.approx(math.sqrt(12.5))


def test_metabolic_monitoring_by_hand():
    # antipsychotic episodes; baseline tests in [-90, +30], early glucose in [+56, +140];
    # data end 31 Dec 2025 (day 730), so an episode must start by day 590 to be observed 140 days
    # P1 aripiprazole day 0: glucose day -10, LDL day 20 (baseline both), HbA1c day 60 (early)
    # P2 quetiapine day 0: glucose day 0 only (baseline glucose, no lipids)
    # P3 haloperidol day 0: no test
    # P4 aripiprazole day 650: not observed to day 140 (650 + 140 > 730)
    # P5 sertraline day 0 with both tests: not an antipsychotic episode, not counted
    # observed 3 (P1-P3): both 1/3, glucose 2/3, lipids 1/3, early glucose 1/3
    warehouse = Warehouse()
    for patient, drug, start in (("P1", "aripiprazole", 0), ("P2", "quetiapine", 0),
                                 ("P3", "haloperidol", 0), ("P4", "aripiprazole", 650),
                                 ("P5", "sertraline", 0)):
        warehouse.patient(patient)
        warehouse.fill(patient, drug, start, 60)
    _measure(warehouse, "P1", -10, "glucose_mg_dl", 95)
    _measure(warehouse, "P1", 20, "ldl_mg_dl", 120)
    _measure(warehouse, "P1", 60, "hba1c_pct", 5.6)
    _measure(warehouse, "P2", 0, "glucose_mg_dl", 101)
    _measure(warehouse, "P5", 0, "glucose_mg_dl", 90)
    _measure(warehouse, "P5", 0, "ldl_mg_dl", 100)
    warehouse.build()
    row = _metric(warehouse, "metabolic_monitoring")
    assert (row["episodes"], row["not_observed"], row["observed"]) == (4, 1, 3)
    assert (row["numerator"], row["denominator"]) == (1, 3)
    assert row["rate_baseline_glucose"] == pytest.approx(2 / 3)
    assert row["rate_baseline_lipids"] == pytest.approx(1 / 3)
    assert row["rate_early_glucose"] == pytest.approx(1 / 3)


def test_outreach_list_by_hand(fills_clinic):
    # class-level PDC below 0.80 in 2024: P1 only (90/366); P2 is at 1; P3 and P4 have no PDC
    rows = queries.run(fills_clinic.con, "outreach_list").to_dicts()
    assert [(r["patient_id"], r["drug_class"], r["measurement_year"], r["covered_days"],
             r["denominator_days"], r["fills"]) for r in rows] == [
        ("P1", "antidepressant", 2024, 90, 366, 3)]
    assert rows[0]["pdc"] == pytest.approx(90 / 366)


def test_active_patients_by_hand():
    # period days 10..50. P1 sertraline days 0..29 (active), P2 sertraline days 100..129 (after),
    # P3 sertraline and lorazepam days 0..29 (two active episodes, one patient)
    warehouse = Warehouse()
    for patient in ("P1", "P2", "P3"):
        warehouse.patient(patient)
    warehouse.fill("P1", "sertraline", 0, 30)
    warehouse.fill("P2", "sertraline", 100, 30)
    warehouse.fill("P3", "sertraline", 0, 30)
    warehouse.fill("P3", "lorazepam", 0, 30)
    warehouse.build()
    row = _metric(warehouse, "active_patients", filters={"start_date": day(10), "end_date": day(50)})
    assert (row["patients"], row["active_episodes"]) == (2, 3)


def test_side_effect_heatmap_by_hand(side_effect_clinic):
    frame = queries.metric(side_effect_clinic.con, "side_effect_heatmap", min_cell=0).frame
    cells = {r["effect_code"]: (r["numerator"], r["denominator"]) for r in frame.iter_rows(named=True)
             if r["drug"] == "sertraline"}
    # sertraline episodes with a visit in [0, 90]: P1, P2, P4 (3). nausea_gi: P1; sexual
    # dysfunction: P4. P3's sedation report has no reviewed episode behind it: 0 of 3 if shown
    assert cells["nausea_gi"] == (1, 3)
    assert cells["sexual_dysfunction"] == (1, 3)
    assert cells.get("sedation", (0, 3)) == (0, 3)


@pytest.fixture(scope="module")
def switching_clinic() -> Warehouse:
    """P1 sertraline days 0..89, then escitalopram from day 80 (days 80..169): a switch (10 days
    of overlap, under the 30-day combination window); escitalopram is not a new user (an SSRI in
    the 105 days before). P2 sertraline days 0..179 with aripiprazole added on day 60 (60..149),
    sertraline going on 120 days more: an augmentation. P3 lithium from day 700 (60 days): its
    supply plus 30 days' grace passes the data end (day 730), so not discontinued."""
    warehouse = Warehouse()
    for patient in ("P1", "P2", "P3"):
        warehouse.patient(patient)
    warehouse.fill("P1", "sertraline", 0, 90)
    warehouse.fill("P1", "escitalopram", 80, 90)
    warehouse.fill("P2", "sertraline", 0, 180)
    warehouse.fill("P2", "aripiprazole", 60, 90)
    warehouse.fill("P3", "lithium", 700, 60)
    warehouse.build()
    return warehouse


def test_episodes_by_hand(switching_clinic):
    row = _metric(switching_clinic, "episodes")
    # 5 episodes of 3 patients; new users: all but escitalopram (4); one switch (P1's
    # sertraline), one augmentation (P2's aripiprazole); discontinued: all but lithium (4)
    assert (row["episodes"], row["patients"], row["new_user_episodes"]) == (5, 3, 4)
    assert (row["switched"], row["augmentations"], row["discontinued"]) == (1, 1, 4)


def test_regimens_by_hand(switching_clinic):
    frame = queries.metric(switching_clinic.con, "regimens", min_cell=0).frame
    rows = {r["regimen"]: (r["episodes"], r["patients"], r["ingredients"], r["drug_classes"])
            for r in frame.iter_rows(named=True)}
    # a regimen is the drug plus every other overlapping it for >= 30 days: aripiprazole ran
    # with sertraline (90 days together); P1's two SSRIs overlapped 10 days only
    assert rows == {
        "sertraline": (2, 2, 1, 1),
        "escitalopram": (1, 1, 1, 1),
        "aripiprazole+sertraline": (1, 1, 2, 2),
        "lithium": (1, 1, 1, 1),
    }


def test_score_trajectory_by_hand(phq9_clinic):
    frame = queries.metric(phq9_clinic.con, "score_trajectory", min_cell=0).frame
    weeks = {r["week_since_start"]: (r["n"], r["mean_score"]) for r in frame.iter_rows(named=True)}
    # eligible episodes P1, P2, P3, P5 (P4 ineligible, P6 without baseline). Week 0 (day 0):
    # 16, 20, 12, 14 -> mean 15.5; week 12 (day 84): 4, 12, 5 -> mean 7
    assert weeks == {0: (4, pytest.approx(15.5)), 12: (3, pytest.approx(7))}


def test_pathways_by_hand(switching_clinic):
    frame = queries.metric(switching_clinic.con, "pathways", min_cell=0).frame
    rows = {(r["drug_class"], r["line"]): (r["episodes"], r["patients"], r["switched"],
                                           r["augmented"], r["median_days_on_line"])
            for r in frame.iter_rows(named=True)}
    # no diagnoses: every row is diagnosis group 'unknown'. Antidepressant line 1: P1's and
    # P2's sertraline (90 and 180 days on treatment -> median 135), P1's ended in a switch.
    # Line 2: P1's escitalopram (90 days). Antipsychotic line 1: P2's aripiprazole, itself the
    # augmentation (an added drug of another class, as the episodes metric counts it), 90 days.
    # Mood stabiliser line 1: P3's lithium, observed from day 700 to the data end (day 730): 31
    assert rows == {
        ("antidepressant", "1"): (2, 2, 1, 0, 135.0),
        ("antidepressant", "2"): (1, 1, 0, 0, 90.0),
        ("antipsychotic", "1"): (1, 1, 0, 1, 90.0),
        ("mood_stabiliser", "1"): (1, 1, 0, 0, 31.0),
    }


def test_pathway_transitions_by_hand(switching_clinic):
    frame = queries.metric(switching_clinic.con, "pathway_transitions", min_cell=0).frame
    rows = {(r["from_line"], r["from_class"], r["to_class"]): (r["patients"], r["switched"], r["added"],
                                                                r["median_days_to_next"])
            for r in frame.iter_rows(named=True)}
    # P1: sertraline (line 1) -> escitalopram switched in on day 80 (line 2) -> none
    # P2: sertraline (line 1) -> aripiprazole added on day 60 (line 2) -> none
    # P3: lithium (line 1) -> none
    assert rows == {
        (1, "antidepressant", "antidepressant"): (1, 1, 0, 80.0),
        (1, "antidepressant", "antipsychotic"): (1, 0, 1, 60.0),
        (1, "mood_stabiliser", "none"): (1, 0, 0, None),
        (2, "antidepressant", "none"): (1, 0, 0, None),
        (2, "antipsychotic", "none"): (1, 0, 0, None),
    }


def test_scale_completeness_by_hand(phq9_clinic):
    frame = queries.metric(phq9_clinic.con, "scale_completeness", min_cell=0).frame
    phq9 = next(r for r in frame.iter_rows(named=True) if r["instrument"] == "PHQ-9")
    # PHQ-9 scores: two each for P1-P4, one each for P5 and P6 = 10, of 6 patients, all on days
    # 0 or 84 of a 120-day episode (10 in an episode); no item 9 sent. Episodes: 6, with a
    # baseline P1-P5 (5), with both scores P1-P4 (4)
    assert (phq9["scores"], phq9["patients"], phq9["scores_in_episode"], phq9["with_item_9"]) == (10, 6, 10, 0)
    assert (phq9["episodes"], phq9["episodes_with_baseline"], phq9["episodes_with_both"]) == (6, 5, 4)
    assert phq9["share_in_episode"] == pytest.approx(1.0)
    assert phq9["share_with_baseline"] == pytest.approx(5 / 6)


# --------------------------------------------------------------------------- data quality


@pytest.fixture(scope="module")
def loaded_fixtures(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The hand-made extracts of tests/fixtures/ingest loaded with the real pipeline: ``good``
    with grace_days = 7 in its config, and ``bad_rows`` (rejects) without models."""
    import duckdb
    from conftest import REPO

    from pipelines.ingest import ingest

    folder = tmp_path_factory.mktemp("dq")
    config = folder / "outcomes.toml"
    config.write_text("[definitions]\ngrace_days = 7\n", encoding="utf-8")
    good = ingest(REPO / "tests" / "fixtures" / "ingest" / "good", folder / "good.duckdb",
                  config_path=config)
    # the planted bad rows are most of each table: past the 5% threshold by design
    bad = ingest(REPO / "tests" / "fixtures" / "ingest" / "bad_rows", folder / "bad.duckdb",
                 run_models=False, overrides={"max_reject_share": 1})
    assert good.status == "ok" and bad.status == "ok", (good, bad)
    cons = {name: duckdb.connect(str(folder / f"{name}.duckdb"), read_only=True) for name in ("good", "bad")}
    yield cons
    for con in cons.values():
        con.close()


def test_unmapped_drugs_by_hand(loaded_fixtures):
    rows = queries.metric(loaded_fixtures["good"], "unmapped_drugs", min_cell=0).frame.to_dicts()
    # the good extract prescribes "Glorbazine 10 mg" once (RX003): no psychiatric ingredient
    assert [(r["drug_as_written"], r["tables"], r["affected_rows"]) for r in rows] == [
        ("Glorbazine 10 mg", "prescriptions", 1)]


def test_definitions_in_force_by_hand(loaded_fixtures):
    rows = {r["key"]: (r["value"], r["is_default"]) for r in queries.metric(
        loaded_fixtures["good"], "definitions_in_force", min_cell=0).frame.iter_rows(named=True)}
    # grace_days was set to 7 in the file; the washout was left at its default of 105 days
    assert rows["grace_days"] == ("7", False)
    assert rows["washout_days"] == ("105", True)


def test_data_freshness_by_hand(loaded_fixtures):
    (row,) = queries.metric(loaded_fixtures["good"], "data_freshness", min_cell=0).frame.to_dicts()
    # the good extract's events run from 10 January to 1 March 2024
    assert (str(row["data_start_on"]), str(row["data_end_on"])) == ("2024-01-10", "2024-03-01")


def test_rejects_by_reason_by_hand(loaded_fixtures):
    rows = {(r["table_name"], r["column_name"], r["reason_code"]): (r["rejected_rows"], r["first_line"])
            for r in queries.metric(loaded_fixtures["bad"], "rejects_by_reason", min_cell=0).frame.iter_rows(named=True)}
    # assessments.csv: PHQ-9 28 (line 3, above 27) and CGI-S 0 (line 4, below 1) are out of range
    assert rows[("assessments", "total_score", "score_out_of_range")] == (2, 3)
