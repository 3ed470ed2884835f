"""The build's audits on Spark: the same rules, compiled, recorded with the load (issue #20).

``audit_build(spark, warehouse, load_id, definitions, models)`` runs every audit
``pipelines.audits.collect`` gathers (the audit files, the model headers' keys and ranges, the
metric headers' tests), each a SELECT returning the offending rows, compiled by
``pipelines.portability.compile.to_spark`` and bound as Spark ``:name`` markers. The audits
sharing a metric's unit rows read them from one cached temporary view (DuckDB builds a
temporary table), and each batch of audits is counted by one statement. An audit of a model this
build did not make is skipped, as on DuckDB.

The results are written as ``<warehouse>/meta/audit_results/`` (one row per audit, the columns of
``pipelines.audits.AUDIT_RESULTS_DDL``) and registered as ``meta.audit_results``. When an
error-level audit returns rows, ``SparkAuditError`` names each failed audit and its count of
rows, never their values; the build writes into a staging folder
(``pipelines.portability.spark_publish``), so the warehouse it would have replaced is left as it
was, and the command exits with the status of a refused load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipelines import dag
from pipelines.audit_rule import Audit
from pipelines.audits import AuditError, AuditResult, audit_params, collect
from pipelines.portability.spark_connection import SparkConnection

#: ``meta.audit_results`` as Spark writes it (the columns of ``AUDIT_RESULTS_DDL``, in order).
RESULTS_SCHEMA = ("load_id string, audit string, severity string, model string, category string, "
                  "description string, offending_rows bigint, status string")


class SparkAuditError(AuditError):
    """Error-level audits failed on a Spark build: the build is refused."""

    def __init__(self, failed: list[AuditResult], warehouse: Path) -> None:
        super().__init__(failed)
        # the audits and their counts as DuckDB words them, then where the warehouse stands
        listed = str(self).split("; the load is refused")[0]
        self.args = (f"{listed}; the build is refused and the warehouse at {warehouse} is left "
                     "as it was",)


def run(spark: Any, audits: Iterable[Audit], params: Mapping[str, Any],
        built: Iterable[str]) -> list[AuditResult]:
    """Count each audit's rows on Spark; an audit reading a model not in ``built`` is skipped.

    One Spark statement counts a whole batch (``union all`` of one count per audit): the audits
    that read the models directly, then those sharing one metric's unit rows, from a cached
    temporary view of them. A Spark job per audit cost seconds each, mostly overhead."""
    con = SparkConnection(spark)
    built = set(built)
    audits = list(audits)
    counts: dict[int, int] = {}
    batches: dict[tuple[tuple[str, str] | None, tuple[tuple[str, Any], ...]], list[int]] = {}
    for position, audit in enumerate(audits):
        refs = dag.table_references(audit.full_sql)  # parsed by an in-memory DuckDB
        if {f"{s}.{t}" for s, t in refs.qualified if s in dag.LAYERS} <= built:
            batches.setdefault((audit.shared, audit.params), []).append(position)
    for (shared, own), positions in batches.items():
        # the audit's own parameters (a metric's defaults) before the build's; the connection
        # binds only the markers the compiled statement names
        bound = {**params, **dict(own)}
        cached = None
        if shared is not None:
            cached = con.sql(shared[1], bound).frame.cache()
            cached.createOrReplaceTempView(shared[0])  # a name from pipelines.metric_audits
        try:
            sql = "\nunion all\n".join(
                f"select {p} as audit, count(*) as offending_rows from (\n"  # noqa: S608
                f"{audits[p].sql if shared is not None else audits[p].full_sql}\n)"
                for p in positions)
            counts.update((int(p), int(n)) for p, n in con.sql(sql, bound).fetchall())
        finally:
            if cached is not None:
                cached.unpersist()
                spark.catalog.dropTempView(shared[0])  # type: ignore[index]
    return [AuditResult(audit, None, "skipped") if p not in counts else
            AuditResult(audit, counts[p], "fail" if counts[p] else "pass")
            for p, audit in enumerate(audits)]


def record(spark: Any, warehouse: str | Path, load_id: str, results: list[AuditResult]) -> None:
    """``meta.audit_results`` of this load, as Parquet under ``<warehouse>/meta/audit_results/``."""
    rows = [(load_id, r.audit.name, r.audit.severity, r.audit.model, r.audit.category,
             r.audit.description, r.offending_rows, r.status) for r in results]
    folder = (Path(warehouse) / "meta" / "audit_results").resolve()
    spark.sql("drop table if exists meta.audit_results")
    spark.createDataFrame(rows, RESULTS_SCHEMA).coalesce(1).write.mode("overwrite").parquet(
        str(folder))
    spark.sql(f"create table meta.audit_results using parquet location '{folder}'")


def audit_build(spark: Any, warehouse: str | Path, load_id: str,
                definitions: Mapping[str, Any], models: list[dag.Model], *,
                published: str | Path | None = None) -> list[AuditResult]:
    """Run every audit on the models just built on Spark under ``warehouse`` and record the
    results; raise ``SparkAuditError`` (naming ``published``, the warehouse the build would
    replace, when given) when an error-level audit returned rows."""
    # the audit_results metric is audited too: its table exists (empty) before the audits run
    record(spark, warehouse, load_id, [])
    results = run(spark, collect(models), audit_params(definitions), [m.target for m in models])
    failed = [r for r in results if r.status == "fail" and r.audit.severity == "error"]
    if failed:
        raise SparkAuditError(failed, Path(published or warehouse))
    record(spark, warehouse, load_id, results)
    return results
