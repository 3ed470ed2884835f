"""``--dirty``: plant labelled bad rows into a generated CSV extract, with ``manifest.json``.

Each planted row copies a valid row of its table and breaks exactly one thing, so the ingest must
reject it for exactly one reason (the reason codes of ``pipelines/validate.py``); new rows get
fresh keys (``...DIRTY...``) so nothing else about them is wrong. Rows are appended at the end of
each file, so their CSV line numbers (header = line 1) are known. Two drug names that name no
psychiatric ingredient are planted in otherwise valid rows: the ingest keeps those rows and counts
the names in ``meta.unmapped_drugs``. A copy of the clean tables with an ``ssn`` column in
``patients.csv`` goes to the sibling folder ``<out>_phi/``: the ingest must refuse that whole
folder (``direct_identifier_column``), while the main folder still loads.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from pipelines.contract import TABLE_ORDER

#: (table, column to break, bad value, expected reason_code, what it shows)
BAD_VALUES: tuple[tuple[str, str, str, str, str], ...] = (
    ("patients", "birth_year", "19x5", "invalid_integer", "wrong type"),
    ("patients", "birth_year", "1850", "out_of_range", "birth year before 1900"),
    ("patients", "sex", "Q", "invalid_value", "unknown enum value"),
    ("visits", "visit_date", "2024-02-30", "invalid_date", "impossible date"),
    ("visits", "visit_date", "1899-12-31", "date_out_of_range", "date before 1900"),
    ("visits", "visit_date", "2999-01-01", "date_out_of_range", "date after tomorrow"),
    ("visits", "visit_type", "house_call", "invalid_value", "unknown enum value"),
    ("visits", "patient_id", "PT_UNKNOWN_1", "unknown_patient", "unknown patient"),
    ("diagnoses", "diagnosis_date", "yesterday", "invalid_date", "wrong type"),
    ("prescriptions", "days_supply", "0", "out_of_range", "days_supply 0"),
    ("prescriptions", "days_supply", "400", "out_of_range", "days_supply 400"),
    ("prescriptions", "refills", "30", "out_of_range", "refills 30"),
    ("prescriptions", "quantity", "0", "out_of_range", "quantity 0"),
    ("prescriptions", "quantity", "-5", "out_of_range", "negative quantity"),
    ("prescriptions", "daily_dose_mg", "fifty", "invalid_number", "wrong type"),
    ("prescriptions", "stop_reason", "bored", "invalid_value", "unknown enum value"),
    ("prescriptions", "patient_id", "PT_UNKNOWN_2", "unknown_patient", "unknown patient"),
    ("dispenses", "days_supply", "0", "out_of_range", "days_supply 0"),
    ("dispenses", "days_supply", "400", "out_of_range", "days_supply 400"),
    ("dispenses", "days_supply", "30.0", "invalid_integer", "wrong type"),
    ("dispenses", "quantity", "0", "out_of_range", "quantity 0"),
    ("dispenses", "dispense_date", "2024/03/01", "invalid_date", "date not ISO"),
    ("assessments", "total_score", "31", "score_out_of_range", "PHQ-9 above 27"),
    ("assessments", "total_score", "-1", "score_out_of_range", "negative score"),
    ("assessments", "instrument", "BDI-II", "invalid_value", "unknown instrument"),
    ("assessments", "item_9", "5", "out_of_range", "item 9 above 3"),
    ("assessments", "total_score", "", "missing_value", "required value missing"),
    ("side_effects", "effect", "felt weird", "unknown_effect_term", "unknown side-effect term"),
    ("side_effects", "severity", "extreme", "invalid_value", "unknown enum value"),
    ("side_effects", "action", "ignored", "invalid_value", "unknown enum value"),
    ("measurements", "value", "950", "value_out_of_range", "weight 950 kg (unit mix-up)"),
    ("measurements", "value", "abc", "invalid_number", "wrong type"),
    ("measurements", "measured_date", "", "missing_value", "required value missing"),
)
#: Rows whose end comes before their start (the reason is reported on the end column).
END_BEFORE_START = (("visits", "visit_date", "end_date"),
                    ("prescriptions", "start_date", "end_date"))
KEY_COLUMN = {"patients": "patient_id", "visits": "visit_id", "prescriptions": "prescription_id",
              "dispenses": "dispense_id", "assessments": "assessment_id",
              "side_effects": "side_effect_id", "measurements": "measurement_id"}
UNMAPPED_DRUGS = (("prescriptions", "Vitamin D3 1000 IU capsule"),
                  ("dispenses", "METFORMIN HCL 500MG TAB"))


def _read(path: Path) -> tuple[list[str], list[dict[str, str]], int]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with path.open(newline="") as handle:
        header = next(csv.reader(handle))
    return header, rows, len(rows) + 1  # lines used so far (header + rows)


def _append(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writerows(rows)
    with path.open("a", newline="") as handle:
        handle.write(buffer.getvalue())


def _template(rows: list[dict[str, str]], table: str) -> dict[str, str]:
    """A valid row to copy: for assessments a PHQ-9 row (so item_9 and 0-27 apply)."""
    if table == "assessments":
        return next(r for r in rows if r["instrument"] == "PHQ-9" and r["item_9"] != "")
    if table == "measurements":
        return next(r for r in rows if r["measure"] == "weight_kg")
    if table == "visits":
        return next(r for r in rows if r["end_date"] == "")
    if table == "prescriptions":
        return next(r for r in rows if r["end_date"] != "" and r["stop_reason"] != "")
    return rows[len(rows) // 2]


def write_phi_copy(out: Path) -> Path:
    """``<out>_phi/``: the clean tables, with an SSN-shaped column added to ``patients.csv``."""
    phi = out.with_name(out.name + "_phi")
    if phi.exists():
        shutil.rmtree(phi)
    phi.mkdir(parents=True)
    for table in TABLE_ORDER:
        shutil.copyfile(out / f"{table}.csv", phi / f"{table}.csv")
    header, rows, _ = _read(phi / "patients.csv")
    for number, row in enumerate(rows):
        # 9xx area numbers are never issued as SSNs: shaped like one, belongs to nobody.
        row["ssn"] = f"9{number // 10000 % 100:02d}-{number // 100 % 100:02d}-{number % 10000:04d}"
    with (phi / "patients.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*header, "ssn"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (phi / "manifest.json").write_text(json.dumps({
        "refused": {"file": "patients.csv", "column": "ssn",
                    "reason": "direct_identifier_column"},
        "note": "the whole load must be refused; nothing is written to the database"},
        indent=2) + "\n")
    return phi


def make_dirty(out: Path, seed: int) -> dict:
    """Plant the bad rows into the CSV extract ``out``; write and return ``manifest.json``."""
    out = Path(out)
    phi = write_phi_copy(out)
    planted: dict[str, list[dict[str, str]]] = {t: [] for t in TABLE_ORDER}
    rejects, unmapped = [], []
    headers, lines = {}, {}
    templates = {}
    for table in TABLE_ORDER:
        header, rows, used = _read(out / f"{table}.csv")
        headers[table], lines[table], templates[table] = header, used, _template(rows, table)

    def plant(table: str, row: dict[str, str], column: str | None, reason: str | None,
              what: str) -> None:
        key = KEY_COLUMN.get(table)
        if key and column != key:
            row[key] = f"{templates[table][key]}DIRTY{len(planted[table]) + 1:03d}"
        planted[table].append(row)
        lines[table] += 1
        entry = {"id": f"BAD-{len(rejects) + 1:03d}", "table": table, "line": lines[table],
                 "key": row.get(key) if key else None, "column": column,
                 "reason_code": reason, "value": row.get(column) if column else None,
                 "problem": what}
        if reason is not None:
            rejects.append(entry)

    for table, column, value, reason, what in BAD_VALUES:
        plant(table, {**templates[table], column: value}, column, reason, what)
    for table, start, end in END_BEFORE_START:
        row = dict(templates[table])
        year, rest = row[start][:4], row[start][4:]
        row[end] = f"{int(year) - 1}{rest}"
        plant(table, row, end, "end_before_start", "end date before start date")
    for table in ("patients", "visits", "assessments"):
        key = KEY_COLUMN[table]
        plant(table, dict(templates[table]), key, "duplicate_key", "duplicate key")
    plant("diagnoses", dict(templates["diagnoses"]), None, "duplicate_row", "identical row")
    rejects[-1]["column"] = None
    for table, name in UNMAPPED_DRUGS:
        plant(table, {**templates[table], "drug": name}, None, None, "unmapped drug name")
        unmapped.append({"table": table, "drug_as_written": name, "rows": 1,
                         "line": lines[table]})
    for table in TABLE_ORDER:
        if planted[table]:
            _append(out / f"{table}.csv", headers[table], planted[table])
    manifest = {"seed": seed, "rejects": rejects, "unmapped_drugs": unmapped,
                "phi_folder": str(phi),
                "note": "every row listed in 'rejects' must be rejected with exactly that "
                        "reason_code on that line and column, and no other row; the "
                        "'unmapped_drugs' rows load and are counted in meta.unmapped_drugs"}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
