"""Every path gets a message before anything reads it: only regular files are read (symlinks
followed and checked), reads are bounded, ``--db`` must be a DuckDB warehouse, and every
command-line value is type-checked. A refusal leaves the live database byte-for-byte as it was.
"""

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from ingest_support import refused, sha256

from cli.main import main
from pipelines.extract import MAX_HEADER_CHARS
from pipelines.ingest import IngestError, ingest


def _replace(extract: Path, name: str) -> Path:
    target = extract / name
    target.unlink()
    return target


def test_a_fifo_is_refused_without_waiting_for_a_writer(extract, live_db):
    os.mkfifo(_replace(extract, "visits.csv"))
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("visits.csv", "not_a_regular_file")
    assert "FIFO" in str(error)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_symlink_to_an_endless_device_is_refused(extract, live_db, device):
    _replace(extract, "visits.csv").symlink_to(device)
    error = refused(extract, live_db)
    assert error.reason == "not_a_regular_file"
    assert "character device" in str(error) and device in str(error)


def test_a_proc_file_whose_size_lies_is_not_read_without_end(extract, live_db):
    # /proc files are "regular" with st_size 0 yet hold bytes: reads stop at the size fstat gave
    _replace(extract, "visits.csv").symlink_to("/proc/self/status")
    error = refused(extract, live_db)
    assert error.reason == "file_changed"


def test_a_broken_symlink_is_refused(extract, live_db):
    _replace(extract, "visits.csv").symlink_to(extract / "nowhere.csv")
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("visits.csv", "broken_symlink")


def test_a_symlink_to_a_regular_file_is_read(extract, tmp_path):
    elsewhere = tmp_path / "visits-export.csv"
    shutil.move(extract / "visits.csv", elsewhere)
    (extract / "visits.csv").symlink_to(elsewhere)
    summary = ingest(extract, tmp_path / "o.duckdb", run_models=False)
    assert {t.table: t.rows_read for t in summary.tables}["visits"] == 4  # 5 lines, 1 header


def test_a_directory_named_like_a_table_file_is_refused(extract, live_db):
    _replace(extract, "visits.csv").mkdir()
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("visits.csv", "not_a_regular_file")
    assert "directory" in str(error)


def test_a_fifo_among_the_parts_of_a_table_folder_is_refused(extract, live_db):
    parts = extract / "visits"
    parts.mkdir()
    shutil.move(extract / "visits.csv", parts / "a.csv")
    os.mkfifo(parts / "b.csv")
    error = refused(extract, live_db)
    assert (error.file, error.reason) == ("visits/b.csv", "not_a_regular_file")


def test_a_file_without_line_breaks_is_refused_at_the_header(extract, live_db):
    (extract / "visits.csv").write_text("visit_id," * (MAX_HEADER_CHARS // 9 + 1))
    error = refused(extract, live_db)
    assert error.reason == "missing_header" and "longer than" in str(error)


def test_cr_only_line_ends_load_the_same_rows_as_lf(extract, tmp_path):
    lf = ingest(extract, tmp_path / "lf.duckdb", run_models=False)
    for path in extract.glob("*.csv"):
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    cr = ingest(extract, tmp_path / "cr.duckdb", run_models=False)
    assert [(t.table, t.rows_read, t.rows_rejected) for t in cr.tables] == [
        (t.table, t.rows_read, t.rows_rejected) for t in lf.tables]
    with duckdb.connect(str(tmp_path / "cr.duckdb"), read_only=True) as con:
        assert con.sql("select list(visit_id order by visit_id) from raw.visits").fetchall() == [
            (["V001", "V002", "V003", "V004"],)]


def test_a_db_that_is_a_directory_is_a_usage_error(extract, tmp_path):
    (tmp_path / "warehouse").mkdir()
    with pytest.raises(IngestError) as caught:
        ingest(extract, tmp_path / "warehouse", run_models=False)
    assert (caught.value.reason, caught.value.exit_status) == ("bad_database", 2)
    assert "directory" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"name,value\nnot,a database\n"])
def test_a_db_that_is_not_a_duckdb_file_is_refused_and_left_alone(extract, tmp_path, content):
    db = tmp_path / "notes.duckdb"
    db.write_bytes(content)
    for check_only in (False, True):
        with pytest.raises(IngestError) as caught:
            ingest(extract, db, run_models=False, check_only=check_only)
        assert (caught.value.reason, caught.value.exit_status) == ("bad_database", 2)
    assert db.read_bytes() == content


@pytest.mark.parametrize(("option", "words"), [
    ("eligibility_min=abc", "set one entry"),
    ("eligibility_min.PHQ-9=abc", "must be a whole number"),
    ("max_reject_share=abc", "max_reject_share must be a number from 0 to 1"),
    ("max_reject_share=1.5", "max_reject_share must be a number from 0 to 1"),
    ("grace_days=-3", "grace_days must be a whole number"),
    ("pdc_threshold=abc", "pdc_threshold must be in (0, 1]"),
    ("no_such_key=1", "unknown definition key"),
    ("novalue", "expected KEY=VALUE"),
])
def test_every_set_value_is_checked_before_the_load(extract, live_db, capsys, option, words):
    before = sha256(live_db)
    assert main(["ingest", str(extract), "--db", str(live_db), "--set", option]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert sha256(live_db) == before


def test_metric_set_values_are_type_checked(live_db, capsys):
    assert main(["metric", "response", "--db", str(live_db),
                 "--set", "eligibility_min=abc"]) == 2
    assert "takes a whole number" in capsys.readouterr().err


def test_metric_db_that_is_not_a_warehouse_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "plain.txt").write_text("hello\n")
    assert main(["metric", "response", "--db", str(tmp_path / "plain.txt")]) == 2
    assert main(["metric", "response", "--db", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a DuckDB database" in err and "is a directory" in err


def test_a_directory_in_the_way_of_the_temporary_build_is_a_usage_error(extract, live_db):
    live_db.with_name(live_db.name + ".tmp").mkdir()
    error = refused(extract, live_db)
    assert (error.reason, error.exit_status) == ("bad_database", 2)
    assert "outcomes.duckdb.tmp: is in the way" in str(error)
