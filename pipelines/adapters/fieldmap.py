"""Declarative field maps: ``mappings/<source>.yaml`` says which source field fills which column.

Each YAML file has one entry per contract table::

    visits:
      from: visit_occurrence            # a frame the adapter prepared (source table or derived)
      columns:
        visit_id: surrogate(visit, visit_occurrence_id)
        patient_id: ref(patient, person_id)
        visit_date: date(visit_start_date)

The column expressions are a closed set of functions (an allow-list, so a mapping file cannot
run code): ``text(col)``, ``date(col)``, ``year(col)``, ``number(col)``, ``surrogate(ns, col)``
(assign opaque ids, sorted source-id order), ``ref(ns, col)`` (look up ids assigned by another
table) and ``lookup(table:source, col)`` (a reviewed code table in ``mappings/``, e.g.
``lookup(visit_types:omop, visit_concept_id)``). What cannot be said this way (joins, LOINC
scales, ICD-9 crosswalks, drug names) the adapter computes into named columns first, and the
field map then refers to them by name.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import polars as pl
import yaml

from pipelines.adapters.common import AdapterReport, SourceReject, Surrogates, parse_date
from pipelines.contract import TABLES

_EXPRESSION = re.compile(r"^(?P<fn>[a-z_]+)\((?P<args>[^()]*)\)$")
_FUNCTIONS = {"text", "date", "year", "number", "surrogate", "ref", "lookup"}
#: Per-row reject records kept per (table, reason); the total is always counted.
MAX_REJECTS_PER_REASON = 1000


def mapping_text(name: str) -> str:
    return resources.files("pipelines.adapters").joinpath("mappings", name).read_text("utf-8")


@cache
def field_map(source: str) -> dict[str, Any]:
    spec = yaml.safe_load(mapping_text(f"{source}.yaml"))
    for table, entry in spec.items():
        if table not in TABLES:
            raise ValueError(f"mappings/{source}.yaml: {table!r} is not a contract table")
        for column, expression in entry["columns"].items():
            TABLES[table].column(column)  # raises KeyError naming the unknown column
            match = _EXPRESSION.match(str(expression))
            if not match or match["fn"] not in _FUNCTIONS:
                raise ValueError(f"mappings/{source}.yaml: {table}.{column}: "
                                 f"unsupported expression {expression!r}")
    return spec


@cache
def code_table(name: str) -> pl.DataFrame:
    """A reviewed code table from ``mappings/<name>.csv``, every column as text."""
    from io import StringIO
    return pl.read_csv(StringIO(mapping_text(f"{name}.csv")), infer_schema=False)


def lookup_dict(table: str, source: str, value_column: str) -> dict[str, str]:
    codes = code_table(table).filter(pl.col("source") == source)
    return dict(zip(codes["code"].to_list(), codes[value_column].to_list(), strict=True))


def apply_field_map(source: str, table: str, frame: pl.DataFrame, ids: Surrogates,
                    report: AdapterReport) -> pl.DataFrame:
    """Map a prepared source frame to one contract table, dropping (and recording) unusable rows.

    A row is dropped only when a *required* contract column ends up empty: its source field is
    empty, its date is not a date, or it refers to a patient (or other key) the source does
    not have. Each drop is counted by reason, and per-row records keep file and line.
    """
    spec = field_map(source)[table]
    contract = TABLES[table]
    columns: dict[str, pl.Expr] = {}
    kinds: dict[str, str] = {}
    for column, expression in spec["columns"].items():
        match = _EXPRESSION.match(str(expression))
        assert match is not None  # checked in field_map()
        fn = match["fn"]
        args = [a.strip() for a in match["args"].split(",")]
        source_column = args[-1]
        if source_column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(source_column))
        if fn == "surrogate":
            if not ids.has(args[0]):  # patients may be numbered up front by the adapter
                ids.assign(args[0], frame[source_column])
            kinds[column] = "key"
        elif fn == "ref":
            kinds[column] = "key"
        columns[column] = _expression(fn, args, frame, ids)
    mapped = frame.with_columns([e.alias(f"__{c}") for c, e in columns.items()])
    keep = pl.lit(True)
    for column, expression in spec["columns"].items():
        if not contract.column(column).required:
            continue
        parsed = _EXPRESSION.match(str(expression))
        if parsed is None:  # the mapping files are checked when loaded; this keeps mypy honest
            raise ValueError(f"{column}: cannot read the mapping expression {expression!r}")
        source_column = parsed["args"].split(",")[-1].strip()
        empty_source = pl.col(source_column).is_null() | (
            pl.col(source_column).cast(pl.String).str.strip_chars() == "")
        unusable = pl.col(f"__{column}").is_null()
        for reason, condition, sentence in (
            (f"{table}.no_{column}", unusable & empty_source,
             f"{spec['from']} rows with no {source_column} (the contract requires {column})"),
            (f"{table}.bad_{column}", unusable & ~empty_source,
             f"{spec['from']} rows whose {source_column} cannot fill {column} "
             f"({'not an ISO date' if str(expression).startswith('date') else 'unknown key'})"),
        ):
            bad = mapped.filter(keep & condition)
            if bad.height:
                report.skip(reason, bad.height, sentence)
                # Source keys are never copied into meta.rejects: they may be identifiers.
                _record_rejects(report, table, bad, source_column, reason, sentence,
                                keep_value=kinds.get(column) != "key")
            keep = keep & ~condition
    return mapped.filter(keep).select([pl.col(f"__{c}").alias(c) for c in columns])


def _expression(fn: str, args: list[str], frame: pl.DataFrame, ids: Surrogates) -> pl.Expr:
    column = args[-1]
    text = pl.col(column).cast(pl.String).str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    if fn == "text":
        return text
    if fn == "date":
        return parse_date(column)
    if fn == "year":
        return text.str.slice(0, 4).cast(pl.Int64, strict=False)
    if fn == "number":
        return text.cast(pl.Float64, strict=False)
    if fn in ("surrogate", "ref"):
        return pl.lit(ids.lookup(args[0], frame[column]))
    if fn == "lookup":
        table, _, source = args[0].partition(":")
        value_column = {"visit_types": "visit_type", "sex": "sex"}[table]
        return text.replace_strict(lookup_dict(table, source, value_column), default=None,
                                   return_dtype=pl.String)
    raise ValueError(f"unsupported field-map function {fn!r}")


def _record_rejects(report: AdapterReport, table: str, bad: pl.DataFrame, column: str,
                    reason: str, sentence: str, keep_value: bool = True) -> None:
    files = bad["_file"] if "_file" in bad.columns else pl.Series([None] * bad.height)
    lines = bad["_line"] if "_line" in bad.columns else pl.Series([None] * bad.height)
    values = bad[column].cast(pl.String)
    for file, line, value in list(zip(files, lines, values, strict=True))[:MAX_REJECTS_PER_REASON]:
        report.rejects.append(SourceReject(
            table_name=table, source_file=str(file or ""),
            line=int(line) if line is not None else None, column_name=column,
            reason_code=reason, message=f"skipped: one of the {sentence}",
            value=None if value is None or not keep_value else str(value)[:200]))


def add_lineage(frame: pl.DataFrame, file_label: str, first_line: int = 2) -> pl.DataFrame:
    """``_file`` and ``_line`` (1-based, header is line 1) for reject records."""
    return frame.with_columns(pl.lit(file_label).alias("_file"),
                              (pl.int_range(pl.len(), dtype=pl.Int64) + first_line)
                              .alias("_line"))
