"""Before a load reads any row (``pipelines.ingest``): every source file inspected, and for
``--check`` the live warehouse's patients copied in.

``inspect_sources`` hashes, encoding-checks and header-checks every table's files (Parquet:
column types too) so a refused file costs seconds, not minutes; ``copy_live_patients`` lets a
``--check`` of an incremental extract count the patients already loaded as known.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import duckdb

from pipelines.contract import TABLE_ORDER, TABLES
from pipelines.extract import IngestError, discover, inspect_file


def refuse_absent_tables(source: str, present: Collection[str], *,
                         named: Callable[[str], str] = str,
                         file: Callable[[str], str] | None = None,
                         expected: Callable[[str], str] | None = None) -> None:
    """Refuse a ``source`` (an extract folder, a catalog database) that lacks a table the contract
    requires: an ``IngestError`` (``missing_table``) naming every absent table as ``named`` names
    it, with ``file`` (default ``named``) of the first and what ``expected`` says of it."""
    absent = [name for name in TABLE_ORDER if TABLES[name].required and name not in present]
    if absent:
        first = absent[0]
        raise IngestError(
            f"{source}: required table(s) absent: {', '.join(named(name) for name in absent)}"
            f"{expected(first) if expected else ''}",
            file=(file or named)(first), reason="missing_table")


def inspect_sources(folder: Path, notes: list[str]) -> dict[str, tuple]:
    """Every table's files, hashed, encoding-checked and header-checked (Parquet: column types
    too), before any load; the Parquet coercions to come are added to ``notes``."""
    from pipelines.parquet_types import check_schema, coercion_notes
    from pipelines.validate import check_header

    found = discover(folder)
    refuse_absent_tables(str(folder), found, file=lambda table: f"{table}.csv",
                         expected=lambda table: (f" (expected {table}.csv, {table}.parquet or a "
                                                 f"folder {table}/)"))
    con = duckdb.connect(":memory:")
    try:
        sources = {}
        for name in TABLE_ORDER:
            if name in found:
                files = tuple(inspect_file(p, rel, fmt, con) for p, rel, fmt in found[name])
                for source in files:
                    check_header(TABLES[name], source)
                    check_schema(TABLES[name], source)
                for source in files:
                    notes.extend(coercion_notes(con, TABLES[name], source))
                sources[name] = files
    finally:
        con.close()
    return sources


def copy_live_patients(con: duckdb.DuckDBPyConnection, live: Path) -> None:
    """For ``--check``: the patients already loaded count as known (read-only attach)."""
    try:
        con.execute("attach $path as live (read_only)", {"path": str(live)})
    except duckdb.Error as exc:
        raise IngestError(f"--db {live}: cannot be opened as a DuckDB warehouse "
                          f"({str(exc).splitlines()[0]})", file=str(live),
                          reason="bad_database") from exc
    try:
        exists = con.sql("select count(*) from information_schema.tables where "
                         "table_catalog = 'live' and table_schema = 'raw' and "
                         "table_name = 'patients'").fetchall()[0][0]
        if exists:
            con.execute("create table raw.patients as select * from live.raw.patients")
    finally:
        con.execute("detach live")
