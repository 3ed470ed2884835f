"""AppTest runs every view on a real warehouse and checks a displayed number against the metric.

The warehouse is built by the real models (``pipelines.transform.build_models``) from seeded rows
through the model-test helper, then copied to a DuckDB file the app attaches read-only.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

import queries
from dashboard.views import VIEWS

TESTS = Path(__file__).resolve().parent
APP = str(TESTS.parent / "dashboard" / "app.py")
sys.path.insert(0, str(TESTS))
from test_models_support import Warehouse  # noqa: E402

DRUGS = ["sertraline", "escitalopram", "fluoxetine", "bupropion", "aripiprazole", "quetiapine", "lithium"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    rng = random.Random(7)
    built = Warehouse()
    for i in range(300):
        patient = f"P{i}"
        built.patient(patient, birth_year=rng.randint(1950, 2004), sex=rng.choice("FM"))
        drug, start = rng.choice(DRUGS), rng.randint(0, 600)
        built.visit(patient, start)
        for k in range(rng.randint(1, 6)):
            built.fill(patient, drug, start + 30 * k + rng.randint(0, 10))
        baseline = rng.randint(8, 25)
        built.score(patient, start - 2, baseline)
        built.score(patient, start + rng.randint(42, 112), max(0, baseline - rng.randint(-3, 15)))
    built.build()
    path = tmp_path_factory.mktemp("wh") / "outcomes.duckdb"
    built.con.execute("ATTACH ? AS out", [str(path)])
    built.con.execute("COPY FROM DATABASE memory TO out")
    built.con.execute("DETACH out")
    return path


def _page(monkeypatch, db: Path, view) -> AppTest:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if not view.default:
        at.switch_page(view.path).run()
    return at


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.file)
def test_every_view_runs_without_exception(monkeypatch, warehouse, view):
    at = _page(monkeypatch, warehouse, view)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == view.title if view.file != "overview.py" else at.title[0].value == "Overview"


def test_response_tile_equals_the_metric(monkeypatch, warehouse):
    at = _page(monkeypatch, warehouse, VIEWS[0])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        span = con.sql("select data_end_on from marts.data_coverage").fetchall()[0][0]
        from dashboard.filters import _months_before

        expected = queries.metric(con, "response", filters={"start_date": _months_before(span, 12), "end_date": span,
                                                            "instrument": "PHQ-9"}).frame
    finally:
        con.close()
    tile = next(m for m in at.metric if m.label == "Response rate")
    rate = expected["rate"][0]
    assert tile.value == ("<11" if rate is None else f"{100 * rate:.1f}%")


def test_filter_change_changes_the_number(monkeypatch, warehouse):
    at = _page(monkeypatch, warehouse, VIEWS[0])
    before = next(m for m in at.metric if m.label == "New treatment episodes").value
    at.session_state["period"] = "all"
    at.run()
    assert not at.exception
    after = next(m for m in at.metric if m.label == "New treatment episodes").value
    assert before != after


def test_no_count_from_1_to_10_in_any_table(monkeypatch, warehouse):
    for view in VIEWS:
        at = _page(monkeypatch, warehouse, view)
        for frame in at.dataframe:
            shown = frame.value
            for column in shown.columns:
                if any(word in column.lower() for word in ("episodes", "patients", "eligible", "events", "reports")):
                    for cell in shown[column].astype(str):
                        digits = cell.replace(",", "")
                        assert not (digits.isdigit() and 1 <= int(digits) <= 10), (view.title, column, cell)
