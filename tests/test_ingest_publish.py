"""Idempotent, incremental, atomic: what a repeated or newer extract does to the warehouse."""

import hashlib
import json
import shutil
from pathlib import Path
from typing import ClassVar

import duckdb
import pytest

from cli.main import main
from pipelines.contract import CONTRACT_VERSION
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
DATA_TABLES = ("patients", "visits", "diagnoses", "prescriptions", "dispenses", "assessments",
               "side_effects", "measurements")


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every raw and ref table's rows, sorted, lineage included."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [f"raw.{t}" for t in DATA_TABLES] + [
            f"ref.{t}" for t in ("drugs", "drug_synonyms", "side_effect_terms", "diagnosis_groups")]
        return {t: sorted(con.sql(f"select * from {t}").fetchall(), key=repr) for t in tables}  # noqa: S608
    finally:
        con.close()


def test_same_folder_twice_leaves_the_same_warehouse(tmp_path):
    db = tmp_path / "o.duckdb"
    ingest(GOOD, db, run_models=False)
    first = snapshot(db)
    summary = ingest(GOOD, db, run_models=False)
    assert snapshot(db) == first
    assert all(t.rows_new == 0 and t.rows_updated == 0 for t in summary.tables)
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select count(*) from meta.load_log").fetchall() == [(2,)]
    con.close()


def test_newer_overlapping_extract_updates_by_key_and_adds_rows(tmp_path):
    db = tmp_path / "o.duckdb"
    ingest(GOOD, db, run_models=False)
    newer = tmp_path / "newer"
    shutil.copytree(GOOD, newer)
    # RX001 gains an end date (update); RX004 is new; RX002 and RX003 are not re-sent (kept).
    (newer / "prescriptions.csv").write_text(
        "prescription_id,patient_id,drug,start_date,end_date\n"
        "RX001,P001,Zoloft 50 mg tablet,2024-01-10,2024-04-10\n"
        "RX004,P002,quetiapine 100 mg,2024-05-01,\n")
    # One diagnosis repeated (not duplicated), one new.
    (newer / "diagnoses.csv").write_text(
        "patient_id,diagnosis_date,icd10_code,visit_id\n"
        "P001,2024-01-10,F32.1,V001\n"
        "P001,2024-03-01,F33.1,V002\n")
    summary = ingest(newer, db, run_models=False)
    counts = {t.table: (t.rows_new, t.rows_updated, t.rows_in_warehouse) for t in summary.tables}
    assert counts["prescriptions"] == (1, 1, 4)
    assert counts["diagnoses"] == (1, 0, 4)
    con = duckdb.connect(str(db), read_only=True)
    rows = dict(con.sql("select prescription_id, end_date::varchar from raw.prescriptions"
                        ).fetchall())
    ingredient = con.sql("select ingredient from raw.prescriptions where prescription_id = 'RX004'"
                         ).fetchall()
    con.close()
    assert rows == {"RX001": "2024-04-10", "RX002": "2024-06-01", "RX003": None, "RX004": None}
    assert ingredient == [("quetiapine",)]


def test_load_log_records_files_hashes_and_version(tmp_path):
    db = tmp_path / "o.duckdb"
    summary = ingest(GOOD, db, run_models=False)
    con = duckdb.connect(str(db), read_only=True)
    log = con.sql("select load_id, software_version, contract_version, status from meta.load_log"
                  ).fetchall()
    files = dict(con.sql("select source_file, sha256 from meta.load_files"
                                            ).fetchall())
    con.close()
    assert log == [(summary.load_id, summary.software_version, CONTRACT_VERSION, "ok")]
    assert files["visits.csv"] == hashlib.sha256((GOOD / "visits.csv").read_bytes()).hexdigest()
    assert len(files) == 8


def test_unmapped_drugs_are_kept_counted_and_listed(tmp_path):
    db = tmp_path / "o.duckdb"
    summary = ingest(GOOD, db, run_models=False)
    assert summary.unmapped_drugs == [
        {"table": "prescriptions", "drug_as_written": "Glorbazine 10 mg", "rows": 1}]
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select ingredient from raw.prescriptions order by prescription_id"
                   ).fetchall() == [("sertraline",), ("lithium",), (None,)]
    assert con.sql("select effect_code from raw.side_effects order by side_effect_id"
                   ).fetchall() == [("nausea_gi",), ("tremor",)]
    con.close()


def test_check_writes_nothing(tmp_path):
    db = tmp_path / "o.duckdb"
    summary = ingest(GOOD, db, check_only=True)
    assert summary.check_only and summary.rows_read == 25
    assert list(tmp_path.iterdir()) == []


def test_parts_folder_and_parquet_give_per_file_lines(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    (extract / "visits.csv").unlink()
    (extract / "visits").mkdir()
    (extract / "visits" / "part-1.csv").write_text(
        "visit_id,patient_id,visit_date\nV001,P001,2024-01-10\nV002,P001,2024-01-11\n")
    (extract / "visits" / "part-2.csv").write_text(
        "patient_id,visit_id,visit_date\nP002,V003,2024-01-12\nP002,V004,not a date\n")
    con = duckdb.connect()
    con.execute("copy (select * from read_csv($p, all_varchar=true)) to $out (format parquet)",
                {"p": str(GOOD / "measurements.csv"), "out": str(extract / "measurements.parquet")})
    con.close()
    (extract / "measurements.csv").unlink()
    db = tmp_path / "o.duckdb"
    ingest(extract, db, run_models=False, overrides={"max_reject_share": 1})  # 1 of 4 planted
    con = duckdb.connect(str(db), read_only=True)
    lineage = con.sql("select visit_id, _source_file, _source_line from raw.visits order by 1"
                      ).fetchall()
    reject = con.sql("select source_file, line, column_name from meta.rejects").fetchall()
    measurements = con.sql("select measurement_id, _source_line, value from raw.measurements "
                           "order by 1").fetchall()
    con.close()
    assert lineage == [("V001", "visits/part-1.csv", 2), ("V002", "visits/part-1.csv", 3),
                       ("V003", "visits/part-2.csv", 2)]
    assert reject == [("visits/part-2.csv", 3, "visit_date")]
    assert measurements == [("M001", 1, 0.8), ("M002", 2, 72.5)]


@pytest.mark.slow
def test_line_numbers_follow_file_order_on_a_parallel_read(tmp_path):
    # Big enough that DuckDB reads the CSV in parallel chunks: line numbers must still match.
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    rows = 300_000
    with (extract / "assessments.csv").open("w") as handle:
        handle.write("assessment_id,patient_id,assessment_date,instrument,total_score\n")
        handle.writelines(f"A{line},P001,2024-01-10,PHQ-9,{line % 28}\n"
                          for line in range(2, rows + 2))
    db = tmp_path / "o.duckdb"
    ingest(extract, db, run_models=False)
    con = duckdb.connect(str(db), read_only=True)
    mismatched = con.sql("select count(*) from raw.assessments "
                         "where 'A' || _source_line <> assessment_id").fetchall()
    con.close()
    assert mismatched == [(0,)]


def test_models_are_built_with_the_definitions(tmp_path, monkeypatch):
    import pipelines.transform as transform
    models = tmp_path / "models"
    (models / "staging").mkdir(parents=True)
    (models / "staging" / "stg_probe.sql").write_text(
        "select count(*) as patients, $grace_days as grace_days from raw.patients")
    monkeypatch.setattr(transform, "MODELS_DIR", models)
    db = tmp_path / "o.duckdb"
    summary = ingest(GOOD, db)
    assert summary.models == {"staging.stg_probe": 1}
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select * from staging.stg_probe").fetchall() == [(4, 30)]
    assert con.sql("select value from meta.definitions where key = 'grace_days'"
                   ).fetchall() == [("30",)]
    con.close()


def test_cli_json_alone_on_stdout(tmp_path, capsys):
    code = main(["ingest", str(GOOD), "--db", str(tmp_path / "o.duckdb"), "--json",
                 "--no-models"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["rows_read"] == 25 and document["status"] == "ok"


def test_cli_refusal_exits_non_zero_and_names_file_and_column(tmp_path, capsys):
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    (extract / "patients.csv").write_text("patient_id,ssn\nP001,123-45-6789\n")
    code = main(["ingest", str(extract), "--db", str(tmp_path / "o.duckdb")])
    err = capsys.readouterr().err
    assert code == 1
    assert "patients.csv" in err and "'ssn'" in err


def test_cli_summary_lists_unmapped_drugs(tmp_path, capsys):
    code = main(["ingest", str(GOOD), "--db", str(tmp_path / "o.duckdb"), "--no-models"])
    err = capsys.readouterr().err
    assert code == 0
    assert "Glorbazine 10 mg" in err and "top-coded" in err


@pytest.mark.parametrize("kind", ["omop"])
def test_other_sources_go_through_the_adapters(tmp_path, monkeypatch, kind):
    import sys
    import types

    calls = []

    class Reject:
        table_name, source_file, line = "drug_exposure", "drug_exposure.csv", 7
        column_name, reason_code = "drug_concept_id", "unmapped_concept"
        message, value = "concept 123 is not a drug we know", "123"

    class Report:
        notes: ClassVar[list[str]] = ["1 OMOP concept unmapped"]
        deid_mode = "synthetic"
        date_shifted = False
        rejects: ClassVar[list] = [Reject()]

    def to_contract(path, source_kind, out_dir):
        calls.append(source_kind)
        shutil.copytree(GOOD, out_dir, dirs_exist_ok=True)
        return Report()

    fake = types.ModuleType("pipelines.adapters")
    fake.to_contract = to_contract
    fake.detect = lambda path: kind
    monkeypatch.setitem(sys.modules, "pipelines.adapters", fake)
    # Once the real package was imported, `from pipelines import adapters` reads the attribute.
    import pipelines
    monkeypatch.setattr(pipelines, "adapters", fake, raising=False)
    summary = ingest(tmp_path, tmp_path / "o.duckdb", source_kind="auto", run_models=False)
    assert calls == [kind]
    assert summary.source_kind == kind and summary.deid_mode == "synthetic"
    assert "1 OMOP concept unmapped" in summary.notes
    # Rows the adapter could not map are recorded, not dropped silently.
    con = duckdb.connect(str(tmp_path / "o.duckdb"), read_only=True)
    assert con.sql("select table_name, line, reason_code from meta.rejects").fetchall() == [
        ("drug_exposure", 7, "unmapped_concept")]
    con.close()
    assert [(g.table, g.reason_code, g.rows) for g in summary.rejects] == [
        ("drug_exposure", "unmapped_concept", 1)]


def test_check_knows_the_patients_already_loaded(tmp_path):
    db = tmp_path / "o.duckdb"
    ingest(GOOD, db, run_models=False)
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    # P002 is only in the warehouse, not in this extract's patients file.
    (extract / "patients.csv").write_text("patient_id\nP001\n")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    summary = ingest(extract, db, check_only=True)
    assert not any(g.reason_code == "unknown_patient" and g.table == "visits"
                   for g in summary.rejects)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def _probe_models(tmp_path, staging_sql: str):
    models = tmp_path / "models"
    (models / "staging").mkdir(parents=True, exist_ok=True)
    (models / "staging" / "stg_probe.sql").write_text(staging_sql)
    return models


def test_a_view_model_is_a_view_and_reads_like_a_table(tmp_path, monkeypatch):
    import pipelines.transform as transform
    monkeypatch.setattr(transform, "MODELS_DIR", _probe_models(
        tmp_path, "/* ---\nname: stg_probe\nmaterialized: view\n--- */\n"
                  "select patient_id from raw.patients"))
    db = tmp_path / "o.duckdb"
    assert ingest(GOOD, db).models == {"staging.stg_probe": 4}
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("select table_type from information_schema.tables "
                   "where table_name = 'stg_probe'").fetchall() == [("VIEW",)]
    assert con.sql("select count(*) from staging.stg_probe").fetchall() == [(4,)]
    con.close()


def test_a_view_model_with_parameters_is_refused_naming_the_file(tmp_path, monkeypatch):
    import pipelines.transform as transform
    monkeypatch.setattr(transform, "MODELS_DIR", _probe_models(
        tmp_path, "/* ---\nname: stg_probe\nmaterialized: view\n--- */\n"
                  "select $grace_days as grace_days"))
    db = tmp_path / "o.duckdb"
    with pytest.raises(ValueError, match=r"stg_probe\.sql: a view model cannot take parameters"):
        ingest(GOOD, db)
    assert not db.exists()  # nothing published


def test_a_model_that_changed_kind_is_replaced_on_the_next_load(tmp_path, monkeypatch):
    """An incremental load starts from the live file: a table there may be a view now."""
    import pipelines.transform as transform
    db = tmp_path / "o.duckdb"
    for kind, expected in (("table", "BASE TABLE"), ("view", "VIEW"), ("table", "BASE TABLE")):
        monkeypatch.setattr(transform, "MODELS_DIR", _probe_models(
            tmp_path, f"/* ---\nname: stg_probe\nmaterialized: {kind}\n--- */\n"
                      "select patient_id from raw.patients"))
        assert ingest(GOOD, db).status == "ok"
        con = duckdb.connect(str(db), read_only=True)
        assert con.sql("select table_type from information_schema.tables "
                       "where table_name = 'stg_probe'").fetchall() == [(expected,)]
        con.close()
