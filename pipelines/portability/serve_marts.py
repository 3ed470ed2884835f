"""A DuckDB file from the Parquet tables a Spark build wrote, for the dashboard (issue #20).

``outcomes serve --marts PATH`` serves a warehouse built by ``outcomes build --engine spark``:
DuckDB reads the Parquet tables of ``PATH/marts/``, ``PATH/meta/`` and ``PATH/ref/`` into one
DuckDB file with the same schemas and the shared macros, and the dashboard opens that file as it
opens any warehouse. The tables are copied, not viewed: the dashboard turns DuckDB's external
access off (it reads its one attached file and nothing else), which views over ``read_parquet``
would need. The file is written beside as ``<db>.tmp`` and renamed into place, so a reader
never sees half of it. ``staging`` and ``intermediate`` are not copied: no metric reads them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.transform import write_macros

#: The schemas the dashboard and the metric files read.
SERVED_SCHEMAS: tuple[str, ...] = ("meta", "ref", "marts")


def marts_database(warehouse: Path, db_path: Path) -> dict[str, int]:
    """Copy the served schemas of the Parquet warehouse into ``db_path``; rows per table.
    ValueError when ``warehouse`` holds no ``marts`` tables."""
    marts = warehouse / "marts"
    if not marts.is_dir() or not any(p.is_dir() for p in marts.iterdir()):
        raise ValueError(f"{warehouse} holds no Parquet marts (marts/<table>/); build it with "
                         "`outcomes build EXTRACT --engine spark --warehouse PATH`")
    scratch = db_path.with_name(db_path.name + ".tmp")
    scratch.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(scratch)) as con:
        for schema in SERVED_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")  # constant names
            folder = warehouse / schema
            for table in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else ():
                # schema from the constant list, table from the folder Spark wrote; files bound
                con.execute(f"create table {schema}.{table.name} as select * from "  # noqa: S608
                            "read_parquet($files)", {"files": f"{table.resolve()}/*.parquet"})
                rows[f"{schema}.{table.name}"] = con.sql(
                    f"select count(*) from {schema}.{table.name}").fetchall()[0][0]  # noqa: S608
        write_macros(con)
    scratch.replace(db_path)
    return rows
