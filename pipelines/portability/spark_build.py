"""Build the warehouse on Apache Spark: the same model files, compiled (issue #20).

``build(extract, warehouse, ...)``:

1. validates and stages the extract with the loader itself (``pipelines.ingest`` with
   ``run_models=False``) into a temporary DuckDB file: the same checks, refusals, rejects,
   de-identification guard and drug normalisation as ``outcomes ingest``, nothing restated;
2. writes the instrument rules in force and ``meta.definitions`` there, then exports every
   ``raw``, ``ref`` and ``meta`` table to Parquet under ``<warehouse>/<schema>/<table>/``;
3. registers those as Spark tables and builds every model in the order of ``pipelines.dag``,
   each compiled by ``pipelines.portability.compile.to_spark`` with its definition parameters
   bound as Spark ``:name`` markers (``spark.sql(text, args=...)``), and written as Parquet under
   ``<warehouse>/<layer>/<model>/``. Spark refuses ``create or replace table ... as`` on Parquet,
   so each table is dropped, its folder overwritten and the table created over it. A model that
   DuckDB keeps as a view is a table here: a Spark catalog without a metastore forgets views;
4. runs the build's audits on Spark (``pipelines.portability.spark_audits``) and records them
   with the load as ``meta.audit_results``; an error-level audit with rows refuses the build.

Every table is written into a staging folder beside the warehouse, swapped in only when all of
it succeeded (``pipelines.portability.spark_publish``): a failed build leaves the previous
warehouse complete. With ``from_catalog``, step 1 reads the contract's tables from a Spark
catalog database instead (``pipelines.portability.spark_catalog``).

``register(spark, warehouse)`` makes a built warehouse's tables known to a new session
(``outcomes metric --engine spark``). pyspark is imported here only; the package works without it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines import dag
from pipelines.portability.compile import to_spark
from pipelines.portability.spark_audits import audit_build
from pipelines.transform import _PARAM, MODELS_DIR, _strip_comments

#: Schemas the loader writes and the Spark build reads as sources.
SOURCE_SCHEMAS: tuple[str, ...] = ("raw", "ref", "meta")
#: Every schema of a Spark-built warehouse, in the order they are written.
SCHEMAS: tuple[str, ...] = (*SOURCE_SCHEMAS, *dag.LAYERS)


def session(master: str | None = None, remote: str | None = None, app: str = "psych-outcomes") -> Any:
    """A SparkSession: ``remote`` (``sc://host``) is Spark Connect; otherwise ``master``
    (default ``local[*]``). Quiet logs, no UI, few shuffle partitions for one machine."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if remote:
        return builder.remote(remote).getOrCreate()
    spark = (builder.master(master or "local[*]")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.log.level", "ERROR")
             .config("spark.sql.shuffle.partitions", "8")
             .config("spark.sql.session.timeZone", "UTC")
             # the session's catalog databases hold nothing we keep (tables are written as
             # Parquet under --warehouse): a temporary folder, not spark-warehouse/ in the
             # user's working folder
             .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="outcomes-spark-"))
             # an inner CTE named like an outer one (the engine wraps a metric as `units`) takes
             # precedence, as in DuckDB and standard SQL
             .config("spark.sql.legacy.ctePrecedencePolicy", "CORRECTED")
             .getOrCreate())
    return spark


def stage(extract: Path, staging_db: Path, *, config_path: Path | None = None,
          overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate and load ``extract`` into ``staging_db`` (``raw``, ``ref``, ``meta``) with the
    loader, write the rules and definitions the models read; return the definition parameters."""
    from pipelines import load_config
    from pipelines.ingest import ingest
    from pipelines.instruments import write_rules

    ingest(extract, staging_db, config_path=config_path, run_models=False, overrides=dict(overrides or {}))
    definitions = load_config.definitions(config_path, dict(overrides or {}))
    params = definitions.as_params()
    with duckdb.connect(str(staging_db)) as con:
        write_rules(con, dict(params))
        con.execute("delete from meta.definitions")
        con.executemany("insert into meta.definitions values (?, ?, ?)", definitions.as_records())
    return dict(params)


def export_sources(staging_db: Path, warehouse: Path) -> dict[str, int]:
    """Every ``raw``/``ref``/``meta`` table of ``staging_db`` as ``<warehouse>/<schema>/<table>/``
    Parquet; rows per table."""
    rows: dict[str, int] = {}
    with duckdb.connect(str(staging_db), read_only=True) as con:
        tables = con.sql("select table_schema, table_name from information_schema.tables "
                         "where table_schema in ('raw', 'ref', 'meta') and table_type = 'BASE TABLE' "
                         "order by 1, 2").fetchall()
        for schema, table in tables:
            folder = warehouse / schema / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            # schema and table names come from the loader's own catalogue, never from input
            con.execute(f"copy (select * from {schema}.{table}) to '{folder}/part-0.parquet' "  # noqa: S608
                        "(format parquet)")
            rows[f"{schema}.{table}"] = con.sql(f"select count(*) from {schema}.{table}").fetchall()[0][0]  # noqa: S608
    return rows


def register(spark: Any, warehouse: str | Path, schemas: tuple[str, ...] = SCHEMAS) -> list[str]:
    """Make every table folder under ``<warehouse>/<schema>/`` a Spark table ``schema.table``."""
    root = Path(warehouse)
    names = []
    for schema in schemas:
        if not (root / schema).is_dir():
            continue
        spark.sql(f"create database if not exists {schema}")
        for folder in sorted(p for p in (root / schema).iterdir() if p.is_dir()):
            target = f"{schema}.{folder.name}"
            spark.sql(f"drop table if exists {target}")
            spark.sql(f"create table {target} using parquet location '{folder.resolve()}'")
            names.append(target)
    return names


def build_models(spark: Any, warehouse: str | Path, params: Mapping[str, Any], *,
                 on_model: Callable[[str, int, int, int | None, float], None] | None = None,
                 ) -> dict[str, int]:
    """Build every model on Spark in DAG order into ``<warehouse>/<layer>/<model>/``; rows per
    model. Sources must be registered first (``register``)."""
    models = dag.plan(MODELS_DIR)
    root = Path(warehouse)
    rows: dict[str, int] = {}
    for layer in dag.LAYERS:
        spark.sql(f"create database if not exists {layer}")
    for position, model in enumerate(models):
        if on_model is not None:
            on_model(model.target, position, len(models), None, 0.0)
        started = time.perf_counter()
        used = {name: params[name]
                for name in sorted(set(_PARAM.findall(_strip_comments(model.sql))))}
        folder = (root / model.layer / model.name).resolve()
        spark.sql(f"drop table if exists {model.target}")
        spark.sql(to_spark(model.sql), args=used).write.mode("overwrite").parquet(str(folder))
        spark.sql(f"create table {model.target} using parquet location '{folder}'")
        rows[model.target] = spark.table(model.target).count()
        if on_model is not None:
            on_model(model.target, position, len(models), rows[model.target],
                     time.perf_counter() - started)
    return rows


def build(extract: Path | None, warehouse: Path, spark: Any, *, config_path: Path | None = None,
          overrides: Mapping[str, Any] | None = None,
          on_model: Callable[[str, int, int, int | None, float], None] | None = None,
          from_catalog: str | None = None, timings: dict[str, float] | None = None,
          ) -> dict[str, int]:
    """Validate ``extract`` (or, with ``from_catalog``, the contract's tables in that Spark
    catalog database: ``pipelines.portability.spark_catalog``), build every model and run the
    audits on ``spark`` in a staging folder, then swap it in as ``warehouse``
    (``pipelines.portability.spark_publish``); rows per table written. A build that fails
    part-way leaves the previous ``warehouse`` as it was. ``timings``, when given, receives the
    seconds of each phase: validate, models, audits, publish."""
    from pipelines.portability import spark_catalog, spark_publish

    clock = _Clock(timings)
    staging = spark_publish.staging_folder(warehouse, SCHEMAS)
    try:
        with tempfile.TemporaryDirectory(prefix="outcomes-spark-") as scratch:
            if from_catalog is not None:
                # written by the cluster where the warehouse goes (a shared file system)
                extract = spark_catalog.export(spark, from_catalog, staging / "_extract")
            assert extract is not None
            staging_db = Path(scratch) / "staged.duckdb"
            params = stage(extract, staging_db, config_path=config_path, overrides=overrides)
            shutil.rmtree(staging / "_extract", ignore_errors=True)
            rows = export_sources(staging_db, staging)
            with duckdb.connect(str(staging_db), read_only=True) as con:
                load_id = str(con.sql("select load_id from meta.load_log").fetchall()[0][0])
        register(spark, staging, SOURCE_SCHEMAS)
        clock.lap("validate")
        rows.update(build_models(spark, staging, params, on_model=on_model))
        clock.lap("models")
        results = audit_build(spark, staging, load_id, params, dag.plan(MODELS_DIR),
                              published=warehouse)
        rows["meta.audit_results"] = len(results)
        clock.lap("audits")
        spark_publish.swap(staging, warehouse)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # the session's tables pointed into the staging folder: point them at the warehouse
    register(spark, warehouse)
    clock.lap("publish")
    return rows


class _Clock:
    """Seconds per phase into ``timings`` (nothing when it is None)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.started = timings, time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[phase] = now - self.started
        self.started = now
