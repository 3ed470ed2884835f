"""The de-identification guard (DOMAIN.md section 10): identifier names, identifier shapes, top-coding."""

from pathlib import Path

import duckdb
import pytest

from pipelines import deid
from pipelines.contract import TABLES
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"


@pytest.mark.parametrize("column", [
    "name", "first_name", "LastName", "patient_name", "surname", "address", "street", "city",
    "zip", "zipcode", "zip3", "postal_code", "phone", "phone_number", "fax", "email", "e-mail",
    "ssn", "social_security_number", "mrn", "medical_record_number", "account_number",
    "member_id", "licence_number", "license", "device_id", "vehicle_plate", "url", "ip_address",
    "notes", "comment", "free_text", "sig", "dob", "date_of_birth",
])
def test_identifier_columns_are_recognised(column):
    assert deid.identifier_kind(column) is not None


def test_no_contract_column_is_mistaken_for_an_identifier():
    for table in TABLES.values():
        for column in table.column_names:
            assert deid.identifier_kind(column) is None, (table.name, column)


@pytest.mark.parametrize("column", ["drug_name", "site_name", "measure_name"])
def test_names_of_things_are_not_person_names(column):
    assert deid.identifier_kind(column) is None


@pytest.mark.parametrize(("value", "kind"), [
    ("123-45-6789", "an SSN"),
    ("pt 078-05-1120 seen", "an SSN"),
    ("(555) 123-4567", "a phone or fax number"),
    ("555.123.4567", "a phone or fax number"),
    ("555-123-4567", "a phone or fax number"),
    ("+44 20 7946 0958", "a phone or fax number"),
    ("jane.doe@example.org", "an email address"),
])
def test_identifier_shaped_values(value, kind):
    con = duckdb.connect()
    assert con.sql("select regexp_matches($v, $p)",
                   params={"v": value, "p": deid.ANY_IDENTIFIER_PATTERN}).fetchall() == [(True,)]
    assert deid.value_kind(value) == kind


@pytest.mark.parametrize("value", [
    "2024-01-15", "P000123", "sertraline 50 mg tablet", "F32.1", "RX-2024-0001",
    "4155551234",  # an opaque 10-digit id without separators is not phone-shaped
    "lithium 300 mg", "C1",
])
def test_ordinary_values_pass(value):
    con = duckdb.connect()
    assert con.sql("select regexp_matches($v, $p)",
                   params={"v": value, "p": deid.ANY_IDENTIFIER_PATTERN}).fetchall() == [(False,)]


def test_scan_finds_the_first_identifier_and_counts_them():
    con = duckdb.connect()
    con.execute("create table t as select * from (values ('a', 'x'), ('b', 'call 555-123-4567'), "
                "('c', 'me@example.com')) v(id, drug)")
    hit = deid.scan_values(con, "t", ("id", "drug"))
    assert (hit.column, hit.rowid, hit.matches, hit.kind) == (
        "drug", 1, 2, "a phone or fax number")
    assert deid.scan_values(con, "t", ("id",)) is None


def test_birth_years_of_90_or_more_are_top_coded(tmp_path):
    db = tmp_path / "o.duckdb"
    summary = ingest(GOOD, db, run_models=False)
    load_year = int(summary.started_at[:4])
    con = duckdb.connect(str(db), read_only=True)
    rows = {pid: (year, flag) for pid, year, flag in con.sql(
        "select patient_id, birth_year, is_birth_year_top_coded from raw.patients").fetchall()}
    assert rows["P003"] == (load_year - 90, True)   # born 1920: 90 or older at any load after 2009
    assert rows["P001"] == (1980, False)
    assert rows["P004"] == (None, False)            # no birth year: nothing to top-code
    assert summary.birth_years_top_coded == 1
    assert any("top-coded" in note for note in summary.notes)


def test_top_coding_boundary_is_age_90():
    con = duckdb.connect()
    stored, flag = deid.top_coded_birth_year_sql("y", 2025)
    rows = con.sql(f"select y, {stored}, {flag} from (values (1935), (1936), (1934)) v(y) "  # noqa: S608
                   "order by y").fetchall()
    # 2025 - 1935 = 90: top-coded; 1936 is 89: kept as sent.
    assert rows == [(1934, 1935, True), (1935, 1935, True), (1936, 1936, False)]


def test_deployment_records_day_level_dates(tmp_path):
    db = tmp_path / "o.duckdb"
    ingest(GOOD, db, run_models=False)
    con = duckdb.connect(str(db), read_only=True)
    deployment = dict(con.sql("select key, value from meta.deployment").fetchall())
    con.close()
    assert deployment["deid_mode"] == "limited_data_set"
    assert deployment["date_precision"] == "day"
    assert deployment["dua_reference"] is None


def test_truth_json_marks_synthetic_and_config_gives_the_dua(tmp_path):
    import shutil
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    (extract / "truth.json").write_text("{}")
    config = tmp_path / "outcomes.toml"
    config.write_text('[deployment]\ndua_reference = "DUA-2025-017"\n')
    db = tmp_path / "o.duckdb"
    ingest(extract, db, run_models=False, config_path=config)
    con = duckdb.connect(str(db), read_only=True)
    deployment = dict(con.sql("select key, value from meta.deployment").fetchall())
    con.close()
    assert deployment["deid_mode"] == "synthetic"
    assert deployment["dua_reference"] == "DUA-2025-017"


def test_synthetic_data_does_not_relabel_a_real_warehouse(tmp_path):
    import shutil
    db = tmp_path / "o.duckdb"
    ingest(GOOD, db, run_models=False)
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    (extract / "truth.json").write_text("{}")
    summary = ingest(extract, db, run_models=False)
    assert summary.deid_mode == "limited_data_set"
    assert any("kept as 'limited_data_set'" in note for note in summary.notes)
