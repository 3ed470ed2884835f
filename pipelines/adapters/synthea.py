"""Synthea CSV export (patients, encounters, conditions, medications, observations) -> contract.

Synthea's ``patients.csv`` is full of exactly what the de-identification guard refuses (names,
SSNs, driver's licence and passport numbers, street addresses, ZIP codes, coordinates, full
birth dates). The adapter reads only ``Id``, ``BIRTHDATE`` (kept as its year) and ``GENDER``;
every other column is dropped here, by name, and the load summary says so. The guard still
runs on the output.

Timestamps are UTC (``...Z``) and are taken as the calendar date written, as for every source.
``DISPENSES`` (a number of fills, without fill dates) cannot make pharmacy fills, so a Synthea
load has prescriptions but no dispenses. Field map: ``mappings/synthea.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.adapters import codes
from pipelines.adapters.common import AdapterReport, Surrogates
from pipelines.adapters.fieldmap import add_lineage, apply_field_map, lookup_dict

FILES = ("patients", "encounters", "conditions", "medications", "observations")
#: patients.csv columns read; all others are dropped (listed in the summary by name).
PATIENT_COLUMNS_READ = ("Id", "BIRTHDATE", "GENDER")


def find_root(path: Path) -> Path | None:
    for folder in [path, *sorted(p for p in path.glob("*") if p.is_dir())]:
        if (folder / "patients.csv").exists() and (folder / "encounters.csv").exists():
            return folder
    return None


def _read(root: Path, name: str, report: AdapterReport) -> pl.DataFrame | None:
    path = root / f"{name}.csv"
    if not path.exists():
        report.notes.append(f"{name}.csv absent: nothing mapped from it")
        return None
    frame = pl.read_csv(path, infer_schema=False, quote_char='"', encoding="utf8")
    report.counts[f"source_rows.{name}"] = frame.height
    frame = add_lineage(frame, path.name)
    # Files without an Id column are keyed by line number (zero-padded so it sorts as a number).
    return frame.with_columns(pl.col("_line").cast(pl.String).str.zfill(9).alias("source_key"))


def to_contract(path: Path, report: AdapterReport) -> dict[str, pl.DataFrame]:
    root = find_root(path)
    if root is None:
        raise ValueError("no Synthea export (patients.csv and encounters.csv) found")
    source = {name: _read(root, name, report) for name in FILES}
    patients = source["patients"]
    assert patients is not None
    dropped = [c for c in patients.columns
               if c not in PATIENT_COLUMNS_READ and not c.startswith("_") and c != "source_key"]
    patients = patients.select(*PATIENT_COLUMNS_READ, "_file", "_line")
    report.notes.append("patients.csv identifying columns dropped by the adapter: "
                        + ", ".join(dropped) + "; BIRTHDATE kept as birth year only")
    report.counts["synthea.patient_columns_dropped"] = len(dropped)
    report.deid_mode = "synthetic"
    report.notes.append("Synthea export: synthetic data, deid_mode synthetic")

    ids = Surrogates()
    ids.assign("patient", patients["Id"])
    encounters = source["encounters"]
    ids.assign("site", encounters["ORGANIZATION"] if encounters is not None
               else pl.Series([], dtype=pl.String))
    ids.assign("clinician", encounters["PROVIDER"] if encounters is not None
               else pl.Series([], dtype=pl.String))
    frames = {"patients": apply_field_map("synthea", "patients", patients, ids, report)}
    if encounters is not None:
        inpatient = [c for c, k in lookup_dict("visit_types", "synthea", "visit_type").items()
                     if k == "inpatient"]
        encounters = encounters.with_columns(
            pl.when(pl.col("ENCOUNTERCLASS").is_in(inpatient)).then(pl.col("STOP"))
            .alias("stop_inpatient"))
        frames["visits"] = apply_field_map("synthea", "visits", encounters, ids, report)
    if (conditions := source["conditions"]) is not None:
        # Synthea conditions are SNOMED CT; the crosswalk maps the psychiatric ones.
        prepared = codes.to_icd10(conditions.with_columns(
            pl.col("CODE").alias("code"), pl.lit("snomed").alias("code_kind")), report,
            "conditions.csv")
        frames["diagnoses"] = apply_field_map("synthea", "diagnoses", prepared, ids, report)
    if (medications := source["medications"]) is not None:
        ingredient_of = codes.rxnorm_ingredients()
        medications = medications.with_columns(
            pl.when(pl.col("CODE").is_in(list(ingredient_of)))
            .then(pl.col("CODE").replace_strict(ingredient_of, default=None))
            .otherwise(pl.col("DESCRIPTION")).alias("drug_name"))
        frames["prescriptions"] = apply_field_map("synthea", "prescriptions", medications, ids,
                                                  report)
        report.notes.append("medications.csv DISPENSES is a count of fills without fill dates: "
                            "no pharmacy fills (dispenses) can be made from it")
    if (observations := source["observations"]) is not None:
        coded = observations.select(
            "source_key", pl.col("PATIENT").alias("person_id"),
            pl.col("DATE").alias("event_date"), pl.col("CODE").alias("loinc"),
            # VALUE is text for every TYPE; only numeric rows carry a number.
            pl.when(pl.col("TYPE") == "numeric").then(pl.col("VALUE").cast(pl.Float64,
                                                                             strict=False))
            .alias("value"), pl.col("UNITS").alias("unit"), "_file", "_line")
        frames["assessments"] = apply_field_map(
            "synthea", "assessments", codes.scale_rows(coded, report, "observations.csv"), ids,
            report)
        frames["measurements"] = apply_field_map(
            "synthea", "measurements", codes.measure_rows(coded, report, "observations.csv"), ids,
            report)
    return frames
