"""AppTest of the dashboard frame: missing and empty warehouses, filters, sign-in allow-list.

The page-by-page run on the sample clinic is ``tests/test_dashboard_pages.py`` (slow: it builds the
warehouse with the real generator and loader).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cli import launch as serve
from dashboard import auth, filters
from dashboard.views import VIEWS

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _app(monkeypatch, db: Path) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    return AppTest.from_file(APP, default_timeout=30)


def test_missing_warehouse_shows_the_command_that_creates_it(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path / "nowhere.duckdb")
    at.run()
    assert not at.exception
    assert "No outcomes warehouse yet" in at.info[0].value
    assert "outcomes demo" in at.code[0].value
    assert str(tmp_path / "nowhere.duckdb") in at.code[0].value


def test_empty_warehouse_file_is_explained_not_a_traceback(monkeypatch, tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()  # a valid DuckDB file with no tables at all
    at = _app(monkeypatch, db)
    at.run()
    assert not at.exception
    assert "empty" in at.info[0].value and "no marts tables" in at.info[0].value


def test_views_list_has_one_default_page_at_root_and_unique_paths():
    assert [v.default for v in VIEWS].count(True) == 1
    assert VIEWS[0].default and VIEWS[0].title == "Overview"
    assert len({v.url_path for v in VIEWS}) == len(VIEWS)
    for view in VIEWS:
        assert (Path(APP).parent / view.path).exists(), view.path


def test_rolling_period_ends_on_last_day_of_data_and_previous_is_adjacent():
    # 12 months ending 31 Dec 2024 = 1 Jan 2024 .. 31 Dec 2024; the previous 12 months end the day before.
    start = filters._months_before(dt.date(2024, 12, 31), 12)
    assert start == dt.date(2024, 1, 1)
    current = filters.Filters(period="last_12m", start_date=start, end_date=dt.date(2024, 12, 31))
    previous = current.previous()
    assert previous is not None
    assert (previous.start_date, previous.end_date) == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    # 3 months ending 29 Feb 2024 = 1 Dec 2023 .. 29 Feb 2024
    assert filters._months_before(dt.date(2024, 2, 29), 3) == dt.date(2023, 12, 1)
    assert filters.Filters(period="all").previous() is None
    year = filters.Filters(period="2024", start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    assert year.previous().period == "2023"


def test_filters_are_hashable_and_map_to_query_filters():
    f = filters.Filters(site_id="S1", drug_class="antipsychotic")
    assert hash(f) == hash(filters.Filters(site_id="S1", drug_class="antipsychotic"))
    q = f.query_filters()
    assert q["site_id"] == "S1" and q["drug_class"] == "antipsychotic" and q["sex"] is None
    assert q["instrument"] == "PHQ-9"
    assert f.without("drug_class").drug_class is None


@pytest.mark.parametrize(("email", "allowed"), [
    ("Dr.Lee@Clinic.example", True),           # exact address, case-insensitive
    ("someone@qi.clinic.example", True),       # allowed domain
    ("someone@evil-qi.clinic.example", False),  # a domain suffix without the @ boundary is not enough
    ("", False),
    (None, False),
])
def test_allow_list(email, allowed):
    assert auth.is_allowed(email, ["dr.lee@clinic.example"], ["@qi.clinic.example"]) is allowed


def test_empty_allow_list_admits_nobody():
    assert not auth.is_allowed("dr.lee@clinic.example", [], [])


def test_serve_command_binds_localhost_and_hides_error_details():
    argv = serve.streamlit_command()
    assert argv[1:4] == ["-m", "dashboard.server", "run"] and argv[4].endswith("dashboard/app.py")
    for flag in ("--server.address=127.0.0.1", "--server.port=8501", "--browser.gatherUsageStats=false",
                 "--client.showErrorDetails=none", "--client.toolbarMode=viewer",
                 "--server.enableStaticServing=false"):
        assert flag in argv


def test_tile_captions_say_under_11_only_for_a_count_that_is_itself_1_to_10() -> None:
    """A denominator hidden because it is 1-10 reads "<11"; one hidden only to protect another
    cell (complementary; its value may be large) reads "suppressed", never "<11"."""
    import polars as pl

    from dashboard import components

    frame = pl.DataFrame({
        "episodes": [None, None, 250],
        "episodes_suppressed": [True, True, False],
        "episodes_complementary": [False, True, False],
    })
    captions = [components.denominator_caption(frame, "episodes", "episodes", row) for row in range(3)]
    assert captions == ["of <11 episodes", "number of episodes suppressed", "of 250 episodes"]
    assert components.fmt(None, hidden=components.hidden_text(frame, "episodes", 1)) == "suppressed"


def test_terminating_outcomes_serve_stops_the_streamlit_server(tmp_path: Path) -> None:
    """A SIGTERM to ``outcomes serve`` (terminate()) must not leave a Streamlit server running on
    its port (Streamlit runs in that process, and once ran as its child)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    parent = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--db", str(tmp_path / "none.duckdb"),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy() -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok"
        except OSError:
            return False

    try:
        for _ in range(120):
            if healthy():
                break
            time.sleep(0.5)
        else:
            pytest.fail("outcomes serve did not become healthy in 60 s")
        parent.terminate()
        parent.wait(timeout=20)
        for _ in range(40):  # the child gets up to 10 s to stop
            if not healthy():
                break
            time.sleep(0.5)
        assert not healthy(), "the Streamlit server outlived outcomes serve"
    finally:
        parent.kill()


def test_issue_18_an_unknown_url_value_is_refused_with_a_suggestion(monkeypatch, warehouse_path):
    """``?site=S0l`` (a typo for S01) shows a notice naming S01 and falls back to all sites,
    instead of silently showing the whole clinic under a link that names one site."""
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["site"] = "S0l"
    at.query_params["instrument"] = "PHQ9"
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "site “S0l”" in warnings and "Did you mean “S01”?" in warnings
    assert "instrument “PHQ9”" in warnings and "Did you mean “PHQ-9”?" in warnings
    assert at.session_state["site"] == "all"


def test_the_boot_warms_the_overviews_requests_first() -> None:
    """``warm.first_page_calls``: what the Overview asks for (each tile this period and the
    previous one, by-class rates over every class), all among what the rest of warming and the
    load's precomputation cover; nothing of another page comes before the first page is drawn."""
    import datetime as dt

    from dashboard import filters, warm

    f = filters.Filters(period="last_12m", start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 12, 31))
    first = warm.first_page_calls(f)
    assert all(call in warm.calls(f, overview=True) for call in first)
    previous = f.previous()
    assert previous is not None and previous.end_date == dt.date(2023, 12, 31)
    for tile in ("response", "remission", "adherence", "side_effects"):
        assert (tile, f, (), {}) in first
        assert (tile, previous, (), {}) in first
    assert ("response", f.without("drug_class"), ("drug_class",), {}) in first
    assert not [c for c in first if c[0] in ("pathways", "score_trajectory", "side_effect_heatmap")]
