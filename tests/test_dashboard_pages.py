"""AppTest runs every view on the sample clinic and on an empty warehouse, and checks one number
per view against ``queries.metric`` (what ``outcomes metric`` prints) on the same data.

The sample-clinic warehouse is the session warehouse of ``tests/conftest.py`` (the real ingest
of ``sample_data/``). The empty warehouse is a copy of it with every mart emptied: a clinic whose
extract loaded but has no episodes in it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import queries
from dashboard.filters import _months_before
from dashboard.views import VIEWS
from queries.labels import label

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def empty_warehouse(warehouse_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "outcomes.duckdb"
    shutil.copy(warehouse_path, path)
    con = duckdb.connect(str(path))
    try:
        marts = con.sql("select table_name from information_schema.tables where table_schema = 'marts' "
                        "and table_type = 'BASE TABLE'").fetchall()
        for (table,) in marts:
            # identifiers from the catalogue of our own file, not from user input
            con.execute(f'delete from marts."{table}"')  # noqa: S608 - names from the catalogue
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def last_12_months(warehouse_path: Path) -> dict[str, object]:
    """The default sidebar period: 12 months ending on the complete end, the last day of data
    minus the longest follow-up window in force (response's day +112, side effects' day 90)."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        data_end = dt.date.fromisoformat(
            con.sql("select value from meta.deployment where key = 'data_end'").fetchall()[0][0][:10])
        windows = dict(con.sql("select key, value from meta.definitions where key in "
                               "('followup_end_days', 'side_effect_window_days')").fetchall())
    finally:
        con.close()
    end = data_end - dt.timedelta(days=max(int(windows["followup_end_days"]), int(windows["side_effect_window_days"])))
    return {"start_date": _months_before(end, 12), "end_date": end}


def _page(monkeypatch: pytest.MonkeyPatch, db: Path, view) -> AppTest:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    if not view.default:
        at.switch_page(view.path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metric(db: Path, name: str, **kwargs) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(db), read_only=True)
    try:
        return queries.metric(con, name, **kwargs).frame
    finally:
        con.close()


def _table(at: AppTest, column: str):  # type: ignore[no-untyped-def]
    """The first table on the page with that column header."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a column {column!r}")


def _pct(value: float | None) -> str:
    return "suppressed" if value is None else f"{100 * value:.1f}%"


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.file)
def test_every_view_runs_on_the_sample_clinic(monkeypatch, warehouse_path, view):
    at = _page(monkeypatch, warehouse_path, view)
    assert at.title[0].value == view.title
    assert not at.error


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.file)
def test_every_view_runs_on_an_empty_warehouse(monkeypatch, empty_warehouse, view):
    at = _page(monkeypatch, empty_warehouse, view)
    assert at.title[0].value == view.title
    assert not at.error


def test_overview_response_tile_equals_the_metric(monkeypatch, warehouse_path, last_12_months):
    at = _page(monkeypatch, warehouse_path, VIEWS[0])
    expected = _metric(warehouse_path, "response", filters={**last_12_months, "instrument": "PHQ-9"})
    tile = next(m for m in at.metric if m.label == "Response")
    assert tile.value == ("suppressed" if expected["rate"][0] is None else _pct(expected["rate"][0]))  # a rate is derived


def test_response_table_equals_the_metric_by_class(monkeypatch, warehouse_path, last_12_months):
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "response.py"))
    expected = _metric(warehouse_path, "response", by="drug_class", filters={**last_12_months, "instrument": "PHQ-9"})
    row = expected.filter(pl.col("drug_class") == "antidepressant").row(0, named=True)
    shown = _table(at, "Response (% of eligible)")
    line = shown[shown["Drug class"] == "Antidepressant"].iloc[0]
    assert line["Response (% of eligible)"] == _pct(row["rate"])
    assert line["Eligible (denominator)"] == f"{row['denominator']:,}"


def test_side_effect_heat_map_table_equals_the_metric(monkeypatch, warehouse_path, last_12_months):
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "side_effects.py"))
    expected = _metric(warehouse_path, "side_effect_heatmap", filters=last_12_months, min_severity="mild")
    visible = expected.filter(pl.col("denominator").is_not_null()).row(0, named=True)
    shown = _table(at, "Episodes (denominator)")
    effect = label("effect_code", visible["effect_code"])  # tables show the label table's words
    line = shown[(shown["Drug"] == visible["drug"]) & (shown["Effect"] == effect)].iloc[0]
    assert line["Episodes (denominator)"] == f"{visible['denominator']:,}"


def test_adherence_by_drug_equals_the_metric(monkeypatch, warehouse_path, last_12_months):
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "adherence.py"))
    expected = _metric(warehouse_path, "adherence", by="drug", filters=last_12_months, level="ingredient")
    row = expected.filter(pl.col("rate").is_not_null()).sort("evaluable", descending=True).row(0, named=True)
    shown = _table(at, "PDC ≥ 80% (%)")
    assert shown[shown["Drug"] == row["drug"]].iloc[0]["PDC ≥ 80% (%)"] == _pct(row["rate"])


def test_compare_reference_rate_equals_the_metric(monkeypatch, warehouse_path, last_12_months):
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "compare.py"))
    expected = _metric(warehouse_path, "response", by="drug", filters={**last_12_months, "instrument": "PHQ-9"})
    reference = expected.filter(pl.col("episodes").is_not_null()).sort("episodes", descending=True).row(0, named=True)
    shown = _table(at, "Rate (95% CI)")
    line = shown[shown["Role"] == "reference"].iloc[0]
    assert line["Drug"] == reference["drug"]
    assert line["Rate (95% CI)"] == (f"{_pct(reference['rate'])} ({_pct(reference['ci_low'])} to "
                                     f"{_pct(reference['ci_high'])})")


def test_pathways_moves_equal_the_transitions_query(monkeypatch, warehouse_path, last_12_months):
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "pathways.py"))
    expected = _metric(warehouse_path, "pathway_transitions", filters=last_12_months)
    stayed = expected.filter((pl.col("from_line") == 1) & (pl.col("from_class") == "antidepressant")
                             & (pl.col("to_class") == "none")).row(0, named=True)
    shown = _table(at, "To class")
    line = shown[(shown["From line"] == "1") & (shown["From class"] == "Antidepressant")
                 & (shown["To class"] == "No further line")].iloc[0]  # to_class 'none', in words
    assert line["Patients"] == f"{stayed['patients']:,}"


@pytest.mark.parametrize("role", ["leadership", "analyst"])
def test_data_and_loads_shows_the_load_history_query(monkeypatch, tmp_path, warehouse_path, role):
    """The rows loaded, exact for an analyst; for anyone else (the dashboard acts as leadership
    by default) published as every count (queries.published_counts: at most 2 off)."""
    from queries.published_counts import data_quality_table

    config = tmp_path / "outcomes.toml"
    config.write_text(f'[roles]\ndashboard = "{role}"\n')
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "data_quality.py"))
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        raw = queries.run(con, "load_history")
        published, _ = data_quality_table(con, "load_history", raw, 11, exact=role == "analyst")
    finally:
        con.close()
    loaded, shown = raw["rows_loaded"][0], published["rows_loaded"][0]
    assert abs(shown - loaded) <= 2
    if role == "analyst":
        assert shown == loaded
    assert _table(at, "Rows loaded").iloc[0]["Rows loaded"] == f"{shown:,}"


def test_data_and_loads_shows_the_audits_of_the_latest_load(monkeypatch, warehouse_path):
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "data_quality.py"))
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        results = queries.run(con, "audit_results")
    finally:
        con.close()
    passed = results.filter(pl.col("status") == "pass").height
    # the session warehouse is the one load of the sample clinic, and it passes every audit
    assert results.height > 0 and passed == results.height
    assert any(c.value.startswith(f"{results.height} audits checked the warehouse built by load")
               and f"{passed} passed, 0 warned" in c.value for c in at.caption)
    assert any("Every audit passed" in s.value for s in at.success)


def test_data_and_loads_shows_a_picked_metric_definition_and_its_sql_on_request(monkeypatch,
                                                                              warehouse_path):
    # No metric's SQL is laid out until one is picked and its toggle switched on: the page used
    # to hold one highlighted code block per metric file.
    at = _page(monkeypatch, warehouse_path, next(v for v in VIEWS if v.file == "data_quality.py"))
    assert not at.code
    picker = next(s for s in at.selectbox if s.key == "dq_metric_definition")
    assert len(picker.options) == len(queries.catalog())
    picker.select("remission").run()
    remission = queries.describe("remission")
    assert any(m.value == remission.description for m in at.markdown)
    assert any(f"queries/{remission.domain}/{remission.path.name}" in c.value for c in at.caption)
    assert not at.code
    at.toggle(key="dq_metric_sql").set_value(True).run()
    assert [c.value for c in at.code] == [remission.sql]


def test_data_and_loads_lists_a_warning_audit_with_its_count_suppressed(monkeypatch, tmp_path):
    from pipelines.ingest import ingest

    db = tmp_path / "o.duckdb"
    # the small extract's P004 has no visit: one row for the warn-level patient_without_visit
    ingest(Path(__file__).parent / "fixtures" / "ingest" / "good", db)
    at = _page(monkeypatch, db, next(v for v in VIEWS if v.file == "data_quality.py"))
    shown = _table(at, "Kahn category")
    row = shown[shown["Audit"] == "patient_without_visit"].iloc[0]
    assert row["Checks"] == "marts.dim_patients" and row["Kahn category"] == "completeness"
    assert row["Rows"] == "<11"  # 1 row: a count from 1 to 10 is not shown


def test_filter_change_changes_the_number(monkeypatch, warehouse_path):
    at = _page(monkeypatch, warehouse_path, VIEWS[0])
    before = next(m for m in at.metric if m.label == "New episodes").value
    at.session_state["period"] = "all"
    at.run()
    assert not at.exception
    after = next(m for m in at.metric if m.label == "New episodes").value
    assert before != after


def test_no_count_from_1_to_10_in_any_table_or_tile(monkeypatch, warehouse_path):
    count_words = ("episodes", "patients", "eligible", "events", "reports", "achieved", "adherent", "evaluable",
                   "switched", "augmented", "added", "censored", "discontinued", "responded", "rows", "with ")
    for view in VIEWS:
        at = _page(monkeypatch, warehouse_path, view)
        for tile in at.metric:
            digits = str(tile.value).replace(",", "")
            assert not (digits.isdigit() and 1 <= int(digits) <= 10), (view.title, tile.label, tile.value)
        for frame in at.dataframe:
            shown = frame.value
            for column in shown.columns:
                if any(word in column.lower() for word in count_words) and "%" not in column:
                    for cell in shown[column].astype(str):
                        digits = cell.replace(",", "")
                        assert not (digits.isdigit() and 1 <= int(digits) <= 10), (view.title, column, cell)
