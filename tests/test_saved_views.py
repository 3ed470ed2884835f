"""Issue 18: a user saves a named view (the page and its filters) as a link beside the warehouse
and reopens it; every rate's definition shows the SQL it ran and breaks down by site."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from report import saved_views

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def test_a_saved_view_is_a_link_that_survives_a_reload(tmp_path: Path) -> None:
    db = tmp_path / "outcomes.duckdb"
    view = saved_views.make("Board: S01", "response", {"period": "Year 2024", "site": "S01"})
    saved_views.save(db, view)
    (back,) = saved_views.load(db)
    assert back.link() == "/response?period=Year+2024&site=S01"
    assert saved_views.path_for(db).name == "outcomes.duckdb.views.json"  # beside, not inside
    # saving again under the same name replaces it
    saved_views.save(db, saved_views.make("board: s01", "overview", {"period": "All data"}))
    assert [v.link() for v in saved_views.load(db)] == ["/overview?period=All+data"]


def test_a_view_refuses_what_is_not_one_of_our_links(tmp_path: Path) -> None:
    with pytest.raises(saved_views.SavedViewError):
        saved_views.make("  ", "overview", {})
    with pytest.raises(saved_views.SavedViewError):
        saved_views.make("x", "https://elsewhere.example", {})
    # parameter names that are not ours are dropped, values are URL-encoded
    assert saved_views.make("x", "", {"Bad Key": "1", "site": "S 1&x=2"}).query == "site=S+1%26x%3D2"


@pytest.mark.slow
def test_save_the_current_view_from_the_sidebar(monkeypatch, warehouse_path, tmp_path) -> None:
    db = tmp_path / "outcomes.duckdb"
    db.write_bytes(warehouse_path.read_bytes())
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.sidebar.text_input(key="saved_view_name").input("My board view").run()
    at.sidebar.button(key="saved_view_save").click().run()
    assert not at.exception
    (view,) = saved_views.load(db)
    assert view.name == "My board view"
    assert any("My board view" in m.value for m in at.sidebar.markdown)


@pytest.mark.slow
def test_a_rate_leads_to_its_sql_and_its_breakdown_by_site(monkeypatch, warehouse_path) -> None:
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.code  # shown when asked for: a code block loads the browser's syntax highlighter
    next(t for t in at.toggle if t.key and t.key.startswith("sql_response")).set_value(True).run()
    assert any("from marts." in c.value.lower() for c in at.code)  # the SQL the response rate ran
    toggle = next(t for t in at.toggle if t.key and t.key.startswith("drill_response"))
    toggle.set_value(True).run()
    assert not at.exception
    assert any("Site" in d.value.columns for d in at.dataframe)
