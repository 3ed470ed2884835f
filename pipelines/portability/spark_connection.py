"""A Spark warehouse behind the small part of DuckDB's connection interface the metric engine uses.

``queries.metric`` (and ``queries.run``) send DuckDB SQL through ``con.sql(text, params=...)``
and read ``.pl()`` or ``.fetchall()``; ``SparkConnection`` compiles each statement with
``pipelines.portability.compile.to_spark``, binds the parameters as Spark ``:name`` markers and
hands back the aggregated rows, so the engine's statistics, intervals and suppression run in
Python on the same rows whichever engine aggregated them. Only parameters the statement names
are bound (Spark refuses unused ones); a list binds positional ``?`` markers in order. A table the
statement names that the catalog does not hold (``meta.metric_snapshots``, which a Spark build does
not write, or ``meta.cell_key`` on an older warehouse) is looked up quietly in the catalog first
and raised as ``duckdb.CatalogException`` without running the statement, so the engine's fallbacks
for a missing table behave as on DuckDB and Spark logs no analysis error; a Spark analysis error
is raised the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from pipelines.portability.compile import to_spark

_MARKER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)", re.I)


class SparkResult:
    """The rows of one statement, read the ways the engine reads DuckDB results."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame  # the Spark DataFrame (lazy: nothing runs until it is read)

    def pl(self) -> pl.DataFrame:
        return pl.from_arrow(self.frame.toArrow())  # type: ignore[return-value]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.frame.collect()]

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.frame.take(1)
        return tuple(rows[0]) if rows else None


class SparkConnection:
    """``sql``/``execute`` over a SparkSession whose catalog holds the warehouse's tables
    (``pipelines.portability.spark_build.register``)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._exists: set[str] = set()  # qualified names found in the catalog (a missing one is
        # asked again: a later statement may follow its creation)

    def missing_table(self, compiled: str) -> str | None:
        """The first schema-qualified table of ``compiled`` the catalog does not hold, or None.
        ``tableExists`` reads metadata only, and logs nothing when the answer is no."""
        import sqlglot
        from sqlglot import exp

        from pipelines.portability.compile import SparkQualify

        for table in sqlglot.parse_one(compiled, read=SparkQualify).find_all(exp.Table):
            if not table.db or not table.name:
                continue  # a CTE or a temporary view: not in a database
            name = f"{table.db}.{table.name}"
            if name in self._exists:
                continue
            if not self.spark.catalog.tableExists(f"{table.db}.{table.name}"):
                return name
            self._exists.add(name)
        return None

    def sql(self, query: str, params: Mapping[str, Any] | Sequence[Any] | None = None,
            **_: Any) -> SparkResult:
        compiled = to_spark(query)
        args: dict[str, Any] | list[Any]
        if isinstance(params, Mapping) or params is None:
            names = set(_MARKER.findall(compiled))
            args = {k: _spark_value(v) for k, v in (params or {}).items() if k in names}
        else:  # positional `?` markers (queries.snapshots.lookup), bound in order
            args = list(params)
        from pyspark.errors import AnalysisException

        missing = self.missing_table(compiled)
        if missing is not None:
            raise duckdb.CatalogException(f"Table {missing} does not exist in the Spark catalog")
        try:
            return SparkResult(self.spark.sql(compiled, args=args))
        except AnalysisException as exc:
            raise duckdb.CatalogException((str(exc).strip().splitlines() or [""])[0]) from exc

    def execute(self, query: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> SparkResult:
        return self.sql(query, params)

    def close(self) -> None:
        """The session outlives the connection (the caller stops it)."""


def _spark_value(value: Any) -> Any:
    """A parameter as Spark binds it: a list of dicts (``$instrument_ranges`` of the audits, a
    DuckDB list of structs) as ``array(named_struct(...), ...)``; anything else as it is."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        from pyspark.sql import functions

        return functions.array(*[functions.struct(*[functions.lit(v).alias(k) for k, v in row.items()])
                                 for row in value])
    return value
