"""The Quality improvement page under AppTest on the session warehouse: it runs, shows the
measures table, saves an intervention in the side file (not the warehouse), and gets a QI lead
to the meeting pack in three clicks (quarter, Prepare, Download)."""

from __future__ import annotations

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.views import VIEWS

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
QUALITY = next(v for v in VIEWS if v.file == "quality.py")


def _page(monkeypatch, db: Path) -> AppTest:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(QUALITY.path).run()
    return at


def test_quality_page_runs_and_prepares_the_meeting_pack(monkeypatch, warehouse_path, tmp_path):
    db = tmp_path / "outcomes.duckdb"
    shutil.copy(warehouse_path, db)
    at = _page(monkeypatch, db)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Quality improvement"
    quarters = at.selectbox(key="qi_pack_period").options
    at.selectbox(key="qi_pack_period").set_value(quarters[1]).run()  # click 1: the quarter
    at.button(key="qi_prepare").click().run()  # click 2: prepare
    assert not at.exception, [e.message for e in at.exception]
    period, _site, html = at.session_state["qi_pack"]
    assert period == quarters[1]
    assert html.startswith("<!DOCTYPE html>") and "Top changes since the last period" in html
    # click 3 is the download button, now on the page with the prepared file
    assert any(el.proto.label == "Download meeting pack" for el in at.get("download_button"))


def test_an_intervention_is_saved_beside_the_warehouse_not_in_it(monkeypatch, warehouse_path, tmp_path):
    db = tmp_path / "outcomes.duckdb"
    shutil.copy(warehouse_path, db)
    before = db.stat().st_mtime_ns
    at = _page(monkeypatch, db)
    at.text_input(key="qi_int_label").set_value("new booking rule").run()
    at.button(key="qi_int_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    side = db.with_name(db.name + ".annotations.json")
    assert "new booking rule" in side.read_text()
    assert db.stat().st_mtime_ns == before
