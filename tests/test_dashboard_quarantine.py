"""Data & loads shows quarantined values as a count only: never the value, never its mask."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.views import VIEWS
from pipelines.ingest import ingest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
NAME = "Maria Gonzalez"


@pytest.fixture(scope="module")
def quarantined_warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quarantine")
    extract = folder / "extract"
    shutil.copytree(GOOD, extract)
    prescriptions = extract / "prescriptions.csv"
    prescriptions.write_text(prescriptions.read_text().replace("Glorbazine 10 mg", NAME))
    db = folder / "outcomes.duckdb"
    assert ingest(extract, db, overrides={"max_reject_share": 1}).quarantined_values == 1  # tiny fixture
    return db


def test_data_page_counts_quarantined_values_and_never_shows_them(monkeypatch,
                                                                  quarantined_warehouse):
    monkeypatch.setenv("OUTCOMES_DB", str(quarantined_warehouse))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(next(v for v in VIEWS if v.file == "data_quality.py").path).run()
    assert not at.exception, [e.message for e in at.exception]
    tables = [frame.value for frame in at.dataframe]
    quarantine = next(t for t in tables if "Detector" in t.columns)
    assert list(quarantine["Column"]) == ["drug"]
    assert list(quarantine["Reason"]) == ["quarantined_drug_string"]
    assert list(quarantine["Detector"]) == ["person_name"]
    # one value: a count from 1 to 10 is shown suppressed, like every count on the page
    assert list(quarantine["Values"]) != ["1"]
    shown = " ".join(t.astype(str).to_csv() for t in tables)
    shown += " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.text])
    assert NAME.lower() not in shown.lower()
    assert "Aaaaa Aaaaaaaa" not in shown
    assert "Glorbazine" not in shown  # the row is quarantined, not listed as unmapped
