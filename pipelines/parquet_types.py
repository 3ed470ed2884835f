"""Parquet column types against the contract, and the lossless coercions a typed file needs.

Everything is validated as text (``validate``), so a typed Parquet column is first turned into
the text a CSV would have carried. Two exporter habits would otherwise reject whole tables:

- a whole-number column written as a float (``birth_year`` 1980.0): a float holding a whole
  number is read as that integer (``1980``); a fraction (1980.5) stays ``1980.5`` and is rejected
  as ``invalid_integer`` (never rounded);
- a date column written as a timestamp: a timestamp at midnight is read as its date
  (``2024-01-10``); one with a time of day (14:30) stays as sent and is rejected as
  ``invalid_date`` (never truncated). A timestamp with a time zone is taken in UTC.

Each file and column coerced is counted and recorded as a load note (``meta.load_notes``).
A Parquet type that cannot hold the contract column at all (a boolean ``birth_year``, a float
``patient_id``, a binary ``drug``) refuses the file with a message naming every such column.
Text (``VARCHAR``) is accepted for every column, as in a CSV.
"""

from __future__ import annotations

import re

import duckdb

from pipelines.contract import Column, Table
from pipelines.sources import IngestError, SourceFile

_INTEGER = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
_FLOAT = re.compile(r"^(FLOAT|DOUBLE|REAL|DECIMAL\(\d+,\s*\d+\))$")
_TIMESTAMP = re.compile(r"^TIMESTAMP(_S|_MS|_NS)?( WITH TIME ZONE)?$")

#: What each contract kind accepts, in words (for the refusal message).
_EXPECTED = {
    "id": "text or an integer type",
    "text": "text",
    "enum": "text",
    "date": "DATE, a timestamp at midnight, or ISO text",
    "int": "an integer type, a float holding whole numbers, or text",
    "float": "a number type or text",
}


def _accepts(kind: str, parquet_type: str) -> bool:
    if parquet_type in ("VARCHAR", '"NULL"', "NULL"):
        return True
    if kind == "id":
        return bool(_INTEGER.match(parquet_type))
    if kind == "date":
        return parquet_type == "DATE" or bool(_TIMESTAMP.match(parquet_type))
    if kind in ("int", "float"):
        return bool(_INTEGER.match(parquet_type) or _FLOAT.match(parquet_type))
    return False


def check_schema(table: Table, source: SourceFile) -> None:
    """Refuse a Parquet file whose column types cannot hold the contract's columns."""
    if source.fmt != "parquet":
        return
    wrong = [
        f"{name} is {parquet_type} (expected {_EXPECTED[table.column(name).kind]})"
        for name, parquet_type in zip(source.columns, source.types, strict=True)
        if name in table.column_names and not _accepts(table.column(name).kind, parquet_type)]
    if wrong:
        first = next(n for n, t in zip(source.columns, source.types, strict=True)
                     if n in table.column_names and not _accepts(table.column(n).kind, t))
        raise IngestError(
            f"{source.relative_name}: {len(wrong)} column type(s) do not match the contract for "
            f"'{table.name}': " + "; ".join(wrong), file=source.relative_name, column=first,
            reason="parquet_type_mismatch")


def coercion(column: Column, parquet_type: str) -> str | None:
    """``"float"`` or ``"timestamp"`` when the column needs a lossless coercion, else None."""
    if column.kind == "int" and _FLOAT.match(parquet_type):
        return "float"
    if column.kind == "date" and _TIMESTAMP.match(parquet_type):
        return "timestamp"
    return None


def _naive(column: Column, parquet_type: str) -> str:
    v = f'"{column.name}"'
    return f"timezone('UTC', {v})" if "TIME ZONE" in parquet_type else f"cast({v} as TIMESTAMP)"


def _lossless(column: Column, parquet_type: str) -> str:
    """SQL: true when the typed value converts to the contract's kind without loss."""
    v = f'"{column.name}"'
    if coercion(column, parquet_type) == "float":
        return f"(isfinite({v}) and {v} = trunc({v}) and abs({v}) < 1e18)"
    naive = _naive(column, parquet_type)
    return f"({naive} = date_trunc('day', {naive}))"


def text_expression(column: Column, parquet_type: str) -> str:
    """SQL turning the Parquet column into the text validation expects (lossless only)."""
    v = f'"{column.name}"'
    how = coercion(column, parquet_type)
    if how == "float":
        return (f"case when {_lossless(column, parquet_type)} "
                f"then cast(cast({v} as BIGINT) as VARCHAR) else cast({v} as VARCHAR) end")
    if how == "timestamp":
        naive = _naive(column, parquet_type)
        return (f"case when {_lossless(column, parquet_type)} "
                f"then strftime({naive}, '%Y-%m-%d') else cast({naive} as VARCHAR) end")
    return f"cast({v} as VARCHAR)"


def coercion_notes(con: duckdb.DuckDBPyConnection, table: Table,
                   source: SourceFile) -> list[str]:
    """One note per coerced column of a Parquet file: how many values were read losslessly."""
    notes: list[str] = []
    if source.fmt != "parquet":
        return notes
    for name, parquet_type in zip(source.columns, source.types, strict=True):
        if name not in table.column_names:
            continue
        column = table.column(name)
        how = coercion(column, parquet_type)
        if how is None:
            continue
        # Column names were checked against the contract; the path is bound.
        kept, values = con.sql(
            f"select count(*) filter (where {_lossless(column, parquet_type)}), "  # noqa: S608
            f'count("{name}") from read_parquet($path)',
            params={"path": str(source.path)}).fetchall()[0]
        others = values - kept
        if how == "float":
            rest = f"; the other {others:,} are rejected as invalid_integer" if others else ""
            notes.append(f"{source.relative_name}: {name} is a {parquet_type} column; {kept:,} of "
                         f"{values:,} values were whole numbers, read as integers "
                         f"(1980.0 -> 1980){rest}")
        else:
            rest = (f"; the other {others:,} (with a time of day) are rejected as invalid_date"
                    if others else "")
            notes.append(f"{source.relative_name}: {name} is a {parquet_type} column; {kept:,} of "
                         f"{values:,} values were at midnight, read as dates{rest}")
    return notes
