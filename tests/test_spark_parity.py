"""Spark gives the rows DuckDB gives (issue #20): every model table, the PDC inpatient branch and
the metrics, on the session's sample warehouse built by both engines from the same extract.

Two builds of one extract agree when ``except all`` is empty in both directions (doubles rounded
to 9 decimals: the engines may sum in another order). Skipped when pyspark or Java is absent
(``pip install -e .[spark]``; .ci/run installs both, so CI runs it). One SparkSession local[2]
for the module; the Spark build is the slow part (minutes on a busy machine).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark", reason="the spark extra (pip install -e .[spark]) is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark local mode needs Java 17 (apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

import queries
from pipelines import dag
from pipelines.definitions import Definitions
from pipelines.portability import spark_build
from pipelines.portability.compile import to_spark
from pipelines.portability.spark_connection import SparkConnection
from pipelines.transform import _PARAM, MODELS_DIR, _strip_comments, write_macros

pytestmark = [pytest.mark.slow, pytest.mark.spark]

MODELS = [m.target for m in dag.plan(MODELS_DIR)]
#: Metrics whose Spark answer is known to differ or fail, and why (each its own follow-up).
KNOWN_GAPS: dict[str, str] = {
    "audit_results": "the Spark build runs no audits (meta.audit_results is not written)",
    "load_history": "the Spark build is its own load: another load_id",
    "data_freshness": "the Spark build is its own load: another load_id",
}


@pytest.fixture(scope="module")
def spark() -> Any:
    session = spark_build.session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_warehouse(spark: Any, warehouse_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark-warehouse")
    spark_build.build(warehouse_source, path, spark)
    return path


@pytest.fixture(scope="module")
def duck(warehouse_path: Path) -> Any:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    yield con
    con.close()


def _rounded(con: Any, schema: str, table: str) -> str:
    columns = con.sql("select column_name, data_type from information_schema.columns where "
                      "table_schema = $s and table_name = $t order by ordinal_position",
                      params={"s": schema, "t": table}).fetchall()
    return ", ".join(f"round({c}, 9) as {c}" if d in ("DOUBLE", "FLOAT") else c for c, d in columns)


def _differences(con: Any, ours: str, theirs: str, columns: str) -> tuple[int, int]:
    # names from the model graph and the warehouse's own catalogue
    one = con.sql(f"select count(*) from (select {columns} from {ours} except all "  # noqa: S608
                  f"select {columns} from {theirs})").fetchall()[0][0]
    two = con.sql(f"select count(*) from (select {columns} from {theirs} except all "  # noqa: S608
                  f"select {columns} from {ours})").fetchall()[0][0]
    return one, two


@pytest.mark.parametrize("target", MODELS)
def test_every_model_table_is_the_same_on_spark(target: str, duck: Any, spark_warehouse: Path) -> None:
    schema, table = target.split(".")
    parquet = f"read_parquet('{spark_warehouse / schema / table}/*.parquet')"
    rows = duck.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
    assert _differences(duck, target, parquet, _rounded(duck, schema, table)) == (0, 0)
    assert duck.sql(f"select count(*) from {parquet}").fetchall()[0][0] == rows  # noqa: S608


def test_the_pdc_inpatient_adjustment_is_the_same_on_spark(duck: Any, spark: Any,
                                                           spark_warehouse: Path) -> None:
    sql = (MODELS_DIR / "marts" / "fct_adherence_pdc.sql").read_text(encoding="utf-8")
    params = {**Definitions.from_config(None).as_params(), "pdc_inpatient_adjustment": True}
    used = {n: params[n] for n in sorted(set(_PARAM.findall(_strip_comments(sql))))}
    ours = duck.sql(sql, params=used).pl()
    theirs = pl.from_arrow(spark.sql(to_spark(sql), args=used).toArrow())
    assert ours["is_inpatient_adjusted"].all()
    assert ours["inpatient_days"].sum() > 0  # the branch has stays to compress
    _same(ours, theirs)


def _same(ours: pl.DataFrame, theirs: Any) -> None:
    assert isinstance(theirs, pl.DataFrame)
    columns = ours.columns
    assert_frame_equal(ours.sort(columns, nulls_last=True),
                       theirs.select(columns).sort(columns, nulls_last=True),
                       check_dtypes=False, abs_tol=1e-9)


@pytest.fixture(scope="module")
def spark_con(spark: Any, spark_warehouse: Path) -> SparkConnection:
    spark_build.register(spark, spark_warehouse)
    return SparkConnection(spark)


def _cases() -> list[Any]:
    cases = []
    for name in queries.catalog():
        marks = [pytest.mark.xfail(reason=KNOWN_GAPS[name])] if name in KNOWN_GAPS else []
        cases.append(pytest.param(name, {}, {}, id=name, marks=marks))
    # non-default parameters and filters (the composed shared-filter SQL and a definition)
    cases += [
        pytest.param("remission", {"sex": "F", "start_date": dt.date(2024, 1, 1)}, {},
                     id="remission-filtered"),
        pytest.param("persistence", {"drug_class": "antidepressant"}, {}, id="persistence-filtered"),
        pytest.param("adherence", {}, {"level": "ingredient"}, id="adherence-ingredient"),
        pytest.param("response", {}, {"eligibility_min": 12}, id="response-eligibility-12"),
    ]
    return cases


@pytest.mark.parametrize(("name", "filters", "overrides"), _cases())
def test_every_metric_is_the_same_on_spark(name: str, filters: dict[str, Any],
                                           overrides: dict[str, Any], duck: Any,
                                           spark_con: SparkConnection) -> None:
    ours = queries.metric(duck, name, filters=filters, min_cell=0, **overrides).frame
    theirs = queries.metric(spark_con, name, filters=filters, min_cell=0, **overrides).frame  # type: ignore[arg-type]
    _same(ours, theirs)


def test_the_severity_band_and_dms_period_macros_are_the_same_on_spark(spark: Any) -> None:
    # severity_band: the first label up to and including the first bound, ..., the last label
    # above the last bound, null for a null score; dms_period: Jan-Apr P1, May-Aug P2, Sep-Dec P3
    sql = ("select severity_band(score, [4, 9, 14], ['minimal', 'mild', 'moderate', 'severe']) "
           "as band, dms_period(day) as period from (values (0, date '2025-04-30'), "
           "(4, date '2025-05-01'), (5, date '2025-08-31'), (14, date '2025-09-01'), "
           "(15, date '2025-12-31'), (cast(null as integer), date '2025-01-01')) as t (score, day)")
    expected = [("minimal", "2025-P1"), ("minimal", "2025-P2"), ("mild", "2025-P2"),
                ("moderate", "2025-P3"), ("severe", "2025-P3"), (None, "2025-P1")]
    con = duckdb.connect()
    write_macros(con)
    assert con.sql(sql).fetchall() == expected
    assert [tuple(row) for row in spark.sql(to_spark(sql)).collect()] == expected
