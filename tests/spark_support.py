"""Shared by tests/test_spark_parity.py and tests/test_spark_runner.py: a model table of a DuckDB
warehouse against the same table of a Spark-built warehouse (Parquet under
``<warehouse>/<layer>/<model>/``), both read by DuckDB; and a Spark build without its audits.

Two builds of one extract agree when ``except all`` is empty in both directions; doubles are
rounded to 9 decimals (the engines may sum in another order).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def without_audits() -> Iterator[None]:
    """Spark builds in the block run no audit (``spark_audits.collect`` finds none); each still
    writes ``meta.audit_results``, empty."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipelines.portability.spark_audits.collect", lambda models: [])
        yield


@dataclass(frozen=True)
class Comparison:
    """Rows of the DuckDB table that Spark's lacks, rows of Spark's that DuckDB's lacks (each
    counted with its repeats), and the two tables' row counts."""

    only_duckdb: int
    only_spark: int
    duckdb_rows: int
    spark_rows: int

    @property
    def same(self) -> bool:
        return (self.only_duckdb, self.only_spark) == (0, 0) and self.duckdb_rows == self.spark_rows


def compare(duck: Any, target: str, spark_warehouse: Path, leave_out: tuple[str, ...] = ()) -> Comparison:
    """The model ``target`` (``layer.model``) of the warehouse ``duck`` is connected to, against
    the same model of ``spark_warehouse``; the columns in ``leave_out`` are not compared."""
    schema, table = target.split(".")
    parquet = f"read_parquet('{spark_warehouse / schema / table}/*.parquet')"
    columns = ", ".join(
        f"round({c}, 9) as {c}" if kind in ("DOUBLE", "FLOAT") else c
        for c, kind in duck.sql("select column_name, data_type from information_schema.columns "
                                "where table_schema = $s and table_name = $t "
                                "order by ordinal_position", params={"s": schema, "t": table}).fetchall()
        if c not in leave_out)

    def count(sql: str) -> int:
        return int(duck.sql(sql).fetchall()[0][0])

    # names from the model graph and the warehouse's own catalogue
    return Comparison(
        only_duckdb=count(f"select count(*) from (select {columns} from {target} except all "  # noqa: S608
                          f"select {columns} from {parquet})"),
        only_spark=count(f"select count(*) from (select {columns} from {parquet} except all "  # noqa: S608
                         f"select {columns} from {target})"),
        duckdb_rows=count(f"select count(*) from {target}"),  # noqa: S608
        spark_rows=count(f"select count(*) from {parquet}"))  # noqa: S608
