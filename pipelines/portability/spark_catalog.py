"""Raw tables already in a Spark catalog database as the build's source (``--from-catalog DB``).

A health system's warehouse may hold the contract's tables already: ``DB.patients``,
``DB.visits`` and so on, named as the contract names them (``pipelines.contract.TABLES``).
``check(spark, database)`` reads each table's schema from the catalog, without reading a row,
and refuses what the extract path refuses before it reads a row: a required table absent, a
column that looks like a direct identifier, a required column missing, a column the contract does
not list, a column type that cannot hold the contract column (the Parquet rules of
``pipelines.parquet_types``, Spark's types read as DuckDB names them). Each refusal is an
``IngestError`` naming ``DB.table`` and the column, never a value. Tables of ``DB`` the contract
does not name are left alone.

``export(spark, database, folder)`` then writes each contract table as a folder of Parquet parts
under ``folder`` (an extract folder as the contract describes it), and the build validates and
stages that folder with the loader itself: the row checks, rejects, de-identification guard and
drug normalisation are the extract path's, not restated here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipelines.contract import TABLE_ORDER, TABLES
from pipelines.sources import IngestError, SourceFile

#: Spark's simple type names as DuckDB names the same Parquet type (what the Parquet rules read).
_DUCKDB_TYPES = {
    "string": "VARCHAR", "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER",
    "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP", "void": "NULL",
}
_DATABASE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Databases the build itself writes into (``spark_build.SCHEMAS``): never a source.
RESERVED = ("raw", "ref", "meta", "staging", "intermediate", "marts")


def duckdb_type(spark_type: str) -> str:
    """A Spark type (``simpleString``) by its DuckDB name: ``decimal(10,2)`` is ``DECIMAL(10,2)``,
    ``varchar(20)`` is ``VARCHAR``; a type with no Parquet counterpart keeps its own name."""
    if spark_type.startswith(("varchar(", "char(")):
        return "VARCHAR"
    if spark_type.startswith("decimal("):
        return spark_type.upper()
    return _DUCKDB_TYPES.get(spark_type, spark_type.upper())


def check(spark: Any, database: str) -> list[str]:
    """The contract tables present in ``database``; IngestError for what the extract path would
    refuse before reading a row (a missing database is a usage error, exit status 2)."""
    from pipelines.parquet_types import check_schema
    from pipelines.preflight import refuse_absent_tables
    from pipelines.validate import check_header

    if not _DATABASE.fullmatch(database) or database.lower() in RESERVED:
        raise IngestError(
            f"--from-catalog {database!r}: give the name of the catalog database holding the "
            f"contract's tables (a plain name, not one of {', '.join(RESERVED)}, which the build "
            "writes)", file=database, reason="bad_option")
    if not spark.catalog.databaseExists(database):
        raise IngestError(f"--from-catalog {database}: no such database in the Spark catalog",
                          file=database, reason="bad_option")
    present = [name for name in TABLE_ORDER if spark.catalog.tableExists(f"{database}.{name}")]
    refuse_absent_tables(database, present, named=lambda table: f"{database}.{table}")
    for name in present:
        fields = spark.table(f"{database}.{name}").schema.fields
        source = SourceFile(Path(f"{database}.{name}"), f"{database}.{name}", "parquet", "",
                            tuple(f.name for f in fields),
                            tuple(duckdb_type(f.dataType.simpleString()) for f in fields))
        check_header(TABLES[name], source)
        check_schema(TABLES[name], source)
    return present


def export(spark: Any, database: str, folder: Path) -> Path:
    """Check ``database`` and write its contract tables under ``folder`` as ``<table>/`` folders of
    Parquet parts; return ``folder``, an extract folder for the loader."""
    for name in check(spark, database):
        spark.table(f"{database}.{name}").write.mode("overwrite").parquet(
            str((folder / name).resolve()))
    return folder
