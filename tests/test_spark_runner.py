"""The Spark build's source and publish (issue #20): ``--from-catalog DB`` builds the marts the
extract folder builds, a catalog table that breaks the contract is refused naming the table and
column, and a build that fails part-way leaves the previous warehouse as it was.

One SparkSession local[2] for the module (conftest's ``spark``). The full model graph is built
once, from the sample clinic's tables in a catalog database, without the audits (which are
tests/test_spark_parity.py's), and compared with the session's DuckDB warehouse of the sample
clinic's extract folder: tests/test_spark_parity.py pins the extract folder's Spark build to that
warehouse, so the catalog build equals the extract folder's build without a second Spark build
of it here. The failing build runs the first staging models only, with one planted error-level
audit, over the catalog build. The swap itself is tested without Spark.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from spark_support import compare, without_audits

from pipelines import dag
from pipelines.audit_rule import Audit
from pipelines.portability import spark_publish
from pipelines.portability.serve_marts import marts_database
from pipelines.sources import IngestError
from pipelines.transform import MODELS_DIR

# Beside the generated clinic's parity tests, on the same worker (scripts/test.sh --dist
# loadgroup): that group is the lighter of the two Spark clinics, so the suite's two workers stay
# balanced; a group of its own could land beside the sample clinic's.
pytestmark = pytest.mark.xdist_group("spark-generated-clinic")

MODELS = [m.target for m in dag.plan(MODELS_DIR)]
#: Lineage columns name where a row was read: a line of ``diagnoses.csv`` in the extract folder,
#: a row of the Parquet part the catalog table was exported to. They differ by construction.
LINEAGE = ("_source_file", "_source_line")
SCHEMAS = ("raw", "ref", "meta", "staging", "intermediate", "marts")


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with the SHA-256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- the swap, without Spark

def _warehouse(folder: Path, marker: str) -> Path:
    (folder / "marts" / "fct_x").mkdir(parents=True)
    (folder / "marts" / "fct_x" / "part-0.parquet").write_text(marker)
    return folder


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_swap_puts_the_new_build_at_the_path_and_removes_the_previous_one(
        tmp_path: Path, exchange: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not exchange:  # a file system without RENAME_EXCHANGE
        monkeypatch.setattr(spark_publish, "_exchange", lambda first, second: False)
    path = _warehouse(tmp_path / "wh", "old")
    staging = _warehouse(spark_publish.staging_folder(path, SCHEMAS), "new")
    spark_publish.swap(staging, path)
    assert (path / "marts" / "fct_x" / "part-0.parquet").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh"]  # no staging, no previous left


def test_a_first_build_is_renamed_into_place(tmp_path: Path) -> None:
    path = tmp_path / "new" / "wh"
    staging = _warehouse(spark_publish.staging_folder(path, SCHEMAS), "first")
    spark_publish.swap(staging, path)
    assert (path / "marts" / "fct_x" / "part-0.parquet").read_text() == "first"


def test_a_folder_that_is_not_a_warehouse_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "notes.txt").write_text("keep me")
    with pytest.raises(IngestError) as refused:
        spark_publish.staging_folder(tmp_path / "documents", SCHEMAS)
    assert refused.value.exit_status == 2 and "holds files but no warehouse" in str(refused.value)
    assert [p.name for p in tmp_path.iterdir()] == ["documents"]  # no staging folder made


# ---------------------------------------------------------------- on Spark

pyspark = pytest.importorskip("pyspark", reason="the spark extra (pip install -e .[spark])")
if shutil.which("java") is None:
    pytest.skip("Spark local mode needs Java 17", allow_module_level=True)

from pipelines.portability import spark_build, spark_catalog  # noqa: E402
from pipelines.portability.spark_audits import SparkAuditError  # noqa: E402


@pytest.fixture(scope="module")
def no_audits() -> Any:
    """The audits left out of the module's full build (parity runs them): the build still
    writes ``meta.audit_results``, empty."""
    with without_audits():
        yield


@pytest.fixture(scope="module")
def catalog(spark: Any, warehouse_source: Path) -> str:
    """The sample clinic's tables in the catalog database ``clinic``, each read from its CSV file
    as text columns, as an extract file is."""
    spark.sql("create database if not exists clinic")
    for table in spark_catalog.TABLE_ORDER:
        source = warehouse_source / f"{table}.csv"
        if source.exists():
            frame = spark.read.options(header=True, inferSchema=False).csv(str(source))
            frame.write.mode("overwrite").saveAsTable(f"clinic.{table}")
    return "clinic"


@pytest.fixture(scope="module")
def built(spark: Any, no_audits: None, catalog: str,
          tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample clinic built from its tables in the catalog database."""
    root = tmp_path_factory.mktemp("spark-runner")
    spark_build.build(None, root / "from_catalog", spark, from_catalog=catalog)
    return root / "from_catalog"


@pytest.mark.slow
@pytest.mark.spark
def test_the_catalog_database_builds_the_models_the_extract_folder_builds(
        built: Path, warehouse_path: Path) -> None:
    # the DuckDB warehouse of the extract folder the catalog tables were read from; doubles to 9
    # decimals, as tests/test_spark_parity.py compares the extract folder's Spark build with it
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        different = {target: result for target in MODELS
                     if not (result := compare(con, target, built, leave_out=LINEAGE)).same}
        assert different == {}
        assert compare(con, "marts.fct_episode_outcomes", built).spark_rows > 0


@pytest.mark.slow
@pytest.mark.spark
def test_a_catalog_table_that_breaks_the_contract_is_refused_naming_table_and_column(
        spark: Any, catalog: str) -> None:
    spark.sql("create database if not exists broken")
    for table in ("visits", "prescriptions", "assessments"):
        spark.table(f"{catalog}.{table}").write.mode("overwrite").saveAsTable(f"broken.{table}")
    with pytest.raises(IngestError) as absent:
        spark_catalog.check(spark, "broken")
    assert (absent.value.exit_status, absent.value.file) == (1, "broken.patients")
    assert "required table(s) absent: broken.patients" in str(absent.value)
    # a true/false birth year cannot hold a year
    spark.sql(f"select patient_id, birth_year > '1980' as birth_year, sex, site_id "  # noqa: S608
              f"from {catalog}.patients").write.mode("overwrite").saveAsTable("broken.patients")
    with pytest.raises(IngestError) as typed:
        spark_catalog.check(spark, "broken")
    assert (typed.value.exit_status, typed.value.file, typed.value.column) == (
        1, "broken.patients", "birth_year")
    assert "birth_year is BOOLEAN" in str(typed.value)
    with pytest.raises(IngestError) as missing:
        spark_catalog.check(spark, "no_such_database")
    assert missing.value.exit_status == 2


@pytest.mark.slow
@pytest.mark.spark
def test_a_build_refused_by_an_audit_leaves_the_previous_warehouse_as_it_was(
        spark: Any, built: Path, warehouse_source: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    previous = built
    before = _tree(previous)
    first = dag.plan(MODELS_DIR)[:3]  # a prefix of the plan is itself a plan: its first models
    planted = Audit("planted_failure", "error", first[0].target, "conformance",
                    "a planted audit that always finds a row",
                    f"select * from {first[0].target} limit 1", "tests/test_spark_runner.py")  # noqa: S608
    monkeypatch.setattr("pipelines.portability.spark_build.dag.plan", lambda folder: first)
    monkeypatch.setattr("pipelines.portability.spark_audits.collect", lambda models: [planted])
    with pytest.raises(SparkAuditError) as refused:
        spark_build.build(warehouse_source, previous, spark)
    assert "planted_failure" in str(refused.value)
    assert f"the warehouse at {previous} is left as it was" in str(refused.value)
    assert _tree(previous) == before
    assert sorted(p.name for p in previous.parent.iterdir()) == ["from_catalog"]
    served = marts_database(previous, previous.parent / "served.duckdb")  # what serve --marts does
    assert served["marts.fct_episode_outcomes"] > 0


def test_the_build_command_wants_one_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    both = main(["build", str(tmp_path), "--from-catalog", "clinic", "--engine", "spark",
                 "--warehouse", str(tmp_path / "wh")])
    neither = main(["build", "--engine", "spark", "--warehouse", str(tmp_path / "wh")])
    assert (both, neither) == (2, 2)
    assert "give an extract folder or --from-catalog DB" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.spark
def test_a_table_the_spark_warehouse_lacks_is_looked_up_quietly(
        spark: Any, capfd: pytest.CaptureFixture[str]) -> None:
    """A Spark build writes no ``meta.metric_snapshots``: the engine's lookup finds none, as on a
    DuckDB warehouse loaded before snapshots existed, and Spark prints nothing about it."""
    from pipelines.portability.spark_connection import SparkConnection
    from queries import snapshots

    spark.sql("create database if not exists meta")
    assert not spark.catalog.tableExists("meta.metric_snapshots")
    capfd.readouterr()
    assert snapshots.lookup(SparkConnection(spark), "any request key") is None
    printed = capfd.readouterr()
    assert (printed.out, printed.err) == ("", "")
