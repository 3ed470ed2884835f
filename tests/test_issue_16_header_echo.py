"""Issue 16: a data row read as the header (an extract whose header line is missing) is never
echoed back: the refusal names the file and the reason and shows the cells only masked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli.main import main

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
NAME = "Maria Gonzalez"


def test_issue_16_a_data_row_taken_for_the_header_is_not_echoed(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    patients = extract / "patients.csv"
    lines = patients.read_text().splitlines()
    # drop the header line and put a row with a name where the header was
    patients.write_text("\n".join([f"P900,1980,F,{NAME}", *lines[1:]]) + "\n")
    code = main(["ingest", str(extract), "--db", str(tmp_path / "o.duckdb"), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert document["error"]["file"] == "patients.csv"
    everything = captured.out + captured.err
    assert NAME not in everything and "Gonzalez" not in everything
    assert "Aaaaa Aaaaaaaa (14 chars)" in everything  # shown masked instead
    assert not (tmp_path / "o.duckdb").exists()  # nothing half-written
