"""Data-quality thresholds and exit statuses: a table whose rejected share is over
``max_reject_share`` (default 5%), or a required table with no accepted row, fails the load with
exit status 3 naming the table, the share and the top reasons; the live warehouse stays
byte-for-byte as it was. ``--json`` prints one JSON document, alone on stdout, every time.
"""

import json
from pathlib import Path

import duckdb
import pytest
from ingest_support import GOOD, sha256

from cli.main import main
from pipelines.ingest import ingest
from pipelines.thresholds import ThresholdError

HEADER = "visit_id,patient_id,visit_date,clinician_id,site_id,visit_type,end_date\n"





def write_visits(extract: Path, good: int, bad: int) -> None:
    """``good`` valid visits of P001, then ``bad`` visits dated 2024-13-01 (no such month)."""
    rows = [f"V{i:03d},P001,2024-01-{1 + i % 28:02d},C1,S1,intake," for i in range(good)]
    rows += [f"X{i:03d},P001,2024-13-01,C1,S1,intake," for i in range(bad)]
    (extract / "visits.csv").write_text(HEADER + "\n".join(rows) + "\n")


def test_a_share_at_the_limit_loads(extract, tmp_path):
    write_visits(extract, good=19, bad=1)  # 1 of 20 = 5%: not over 5%
    summary = ingest(extract, tmp_path / "o.duckdb", run_models=False)
    visits = next(t for t in summary.tables if t.table == "visits")
    assert (visits.rows_read, visits.rows_rejected) == (20, 1)


def test_a_share_over_the_limit_fails_naming_table_share_and_reasons(extract, live_db):
    write_visits(extract, good=18, bad=2)  # 2 of 20 = 10%
    before = sha256(live_db)
    with pytest.raises(ThresholdError) as caught:
        ingest(extract, live_db, run_models=False)
    error = caught.value
    assert error.exit_status == 3 and error.reason == "reject_share_over_limit"
    assert "visits: 10% of rows rejected (2 of 20), over the limit of 5%" in str(error)
    assert "visit_date invalid_date (2 rows, e.g. visits.csv:20, visits.csv:21)" in str(error)
    assert [b.table for b in error.breaches] == ["visits"]
    assert sha256(live_db) == before
    assert not live_db.with_name(live_db.name + ".tmp").exists()


def test_the_limit_is_configurable_by_set_and_by_outcomes_toml(extract, tmp_path):
    write_visits(extract, good=18, bad=2)
    ingest(extract, tmp_path / "a.duckdb", run_models=False, overrides={"max_reject_share": 0.1})
    config = tmp_path / "outcomes.toml"
    config.write_text("[ingest]\nmax_reject_share = 0.10\n")
    ingest(extract, tmp_path / "b.duckdb", run_models=False, config_path=config)
    config.write_text("[ingest]\nmax_reject_share = 0.09\n")
    with pytest.raises(ThresholdError):
        ingest(extract, tmp_path / "c.duckdb", run_models=False, config_path=config)


def test_a_required_table_with_no_accepted_row_fails_whatever_the_limit(extract, live_db):
    write_visits(extract, good=0, bad=3)
    with pytest.raises(ThresholdError) as caught:
        ingest(extract, live_db, run_models=False, overrides={"max_reject_share": 1})
    assert caught.value.reason == "no_accepted_rows"
    assert ("visits: a required table with no row accepted, 100% of rows rejected (3 of 3)"
            in str(caught.value))


def test_a_required_table_with_only_a_header_fails(extract, live_db):
    (extract / "visits.csv").write_text(HEADER)
    with pytest.raises(ThresholdError) as caught:
        ingest(extract, live_db, run_models=False)
    assert "visits: a required table with no rows" in str(caught.value)


def test_an_optional_table_wholly_rejected_loads_when_the_limit_allows(extract, tmp_path):
    (extract / "measurements.csv").write_text(
        "measurement_id,patient_id,measured_date,measure,value\nM1,P001,2024-01-10,bmi,abc\n")
    summary = ingest(extract, tmp_path / "o.duckdb", run_models=False,
                     overrides={"max_reject_share": 1})
    measurements = next(t for t in summary.tables if t.table == "measurements")
    assert (measurements.rows_loaded, measurements.rows_rejected) == (0, 1)


def test_check_fails_with_the_same_threshold(extract, live_db):
    write_visits(extract, good=18, bad=2)
    with pytest.raises(ThresholdError):
        ingest(extract, live_db, check_only=True)


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    status = main(["ingest", "--json", *argv])
    captured = capsys.readouterr()
    return status, json.loads(captured.out)  # the whole of stdout is one JSON document


def test_json_for_each_exit_status(extract, live_db, tmp_path, capsys):
    status, document = run_json(capsys, str(GOOD), "--db", str(tmp_path / "new.duckdb"),
                                "--no-models")
    assert (status, document["exit_status"], document["status"]) == (0, 0, "ok")
    # the fixture: 33 lines in 8 files, one header each
    assert document["rows_read"] == 25 and document["rows_rejected"] == 0

    write_visits(extract, good=18, bad=2)
    before = sha256(live_db)
    status, document = run_json(capsys, str(extract), "--db", str(live_db), "--no-models")
    assert (status, document["status"], document["exit_status"]) == (3, "refused", 3)
    assert document["error"]["tables"][0]["table"] == "visits"
    assert document["error"]["tables"][0]["share"] == 0.1

    (extract / "visits.csv").write_text("visit_id,patient_id,ssn\n")
    status, document = run_json(capsys, str(extract), "--db", str(live_db), "--no-models")
    assert (status, document["error"]["reason"]) == (1, "direct_identifier_column")

    status, document = run_json(capsys, str(extract), "--db", str(tmp_path), "--no-models")
    assert (status, document["error"]["reason"]) == (2, "bad_database")
    status, document = run_json(capsys, str(extract / "nowhere"), "--db", str(live_db))
    assert (status, document["error"]["reason"]) == (2, "not_a_folder")
    assert sha256(live_db) == before


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("0 loaded", "1 refused because of the data", "2 usage or configuration",
                  "3 refused by a data-quality threshold"):
        assert words in text


def test_a_load_that_passes_keeps_rows_of_a_table_with_rejects(extract, tmp_path):
    write_visits(extract, good=19, bad=1)
    db = tmp_path / "o.duckdb"
    ingest(extract, db, run_models=False)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from raw.visits").fetchall() == [(19,)]
        assert con.sql("select count(*) from meta.rejects where table_name = 'visits'"
                       ).fetchall() == [(1,)]


def test_the_example_configuration_states_the_default_limit():
    from pipelines.load_config import DEFAULT_MAX_REJECT_SHARE, load_settings

    example = Path(__file__).resolve().parent.parent / "outcomes.toml.example"
    assert load_settings(example, {}).max_reject_share == DEFAULT_MAX_REJECT_SHARE == 0.05


def test_an_option_argparse_refuses_is_a_json_document_too(tmp_path):
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "ingest", str(GOOD), "--json", "--from", "csv2",
         "--db", str(tmp_path / "o.duckdb")], capture_output=True, text=True, cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)}, timeout=120)
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert document["exit_status"] == 2 and "invalid choice: 'csv2'" in document["error"]["message"]


def test_a_required_table_sent_empty_loads_only_with_the_checks_turned_off(extract, tmp_path):
    """max_reject_share = 1 accepts an empty required table (a source with no rating scales);
    the default refuses it (above), and a table whose rows were all rejected fails either way."""
    (extract / "visits.csv").write_text(HEADER)
    summary = ingest(extract, tmp_path / "o.duckdb", run_models=False,
                     overrides={"max_reject_share": 1})
    assert summary.status == "ok"
