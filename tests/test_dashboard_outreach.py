"""Issue 18: patient-level rows reach the browser only when shown, a page at a time. The
Adherence page's outreach list is built only after "Show the list", and then 50 rows a page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.views import VIEWS

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
pytestmark = pytest.mark.slow


def _outreach_tables(at: AppTest) -> list:  # type: ignore[type-arg]
    return [d.value for d in at.dataframe if "Patient (surrogate id)" in d.value.columns]


def test_outreach_list_is_sent_only_when_shown_and_a_page_at_a_time(monkeypatch, warehouse_path):
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    # patient rows are for an analyst: the dashboard acts as leadership unless configured
    config = warehouse_path.parent / "analyst-dashboard.toml"
    config.write_text('[roles]\ndashboard = "analyst"\n', encoding="utf-8")
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(next(v for v in VIEWS if v.file == "adherence.py").path).run()
    assert not at.exception
    assert _outreach_tables(at) == []  # collapsed and not asked for: no patient row sent

    at.toggle(key="outreach_show").set_value(True).run()
    assert not at.exception
    (shown,) = _outreach_tables(at)
    assert 0 < len(shown) <= 50
    if len(at.number_input) and any(n.key == "page_outreach_list" for n in at.number_input):
        # more than one page: the second page holds the next rows, not the first ones again
        first = list(shown.iloc[:, 0])
        at.number_input(key="page_outreach_list").set_value(2).run()
        (second,) = _outreach_tables(at)
        assert 0 < len(second) <= 50 and list(second.iloc[:, 0]) != first
