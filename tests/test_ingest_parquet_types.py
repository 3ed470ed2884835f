"""Typed Parquet columns: lossless coercions are accepted and recorded, lossy ones rejected with
their reason, and a column type that cannot hold the contract column refuses the file naming
every such column. A float- or timestamp-typed extract never "succeeds" with all rows rejected.
"""

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import IngestError, ingest
from pipelines.thresholds import ThresholdError

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"


@pytest.fixture
def extract(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    return folder


def to_parquet(extract: Path, table: str, select: str) -> None:
    """Replace ``<table>.csv`` by a Parquet file: ``select`` over the CSV read as text."""
    csv, parquet = extract / f"{table}.csv", extract / f"{table}.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select {select} from read_csv($csv, all_varchar=true)) "  # noqa: S608
                    "to $out (format parquet)", {"csv": str(csv), "out": str(parquet)})
    csv.unlink()


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_whole_floats_load_as_integers_and_the_coercion_is_noted(extract, tmp_path):
    # the fixture's birth years: 1980, 1975, 1920 (top-coded on load), empty
    to_parquet(extract, "patients", "patient_id, cast(birth_year as DOUBLE) as birth_year, "
                                    "sex, site_id")
    db = tmp_path / "o.duckdb"
    summary = ingest(extract, db, run_models=False)
    assert rows(db, "select patient_id, birth_year from raw.patients where patient_id in "
                    "('P001', 'P002') order by 1") == [("P001", 1980), ("P002", 1975)]
    note = ("patients.parquet: birth_year is a DOUBLE column; 3 of 3 values were whole "
            "numbers, read as integers (1980.0 -> 1980)")
    assert note in summary.notes
    assert (note,) in rows(db, "select note from meta.load_notes")


def test_midnight_timestamps_load_as_dates_and_the_coercion_is_noted(extract, tmp_path):
    to_parquet(extract, "visits", "visit_id, patient_id, cast(visit_date as TIMESTAMP) as "
                                  "visit_date, clinician_id, site_id, visit_type, "
                                  "cast(end_date as TIMESTAMPTZ) as end_date")
    db = tmp_path / "o.duckdb"
    summary = ingest(extract, db, run_models=False)
    assert rows(db, "select visit_id, visit_date, end_date from raw.visits where "
                    "visit_id = 'V003'")[0][1:] == (
        rows(db, "select DATE '2024-01-15', DATE '2024-01-20'")[0])
    assert any(n.startswith("visits.parquet: visit_date is a TIMESTAMP column; 4 of 4 values "
                            "were at midnight, read as dates") for n in summary.notes)


def test_lossy_values_are_rejected_with_their_reason_not_rounded(extract, tmp_path):
    to_parquet(extract, "patients",
               "patient_id, case patient_id when 'P002' then 1975.5 else "
               "cast(birth_year as DOUBLE) end as birth_year, sex, site_id")
    to_parquet(extract, "visits",
               "visit_id, patient_id, case visit_id when 'V004' then "
               "cast(visit_date as TIMESTAMP) + INTERVAL 14 HOUR + INTERVAL 30 MINUTE "
               "else cast(visit_date as TIMESTAMP) end as visit_date, clinician_id, site_id, "
               "visit_type, end_date")
    db = tmp_path / "o.duckdb"
    summary = ingest(extract, db, run_models=False, overrides={"max_reject_share": 1})
    # Parquet lines are 1-based row numbers: P002 is row 2, V004 row 4
    assert rows(db, "select table_name, line, column_name, reason_code, value from meta.rejects "
                    "where reason_code in ('invalid_integer', 'invalid_date') order by 1") == [
        ("patients", 2, "birth_year", "invalid_integer", "1975.5"),
        ("visits", 4, "visit_date", "invalid_date", "2024-02-01 14:30:00")]
    assert ("patients.parquet: birth_year is a DOUBLE column; 2 of 3 values were whole numbers, "
            "read as integers (1980.0 -> 1980); the other 1 are rejected as invalid_integer"
            ) in summary.notes


def test_a_table_of_lossy_timestamps_fails_the_load_instead_of_succeeding_empty(extract,
                                                                               tmp_path):
    to_parquet(extract, "visits",
               "visit_id, patient_id, cast(visit_date as TIMESTAMP) + INTERVAL 9 HOUR as "
               "visit_date, clinician_id, site_id, visit_type, end_date")
    with pytest.raises(ThresholdError) as caught:
        ingest(extract, tmp_path / "o.duckdb", run_models=False)
    assert caught.value.exit_status == 3
    assert "visits: a required table with no row accepted, 100% of rows rejected (4 of 4)" \
        in str(caught.value)
    assert "visit_date invalid_date (4 rows" in str(caught.value)


def test_column_types_that_cannot_hold_the_contract_are_named_one_by_one(extract, tmp_path):
    to_parquet(extract, "patients", "cast(1.5 as DOUBLE) as patient_id, birth_year, "
                                    "sex = 'F' as sex, cast(site_id as BLOB) as site_id")
    with pytest.raises(IngestError) as caught:
        ingest(extract, tmp_path / "o.duckdb", run_models=False)
    error = caught.value
    assert (error.file, error.column, error.reason, error.exit_status) == (
        "patients.parquet", "patient_id", "parquet_type_mismatch", 1)
    assert str(error) == (
        "patients.parquet: 3 column type(s) do not match the contract for 'patients': "
        "patient_id is DOUBLE (expected text or an integer type); "
        "sex is BOOLEAN (expected text); site_id is BLOB (expected text or an integer type)")


def test_integer_ids_and_typed_dates_and_numbers_load_as_they_are(extract, tmp_path):
    to_parquet(extract, "measurements",
               "measurement_id, patient_id, cast(measured_date as DATE) as measured_date, "
               "measure, cast(value as DOUBLE) as value")
    db = tmp_path / "o.duckdb"
    summary = ingest(extract, db, run_models=False)
    assert {t.table: t.rows_rejected for t in summary.tables}["measurements"] == 0
    assert not any("measurements.parquet" in n for n in summary.notes)
