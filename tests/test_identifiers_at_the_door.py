"""Issue 16, Done-when: an identifier planted in an ordinary column is refused or quarantined, and
then appears nowhere.

For each identifier kind and each of five columns (``drug``, a side-effect term,
``clinician_id``, ``sex``, a diagnosis code), one value of the hand-made ``good`` extract is
replaced by the identifier and the extract is loaded with ``outcomes ingest --json`` over a
warehouse built from ``good``. The outcome must be one of:

* refused: exit code 1, reason ``direct_identifier_value``, the column named; or
* quarantined: loaded, and the row recorded in ``meta.quarantine`` for that column.

Then the planted string must occur in none of: any VARCHAR column of any table or view of the
DuckDB file (every schema), the bytes of the file, the JSON document, the text summary rendered
from it, stderr, and log records.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import shutil
from pathlib import Path

import duckdb
import pytest

from cli.ingest import render_summary
from cli.main import main
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"

# A JPEG's first bytes, base64-encoded as a photo would be: 96 characters with '/' and '+'.
_PHOTO = base64.b64encode(bytes.fromhex("ffd8ffe000104a46494600010101004800480000ffdb0043")
                          + bytes(range(200, 248))).decode()

#: kind -> the value planted (each a shape DOMAIN.md section 10 refuses)
IDENTIFIERS: dict[str, str] = {
    "ssn": "123-45-6789",
    "phone": "(617) 555-0142",
    "fax": "fax 617-555-0199",
    "email": "jane.doe@example.org",
    "url": "https://www.janedoe-family.net/photos",
    "ipv4": "192.168.10.24",
    "ipv6": "2001:db8:85a3::8a2e:370:7334",
    "zip5": "02139",
    "zip_plus4": "02139-4307",
    "mrn_digits": "00482913",
    "date_of_birth_iso": "1984-03-12",
    "date_of_birth_us": "03/12/1984",
    "base64_blob": _PHOTO,
    "hex_blob": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "mac_address": "00:1A:2B:3C:4D:5E",
    "card_number": "4111 1111 1111 1111",
    "coordinates": "42.3601, -71.0589",
    "person_name": "Maria Gonzalez",
    "person_name_last_first": "Gonzalez, Maria",
    "street_address": "221 Baker Street",
}

#: column -> (file, key column, key of the row to change, column to change)
COLUMNS: dict[str, tuple[str, str, str, str]] = {
    "drug": ("prescriptions.csv", "prescription_id", "RX002", "drug"),
    "side_effect_term": ("side_effects.csv", "side_effect_id", "SE002", "effect"),
    "clinician_id": ("visits.csv", "visit_id", "V002", "clinician_id"),
    "sex": ("patients.csv", "patient_id", "P002", "sex"),
    "diagnosis_code": ("diagnoses.csv", "visit_id", "V003", "icd10_code"),
}


def plant(folder: Path, column_case: str, value: str) -> str:
    file_name, key_column, key, column = COLUMNS[column_case]
    path = folder / file_name
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    changed = [row for row in rows if row[key_column] == key]
    assert len(changed) == 1, f"the fixture must have one {key_column} = {key} in {file_name}"
    changed[0][column] = value
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue())
    return column


def masked(value: str) -> str:
    """Upper-case letters as A, other letters a, digits 9, the rest kept, and the length."""
    shape = "".join("A" if c.isupper() else "a" if c.isalpha() else "9" if c.isdigit() else c
                    for c in value)
    return f"{shape} ({len(value)} chars)"


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("base") / "outcomes.duckdb"
    ingest(GOOD, db)
    return db


def varchar_cells_containing(db: Path, needle: str) -> list[str]:
    """``schema.table.column`` of every VARCHAR(-holding) column in which ``needle`` occurs."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = con.sql("select table_schema, table_name, column_name from "
                          "information_schema.columns where data_type like '%VARCHAR%'"
                          ).fetchall()
        assert columns, "the warehouse has no text columns at all: the scan would prove nothing"
        hits = []
        for schema, table, column in columns:
            found = con.sql(f'select count(*) from "{schema}"."{table}" '  # noqa: S608
                            f'where contains(lower(cast("{column}" as VARCHAR)), lower($v))',
                            params={"v": needle}).fetchall()[0][0]
            if found:
                hits.append(f"{schema}.{table}.{column}")
        return hits
    finally:
        con.close()


@pytest.mark.parametrize("column_case", list(COLUMNS))
@pytest.mark.parametrize("kind", list(IDENTIFIERS))
def test_planted_identifier_is_refused_or_quarantined_and_appears_nowhere(
        tmp_path, base_db, capsys, caplog, kind, column_case):
    value = IDENTIFIERS[kind]
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    column = plant(extract, column_case, value)
    db = tmp_path / "outcomes.duckdb"
    shutil.copyfile(base_db, db)

    caplog.set_level(logging.DEBUG)
    # the tiny fixture would trip the 5% rejected-rows threshold with one planted row
    code = main(["ingest", str(extract), "--db", str(db), "--json", "--set", "max_reject_share=1"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)

    if code == 1:
        assert document["status"] == "refused"
        assert document["error"]["reason"] == "direct_identifier_value"
        assert document["error"]["column"] == column
        text = captured.err
    else:
        assert code == 0, captured.err
        con = duckdb.connect(str(db), read_only=True)
        quarantined = con.sql("select table_name, column_name, reason_code, masked_value "
                              "from meta.quarantine where load_id = $id",
                              params={"id": document["load_id"]}).fetchall()
        con.close()
        assert [(c, m) for _, c, _, m in quarantined] == [(column, masked(value))]
        assert document["quarantined_values"] == 1
        stream = io.StringIO()
        render_summary(document, stream)
        text = stream.getvalue() + captured.err

    needle = value.lower()
    assert needle not in captured.out.lower(), "the JSON document echoes the value"
    assert needle not in text.lower(), "the summary or stderr echoes the value"
    assert not [r for r in caplog.records if needle in r.getMessage().lower()]
    assert varchar_cells_containing(db, value) == []
    assert value.encode() not in db.read_bytes()
    assert not db.with_name(db.name + ".tmp").exists()
