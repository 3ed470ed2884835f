"""Every row rule of the loader, pinned by a hand-made bad row (tests/fixtures/ingest/bad_rows).

Each expected reject is (table, line, column, reason_code); the line counts the header as line 1.
"""

from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import ingest

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"

EXPECTED_REJECTS = {
    ("patients", 4, "birth_year", "out_of_range"),        # 1899 < 1900
    ("patients", 5, "birth_year", "invalid_integer"),     # 19x0
    ("patients", 6, "sex", "invalid_value"),              # Q
    ("patients", 7, "patient_id", "duplicate_key"),       # P001 again
    ("patients", 8, "patient_id", "missing_value"),       # empty id
    ("visits", 3, "visit_date", "invalid_date"),          # 2024/01/10
    ("visits", 4, "visit_date", "date_out_of_range"),     # 1899-12-31
    ("visits", 5, "end_date", "end_before_start"),        # discharged before admission
    ("visits", 6, "patient_id", "unknown_patient"),       # P999 never sent
    ("visits", 7, "patient_id", "unknown_patient"),       # P003's patients row was rejected
    ("visits", 8, "visit_date", "invalid_date"),          # 30 February
    ("visits", 9, "visit_date", "date_out_of_range"),     # after tomorrow
    ("diagnoses", 3, None, "duplicate_row"),              # identical to line 2
    ("prescriptions", 3, "days_supply", "out_of_range"),  # 400 > 365
    ("prescriptions", 4, "quantity", "out_of_range"),     # 0 is not > 0
    ("prescriptions", 5, "refills", "out_of_range"),      # 25 > 24
    ("prescriptions", 6, "daily_dose_mg", "invalid_number"),  # fifty
    ("prescriptions", 7, "stop_reason", "invalid_value"),     # bored
    ("prescriptions", 8, "drug", "missing_value"),
    ("prescriptions", 9, "days_supply", "invalid_integer"),   # 30.0 is not silently rounded
    ("dispenses", 3, "days_supply", "out_of_range"),      # 0 < 1
    ("assessments", 3, "total_score", "score_out_of_range"),  # PHQ-9 28 > 27
    ("assessments", 4, "total_score", "score_out_of_range"),  # CGI-S 0 < 1
    ("assessments", 5, "instrument", "invalid_value"),    # BDI-II
    ("assessments", 6, "item_9", "out_of_range"),         # 4 > 3
    ("side_effects", 3, "effect", "unknown_effect_term"),  # "felt funny"
    ("side_effects", 4, "severity", "invalid_value"),     # extreme
    ("measurements", 3, "value", "value_out_of_range"),   # 720 kg: a unit mix-up
    ("measurements", 4, "value", "invalid_number"),       # inf
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    db = tmp_path_factory.mktemp("rejects") / "outcomes.duckdb"
    summary = ingest(FIXTURES / "bad_rows", db, run_models=False,
                     overrides={"max_reject_share": 1})  # every table has a planted bad row
    con = duckdb.connect(str(db), read_only=True)
    yield summary, con
    con.close()


def test_every_bad_row_is_recorded_with_its_reason(loaded):
    _, con = loaded
    found = set(con.sql("select table_name, line, column_name, reason_code from meta.rejects"
                        ).fetchall())
    assert found == EXPECTED_REJECTS


def test_the_good_rows_load(loaded):
    _, con = loaded
    counts = dict(con.sql("select table_name, rows_loaded from meta.load_files").fetchall())
    assert counts == {"patients": 2, "visits": 1, "diagnoses": 1, "prescriptions": 1,
                      "dispenses": 1, "assessments": 1, "side_effects": 1, "measurements": 1}
    assert con.sql("select patient_id, birth_year from raw.patients order by 1").fetchall() == [
        ("P001", 1980), ("P002", 1975)]


def test_the_first_valid_row_of_a_key_wins(loaded):
    _, con = loaded
    assert con.sql("select _source_line from raw.patients where patient_id = 'P001'"
                   ).fetchall() == [(2,)]
    message = con.sql("select message from meta.rejects where reason_code = 'duplicate_key'"
                      ).fetchall()[0][0]
    assert message == "same patient_id as line 2 of patients.csv"


def test_rejects_keep_the_value_as_sent_and_the_file(loaded):
    _, con = loaded
    row = con.sql("select source_file, value, message from meta.rejects "
                  "where table_name = 'visits' and line = 3").fetchall()[0]
    assert row == ("visits.csv", "2024/01/10", "visit_date is not an ISO date (YYYY-MM-DD)")


def test_summary_counts_rejects_per_table(loaded):
    summary, _ = loaded
    per_table = {t.table: (t.rows_read, t.rows_rejected) for t in summary.tables}
    assert per_table["patients"] == (7, 5)
    assert per_table["visits"] == (8, 7)
    assert sum(g.rows for g in summary.rejects) == len(EXPECTED_REJECTS)


def test_enums_are_stored_in_canonical_spelling(tmp_path):
    db = tmp_path / "o.duckdb"
    ingest(FIXTURES / "good", db, run_models=False)
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select sex from raw.patients where patient_id = 'P002'").fetchall() == [("M",)]
    assert con.sql("select visit_type from raw.visits where visit_id = 'V002'").fetchall() == [
        ("follow_up",)]
    assert con.sql("select instrument from raw.assessments where assessment_id = 'A002'"
                   ).fetchall() == [("PHQ-9",)]
    con.close()
