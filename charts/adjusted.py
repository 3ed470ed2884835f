"""Figures of a propensity-score adjusted comparison: the love plot and the overlap histogram.

Pure builders: they take the *suppressed* frames of ``queries.adjusted`` (``balance``: covariate,
level, smd_before, smd_after, null where hidden; ``histogram``: one row per group A/B with a count
per score bin, null where hidden) and return a Plotly figure; no data access.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from charts.style import OKABE_ITO, SUPPRESSED_COLOUR, _layout, empty_figure

SMD_THRESHOLD = 0.1


def love_plot(balance: pl.DataFrame, title: str = "Balance: standardised mean differences") -> go.Figure:
    """|SMD| per covariate before (hollow) and after (filled) adjustment, with the 0.1 line.
    Hidden rows (a level of 1-10 episodes) are listed with no marker and "suppressed" in the
    hover text."""
    if balance.is_empty():
        return empty_figure(title, "No covariates to show.")
    labels = [c if not lvl else f"{c}: {lvl}" for c, lvl in zip(balance["covariate"], balance["level"], strict=True)]
    before = [None if v is None else abs(v) for v in balance["smd_before"].to_list()]
    after = [None if v is None else abs(v) for v in balance["smd_after"].to_list()]

    def hover(values: list[float | None]) -> list[str]:
        return ["suppressed (1–10 episodes)" if v is None else f"{v:.2f}" for v in values]

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=before, y=labels, mode="markers", name="Before adjustment",
                             marker={"symbol": "circle-open", "size": 10, "color": OKABE_ITO[1]},
                             customdata=hover(before), hovertemplate="%{y}: |SMD| %{customdata}<extra>before</extra>"))
    fig.add_trace(go.Scatter(x=after, y=labels, mode="markers", name="After adjustment",
                             marker={"symbol": "circle", "size": 10, "color": OKABE_ITO[0]},
                             customdata=hover(after), hovertemplate="%{y}: |SMD| %{customdata}<extra>after</extra>"))
    fig.add_vline(x=SMD_THRESHOLD, line={"dash": "dash", "color": "#555"},
                  annotation_text="0.1", annotation_position="top")
    hidden = [lab for lab, b in zip(labels, before, strict=True) if b is None]
    if hidden:
        fig.add_trace(go.Scatter(x=[0] * len(hidden), y=hidden, mode="markers", name="suppressed",
                                 marker={"symbol": "x-thin-open", "size": 8, "color": SUPPRESSED_COLOUR},
                                 hovertemplate="%{y}: suppressed (1–10 episodes)<extra></extra>"))
    fig = _layout(fig, title, height=max(260, 28 * len(labels) + 80))
    fig.update_xaxes(title_text="|standardised mean difference| (A − B)", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def overlap_histogram(histogram: pl.DataFrame, label_a: str, label_b: str,
                      title: str = "Overlap of propensity scores") -> go.Figure:
    """Episodes per propensity-score bin, group A above the axis and B mirrored below it.
    Hidden bins (1-10, or hidden so that one cannot be derived) are drawn as grey stubs."""
    bins = [c for c in histogram.columns if "-" in c and not c.endswith(("_suppressed", "_complementary"))]
    if histogram.is_empty() or not bins:
        return empty_figure(title, "No propensity scores to show.")
    centres = [(float(b.split("-")[0]) + float(b.split("-")[1])) / 2 for b in bins]
    width = float(bins[0].split("-")[1]) - float(bins[0].split("-")[0])
    fig = go.Figure()
    for row, label, sign, colour in ((0, label_a, 1, OKABE_ITO[0]), (1, label_b, -1, OKABE_ITO[1])):
        values = [histogram[b][row] for b in bins]
        fig.add_trace(go.Bar(x=centres, y=[None if v is None else sign * v for v in values], width=width,
                             name=f"{'A' if sign > 0 else 'B'}: {label}", marker_color=colour,
                             customdata=list(bins),
                             hovertemplate="score %{customdata}: %{y}<extra></extra>"))
        stubs = [c for c, v in zip(centres, values, strict=True) if v is None]
        if stubs:
            fig.add_trace(go.Bar(x=stubs, y=[sign * 2] * len(stubs), width=width, showlegend=False,
                                 marker_color=SUPPRESSED_COLOUR, name="suppressed",
                                 hovertemplate="suppressed<extra></extra>"))
    fig = _layout(fig, title, height=300, barmode="overlay", bargap=0)
    fig.update_xaxes(title_text="propensity score (probability of being in group A)", range=[0, 1])
    fig.update_yaxes(title_text="episodes (B below the axis)")
    return fig
