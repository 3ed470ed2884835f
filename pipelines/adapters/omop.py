"""OMOP CDM 5.3/5.4 (CSV or Parquet folder) -> extract contract.

Which OMOP field fills which contract column is in ``mappings/omop.yaml``; this module reads
the tables (case-insensitive names, ids as text because MIMIC's are signed 64-bit hashes,
``quote='"'`` declared because MIMIC quotes late) and derives what a field map cannot say:

* **drug names**: CONCEPT.concept_name when a CONCEPT table is present; else the Achilles
  ``drug_treemap.json`` (last path segment, de-duplicated by concept id); else
  drug_source_value (an all-digit value is an NDC and is written as ``NDC <code>``, which the
  loader lists as unmapped). An RxNorm *ingredient* concept found in our drug reference
  (``rxnorm_cui``) is written as our ingredient name.
* **prescriptions and dispenses**: every drug_exposure row is a prescription (an exposure span);
  a row whose drug_type_concept_id is a dispensing type (``mappings/omop_drug_types.csv``) and
  whose days_supply is 1-365 is also a pharmacy fill.
* **diagnoses**: ICD-10 kept, ICD-9 and SNOMED via reviewed crosswalks, other codes counted.
* **scales and measures** from observation and measurement by LOINC (source value, or the
  concept's code when the vocabulary is LOINC).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines.adapters import codes
from pipelines.adapters.common import AdapterReport, Surrogates
from pipelines.adapters.fieldmap import add_lineage, apply_field_map, code_table, lookup_dict

TABLES_READ = ("person", "visit_occurrence", "condition_occurrence", "drug_exposure",
               "measurement", "observation", "provider", "care_site", "death", "concept",
               "cdm_source")


def find_root(path: Path) -> Path | None:
    """The folder (``path`` or a folder below it, two levels deep) holding the person table."""
    for folder in [path, *sorted(p for p in path.glob("*") if p.is_dir()),
                   *sorted(p for p in path.glob("*/*") if p.is_dir())]:
        if _table_path(folder, "person") is not None:
            return folder
    return None


def _table_path(folder: Path, table: str) -> Path | None:
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        stem = entry.name.lower()
        if stem in (f"{table}.csv", f"{table}.parquet") or (entry.is_dir() and stem == table):
            return entry
    return None


def read_table(folder: Path, table: str) -> pl.DataFrame | None:
    """One OMOP table with every column as text and lower-case names, or None when absent."""
    path = _table_path(folder, table)
    if path is None:
        return None
    if path.is_dir():
        parts = sorted(path.glob("*.parquet")) or sorted(path.glob("*.csv"))
        frames = [_read_file(p) for p in parts]
        frame = pl.concat(frames, how="diagonal") if frames else pl.DataFrame()
    else:
        frame = _read_file(path)
    frame = frame.rename({c: c.lower() for c in frame.columns})
    return add_lineage(frame, path.name)


def _read_file(path: Path) -> pl.DataFrame:
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path)
        return frame.with_columns(pl.all().cast(pl.String))
    # Text only: hashed BIGINT ids must not pass through a float; the quote is declared
    # because a sniffer sampling the first rows of MIMIC's drug_exposure finds none.
    return pl.read_csv(path, infer_schema=False, quote_char='"', encoding="utf8")


def to_contract(path: Path, report: AdapterReport) -> dict[str, pl.DataFrame]:
    root = find_root(path)
    if root is None:
        raise ValueError(f"{path}: no OMOP person table (person.csv or person.parquet) found")
    source = {name: read_table(root, name) for name in TABLES_READ}
    report.notes.append(f"OMOP CDM folder {root}")
    for name in ("visit_occurrence", "condition_occurrence", "drug_exposure", "measurement",
                 "observation", "provider", "care_site", "death", "concept"):
        frame = source[name]
        if frame is None:
            report.notes.append(f"table {name} absent: nothing mapped from it")
        else:
            report.counts[f"source_rows.{name}"] = frame.height
    person = source["person"]
    assert person is not None
    report.counts["source_rows.person"] = person.height
    _deid_mode(source["cdm_source"], report)
    concepts = _concepts(source["concept"])

    ids = Surrogates()
    _assign_shared(ids, source)
    frames: dict[str, pl.DataFrame] = {}
    person = person.with_columns(_sex(person))
    frames["patients"] = apply_field_map("omop", "patients", person, ids, report)
    if (visits := source["visit_occurrence"]) is not None:
        frames["visits"] = apply_field_map("omop", "visits", _visits(visits, report), ids, report)
    if (conditions := source["condition_occurrence"]) is not None:
        prepared = _conditions(conditions, concepts, report)
        frames["diagnoses"] = apply_field_map("omop", "diagnoses", prepared, ids, report)
    if (drugs := source["drug_exposure"]) is not None:
        prepared = _drug_exposures(drugs, concepts, path, report)
        _after_death(prepared, source["death"], report)
        frames["prescriptions"] = apply_field_map("omop", "prescriptions", prepared, ids, report)
        fills = prepared.filter(pl.col("record_kind") == "dispense")
        usable = fills.filter(pl.col("days_supply_valid").is_not_null())
        report.skip("dispense_without_days_supply", fills.height - usable.height,
                    "dispensing-type drug_exposure rows as fills: days_supply empty, 0 or over "
                    "365 (kept as prescriptions only)")
        if usable.height:
            frames["dispenses"] = apply_field_map("omop", "dispenses", usable, ids, report)
    scale_parts, measure_parts = [], []
    for table, prefix in (("observation", "observation"), ("measurement", "measurement")):
        frame = source[table]
        if frame is None:
            continue
        coded = _loinc_rows(frame, prefix, concepts)
        scale_parts.append(codes.scale_rows(coded, report, table))
        measure_parts.append(codes.measure_rows(coded, report, table))
    if scale_parts:
        frames["assessments"] = apply_field_map("omop", "assessments", pl.concat(scale_parts),
                                                ids, report)
    if measure_parts:
        frames["measurements"] = apply_field_map("omop", "measurements",
                                                 pl.concat(measure_parts), ids, report)
    for name in ("provider", "care_site"):
        if (opaque := source[name]) is not None:
            report.notes.append(f"{name}: {opaque.height:,} rows used only as opaque ids "
                                "(names, NPI, DEA and addresses are not read)")
    return frames


def _deid_mode(cdm_source: pl.DataFrame | None, report: AdapterReport) -> None:
    text = "" if cdm_source is None else " ".join(
        str(v) for row in cdm_source.drop("_file", "_line").iter_rows() for v in row if v)
    if "synthea" in text.lower() or "synthetic" in text.lower():
        report.deid_mode = "synthetic"
        report.notes.append("CDM_SOURCE declares synthetic (Synthea) data: deid_mode synthetic")
    else:
        report.deid_mode = "limited_data_set"
        report.notes.append("day-level dates of real people: deid_mode limited_data_set (the "
                            "deployment must hold a DUA or expert determination)")


def _concepts(concept: pl.DataFrame | None) -> pl.DataFrame | None:
    if concept is None:
        return None
    return concept.select("concept_id", "concept_name", "vocabulary_id", "concept_code",
                          "concept_class_id")


def _assign_shared(ids: Surrogates, source: dict[str, pl.DataFrame | None]) -> None:
    """Number patients, sites and clinicians from every table that names them, once."""
    def column(table: str, name: str) -> list[pl.Series]:
        frame = source[table]
        return [frame[name]] if frame is not None and name in frame.columns else []

    person = source["person"]
    if person is None:  # person is a required OMOP table: the reader refuses a source without it
        raise ValueError("OMOP source without a person table")
    ids.assign("patient", person["person_id"])
    sites = column("care_site", "care_site_id") + column("person", "care_site_id") + \
        column("visit_occurrence", "care_site_id")
    ids.assign("site", pl.concat(sites) if sites else pl.Series([], dtype=pl.String))
    clinicians = [s for t in ("provider", "visit_occurrence", "drug_exposure")
                  for s in column(t, "provider_id")]
    ids.assign("clinician", pl.concat(clinicians) if clinicians
               else pl.Series([], dtype=pl.String))


def _sex(person: pl.DataFrame) -> pl.Expr:
    by_concept = pl.col("gender_concept_id").replace_strict(
        lookup_dict("sex", "omop", "sex"), default=None, return_dtype=pl.String)
    if "gender_source_value" not in person.columns:
        return by_concept.alias("sex_code")
    by_source = pl.col("gender_source_value").str.strip_chars().str.to_uppercase() \
        .replace_strict(lookup_dict("sex", "omop_source", "sex"), default=None,
                        return_dtype=pl.String)
    # Concept 0 ("no matching concept") says nothing; the source value may.
    return (pl.when(by_concept.is_null() | (by_concept == "U")).then(pl.coalesce(by_source,
            by_concept)).otherwise(by_concept).alias("sex_code"))


def _visits(visits: pl.DataFrame, report: AdapterReport) -> pl.DataFrame:
    types = lookup_dict("visit_types", "omop", "visit_type")
    unmapped = visits.filter(~pl.col("visit_concept_id").is_in(list(types)))
    if unmapped.height:
        report.count("visits.unmapped_visit_type", unmapped.height)
        report.notes.append(f"{unmapped.height:,} visits with a visit_concept_id not in "
                            "mappings/visit_types.csv: visit_type left empty")
    inpatient = [code for code, kind in types.items() if kind == "inpatient"]
    # The contract's end_date is an inpatient discharge; outpatient end dates are not copied.
    return visits.with_columns(pl.when(pl.col("visit_concept_id").is_in(inpatient))
                               .then(pl.col("visit_end_date")).alias("visit_end_inpatient"))


def _conditions(conditions: pl.DataFrame, concepts: pl.DataFrame | None,
                report: AdapterReport) -> pl.DataFrame:
    frame = conditions.with_columns(pl.col("condition_source_value").alias("code"))
    if concepts is not None and "condition_source_concept_id" in frame.columns:
        frame = frame.join(concepts.select(pl.col("concept_id").alias("condition_source_concept_id"),
                                           pl.col("vocabulary_id").alias("source_vocabulary")),
                           on="condition_source_concept_id", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("source_vocabulary"))
    frame = frame.with_columns(codes.classify_diagnosis(pl.col("code"),
                                                        pl.col("source_vocabulary"))
                               .alias("code_kind"))
    no_code = frame.filter(pl.col("code").is_null())
    report.skip("diagnosis_no_source_value", no_code.height,
                "condition_occurrence rows with no condition_source_value")
    return codes.to_icd10(frame.filter(pl.col("code").is_not_null()), report,
                          "condition_occurrence")


def _treemap_names(path: Path) -> dict[str, str]:
    """Concept id -> name from Achilles ``drug_treemap.json`` (last ``||`` segment)."""
    names: dict[str, str] = {}
    for treemap in sorted(path.rglob("drug_treemap.json")):
        data = json.loads(treemap.read_text("utf-8"))
        for concept_id, concept_path in zip(data["CONCEPT_ID"], data["CONCEPT_PATH"],
                                            strict=True):
            # A multi-ingredient product appears once per ingredient: keep one name per id.
            names.setdefault(str(concept_id), concept_path.split("||")[-1])
    return names


def _drug_exposures(drugs: pl.DataFrame, concepts: pl.DataFrame | None, path: Path,
                    report: AdapterReport) -> pl.DataFrame:
    frame = drugs
    concept_name = pl.lit(None, dtype=pl.String)
    if concepts is not None:
        frame = frame.join(concepts.select(
            pl.col("concept_id").alias("drug_concept_id"), "concept_name", "vocabulary_id",
            "concept_code", "concept_class_id"), on="drug_concept_id", how="left",
            maintain_order="left")
        ingredient_of = codes.rxnorm_ingredients()
        concept_name = (pl.when((pl.col("vocabulary_id") == "RxNorm")
                                & (pl.col("concept_class_id") == "Ingredient")
                                & pl.col("concept_code").is_in(list(ingredient_of)))
                        .then(pl.col("concept_code").replace_strict(ingredient_of, default=None))
                        .otherwise(pl.col("concept_name")))
    treemap = _treemap_names(path)
    if treemap:
        report.notes.append(f"drug names from Achilles drug_treemap.json ({len(treemap):,} "
                            "concepts, de-duplicated by concept id)")
    from_treemap = pl.col("drug_concept_id").replace_strict(treemap, default=None,
                                                            return_dtype=pl.String)
    source_value = pl.col("drug_source_value").str.strip_chars()
    from_source = (pl.when(source_value.str.contains(codes.NDC_SHAPE))
                   .then(pl.lit("NDC ") + source_value).otherwise(source_value))
    concept_known = pl.col("drug_concept_id").is_not_null() & (pl.col("drug_concept_id") != "0")
    frame = frame.with_columns(
        pl.when(concept_known & concept_name.is_not_null()).then(pl.lit("concept"))
        .when(concept_known & from_treemap.is_not_null()).then(pl.lit("drug_treemap"))
        .when(source_value.str.contains(codes.NDC_SHAPE)).then(pl.lit("ndc_only"))
        .when(source_value.is_not_null()).then(pl.lit("drug_source_value"))
        .otherwise(pl.lit("none")).alias("name_source"),
        pl.coalesce(pl.when(concept_known).then(concept_name),
                    pl.when(concept_known).then(from_treemap), from_source).alias("drug_name"))
    for row in frame.group_by("name_source").len().sort("name_source").iter_rows(named=True):
        report.count(f"drug_names.{row['name_source']}", row["len"])
    report.notes.append("drug names by source: " + ", ".join(
        f"{k.removeprefix('drug_names.')} {v:,}" for k, v in sorted(report.counts.items())
        if k.startswith("drug_names.")) + " (NDC-only names are listed by the loader as "
        "unmapped drugs)")

    kinds = dict(zip(code_table("omop_drug_types")["drug_type_concept_id"],
                     code_table("omop_drug_types")["record_kind"], strict=True))
    frame = frame.with_columns(pl.col("drug_type_concept_id").replace_strict(
        kinds, default="prescription", return_dtype=pl.String).alias("record_kind"))
    unknown_types = frame.filter(~pl.col("drug_type_concept_id").is_in(list(kinds)))
    if unknown_types.height:
        report.notes.append(f"{unknown_types.height:,} drug_exposure rows with a "
                            "drug_type_concept_id not in mappings/omop_drug_types.csv: "
                            "treated as prescriptions")
    supply = pl.col("days_supply").cast(pl.Float64, strict=False)
    refills = pl.col("refills").cast(pl.Float64, strict=False)
    quantity = pl.col("quantity").cast(pl.Float64, strict=False)
    frame = frame.with_columns(
        pl.when(supply.is_between(1, 365)).then(supply).alias("days_supply_valid"),
        pl.when(refills.is_between(0, 24)).then(refills).alias("refills_valid"),
        pl.when(quantity > 0).then(quantity).alias("quantity_valid"))
    no_quantity = frame.filter(quantity.is_not_null() & (quantity <= 0))
    if no_quantity.height:
        # ETLs (ETL-Synthea, MIMIC) write 0 for "quantity not recorded"; the contract's
        # quantity is optional, and a 0 would make the loader refuse the whole row.
        report.count("drug_exposure.quantity_blanked", no_quantity.height)
        report.notes.append(f"{no_quantity.height:,} drug_exposure quantity values of 0 or "
                            "less left empty (ETLs write 0 for 'not recorded')")
    blanked = frame.filter(supply.is_not_null() & pl.col("days_supply_valid").is_null())
    if blanked.height:
        report.count("prescriptions.days_supply_blanked", blanked.height)
        report.notes.append(f"{blanked.height:,} drug_exposure days_supply values of 0 or over "
                            "365 left empty on prescriptions (the exposure span is in start and "
                            "end dates; such values are durations, not a pharmacy supply)")
    return frame


def _after_death(drugs: pl.DataFrame, death: pl.DataFrame | None, report: AdapterReport) -> None:
    """Count drug exposures starting after the person's death (kept; a data-quality finding)."""
    if death is None or death.is_empty():
        return
    joined = drugs.join(death.select("person_id", "death_date"), on="person_id", how="inner")
    after = joined.filter(pl.col("drug_exposure_start_date").str.slice(0, 10)
                          > pl.col("death_date").str.slice(0, 10)).height
    report.counts["drug_exposure.starts_after_death"] = after
    if after:
        report.notes.append(f"{after:,} drug_exposure rows start after the person's death date "
                            "(kept as sent; the contract has no death date)")


def _loinc_rows(frame: pl.DataFrame, prefix: str, concepts: pl.DataFrame | None) -> pl.DataFrame:
    """observation/measurement rows with ``loinc``, ``value``, ``unit`` and ``source_key``."""
    source_value = pl.col(f"{prefix}_source_value").str.strip_chars()
    loinc: pl.Expr = pl.when(source_value.str.contains(codes.LOINC_SHAPE)).then(source_value)
    if concepts is not None:
        loinc_codes = concepts.filter(pl.col("vocabulary_id") == "LOINC")
        by_concept = dict(zip(loinc_codes["concept_id"], loinc_codes["concept_code"], strict=True))
        loinc = pl.coalesce(loinc, pl.col(f"{prefix}_concept_id").replace_strict(
            by_concept, default=None, return_dtype=pl.String))
    unit = pl.col("unit_source_value") if "unit_source_value" in frame.columns else pl.lit(None)
    return frame.select(
        (pl.lit(f"{prefix}:") + pl.col(f"{prefix}_id")).alias("source_key"),
        "person_id", pl.col(f"{prefix}_date").alias("event_date"), loinc.alias("loinc"),
        pl.col("value_as_number").cast(pl.Float64, strict=False).alias("value"),
        unit.cast(pl.String).str.strip_chars().alias("unit"), "_file", "_line",
    ).filter(pl.col("loinc").is_not_null())
