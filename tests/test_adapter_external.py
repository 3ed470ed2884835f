"""The three public data sets in ../shared/data, through the adapters and the real loader.

Each test asserts an "Expected facts" row of ``shared/data/README.md`` (the fact id is in the
test name or a comment). The data sets are not part of the project (their licences are
their own), so these tests skip when the ``shared`` folder beside the clone is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.adapters import AdapterError, detect, to_contract

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MIMIC = DATA / "mimic-iv-demo-omop"
NJ = DATA / "synthea27nj-omop"
CA59 = DATA / "synthea-ca59"

pytestmark = [
    pytest.mark.external,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"external test data absent: {DATA} (the "
                       "shared/ folder beside the clone holds the three public data sets)"),
]

#: shared/data/README.md: what counts as a psychiatric drug (a name containing one of these).
PSYCHIATRIC = ["lorazepam", "diazepam", "clonazepam", "alprazolam", "temazepam", "chlordiazepoxide", "oxazepam", "zolpidem", "hydroxyzine", "buspirone", "trazodone", "mirtazapine", "citalopram", "escitalopram", "sertraline", "fluoxetine", "paroxetine", "venlafaxine", "duloxetine", "bupropion", "amitriptyline", "nortriptyline", "doxepin", "haloperidol", "quetiapine", "olanzapine", "risperidone", "aripiprazole", "ziprasidone", "clozapine", "chlorpromazine", "lurasidone", "lithium", "valproate", "valproic", "divalproex", "lamotrigine", "carbamazepine", "methylphenidate", "amphetamine", "atomoxetine", "donepezil", "memantine", "galantamine"]
PSYCHIATRIC_PATTERN = "(?i)" + "|".join(PSYCHIATRIC)


def read(folder: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{table}.csv", infer_schema=False)


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    """to_contract output and report per data set, built once per module."""
    results = {}
    for name, path, kind in (("mimic", MIMIC, "omop"), ("nj", NJ, "omop"),
                             ("ca59_csv", CA59 / "csv", "synthea"),
                             ("ca59_fhir", CA59 / "fhir", "fhir")):
        out = tmp_path_factory.mktemp(name)
        results[name] = (out, to_contract(path, kind, out))
    return results


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """The same four sources loaded by pipelines.ingest.ingest into real DuckDB files."""
    from pipelines.ingest import ingest

    paths = {}
    for name, path, kind in (("mimic", MIMIC, "omop"), ("nj", NJ, "omop"),
                             ("ca59_csv", CA59 / "csv", "synthea"),
                             ("ca59_fhir", CA59 / "fhir", "fhir")):
        db = tmp_path_factory.mktemp(f"wh_{name}") / "outcomes.duckdb"
        # public demo data: MIMIC's demo repeats diagnosis rows (6.4%) and has no rating scales
        summary = ingest(path, db, source_kind=kind, overrides={"max_reject_share": 1})
        assert summary.status == "ok", summary
        paths[name] = db
    return paths


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


# --- detection ---------------------------------------------------------------------------

def test_detect_each_data_set():
    assert detect(MIMIC) == "omop"  # Achilles JSON beside the CSV folder is not a FHIR export
    assert detect(NJ) == "omop"
    assert detect(CA59 / "csv") == "synthea"
    assert detect(CA59 / "fhir") == "fhir"


def test_detect_refuses_the_folder_holding_both_synthea_csv_and_fhir():
    with pytest.raises(AdapterError, match=r"ambiguous.*synthea.*fhir"):
        detect(CA59)


# --- MIMIC-IV demo (OMOP 5.3.1, real, date-shifted) --------------------------------------

def test_mimic_persons_and_drug_exposures_m1_m2_m3(mapped, warehouses):
    out, report = mapped["mimic"]
    assert read(out, "patients").height == 100
    assert read(out, "prescriptions").height == 18229
    assert read(out, "prescriptions")["patient_id"].n_unique() == 100
    assert report.counts["drug_exposure.starts_after_death"] == 2  # M15
    db = warehouses["mimic"]
    assert query(db, "select count(*) from raw.patients") == [(100,)]
    # 26 unmapped drug strings written in Title Case ("Aaaaaaaaaa Aaa") have a person's name's
    # shape: quarantined (masked, `outcomes quarantine`), not loaded (docs/privacy.md). The three
    # "Fentanyl Citrate" rows have the same shape but name a drug of the reference (fentanyl,
    # an opioid analgesic since the opioid-benzodiazepine rule), so they load.
    assert query(db, "select count(*), count(distinct patient_id) from raw.prescriptions") \
        == [(18229 - 26, 100)]
    assert query(db, "select count(*) from meta.quarantine where column_name = 'drug'") == [(26,)]
    assert query(db, "select count(*) from raw.visits") == [(852,)]


def test_mimic_treemap_names_m8_and_psychiatric_rows_m10_m11(mapped):
    out, report = mapped["mimic"]
    assert report.counts["drug_names.drug_treemap"] == 15002  # M8
    data = json.loads((MIMIC / "2_achilles_json" / "drug_treemap.json").read_text())
    treemap_names = {p.split("||")[-1] for p in data["CONCEPT_PATH"]}
    named = read(out, "prescriptions").filter(pl.col("drug").is_in(list(treemap_names)))
    lorazepam = named.filter(pl.col("drug").str.contains("(?i)lorazepam"))
    assert (lorazepam.height, lorazepam["patient_id"].n_unique()) == (224, 48)  # M10
    psychiatric = named.filter(pl.col("drug").str.contains(PSYCHIATRIC_PATTERN))
    assert (psychiatric.height, psychiatric["patient_id"].n_unique()) == (389, 67)  # M11


def test_mimic_psychiatric_ingredients_after_load(warehouses):
    rows = {k: (n, p) for k, n, p in query(
        warehouses["mimic"], "select ingredient, count(*), count(distinct patient_id) "
        "from raw.prescriptions group by 1")}
    # The 224 treemap-named lorazepam rows plus one concept-0 row named "Lorazepam" in
    # drug_source_value; persons stay 48.
    assert rows["lorazepam"] == (225, 48)
    assert rows["trazodone"] == (53, 29)
    assert rows["haloperidol"] == (33, 14)
    assert rows["quetiapine"] == (29, 14)


def test_mimic_psychiatric_diagnoses_m14(mapped):
    out, _ = mapped["mimic"]
    # Every ICD-9 290-319 code goes to an F code through the crosswalk; ICD-10 F is kept.
    psychiatric = read(out, "diagnoses").filter(pl.col("icd10_code").str.starts_with("F"))
    assert (psychiatric.height, psychiatric["patient_id"].n_unique()) == (321, 59)


def test_mimic_dates_are_rebased_and_intervals_kept(mapped):
    out, report = mapped["mimic"]
    assert report.date_shifted is True
    assert report.deployment["date_rebase_strategy"] == "per_patient"
    visits = read(out, "visits").with_columns(pl.col("visit_date").str.to_date())
    assert visits["visit_date"].max().isoformat() <= "2020-12-31"
    assert visits["visit_date"].min().year >= 1900
    source = pl.read_csv(MIMIC / "1_omop_data_csv" / "visit_occurrence.csv", infer_schema=False)
    # The span of each patient's visits (M6 range) is unchanged by the per-patient shift.
    source_spans = sorted(source.group_by("person_id").agg(
        (pl.col("visit_start_date").str.to_date().max()
         - pl.col("visit_start_date").str.to_date().min()).dt.total_days())["visit_start_date"])
    mapped_spans = sorted(visits.group_by("patient_id").agg(
        (pl.col("visit_date").max() - pl.col("visit_date").min()).dt.total_days())["visit_date"])
    assert source_spans == mapped_spans


def test_mimic_days_supply_is_empty_m16(mapped):
    out, _ = mapped["mimic"]
    assert read(out, "prescriptions")["days_supply"].null_count() == 18229


def test_mimic_ids_are_opaque_surrogates(mapped):
    out, _ = mapped["mimic"]
    patient_ids = read(out, "patients")["patient_id"]
    assert patient_ids.str.contains(r"^P[0-9]{6}$").all()
    source_ids = set(pl.read_csv(MIMIC / "1_omop_data_csv" / "person.csv",
                                 infer_schema=False)["person_id"])
    assert not source_ids & set(patient_ids)


# --- Synthea27Nj (OMOP 5.4, synthetic, scales without values) ----------------------------

def test_nj_rows_n1_and_psychiatric_drugs_n6(mapped, warehouses):
    out, report = mapped["nj"]
    assert read(out, "patients").height == 28
    prescriptions = read(out, "prescriptions")
    assert prescriptions.height == 883
    assert report.counts["drug_names.concept"] == 883  # N7: every row named via CONCEPT
    psychiatric = prescriptions.filter(pl.col("drug").str.contains(PSYCHIATRIC_PATTERN))
    assert psychiatric.height == 6  # N6
    ingredients = dict(query(warehouses["nj"], "select ingredient, count(*) from "
                             "raw.prescriptions where ingredient in ('carbamazepine', "
                             "'diazepam', 'clonazepam', 'memantine', 'galantamine') group by 1"))
    assert ingredients == {"carbamazepine": 2, "diazepam": 1, "clonazepam": 1,
                           "memantine": 1, "galantamine": 1}


def test_nj_scale_rows_without_values_are_skipped_never_zero_n3_n5(mapped, warehouses):
    out, report = mapped["nj"]
    assert report.counts["scales.not_contract.55758-7"] == 235  # PHQ-2
    assert report.counts["scales.found.GAD-7"] == 153
    assert report.counts["scales.found.PHQ-A"] == 28
    assert report.counts["scales.found.PHQ-9"] == 15
    assert report.counts["skipped.scale_without_value.GAD-7"] == 153
    assert read(out, "assessments").height == 0
    assert query(warehouses["nj"], "select count(*) from raw.assessments") == [(0,)]


def test_nj_is_synthetic_and_not_shifted(mapped):
    _, report = mapped["nj"]
    assert report.deid_mode == "synthetic"
    assert report.date_shifted is False


# --- synthea-ca59 CSV ---------------------------------------------------------------------

def test_ca59_csv_rows_s1_and_scales_s3_to_s7(mapped, warehouses):
    out, report = mapped["ca59_csv"]
    assert read(out, "patients").height == 59
    assert read(out, "visits").height == 2590
    assert read(out, "prescriptions").height == 1772
    assert report.counts["scales.not_contract.55758-7"] == 275  # S3: PHQ-2 counted, skipped
    facts = {row[0]: row[1:] for row in query(
        warehouses["ca59_csv"], "select instrument, count(*), count(distinct patient_id), "
        "sum(total_score) from raw.assessments group by 1")}
    assert facts == {"GAD-7": (212, 51, 748), "PHQ-A": (53, 13, 197), "PHQ-9": (18, 15, 197)}


def test_ca59_csv_earliest_scale_is_the_utc_date_s8(mapped):
    out, _ = mapped["ca59_csv"]
    earliest = read(out, "assessments").sort("assessment_date").row(0, named=True)
    assert (earliest["assessment_date"], earliest["instrument"], earliest["total_score"]) \
        == ("1961-12-13", "PHQ-A", "2")


def test_ca59_csv_psychiatric_medications_s9_and_open_ended_s10(mapped, warehouses):
    out, _ = mapped["ca59_csv"]
    prescriptions = read(out, "prescriptions")
    assert prescriptions.filter(pl.col("drug").str.contains(PSYCHIATRIC_PATTERN)).height == 4
    assert prescriptions["end_date"].null_count() == 122
    found = dict(query(warehouses["ca59_csv"], "select ingredient, count(*) from "
                       "raw.prescriptions where ingredient in ('diazepam', 'carbamazepine', "
                       "'galantamine', 'memantine') group by 1"))
    assert found == {"diazepam": 1, "carbamazepine": 1, "galantamine": 1, "memantine": 1}


def test_ca59_csv_identifying_columns_never_reach_the_contract(mapped):
    out, report = mapped["ca59_csv"]
    note = next(n for n in report.notes if "identifying columns dropped" in n)
    for column in ("SSN", "FIRST", "LAST", "ADDRESS", "ZIP", "PASSPORT", "DRIVERS"):
        assert column in note
    written = "".join(p.read_text() for p in out.glob("*.csv"))
    source = read(CA59 / "csv", "patients")
    # BIRTHDATE is not checked this way: a newborn's first visit is dated on the birth date.
    for column in ("SSN", "LAST", "ADDRESS", "ZIP", "Id"):
        leaked = [v for v in source[column].drop_nulls() if v in written]
        assert leaked == [], column
    patients = read(out, "patients")
    assert patients.columns == ["patient_id", "birth_year", "sex", "site_id"]
    assert sorted(patients["birth_year"]) == sorted(source["BIRTHDATE"].str.slice(0, 4))


# --- synthea-ca59 FHIR --------------------------------------------------------------------

def test_ca59_fhir_patients_s11_scales_s12_and_medication_requests_s13(mapped, warehouses):
    out, report = mapped["ca59_fhir"]
    assert report.counts["source_resources.Patient"] == 5
    assert report.counts["scales.not_contract.55758-7"] == 10
    facts = {row[0]: row[1:] for row in query(
        warehouses["ca59_fhir"], "select instrument, count(*), sum(total_score) "
        "from raw.assessments group by 1")}
    assert facts == {"GAD-7": (17, 49), "PHQ-A": (13, 69), "PHQ-9": (1, 9)}
    prescriptions = read(out, "prescriptions")
    assert prescriptions.height == 15
    psychiatric = prescriptions.filter(pl.col("drug").str.contains(PSYCHIATRIC_PATTERN)) \
        .sort("start_date")
    # Local calendar dates as written: 2015-12-26T12:17:51-08:00, 2018-04-16T11:33:27-07:00.
    assert psychiatric["start_date"].to_list() == ["2015-12-26", "2018-04-16"]


def test_ca59_fhir_matches_the_csv_for_the_same_patients_s14(mapped):
    out, report = mapped["ca59_fhir"]
    assert read(out, "visits").height == 100
    assert report.counts["source_resources.Condition"] == 71
    assert read(out, "assessments").height + 10 == 41  # 41 scale rows, 10 of them PHQ-2
    # Other resource types are counted and skipped, never an error.
    assert report.counts["skipped.fhir_resource_type"] == 732


# --- the dashboard on each adapter-loaded warehouse -----------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("source", ["mimic", "nj", "ca59_csv", "ca59_fhir"])
def test_every_dashboard_view_renders_on_each_source(monkeypatch, warehouses, source):
    from streamlit.testing.v1 import AppTest

    from dashboard.views import VIEWS

    app = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
    monkeypatch.setenv("OUTCOMES_DB", str(warehouses[source]))
    for view in VIEWS:
        at = AppTest.from_file(app, default_timeout=60)
        at.run()
        if not view.default:
            at.switch_page(view.path).run()
        assert not at.exception, (view.file, [e.message for e in at.exception])
        # A friendly error screen (no warehouse, schema mismatch) would also have no exception.
        assert not at.error, (view.file, [e.value for e in at.error])
        assert at.title, view.file
