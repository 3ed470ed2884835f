"""The Compare page's adjustment selector (AppTest on the session warehouse): choosing weighting
shows the balance verdict, the love plot and the overlap histogram above the effect; the
love-plot and histogram builders draw what the suppressed frames hold."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from charts.adjusted import love_plot, overlap_histogram
from dashboard.views import VIEWS

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def test_weighting_shows_the_verdict_and_charts_before_the_effect(monkeypatch, warehouse_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OUTCOMES_DB", str(warehouse_path))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(next(v for v in VIEWS if v.file == "compare.py").path).run()
    assert not at.exception, [e.message for e in at.exception]
    # Classes: in the default 12-month period a drug's counts may be suppressed (then the page
    # says so instead of adjusting); the two largest classes are not.
    next(s for s in at.get("button_group") if s.label == "Compare").set_value("drug_class").run()
    selector = next((s for s in at.get("button_group") if s.label == "Adjustment"), None)
    if selector is None:
        pytest.skip("fewer than two groups to compare in the default period")
    selector.set_value("weighting").run()
    assert not at.exception, [e.message for e in at.exception]
    texts = [m.value for m in at.markdown]
    effect = next(i for i, t in enumerate(texts) if t.startswith("**Effect"))
    verdicts = [*at.success, *at.warning]
    assert any("Balance reached" in v.value or "did not make the groups comparable" in v.value
               for v in verdicts)
    assert any("E-value" in t for t in texts[effect:])
    assert len(at.get("plotly_chart")) >= 2
    # the adjusted result has its own CSV (report/adjusted_export.py, tested there)
    assert any(b.proto.label == "CSV of the adjusted comparison" for b in at.get("download_button"))


def test_love_plot_draws_absolute_smds_and_marks_hidden_rows() -> None:
    balance = pl.DataFrame({"covariate": ["age", "site", "site"], "level": [None, "S01", "S02"],
                            "smd_before": [-0.4, 0.2, None], "smd_after": [0.05, -0.01, None]})
    fig = love_plot(balance)
    before, after, hidden = fig.data
    assert list(before.x) == [0.4, 0.2, None] and list(after.x) == [0.05, 0.01, None]
    assert list(hidden.y) == ["site: S02"]


def test_overlap_histogram_mirrors_b_and_stubs_hidden_bins() -> None:
    frame = pl.DataFrame({"group": ["A", "B"], "n": [30, 40], "0.00-0.50": [None, 15],
                          "0.50-1.00": [None, 25]})
    fig = overlap_histogram(frame, "sertraline", "escitalopram")
    bars_a = fig.data[0]
    stubs_a = fig.data[1]
    bars_b = fig.data[2]
    assert list(bars_a.y) == [None, None] and list(stubs_a.x) == [0.25, 0.75]
    assert list(bars_b.y) == [-15, -25]
