"""Issue 18: complete periods by default. A period ends on the complete end (the last day of data
minus the longest follow-up window), episodes starting after it are "maturing" and counted apart,
and a toggle shows provisional figures, marked as such."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

import queries
from queries.periods import Completeness, completeness, follow_up_days, latest_complete_quarter

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def test_follow_up_is_the_longest_window_in_force() -> None:
    # response waits to day +112, side effects to day 90: the longest is 112
    assert follow_up_days({"followup_end_days": "112", "side_effect_window_days": "90"}) == 112
    # the HEDIS DRR-E preset waits to day +240
    assert follow_up_days({"followup_end_days": "240", "side_effect_window_days": "90"}) == 240
    assert follow_up_days({}) == 112  # an old warehouse: the default preset's window


def test_complete_end_and_maturing_span() -> None:
    # data to 31 Dec 2025, 112-day wait: 31 Dec minus 112 days is 10 Sep 2025
    info = Completeness(dt.date(2023, 1, 2), dt.date(2025, 12, 31), 112)
    assert info.complete_end == dt.date(2025, 9, 10)
    assert info.maturing_span() == (dt.date(2025, 9, 11), dt.date(2025, 12, 31))
    assert info.clip(dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == (dt.date(2025, 1, 1), dt.date(2025, 9, 10))
    assert info.clip(dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    # Q3 2025 ends 30 Sep, after 10 Sep: its windows are not all closed, so Q2 is the latest
    assert latest_complete_quarter(info) == "2025-Q2"
    # with data to 31 Jan 2026 the complete end is 11 Oct 2025 and Q3 has closed
    assert latest_complete_quarter(Completeness(None, dt.date(2026, 1, 31), 112)) == "2025-Q3"


@pytest.mark.slow
def test_dashboard_defaults_to_the_complete_period_and_counts_maturing_episodes(monkeypatch, warehouse_path):
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        info = completeness(con)
        first, last = info.maturing_span()
        maturing = queries.metric(con, "episodes", filters={"start_date": first, "end_date": last}).frame["episodes"][0]
    finally:
        con.close()
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert f"– {info.complete_end:%d %b %Y}" in sidebar  # the default period ends on the complete end
    notices = " ".join(i.value for i in at.info)
    assert "maturing" in notices and f"{maturing:,} episodes" in notices

    at.sidebar.toggle(key="provisional").set_value(True).run()
    assert not at.exception
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert f"– {info.data_end:%d %b %Y}" in sidebar  # provisional: to the last day of data
    assert any("PROVISIONAL" in w.value for w in at.warning)
