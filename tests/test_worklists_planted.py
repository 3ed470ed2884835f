"""On a small generated clinic with planted worklist cases, every planted case is found with the
rows its manifest promises, the planted controls are on no list, and every other row is
explained by the rule: each is re-checked here against the raw extract in plain Python (shifted
fill coverage, scores, visits and tests as sent), without the warehouse's SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest

from pipelines.definitions import Definitions
from pipelines.reference import drug_table, normalise_drug_names
from queries.worklist import WORKLISTS, run_worklist

PATIENTS, SEED = 300, 7
END = dt.date(2025, 12, 31)
DATE = r"(\d{4}-\d{2}-\d{2})"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    import duckdb

    from pipelines.ingest import ingest
    from synthetic.generator import generate

    folder = tmp_path_factory.mktemp("planted")
    extract = folder / "clinic"
    generate(PATIENTS, SEED, extract, end=END, worklist_cases=True)
    summary = ingest(extract, folder / "outcomes.duckdb")
    assert summary.status == "ok" and summary.rows_rejected == 0, summary
    manifest = json.loads((extract / "worklist_cases.json").read_text())
    with duckdb.connect(str(folder / "outcomes.duckdb"), read_only=True) as con:
        rows = {name: run_worklist(con, name, definitions=Definitions()).frame.to_dicts()
                for name in WORKLISTS}
    return extract, manifest, rows


def _raw(extract: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(extract / f"{table}.csv", try_parse_dates=True, infer_schema_length=None)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def assert_planted_cases_listed(manifest: dict, rows: dict[str, list[dict]]) -> None:
    """Every planted case gives exactly the ``(worklist, reason, drug, days_overdue)`` rows of
    its manifest entry (none for a control); ``rows`` holds each worklist's rows."""
    for case_id, case in manifest["cases"].items():
        found = sorted((name, r["reason"], r["drug"], r["days_overdue"])
                       for name, listed in rows.items() for r in listed
                       if r["patient_id"] == case["patient_id"])
        expected = sorted((case["worklist"], r["reason"], r["drug"], r["days_overdue"])
                          for r in case["rows"])
        assert found == expected, (case_id, case["rule"])


@pytest.mark.slow
def test_every_planted_case_is_found_and_controls_are_on_no_list(clinic):
    _, manifest, rows = clinic
    assert manifest["as_of"] == END.isoformat()
    assert_planted_cases_listed(manifest, rows)
    # every worklist has at least one planted case
    assert {c["worklist"] for c in manifest["cases"].values()} - {None} == set(WORKLISTS)


def _coverage(fills: pl.DataFrame) -> list[tuple[dt.date, dt.date]]:
    """Shifted coverage of one ingredient (DOMAIN 5.2): a fill starts after earlier supply."""
    intervals, end = [], None
    for on, supply in fills.sort(["dispense_date", "dispense_id"]).select(
            "dispense_date", "days_supply").iter_rows():
        start = on if end is None or on > end else end + dt.timedelta(days=1)
        end = start + dt.timedelta(days=supply - 1)
        intervals.append((start, end))
    return intervals


def _covered_days(intervals, first: dt.date, last: dt.date) -> int:
    days = set()
    for start, end in intervals:
        day = max(start, first)
        while day <= min(end, last):
            days.add(day)
            day += dt.timedelta(days=1)
    return len(days)


@pytest.mark.slow
def test_every_other_row_is_explained_by_its_rule(clinic):
    extract, _, rows = clinic
    dispenses = _raw(extract, "dispenses").with_columns(
        normalise_drug_names(_raw(extract, "dispenses")["drug"]).alias("ingredient"))
    classes = dict(drug_table().select("ingredient", "drug_subclass").iter_rows())
    assessments = _raw(extract, "assessments")
    visits = _raw(extract, "visits")
    measurements = _raw(extract, "measurements")
    natural = {name: [r for r in listed if not r["patient_id"].startswith("PW")]
               for name, listed in rows.items()}
    assert natural["adherence-drop"] and natural["overdue-monitoring"]  # the clinic is not empty

    def fills(patient, ingredient, since=None):
        found = dispenses.filter((pl.col("patient_id") == patient)
                                 & (pl.col("ingredient") == ingredient)
                                 & (pl.col("dispense_date") <= END))
        return found.filter(pl.col("dispense_date") >= since) if since else found

    for r in natural["adherence-drop"]:
        since = _d(re.search(rf"since {DATE}", r["facts"]).group(1))
        intervals = _coverage(fills(r["patient_id"], r["drug"], since))
        grace = 60 if r["drug_class"] == "antipsychotic" else 30
        without = (END - max(e for _, e in intervals)).days  # days without supply (<0: covered)
        if r["reason"] == "fill overdue":
            assert grace < without <= grace + 90 and r["days_overdue"] == without, r
        else:
            window = _covered_days(intervals, END - dt.timedelta(days=89), END)
            assert without <= grace and (END - since).days + 1 >= 90, r
            assert window / 90 < 0.80 and r["pdc"] == pytest.approx(window / 90), r

    phq = assessments.filter(pl.col("instrument").is_in(["PHQ-9", "PHQ-A"]))
    for r in natural["not-on-track"]:
        score, on, day, baseline, baseline_on = re.search(
            rf"PHQ-9 (\d+) on {DATE} \(day (\d+)\) against baseline (\d+) on {DATE}",
            r["facts"]).groups()
        score, day, baseline = int(score), int(day), int(baseline)
        mine = phq.filter(pl.col("patient_id") == r["patient_id"])
        assert mine.filter((pl.col("assessment_date") == _d(on))
                           & (pl.col("total_score") == score)).height, r
        assert mine.filter((pl.col("assessment_date") == _d(baseline_on))
                           & (pl.col("total_score") == baseline)).height, r
        assert baseline >= 10, r
        if r["reason"] == "early non-improvement":
            assert 10 <= day <= 35 and 5 * (baseline - score) < baseline, r
        else:
            assert 35 <= day <= 63 and 4 * (baseline - score) < baseline, r

    for r in natural["item9-follow-up"]:
        screen = r["trigger_on"]
        assert assessments.filter((pl.col("patient_id") == r["patient_id"])
                                  & (pl.col("assessment_date") == screen)
                                  & (pl.col("item_9") > 0)).height, r
        window = pl.col("visit_date").is_between(screen, screen + dt.timedelta(days=1))
        assert visits.filter((pl.col("patient_id") == r["patient_id"]) & window).height == 0, r

    groups = pl.read_csv(Path(__file__).resolve().parents[1] / "pipelines" / "reference"
                         / "monitoring_tests.csv")
    for r in natural["overdue-monitoring"]:
        measures = groups.filter(pl.col("test_group") == r["test_group"])["measure"].to_list()
        tests = measurements.filter((pl.col("patient_id") == r["patient_id"])
                                    & pl.col("measure").is_in(measures))
        weekly = r["due_on"] - r["trigger_on"] == dt.timedelta(days=7)
        grace = 30 if r["drug"] != "clozapine" else 3 if weekly else 7
        assert r["days_overdue"] == (END - r["due_on"]).days > grace, r
        if r["reason"].endswith("never done"):
            start = _d(re.search(rf"since {DATE}", r["facts"]).group(1))
            first = int(re.search(r"since day (-?\d+)", r["facts"]).group(1))
            assert tests.filter(pl.col("measured_date")
                                >= start + dt.timedelta(days=first)).height == 0, r
        else:
            # the row's last test is the latest of the group, and the interval is a schedule's
            assert tests["measured_date"].max() == r["trigger_on"], r
            assert (r["due_on"] - r["trigger_on"]).days in {7, 14, 28, 30, 91, 182, 273, 365}, r

    for r in natural["prescribing-safety"]:
        if r["reason"] == "antipsychotic polypharmacy":
            first, last, days = re.search(rf"from {DATE} to {DATE}: (\d+) days", r["facts"]).groups()
            assert int(days) == (_d(last) - _d(first)).days + 1 >= 90, r
            for drug in r["drug"].split(" + "):
                assert fills(r["patient_id"], drug).height, r
        elif r["reason"].startswith("long-term benzodiazepine"):
            benzo = dispenses.filter((pl.col("patient_id") == r["patient_id"])
                                     & (pl.col("dispense_date") <= END))
            benzo = benzo.filter(pl.col("ingredient").replace_strict(
                classes, default=None) == "benzodiazepine")
            intervals = [i for drug in benzo["ingredient"].unique()
                         for i in _coverage(benzo.filter(pl.col("ingredient") == drug))]
            assert _covered_days(intervals, END - dt.timedelta(days=364), END) >= 120, r
        else:
            assert r["reason"] == "dose above labelled maximum", r
            dose, maximum = re.search(r"([\d.]+) mg/day prescribed .* maximum ([\d.]+)",
                                      r["facts"]).groups()
            assert float(dose) > float(maximum), r
