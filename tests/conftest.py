"""Shared fixtures: the session warehouse built with the real pipeline, and --update-golden.

The warehouse is built once per test session from ``sample_data/`` with
``pipelines.ingest.ingest`` (validation, models, marts), into a temporary folder; tests get
read-only connections. Until the generator has committed ``sample_data/``, the small hand-made
extract ``tests/fixtures/ingest/good`` stands in, and golden tests (which pin sample_data
outputs) skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
FALLBACK_EXTRACT = REPO / "tests" / "fixtures" / "ingest" / "good"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite tests/golden/<query>.csv from the session warehouse (review the diff)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test with no ``xdist_group`` of its own joins one: a ``spark`` test the group ``spark``;
    a test that uses a module-scoped fixture the group of its module (``module:<path>``), unless
    the module has more than ``MODULE_GROUP_MAX`` such tests.

    Under pytest-xdist every worker is a process with its own session and module fixtures, so a
    Spark test on each worker would start a JVM and build its warehouse twice, and a module's
    tests spread over both workers would build its module fixtures (a generated clinic, a loaded
    warehouse, a browser and server) on each; scripts/test.sh runs ``--dist loadgroup``, which
    keeps a group on one worker. Runs before xdist's own hook, which reads the marks
    (tryfirst)."""
    by_module: dict[str, list[pytest.Item]] = {}
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif _uses_a_module_fixture(item):
            by_module.setdefault(item.nodeid.split("::")[0], []).append(item)
    for module, grouped in by_module.items():
        if len(grouped) <= MODULE_GROUP_MAX:
            for item in grouped:
                item.add_marker(pytest.mark.xdist_group(f"module:{module}"))


#: A larger module stays spread over the workers: its tests' own time is what the workers should
#: share, and xdist starts the groups with the most tests first, which must be the two Spark
#: clinics (the longest: their builds take minutes).
MODULE_GROUP_MAX = 40


def _uses_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)  # test functions have one; other items do not
    if info is None:
        return False
    return any(definitions[-1].scope == "module" for definitions in info.name2fixturedefs.values())


def _has_extract(folder: Path) -> bool:
    return any(folder.glob("patients.*")) or (folder / "patients").is_dir()


@pytest.fixture(scope="session")
def warehouse_source() -> Path:
    """The extract folder the session warehouse is built from."""
    return SAMPLE_DATA if _has_extract(SAMPLE_DATA) else FALLBACK_EXTRACT


@pytest.fixture(scope="session")
def is_sample_data(warehouse_source: Path) -> bool:
    return warehouse_source == SAMPLE_DATA


@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory, warehouse_source: Path) -> Path:
    """Build the warehouse once with the real pipeline; the writer is closed before tests read."""
    from pipelines.ingest import ingest

    db_path = tmp_path_factory.mktemp("warehouse") / "outcomes.duckdb"
    summary = ingest(warehouse_source, db_path)
    assert summary.status == "ok", summary
    fix_cell_key_salt(db_path)
    return db_path


#: The cell-key salt of test warehouses: each warehouse draws a random one; tests fix it so that
#: perturbed (published) counts are the same in every session.
TEST_CELL_KEY_SALT = "tests-fixed-cell-key-salt"


def fix_cell_key_salt(db_path: Path, salt: str = TEST_CELL_KEY_SALT) -> None:
    con = duckdb.connect(str(db_path))
    try:
        con.execute("update meta.cell_key set value = $salt where key = 'salt'", {"salt": salt})
    finally:
        con.close()


@pytest.fixture()
def warehouse(warehouse_path: Path):  # type: ignore[no-untyped-def]
    """A read-only connection to the session warehouse (one per test: DuckDB cursors are
    not shared across threads)."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# --- Spark (tests/test_spark_parity.py, tests/test_spark_runner.py) -----------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A SparkSession ``local[2]`` for the module that asks for it, stopped after its last test.

    Started only when a test asks for it (pyspark is imported here, not at collection), and
    skipped without pyspark or Java. One session per module, not per test session: a Spark build
    registers its warehouse's tables in the session's catalog under fixed names (``raw.patients``,
    ``marts.fct_...``), so two modules sharing one session would read each other's builds."""
    pytest.importorskip("pyspark", reason="the spark extra (pip install -e .[spark]) is not installed")
    if shutil.which("java") is None:
        pytest.skip("Spark local mode needs Java 17 (apt-get install openjdk-17-jre-headless)")
    from pipelines.portability import spark_build

    session = spark_build.session("local[2]")
    yield session
    session.stop()


# --- the loader's refusal tests (tests/ingest_support.py) ----------------------------------


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    """A warehouse loaded from the good extract (raw, ref and meta only: no models)."""
    from pipelines.ingest import ingest

    db = tmp_path / "outcomes.duckdb"
    ingest(FALLBACK_EXTRACT, db, run_models=False)
    return db


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A copy of the good extract that a test may spoil."""
    folder = tmp_path / "extract"
    shutil.copytree(FALLBACK_EXTRACT, folder)
    return folder
