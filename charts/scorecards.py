"""A clinician's rate of a measure by quarter beside the clinic's (DOMAIN.md 13.5). A quarter
whose count is hidden (1-10, or protecting another) is a gap, never interpolated."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts.style import _layout, empty_figure


def scorecard_trend_figure(trend: pl.DataFrame, clinic: pl.DataFrame, clinician_id: str,
                           measure_label: str) -> go.Figure:
    """``trend``: rows of ``queries.metric(by=("clinician_id", "quarter"))``; ``clinic``: rows by
    quarter alone (the clinic's rate). Rates in percent."""
    title = f"{measure_label} by quarter: {clinician_id} and the clinic"
    mine = trend.filter(pl.col("clinician_id") == clinician_id).sort("quarter")
    if mine.is_empty() or mine["rate"].null_count() == mine.height:
        return empty_figure(title, "No quarter of this clinician can be shown (counts of 1-10 "
                                   "are hidden).")
    quarters = sorted(set(mine["quarter"].to_list()) | set(clinic["quarter"].to_list()))
    clinic_rates = dict(zip(clinic["quarter"].to_list(), clinic["rate"].to_list(), strict=True))
    mine_rates = dict(zip(mine["quarter"].to_list(), mine["rate"].to_list(), strict=True))

    def pct(value: float | None) -> float | None:
        return None if value is None else 100 * value

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=quarters, y=[pct(clinic_rates.get(q)) for q in quarters],
                             mode="lines", name="Clinic", connectgaps=False,
                             line={"color": "#888888", "width": 2, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=quarters, y=[pct(mine_rates.get(q)) for q in quarters],
                             mode="lines+markers", name=clinician_id, connectgaps=False,
                             line={"color": "#1565C0", "width": 2}))
    fig = _layout(fig, title)
    fig.update_xaxes(title_text="Quarter of the episode start", type="category")
    fig.update_yaxes(title_text=f"{measure_label} (%)", rangemode="tozero")
    return fig
