"""Optional tables are optional: an extract of the four required tables loads, and every metric
answers (with no rows where its table is absent) instead of failing.

The contract marks ``patients``, ``visits``, ``prescriptions`` and ``assessments`` required and
``diagnoses``, ``dispenses``, ``side_effects`` and ``measurements`` optional.
"""

import shutil
from pathlib import Path

import duckdb
import pytest

import queries
from pipelines.contract import TABLES
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
OPTIONAL = sorted(name for name, table in TABLES.items() if not table.required)


def test_the_contract_marks_four_tables_optional():
    assert OPTIONAL == ["diagnoses", "dispenses", "measurements", "side_effects"]


@pytest.fixture
def four_tables(tmp_path: Path) -> Path:
    folder = tmp_path / "four"
    folder.mkdir()
    for name in ("patients", "visits", "prescriptions", "assessments"):
        shutil.copy(GOOD / f"{name}.csv", folder / f"{name}.csv")
    return folder


def _columns(db: Path, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql("select column_name, data_type from information_schema.columns "
                       "where table_schema = 'raw' and table_name = $t order by ordinal_position",
                       params={"t": table}).fetchall()


def test_absent_optional_tables_load_as_empty_tables_of_the_usual_shape(four_tables, tmp_path):
    full_db, four_db = tmp_path / "full.duckdb", tmp_path / "four.duckdb"
    ingest(GOOD, full_db)
    summary = ingest(four_tables, four_db)
    assert summary.status == "ok"
    by_table = {t.table: t for t in summary.tables}
    with duckdb.connect(str(four_db), read_only=True) as con:
        for name in OPTIONAL:
            assert by_table[name].rows_read == 0 and by_table[name].files == []
            assert con.sql(f"select count(*) from raw.{name}").fetchall() == [(0,)]  # noqa: S608
    for name in OPTIONAL:
        # the same columns and types as a load that had the file, lineage included
        assert _columns(four_db, name) == _columns(full_db, name)
    assert any("loaded as empty: diagnoses, dispenses, side_effects, measurements" in note
               for note in summary.notes)


def test_every_metric_answers_on_a_four_table_warehouse(four_tables, tmp_path):
    db = tmp_path / "four.duckdb"
    ingest(four_tables, db)
    failures = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for name in queries.catalog():
            try:
                queries.run(con, name)
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
        # no dispenses: adherence has no patient to report on
        assert queries.run(con, "adherence").height == 0
    assert failures == {}


def test_a_later_load_without_an_optional_table_keeps_its_rows(four_tables, tmp_path):
    db = tmp_path / "outcomes.duckdb"
    ingest(GOOD, db, run_models=False)
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.sql("select count(*) from raw.diagnoses").fetchall()[0][0]
    assert before == 3  # the fixture's diagnoses.csv: a header and three rows
    ingest(four_tables, db, run_models=False)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from raw.diagnoses").fetchall()[0][0] == before


@pytest.fixture(scope="module")
def four_table_clinic(tmp_path_factory) -> Path:
    """The sample clinic's four required tables only, loaded with every model."""
    sample = Path(__file__).resolve().parents[1] / "sample_data"
    if not (sample / "patients.csv").is_file():
        pytest.skip("sample_data/ has not been generated")
    folder = tmp_path_factory.mktemp("four-clinic")
    for name in ("patients", "visits", "prescriptions", "assessments"):
        shutil.copy(sample / f"{name}.csv", folder / f"{name}.csv")
    db = folder / "outcomes.duckdb"
    ingest(folder, db, deid_mode="synthetic")
    return db


@pytest.mark.slow
def test_every_dashboard_view_answers_on_a_four_table_clinic(monkeypatch, four_table_clinic):
    from streamlit.testing.v1 import AppTest

    from dashboard.views import VIEWS

    app = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
    monkeypatch.setenv("OUTCOMES_DB", str(four_table_clinic))
    failures = {}
    for view in VIEWS:
        at = AppTest.from_file(app, default_timeout=120)
        at.run()
        if not view.default:
            at.switch_page(view.path).run()
        if at.exception or at.error:
            failures[view.title] = [e.message for e in at.exception] + [
                e.value for e in at.error]
        elif at.title[0].value != view.title:
            failures[view.title] = [f"title {at.title[0].value!r}"]
    assert failures == {}
