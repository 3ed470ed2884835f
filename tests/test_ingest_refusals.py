"""Every file-level refusal: non-zero outcome, file and column named, live database untouched.

Each test copies the hand-made ``good`` extract, breaks one file, and loads it over a database
built from ``good``; the database file must keep its SHA-256.
"""

import shutil

import pytest
from ingest_support import refused

from pipelines.ingest import IngestError, ingest


def test_ssn_column(extract, live_db):
    (extract / "patients.csv").write_text("patient_id,ssn,sex\nP001,123-45-6789,F\n")
    error = refused(extract, live_db)
    assert (error.file, error.column, error.reason) == (
        "patients.csv", "ssn", "direct_identifier_column")


def test_phone_numbers_in_a_text_column(extract, live_db):
    (extract / "visits.csv").write_text(
        "visit_id,patient_id,visit_date,clinician_id\n"
        "V001,P001,2024-01-10,C1\n"
        "V002,P001,2024-01-11,(555) 123-4567\n")
    error = refused(extract, live_db)
    assert (error.file, error.column, error.reason) == (
        "visits.csv", "clinician_id", "direct_identifier_value")
    assert "phone" in str(error) and "line 3" in str(error)


def test_a_repeated_identifier_counts_its_rows_and_names_its_first_line(extract, live_db):
    # clinician_id is matched once per distinct value: the same phone on lines 3 and 4 is two
    # values in the message, and the first is line 3 (line 4 holds a second, different one).
    (extract / "visits.csv").write_text(
        "visit_id,patient_id,visit_date,clinician_id\n"
        "V001,P001,2024-01-10,C1\n"
        "V002,P001,2024-01-11,(555) 123-4567\n"
        "V003,P001,2024-01-12,(555) 123-4567\n"
        "V004,P001,2024-01-13,555-987-6543\n")
    error = refused(extract, live_db)
    assert (error.column, error.reason) == ("clinician_id", "direct_identifier_value")
    assert "holds 3 value(s)" in str(error) and "first at line 3" in str(error)


def test_email_value(extract, live_db):
    (extract / "prescriptions.csv").write_text(
        "prescription_id,patient_id,drug,start_date\n"
        "RX001,P001,call jane.doe@example.org,2024-01-10\n")
    error = refused(extract, live_db)
    assert (error.file, error.column, error.reason) == (
        "prescriptions.csv", "drug", "direct_identifier_value")


def test_identifier_in_a_date_column_never_reaches_rejects(extract, live_db):
    # A phone number in a date column fails the date cast; storing it in meta.rejects.value
    # would still put an identifier in the warehouse.
    (extract / "visits.csv").write_text(
        "visit_id,patient_id,visit_date\nV001,P001,555-123-4567\n")
    error = refused(extract, live_db)
    assert (error.file, error.column, error.reason) == (
        "visits.csv", "visit_date", "direct_identifier_value")


def test_missing_required_column(extract, live_db):
    (extract / "assessments.csv").write_text(
        "assessment_id,patient_id,assessment_date,instrument\nA001,P001,2024-01-10,PHQ-9\n")
    error = refused(extract, live_db)
    assert (error.file, error.column, error.reason) == (
        "assessments.csv", "total_score", "missing_column")


def test_unexpected_column(extract, live_db):
    (extract / "measurements.csv").write_text(
        "measurement_id,patient_id,measured_date,measure,value,unit\n"
        "M001,P001,2024-01-10,weight_kg,70,kg\n")
    error = refused(extract, live_db)
    assert (error.file, error.column, error.reason) == (
        "measurements.csv", "unit", "unexpected_column")


def test_non_utf8_file(extract, live_db):
    (extract / "prescriptions.csv").write_bytes(
        b"prescription_id,patient_id,drug,start_date\n"
        b"RX001,P001,sertraline,2024-01-10\n"
        b"RX002,P001,fluox\xe9tine,2024-01-10\n")  # Latin-1 e-acute
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("prescriptions.csv", "not_utf8")
    assert "line 3" in str(error)


@pytest.mark.parametrize("chunk_bytes", [7, 16, 1 << 20])
def test_utf8_is_checked_in_every_chunk_and_the_bad_line_named(tmp_path, monkeypatch, chunk_bytes):
    # The check skips decoding an ASCII chunk. Small chunks put the e-acute of line 4 in a later
    # chunk than the header, and split the two bytes of a valid u-umlaut (line 2) across a chunk
    # boundary at some chunk size: that file is valid, the Latin-1 byte on line 4 is not.
    from pipelines import extract

    monkeypatch.setattr(extract, "_CHUNK_BYTES", chunk_bytes)
    header = b"prescription_id,patient_id,drug,start_date\n"
    good_lines = b"RX001,P001,d\xc3\xbcloxetine,2024-01-10\nRX002,P001,sertraline,2024-01-10\n"
    valid = tmp_path / "valid.csv"
    valid.write_bytes(header + good_lines)
    source = extract.inspect_file(valid, "valid.csv", "csv", None)
    assert source.columns == ("prescription_id", "patient_id", "drug", "start_date")
    invalid = tmp_path / "invalid.csv"
    invalid.write_bytes(header + good_lines + b"RX003,P001,fluox\xe9tine,2024-01-10\n")
    with pytest.raises(IngestError) as caught:
        extract.inspect_file(invalid, "invalid.csv", "csv", None)
    assert caught.value.reason == "not_utf8"
    assert "line 4 is not valid UTF-8 (byte 0xe9)" in str(caught.value)


def test_a_lead_byte_cut_off_by_ascii_is_refused_at_a_chunk_boundary(tmp_path, monkeypatch):
    # The lone 0xc3 ends the first chunk and the next chunk is pure ASCII: that chunk must still
    # be decoded (a character is pending), or the bad byte would go unnoticed.
    from pipelines import extract

    content = b"prescription_id,patient_id,drug,start_date\nRX001,P001,d\xc3loxetine,2024-01-10\n"
    monkeypatch.setattr(extract, "_CHUNK_BYTES", content.index(b"\xc3") + 1)
    invalid = tmp_path / "invalid.csv"
    invalid.write_bytes(content)
    with pytest.raises(IngestError) as caught:
        extract.inspect_file(invalid, "invalid.csv", "csv", None)
    assert "line 2 is not valid UTF-8 (byte 0xc3)" in str(caught.value)


def test_required_table_absent(extract, live_db):
    (extract / "assessments.csv").unlink()
    error = refused(extract, live_db)
    assert error.reason == "missing_table"
    assert error.file == "assessments.csv"


def test_unreadable_parquet(extract, live_db):
    (extract / "measurements.csv").unlink()
    (extract / "measurements.parquet").write_bytes(b"PAR1 this is not really parquet")
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("measurements.parquet", "unreadable_file")


def test_malformed_csv_row_names_the_line(extract, live_db):
    (extract / "measurements.csv").write_text(
        "measurement_id,patient_id,measured_date,measure,value\n"
        "M001,P001,2024-01-10,weight_kg,70\n"
        "M002,P001,2024-01-10,weight_kg,70,extra\n")
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("measurements.csv", "unreadable_file")
    assert "Line: 3" in str(error)


def test_unknown_table_file(extract, live_db):
    (extract / "notes.csv").write_text("patient_id,text\nP001,hello\n")
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("notes.csv", "unknown_table")


def test_table_given_twice(extract, live_db):
    shutil.copy(extract / "visits.csv", extract / "visits.parquet")
    error = refused(extract, live_db)
    assert error.reason == "ambiguous_table"


def test_refusal_without_a_live_database_creates_none(extract, tmp_path):
    (extract / "patients.csv").write_text("patient_id,email\nP001,a@b.org\n")
    db = tmp_path / "fresh.duckdb"
    with pytest.raises(IngestError):
        ingest(extract, db, run_models=False)
    assert not db.exists()
    assert not db.with_name(db.name + ".tmp").exists()
