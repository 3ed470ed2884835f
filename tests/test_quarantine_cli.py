"""``outcomes quarantine``: masked by default; raw values only with --reveal, from the extract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.main import main
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
NAME = "Maria Gonzalez"


@pytest.fixture
def loaded(tmp_path):
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    prescriptions = extract / "prescriptions.csv"
    # RX003 (line 4) names a drug no vocabulary entry knows; written as a person's name instead.
    prescriptions.write_text(prescriptions.read_text().replace("Glorbazine 10 mg", NAME))
    db = tmp_path / "o.duckdb"
    summary = ingest(extract, db, run_models=False, overrides={"max_reject_share": 1})  # tiny fixture
    return extract, db, summary


def test_a_name_shaped_unmapped_drug_is_quarantined_not_listed(loaded):
    _, _, summary = loaded
    assert summary.unmapped_drugs == []
    assert summary.quarantined_values == 1
    assert [(g.table, g.column, g.reason_code, g.rows) for g in summary.rejects] == [
        ("prescriptions", "drug", "quarantined_drug_string", 1)]


def test_listing_shows_file_line_reason_detector_and_mask_only(loaded, capsys):
    _, db, _ = loaded
    assert main(["quarantine", "--db", str(db), "--json"]) == 0
    out = capsys.readouterr().out
    record = json.loads(out)["quarantined"][0]
    assert (record["file"], record["line"], record["column"], record["reason"],
            record["detector"], record["masked"]) == (
        "prescriptions.csv", 4, "drug", "quarantined_drug_string", "person_name",
        "Aaaaa Aaaaaaaa (14 chars)")
    assert len(record["hash"]) == 12
    assert NAME not in out


def test_reveal_needs_the_extract_and_warns(loaded, capsys):
    extract, db, _ = loaded
    assert main(["quarantine", "--db", str(db), "--reveal"]) == 2
    assert NAME not in capsys.readouterr().out
    assert main(["quarantine", "--db", str(db), "--reveal", "--extract", str(extract)]) == 0
    captured = capsys.readouterr()
    assert "WARNING" in captured.err and "PHI" in captured.err
    assert f"value: '{NAME}'" in captured.out


def test_reveal_refuses_a_file_changed_since_the_load(loaded, capsys):
    extract, db, _ = loaded
    prescriptions = extract / "prescriptions.csv"
    prescriptions.write_text(prescriptions.read_text() + "\n")
    assert main(["quarantine", "--db", str(db), "--reveal", "--extract", str(extract)]) == 1
    captured = capsys.readouterr()
    assert "changed since the load" in captured.err
    assert NAME not in captured.out + captured.err
