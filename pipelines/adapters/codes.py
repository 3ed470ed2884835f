"""Code systems every adapter meets: LOINC scales and measures, ICD-9/ICD-10/SNOMED, RxNorm.

The tables are reviewed CSVs in ``mappings/``; this module only applies them and counts what
they do not cover.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from pipelines.adapters.common import AdapterReport
from pipelines.adapters.fieldmap import code_table

#: ICD-10(-CM): a letter (not U), two characters, then up to four more, dot optional.
ICD10_SHAPE = r"^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$"
#: ICD-9-CM: 3 digits (+2), V + 2 digits (+2), or E + 3 digits (+1), dot optional.
ICD9_SHAPE = r"^([0-9]{3}(\.?[0-9]{1,2})?|V[0-9]{2}(\.?[0-9]{1,2})?|E[0-9]{3}(\.?[0-9])?)$"
LOINC_SHAPE = r"^[0-9]{1,7}-[0-9]$"
#: An all-digit NDC as in MIMIC drug_source_value (10 or 11 digits).
NDC_SHAPE = r"^[0-9]{10,11}$"


def scale_rows(frame: pl.DataFrame, report: AdapterReport, origin: str) -> pl.DataFrame:
    """Rows of ``frame`` (columns ``loinc``, ``value``) that are contract scale totals.

    Adds ``instrument`` and keeps only mapped instruments with a value. Counted and skipped:
    PHQ-2 and other scale codes the contract has no instrument for, and scale rows with no
    value ("screen done, value missing"): a missing score is never written as 0.
    """
    instruments = code_table("loinc_instruments")
    joined = frame.join(instruments.select("loinc", "instrument", "action", "label"),
                        on="loinc", how="inner", maintain_order="left")
    for row in joined.filter(pl.col("action") == "skip").group_by("loinc", "label").len() \
            .sort("loinc").iter_rows(named=True):
        report.count(f"scales.not_contract.{row['loinc']}", row["len"])
        report.skip(f"not_contract_scale.{row['loinc']}", row["len"],
                    f"{origin} rows of {row['label']} (LOINC {row['loinc']}): not a contract "
                    "instrument")
    mapped = joined.filter(pl.col("action") == "map")
    for row in mapped.group_by("instrument").len().sort("instrument").iter_rows(named=True):
        report.count(f"scales.found.{row['instrument']}", row["len"])
    no_value = mapped.filter(pl.col("value").is_null())
    for row in no_value.group_by("instrument").len().sort("instrument").iter_rows(named=True):
        report.skip(f"scale_without_value.{row['instrument']}", row["len"],
                    f"{origin} {row['instrument']} rows with no value: screen done, value "
                    "missing (never written as 0)")
    return mapped.filter(pl.col("value").is_not_null()).drop("action", "label")


def measure_rows(frame: pl.DataFrame, report: AdapterReport, origin: str) -> pl.DataFrame:
    """Rows of ``frame`` (``loinc``, ``value``, ``unit``) that are contract measures.

    Adds ``measure`` and converts ``value`` by the table's factor. A row whose unit differs
    from the one the measure is defined in is skipped and counted (a unit mix-up would pass as
    a wrong number); an empty unit is accepted as the expected one.
    """
    measures = code_table("loinc_measures")
    joined = frame.join(measures.select("loinc", "measure", pl.col("unit").alias("unit_expected"),
                                        "factor"), on="loinc", how="inner",
                        maintain_order="left")
    no_value = joined.filter(pl.col("value").is_null())
    report.skip("measure_without_value", no_value.height,
                f"{origin} measurement rows with a mapped LOINC but no value")
    joined = joined.filter(pl.col("value").is_not_null())
    unit_ok = pl.col("unit").is_null() | (pl.col("unit").str.to_lowercase()
                                          == pl.col("unit_expected").str.to_lowercase())
    wrong_unit = joined.filter(~unit_ok)
    for row in wrong_unit.group_by("measure", "unit", "unit_expected").len().sort("measure") \
            .iter_rows(named=True):
        report.skip(f"measure_unit.{row['measure']}", row["len"],
                    f"{origin} {row['measure']} rows in unit {row['unit']!r}, not "
                    f"{row['unit_expected']!r}")
    return (joined.filter(unit_ok)
            .with_columns(pl.col("value") * pl.col("factor").cast(pl.Float64))
            .drop("unit_expected", "factor"))


def classify_diagnosis(code: pl.Expr, vocabulary: pl.Expr) -> pl.Expr:
    """``icd10``, ``icd9``, ``snomed`` or ``other`` for a source code.

    The vocabulary (from a CONCEPT table or a FHIR coding system) wins when known; otherwise the
    code's shape decides. Letter codes that fit ICD-10 are read as ICD-10 except all-digit V
    codes (ICD-9 V codes); ambiguous E8xx/E9xx codes without a vocabulary are read as ICD-10.
    """
    clean = code.str.strip_chars().str.to_uppercase()
    voc = vocabulary.str.to_uppercase()
    return (pl.when(voc.str.starts_with("ICD10")).then(pl.lit("icd10"))
            .when(voc.str.starts_with("ICD9")).then(pl.lit("icd9"))
            .when(voc.str.starts_with("SNOMED")).then(pl.lit("snomed"))
            .when(voc.is_not_null() & (voc != "")).then(pl.lit("other"))
            .when(clean.str.contains(r"^V[0-9.]+$") & clean.str.contains(ICD9_SHAPE))
            .then(pl.lit("icd9"))
            .when(clean.str.contains(ICD10_SHAPE)).then(pl.lit("icd10"))
            .when(clean.str.contains(ICD9_SHAPE)).then(pl.lit("icd9"))
            .otherwise(pl.lit("other")))


def to_icd10(frame: pl.DataFrame, report: AdapterReport, origin: str) -> pl.DataFrame:
    """Add ``icd10`` to a frame with ``code`` and ``code_kind``; skip and count the rest.

    ICD-10 is kept as written (dot optional). ICD-9 goes through the reviewed psychiatric
    crosswalk (``mappings/icd9_icd10.csv``, longest prefix wins); SNOMED through
    ``mappings/snomed_icd10.csv``. Everything else is counted by kind and skipped.
    """
    code = pl.col("code").str.strip_chars().str.to_uppercase().str.replace_all(r"\.", "")
    icd9 = code_table("icd9_icd10").sort(pl.col("icd9_prefix").str.len_chars(), descending=True)
    icd9_expr = pl.lit(None, dtype=pl.String)
    for prefix, target in reversed(list(zip(icd9["icd9_prefix"], icd9["icd10_code"],
                                            strict=True))):
        icd9_expr = pl.when(code.str.starts_with(prefix)).then(pl.lit(target)).otherwise(icd9_expr)
    snomed = dict(zip(code_table("snomed_icd10")["snomed"], code_table("snomed_icd10")["icd10_code"],
                      strict=True))
    result = frame.with_columns(
        pl.when(pl.col("code_kind") == "icd10").then(pl.col("code").str.strip_chars())
        .when(pl.col("code_kind") == "icd9").then(icd9_expr)
        .when(pl.col("code_kind") == "snomed")
        .then(code.replace_strict(snomed, default=None, return_dtype=pl.String))
        .otherwise(None).alias("icd10"))
    for row in result.filter(pl.col("icd10").is_null()).group_by("code_kind").len() \
            .sort("code_kind").iter_rows(named=True):
        kind = row["code_kind"]
        why = {"icd9": "ICD-9 codes outside the psychiatric crosswalk (mappings/icd9_icd10.csv)",
               "snomed": "SNOMED codes without an entry in mappings/snomed_icd10.csv",
               "other": "codes that are not ICD-9, ICD-10 or SNOMED (e.g. chart items)"}[kind]
        report.count(f"diagnoses.unmapped.{kind}", row["len"])
        report.skip(f"diagnosis_unmapped.{kind}", row["len"], f"{origin} rows with {why}")
    return result.filter(pl.col("icd10").is_not_null())


@cache
def rxnorm_ingredients() -> dict[str, str]:
    """RxNorm ingredient CUI -> our ingredient, from ``pipelines/reference/drugs.csv``, plus the
    reviewed salt-level (precise ingredient) codes in ``rxnorm_code_synonyms.csv``.

    The reference table is maintained elsewhere; when it is absent or has no ``rxnorm_cui``
    column the adapters fall back to drug names (the loader normalises those).
    """
    path = Path(__file__).resolve().parents[1] / "reference" / "drugs.csv"
    if not path.exists():
        return {}
    drugs = pl.read_csv(path, infer_schema=False)
    if "rxnorm_cui" not in drugs.columns:
        return {}
    drugs = drugs.filter(pl.col("rxnorm_cui").is_not_null())
    mapping = dict(zip(drugs["rxnorm_cui"].str.strip_chars(), drugs["ingredient"], strict=True))
    # tests/test_reference.py guarantees no synonym code is also an IN code or names two ingredients
    synonyms_path = path.with_name("rxnorm_code_synonyms.csv")
    if synonyms_path.exists():
        synonyms = pl.read_csv(synonyms_path, infer_schema=False)
        mapping |= dict(zip(synonyms["rxnorm_cui"].str.strip_chars(), synonyms["ingredient"],
                            strict=True))
    return mapping
