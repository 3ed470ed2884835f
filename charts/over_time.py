"""Figures over time: Kaplan–Meier curves and score trajectories by week (conventions in
``charts``: one colour per drug class, suppressed points are gaps, never interpolated)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts.style import (
    _layout,
    _rgba,
    class_colour,
    class_label,
    empty_figure,
    group_colours,
    sort_classes,
)


def survival_curves(
    frame: pl.DataFrame,
    group: str,
    title: str,
    *,
    time: str = "day",
    survival: str = "survival",
    low: str = "ci_low",
    high: str = "ci_high",
    y_title: str = "Still on treatment (%)",
    x_title: str = "Days since start",
) -> go.Figure:
    """Kaplan–Meier step curves per group with shaded 95% bands (one colour per class)."""
    if frame.is_empty():
        return empty_figure(title, "No episodes match the filters.")
    fig = go.Figure()
    groups = [g for g in dict.fromkeys(frame[group].cast(pl.String).to_list()) if g is not None]
    if group == "drug_class":
        groups = sort_classes(groups)
    colours = group_colours(groups)
    for g in groups:
        part = frame.filter(pl.col(group).cast(pl.String) == g).sort(time)
        colour = colours[g]
        name = class_label(g) if group == "drug_class" else g
        if low in part.columns and high in part.columns:
            fig.add_trace(go.Scatter(x=part[time], y=part[high], mode="lines", line={"width": 0, "shape": "hv"},
                                     showlegend=False, hoverinfo="skip", legendgroup=g))
            fig.add_trace(go.Scatter(x=part[time], y=part[low], mode="lines", line={"width": 0, "shape": "hv"},
                                     fill="tonexty", fillcolor=_rgba(colour, 0.18), showlegend=False,
                                     hoverinfo="skip", legendgroup=g))
        fig.add_trace(go.Scatter(x=part[time], y=part[survival], mode="lines", name=name, legendgroup=g,
                                 line={"color": colour, "width": 2.2, "shape": "hv"},
                                 hovertemplate=f"{name}: %{{y:.1%}} at day %{{x}}<extra></extra>"))
    fig.update_yaxes(title=y_title, tickformat=".0%", range=[0, 1.02])
    fig.update_xaxes(title=x_title, rangemode="tozero")
    return _layout(fig, title, height=420)


def trajectories(
    frame: pl.DataFrame,
    group: str,
    title: str,
    *,
    week: str = "week",
    mean: str = "mean_score",
    low: str = "ci_low",
    high: str = "ci_high",
    sd: str | None = None,
    n: str | None = None,
    y_title: str = "Mean score",
) -> go.Figure:
    """Mean score by week since start, per group, with 95% interval bands and markers.

    When the frame carries ``sd`` and ``n`` instead of interval columns, the band is the
    t-based 95% interval of the mean, ``mean ± t(0.975, n-1) · sd / √n``; weeks whose mean is
    suppressed (null) are gaps, never interpolated.
    """
    if frame.is_empty():
        return empty_figure(title, "No scores match the filters.")
    if sd and n and sd in frame.columns and n in frame.columns and low not in frame.columns:
        from scipy.stats import t as student_t

        frame = frame.with_columns(
            pl.Series("_t", student_t.ppf(0.975, (frame[n].fill_null(2).clip(2) - 1).to_numpy()))
        ).with_columns(
            (pl.col(mean) - pl.col("_t") * pl.col(sd) / pl.col(n).cast(pl.Float64).sqrt()).alias(low),
            (pl.col(mean) + pl.col("_t") * pl.col(sd) / pl.col(n).cast(pl.Float64).sqrt()).alias(high),
        )
    fig = go.Figure()
    visible = frame.filter(pl.col(mean).is_not_null())
    groups = [g for g in dict.fromkeys(visible[group].cast(pl.String).to_list()) if g is not None]
    if group == "drug_class":
        groups = sort_classes(groups)
    colours = {g: class_colour(g) for g in groups} if group == "drug_class" else group_colours(groups)
    if not groups:
        return empty_figure(title, "Every week has fewer than 11 scores for these filters.")
    for g in groups:
        part = frame.filter(pl.col(group).cast(pl.String) == g).sort(week)
        colour, name = colours[g], class_label(g) if group == "drug_class" else g
        if low in part.columns and high in part.columns:
            for segment in _segments(part, week, low, high):
                # one closed polygon per run of weeks with an interval: a band never bridges a gap
                xs = segment[week].to_list()
                fig.add_trace(go.Scatter(
                    x=xs + xs[::-1], y=segment[high].to_list() + segment[low].to_list()[::-1],
                    mode="lines", line={"width": 0}, fill="toself", fillcolor=_rgba(colour, 0.15),
                    showlegend=False, hoverinfo="skip", legendgroup=g,
                ))
        fig.add_trace(go.Scatter(x=part[week], y=part[mean], mode="lines+markers", name=name, legendgroup=g,
                                 line={"color": colour, "width": 2.2}, marker={"size": 6}, connectgaps=False,
                                 hovertemplate=f"{name}: %{{y:.1f}} in week %{{x}}<extra></extra>"))
    fig.update_xaxes(title="Weeks since start", dtick=2)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return _layout(fig, title, height=420)


def _segments(part: pl.DataFrame, x: str, low: str, high: str) -> list[pl.DataFrame]:
    """Runs of consecutive rows (in ``x`` order) whose interval is known."""
    known = (part[low].is_not_null() & part[high].is_not_null()).to_list()
    runs: list[pl.DataFrame] = []
    start = None
    for i, ok in enumerate([*known, False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            runs.append(part.slice(start, i - start))
            start = None
    return runs
