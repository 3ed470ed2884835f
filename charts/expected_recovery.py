"""The expected-recovery chart (DOMAIN.md 13.1, after Finch and Lambert 2001): the clinic's own
band of PHQ-9 change by week since start for one baseline severity band, and one patient's
trajectory against it.

The band is ``queries/worklists/expected_recovery.sql``: per week the 25th-75th percentile of
the change from baseline (shaded), the median (the expected change) and the 90th percentile
(red above). A week whose cell had too few episodes, or was suppressed, has no band: a gap,
never interpolated. The patient's points are coloured by where they fall: within expected
(at or below the 75th percentile), amber (above the 75th: worse than three in four of the
clinic's patients that week) or red (above the 90th).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts.style import _layout, _rgba, empty_figure

#: Where a patient's week falls against the band, and its colour.
STATUS_COLOURS = {"expected": "#2E7D32", "amber": "#F9A825", "red": "#C62828",
                  "no band": "#888888"}
BAND_LABELS = {"moderate": "moderate baseline (PHQ-9 10-14)",
               "moderately_severe": "moderately severe baseline (PHQ-9 15-19)",
               "severe": "severe baseline (PHQ-9 20-27)"}


def recovery_status(change: float | None, p75: float | None, p90: float | None) -> str:
    """``red`` above the 90th percentile, ``amber`` above the 75th, ``expected`` otherwise;
    ``no band`` when the week has no percentiles (change is score - baseline: higher is worse)."""
    if change is None or p75 is None or p90 is None:
        return "no band"
    if change > p90:
        return "red"
    if change > p75:
        return "amber"
    return "expected"


def patient_against_band(band: pl.DataFrame, trajectory: pl.DataFrame) -> pl.DataFrame:
    """The patient's weeks (``week_since_start``, ``change``) with the band's percentiles of the
    same week and the status of each (``recovery_status``)."""
    joined = trajectory.select("week_since_start", "change").join(
        band.select("week_since_start", "p50_change", "p75_change", "p90_change"),
        on="week_since_start", how="left").sort("week_since_start")
    statuses = [recovery_status(c, p75, p90) for c, p75, p90 in joined.select(
        "change", "p75_change", "p90_change").iter_rows()]
    return joined.with_columns(pl.Series("status", statuses, dtype=pl.String))


def expected_recovery_figure(band: pl.DataFrame, trajectory: pl.DataFrame | None,
                             severity_band: str, *, drug: str | None = None) -> go.Figure:
    """The band of one baseline severity band (rows of the metric for that band) and, when
    given, the patient's trajectory (``week_since_start``, ``change``)."""
    label = BAND_LABELS.get(severity_band, severity_band.replace("_", " "))
    title = f"Expected recovery, {label}"
    rows = band.filter(pl.col("baseline_severity_band") == severity_band).sort("week_since_start")
    if rows.is_empty() or rows["p50_change"].null_count() == rows.height:
        return empty_figure(title, "Insufficient data: no week of this band has enough of the "
                                   "clinic's episodes for a band.")
    weeks = rows["week_since_start"].to_list()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=weeks, y=rows["p75_change"].to_list(), mode="lines",
                             line={"width": 0}, showlegend=False, hoverinfo="skip",
                             connectgaps=False))
    fig.add_trace(go.Scatter(x=weeks, y=rows["p25_change"].to_list(), mode="lines",
                             line={"width": 0}, fill="tonexty",
                             fillcolor=_rgba("#1565C0", 0.18), connectgaps=False,
                             name="Clinic's 25th-75th percentile"))
    fig.add_trace(go.Scatter(x=weeks, y=rows["p50_change"].to_list(), mode="lines",
                             line={"color": "#1565C0", "width": 2}, connectgaps=False,
                             name="Expected (clinic median)"))
    fig.add_trace(go.Scatter(x=weeks, y=rows["p90_change"].to_list(), mode="lines",
                             line={"color": STATUS_COLOURS["red"], "width": 1.5, "dash": "dash"},
                             connectgaps=False, name="90th percentile (red above)"))
    if trajectory is not None and trajectory.height:
        placed = patient_against_band(rows, trajectory)
        fig.add_trace(go.Scatter(
            x=placed["week_since_start"].to_list(), y=placed["change"].to_list(),
            mode="lines+markers", name=f"This patient{f' ({drug})' if drug else ''}",
            line={"color": "#222222", "width": 1.5},
            marker={"size": 10, "color": [STATUS_COLOURS[s] for s in placed["status"]],
                    "line": {"color": "#222222", "width": 1}},
            text=placed["status"].to_list(),
            hovertemplate="week %{x}: change %{y} (%{text})<extra></extra>"))
    fig = _layout(fig, title)
    fig.update_xaxes(title_text="Weeks since start", dtick=2)
    fig.update_yaxes(title_text="PHQ-9 change from baseline (lower is better)")
    return fig
