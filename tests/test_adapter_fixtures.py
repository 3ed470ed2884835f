"""Adapters on hand-made fixtures (tests/fixtures/adapters): every expected value is by hand."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.adapters import AdapterError, detect, to_contract
from pipelines.adapters.common import AdapterReport, Surrogates, rebase_dates
from pipelines.contract import TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"


def mapped(tmp_path: Path, name: str, kind: str) -> tuple[Path, AdapterReport]:
    out = tmp_path / name
    return out, to_contract(FIXTURES / name, kind, out)


def read(out: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(out / f"{table}.csv", infer_schema=False)


@pytest.mark.parametrize("name,kind", [("omop_mini", "omop"), ("fhir_ndjson", "fhir"),
                                       ("fhir_bundle", "fhir"), ("synthea_mini", "synthea")])
def test_every_contract_table_is_written_with_exactly_the_contract_columns(tmp_path, name, kind):
    assert detect(FIXTURES / name) == kind
    out, _ = mapped(tmp_path, name, kind)
    for table in TABLES.values():
        assert read(out, table.name).columns == list(table.column_names)


def test_detect_rejects_unknown_and_ambiguous_folders(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(AdapterError, match="not recognised"):
        detect(tmp_path)
    shutil.copytree(FIXTURES / "omop_mini", tmp_path / "omop")
    shutil.copytree(FIXTURES / "fhir_ndjson", tmp_path / "fhir")
    with pytest.raises(AdapterError, match="ambiguous"):
        detect(tmp_path)
    assert detect(FIXTURES / "fhir_bundle" / "bundle.json") == "fhir"


# --- OMOP ---------------------------------------------------------------------------------

def test_omop_surrogates_follow_sorted_source_ids_and_never_copy_them(tmp_path):
    out, _ = mapped(tmp_path, "omop_mini", "omop")
    patients = read(out, "patients")
    # "-9066461348710750663" sorts before "8805478484003283429" as text: P000001 is the woman.
    assert patients.rows() == [("P000001", "1950", "F", "S000001"),
                               ("P000002", "1971", "M", None)]
    written = "".join(p.read_text() for p in out.glob("*.csv"))
    assert "9066461348710750663" not in written and "8805478484003283429" not in written


def test_omop_reload_gives_identical_files(tmp_path):
    first, _ = mapped(tmp_path / "a", "omop_mini", "omop")
    second, _ = mapped(tmp_path / "b", "omop_mini", "omop")
    for table in TABLES:
        assert (first / f"{table}.csv").read_text() == (second / f"{table}.csv").read_text()


def test_omop_future_dates_rebased_by_whole_weeks_keeping_intervals(tmp_path):
    out, report = mapped(tmp_path, "omop_mini", "omop")
    assert report.date_shifted is True
    assert report.deployment["date_rebase_strategy"] == "whole_source"
    shift = int(report.deployment["date_rebase_days_min"])
    assert shift % 7 == 0
    visits = read(out, "visits")
    # Source 2150-01-10, 2150-03-01 (end 2150-03-05), 2151-06-30 all move by the same days.
    expected = [(date(2150, 1, 10).toordinal() + shift), (date(2150, 3, 1).toordinal() + shift),
                (date(2151, 6, 30).toordinal() + shift)]
    assert [date.fromisoformat(d).toordinal() for d in visits["visit_date"]] == expected
    # The latest date lands in the week ending on the anchor, 2020-12-31.
    assert date(2020, 12, 25) <= date.fromisoformat(visits["visit_date"][2]) <= date(2020, 12, 31)
    assert visits["end_date"].to_list() == [None, "2019-09-05", None]  # inpatient only


def test_omop_scale_without_value_is_skipped_not_zero_and_phq2_counted(tmp_path):
    out, report = mapped(tmp_path, "omop_mini", "omop")
    assessments = read(out, "assessments")
    assert assessments.select("instrument", "total_score").rows() == [("PHQ-9", "12"),
                                                                       ("GAD-7", "4")]
    assert report.counts["skipped.scale_without_value.PHQ-9"] == 1
    assert report.counts["scales.not_contract.55758-7"] == 1


def test_omop_drugs_names_fills_and_blanked_values(tmp_path):
    out, report = mapped(tmp_path, "omop_mini", "omop")
    prescriptions = read(out, "prescriptions")
    # Concept name via CONCEPT; concept 0 named by drug_source_value (quoted, with a comma).
    assert prescriptions["drug"].to_list() == ["lorazepam 0.5 MG Oral Tablet",
                                               "Sertraline 50mg, tablet",
                                               "lorazepam 0.5 MG Oral Tablet"]
    # Quantity 0 is "not recorded"; days_supply 0 is not a supply.
    assert prescriptions["quantity"].to_list() == ["30", None, "10"]
    assert prescriptions["days_supply"].to_list() == ["30", None, None]
    # Only the pharmacy-dispensed row with a usable 30-day supply is a fill.
    assert read(out, "dispenses").select("days_supply", "quantity").rows() == [("30", "30")]
    assert report.counts["skipped.dispense_without_days_supply"] == 1


def test_omop_orphan_row_is_skipped_with_file_and_line_but_no_source_id(tmp_path):
    _, report = mapped(tmp_path, "omop_mini", "omop")
    assert report.counts["skipped.prescriptions.bad_patient_id"] == 1
    [reject] = [r for r in report.rejects if r.table_name == "prescriptions"]
    assert (reject.source_file, reject.line, reject.column_name) == ("DRUG_EXPOSURE.csv", 5,
                                                                      "person_id")
    assert reject.value is None  # a source key is never copied into meta.rejects


def test_omop_missing_optional_tables_and_header_only_provider_are_reported(tmp_path):
    _, report = mapped(tmp_path, "omop_mini", "omop")
    assert "table condition_occurrence absent: nothing mapped from it" in report.notes
    assert report.counts["source_rows.provider"] == 0
    assert report.counts["visits.unmapped_visit_type"] == 1


def test_omop_folder_without_person_is_a_clear_error(tmp_path):
    shutil.copy(FIXTURES / "omop_mini" / "DRUG_EXPOSURE.csv", tmp_path)
    with pytest.raises(AdapterError, match="no OMOP person table"):
        to_contract(tmp_path, "omop", tmp_path / "out")


# --- FHIR ---------------------------------------------------------------------------------

def test_fhir_malformed_line_is_named_and_skipped(tmp_path):
    _, report = mapped(tmp_path, "fhir_ndjson", "fhir")
    assert report.counts["fhir.malformed_json"] == 1
    assert any(n.startswith("Observation.ndjson line 3: not valid JSON") for n in report.notes)
    [reject] = report.rejects
    assert (reject.source_file, reject.line, reject.reason_code) == ("Observation.ndjson", 3,
                                                                      "malformed_json")


def test_fhir_unknown_types_and_entered_in_error_are_counted_not_errors(tmp_path):
    _, report = mapped(tmp_path, "fhir_ndjson", "fhir")
    assert report.counts["skipped.fhir_resource_type"] == 1  # Basic
    assert report.counts["skipped.fhir_entered_in_error.Observation"] == 1


def test_fhir_local_calendar_date_and_scales(tmp_path):
    out, report = mapped(tmp_path, "fhir_ndjson", "fhir")
    # 2023-03-01T23:30:00-08:00 is 2023-03-02 in UTC; the local date as written is kept.
    assert read(out, "assessments").select("assessment_date", "instrument", "total_score") \
        .rows() == [("2023-03-01", "PHQ-9", "14")]
    assert report.counts["skipped.scale_without_value.GAD-7"] == 1
    assert read(out, "measurements").select("measure", "value").rows() == [
        ("systolic_bp_mmhg", "128"), ("diastolic_bp_mmhg", "82")]  # from components


def test_fhir_medications_side_effects_and_identifiers_not_read(tmp_path):
    out, _ = mapped(tmp_path, "fhir_ndjson", "fhir")
    # RxNorm ingredient 36437 is sertraline in pipelines/reference/drugs.csv.
    assert read(out, "prescriptions").select("drug", "start_date", "days_supply", "refills") \
        .rows() == [("sertraline", "2023-03-01", "30", "2")]
    assert read(out, "dispenses").select("drug", "dispense_date").rows() == [
        ("Zoloft 50 mg tablet", "2023-03-02")]
    assert read(out, "side_effects").select("effect", "severity", "drug").rows() == [
        ("nausea", "mild", "sertraline")]
    written = "".join(p.read_text() for p in out.glob("*.csv"))
    for identifying in ("Doe", "Jane", "Main St", "02139", "pat-b", "enc-1", "pr-1"):
        assert identifying not in written


def test_fhir_bundle_resolves_urn_references_and_prefers_icd10(tmp_path):
    out, _ = mapped(tmp_path, "fhir_bundle", "fhir")
    assert read(out, "diagnoses").rows() == [("P000001", "2022-11-05", "F33.1", "V000001")]
    assert read(out, "visits").select("visit_type").item() == "telehealth"
    assert read(out, "patients").rows() == [("P000001", "2008", "X", None)]
    assert "MRN-0042" not in "".join(p.read_text() for p in out.glob("*.csv"))


def test_fhir_file_names_that_could_carry_a_name_are_not_repeated(tmp_path):
    source = tmp_path / "export"
    source.mkdir()
    (source / "Jane_Doe_bundle.json").write_text('{"resourceType": "Bundle", "entry": [')
    shutil.copy(FIXTURES / "fhir_bundle" / "bundle.json", source / "b.json")
    report = to_contract(source, "fhir", tmp_path / "out")
    assert report.counts["fhir.malformed_json"] == 1
    assert not any("Jane" in n for n in report.notes)
    assert any("sha256" in r.source_file for r in report.rejects)


# --- Synthea ------------------------------------------------------------------------------

def test_synthea_identifying_columns_dropped_and_summarised(tmp_path):
    out, report = mapped(tmp_path, "synthea_mini", "synthea")
    assert report.deid_mode == "synthetic"
    note = next(n for n in report.notes if "identifying columns dropped" in n)
    assert "SSN" in note and "ADDRESS" in note and "BIRTHDATE kept as birth year only" in note
    written = "".join(p.read_text() for p in out.glob("*.csv"))
    for value in ("999-12-3456", "Testy123", "12 Elm Road", "01103", "1970-06-15", "b-uuid"):
        assert value not in written
    assert read(out, "patients").sort("patient_id").rows() == [("P000001", "2007", "F", None),
                                                              ("P000002", "1970", "M", None)]


def test_synthea_units_and_non_integral_scores(tmp_path):
    out, report = mapped(tmp_path, "synthea_mini", "synthea")
    assert report.counts["skipped.measure_unit.weight_kg"] == 1  # pounds are not kilograms
    assert read(out, "measurements").select("measure", "value").rows() == [("weight_kg", "81.6")]
    # 7.5 is passed on as written so the loader rejects it with its own reason and line.
    assert read(out, "assessments").select("instrument", "total_score").rows() == [
        ("PHQ-A", "11"), ("PHQ-9", "7.5")]
    assert "conditions.csv absent: nothing mapped from it" in report.notes


# --- shared pieces ------------------------------------------------------------------------

def test_surrogates_are_sequential_in_sorted_order_and_assigned_once():
    ids = Surrogates()
    ids.assign("patient", pl.Series(["b", "a", "c", None, "a"]))
    assert ids.lookup("patient", pl.Series(["c", "a", "zz"])).to_list() == [
        "P000003", "P000001", None]
    with pytest.raises(ValueError, match="already assigned"):
        ids.assign("patient", pl.Series(["d"]))


def test_rebase_per_patient_when_one_shift_cannot_fit_after_1900():
    frames = {
        "patients": pl.DataFrame({"patient_id": ["P1", "P2"], "birth_year": [1850, 2100]}),
        "visits": pl.DataFrame({"patient_id": ["P1", "P1", "P2"],
                                "visit_date": [date(2001, 1, 1), date(2001, 1, 15),
                                               date(2190, 6, 1)]}),
    }
    report = AdapterReport(kind="omop")
    rebased = rebase_dates(frames, report, today=date(2025, 1, 1))
    assert report.deployment["date_rebase_strategy"] == "per_patient"
    visits = rebased["visits"]["visit_date"].to_list()
    assert (visits[1] - visits[0]).days == 14  # P1's interval kept
    assert all(date(2020, 12, 25) <= d <= date(2020, 12, 31) for d in (visits[1], visits[2]))


def test_rebase_leaves_a_source_without_future_dates_alone():
    frames = {"visits": pl.DataFrame({"patient_id": ["P1"], "visit_date": [date(2024, 12, 31)]})}
    report = AdapterReport(kind="fhir")
    assert rebase_dates(frames, report, today=date(2025, 1, 1))["visits"].equals(frames["visits"])
    assert report.date_shifted is False
