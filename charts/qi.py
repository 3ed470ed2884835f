"""Plotly figures for QI: control/run charts and funnels (pure: a figure in, no ``st.*``).

Used by the QI page (re-exported through ``charts``) and by the meeting pack. Signals
are never shown by colour alone: special-cause points are vermilion diamonds, points in an
unusual run are orange squares, and the legend names each (Okabe-Ito colours, colour-blind safe).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from stats import funnel as funnel_math

BLUE = "#0072B2"
VERMILION = "#D55E00"
ORANGE = "#E69F00"
GREY = "#777777"
GREEN = "#009E73"
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Arial, sans-serif", "size": 13}


def _layout(fig: go.Figure, title: str, y_title: str, x_title: str, height: int = 400) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        font=FONT, height=height, template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.2},
        xaxis_title=x_title, yaxis_title=y_title,
    )
    return fig


def _pct(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else 100 * float(v) for v in values]


def _axis_date(label: object) -> str:
    """``2024-03`` -> ``2024-03-01``, ``2024-Q2`` -> ``2024-04-01``: periods on a true time axis,
    so a month left out by suppression shows as a gap instead of vanishing."""
    text = str(label)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return f"{text}-01"
    match = re.fullmatch(r"(\d{4})-Q([1-4])", text)
    if match:
        return f"{match.group(1)}-{3 * int(match.group(2)) - 2:02d}-01"
    return text


def control_chart(chart, title: str, interventions: Sequence[tuple[dt.date, str]] = ()) -> go.Figure:  # type: ignore[no-untyped-def]
    """Run or control chart of a proportion (in %) from a ``stats.spc.SPCChart``.

    ``interventions``: (date, label) pairs drawn as dashed vertical lines where a phase starts.
    """
    x = [_axis_date(v) for v in chart.x]
    scale = 100.0 if chart.chart in ("p", "pp") else 1.0
    y = [None if not math.isfinite(v) else scale * float(v) for v in chart.y]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name="observed",
                             line={"color": BLUE, "width": 2}, marker={"size": 7, "color": BLUE}))
    centre = [None if not math.isfinite(v) else scale * float(v) for v in chart.cl]
    runs_dash = "dash" if bool(np.any(chart.runs_signal)) else "solid"
    fig.add_trace(go.Scatter(x=x, y=centre, mode="lines", name="centre line" + (
        " (unusual run: dashed)" if runs_dash == "dash" else ""),
        line={"color": GREY, "width": 1.5, "dash": runs_dash, "shape": "hvh"}))
    if chart.chart != "run":
        for values, name in ((chart.ucl, "control limits (3 sigma)"), (chart.lcl, None)):
            fig.add_trace(go.Scatter(
                x=x, y=[None if not math.isfinite(v) else scale * float(v) for v in values],
                mode="lines", name=name or "lower limit", showlegend=name is not None,
                legendgroup="limits", line={"color": GREY, "width": 1, "dash": "dot", "shape": "hvh"}))
    runs = [i for i in range(len(x)) if chart.runs_signal[i] and not chart.sigma_signal[i]]
    if runs:
        fig.add_trace(go.Scatter(x=[x[i] for i in runs], y=[y[i] for i in runs], mode="markers",
                                 name="in an unusual run (shift)",
                                 marker={"symbol": "square", "size": 10, "color": ORANGE}))
    outside = [i for i in range(len(x)) if chart.sigma_signal[i]]
    if outside:
        fig.add_trace(go.Scatter(x=[x[i] for i in outside], y=[y[i] for i in outside], mode="markers",
                                 name="outside the control limits (special cause)",
                                 marker={"symbol": "diamond", "size": 12, "color": VERMILION}))
    if chart.target is not None:
        fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[scale * chart.target] * 2, mode="lines", name="target",
                                 line={"color": GREEN, "width": 1.5, "dash": "dashdot"}))
    for when, label in interventions:
        fig.add_vline(x=when.isoformat(), line={"color": "#444444", "width": 1, "dash": "dash"})
        fig.add_annotation(x=when.isoformat(), y=1.02, yref="paper", text=label, showarrow=False,
                           xanchor="left", font={"size": 11})
    kind = {"run": "Run chart", "p": "p chart", "pp": "p' chart (Laney)"}.get(chart.chart, f"{chart.chart} chart")
    return _layout(fig, f"{title}: {kind}", "%" if scale == 100.0 else "value", "period")


_FLAG_STYLE = {
    "above 99.8%": ("outside 99.8% limits", "diamond", VERMILION),
    "below 99.8%": ("outside 99.8% limits", "diamond", VERMILION),
    "above 95%": ("outside 95% limits", "square", ORANGE),
    "below 95%": ("outside 95% limits", "square", ORANGE),
    "within limits": ("within limits", "circle", BLUE),
    funnel_math.INSUFFICIENT: ("insufficient data (too small to judge)", "circle-open", GREY),
}


def funnel_chart(computed, title: str) -> go.Figure:  # type: ignore[no-untyped-def]
    """Funnel of a ``queries.qi_funnel.MeasureFunnel``: rate against n (crude) or O/E against E
    (case-mix adjusted). Suppressed units are not plotted; the caption lists them."""
    result = computed.result
    ratio = result.scale == "ratio"
    size_key, value_key = ("expected", "ratio") if ratio else ("n", "rate")
    sizes = [float(u[size_key]) for u in result.units]
    grid = np.linspace(max(1.0, min(sizes) * 0.5), max(sizes) * 1.15, 80)
    fig = go.Figure()
    scale = 1.0 if ratio else 100.0
    if ratio:
        tau2 = result.overdispersion.tau2 if result.overdispersion is not None else 0.0
        curves = {k: [math.exp(sign * z * math.sqrt(1 / e + tau2)) for e in grid]
                  for k, sign, z in (("upper_95", 1, funnel_math.Z_95), ("lower_95", -1, funnel_math.Z_95),
                                     ("upper_998", 1, funnel_math.Z_998), ("lower_998", -1, funnel_math.Z_998))}
    else:
        method = "exact" if result.method == "exact" else "normal"
        rows = funnel_math.funnel_curve(result.target, grid, method=method, od=result.overdispersion)
        curves = {k: [r[k] for r in rows] for k in ("upper_95", "lower_95", "upper_998", "lower_998")}
    for key, dash, name in (("upper_95", "dash", "95% limits"), ("lower_95", "dash", None),
                            ("upper_998", "dot", "99.8% limits"), ("lower_998", "dot", None)):
        fig.add_trace(go.Scatter(x=list(grid), y=[scale * v for v in curves[key]], mode="lines",
                                 name=name or key, showlegend=name is not None,
                                 legendgroup=dash, line={"color": GREY, "width": 1, "dash": dash}))
    fig.add_trace(go.Scatter(x=[grid[0], grid[-1]], y=[scale * result.target] * 2, mode="lines",
                             name="as expected (O/E = 1)" if ratio else "overall rate",
                             line={"color": "#444444", "width": 1}))
    groups: dict[str, list[dict]] = {}
    for unit in result.units:
        groups.setdefault(str(unit["flag"]), []).append(unit)
    for flag, units in groups.items():
        label, symbol, colour = _FLAG_STYLE.get(flag, (flag, "circle", BLUE))
        fig.add_trace(go.Scatter(
            x=[float(u[size_key]) for u in units], y=[scale * float(u[value_key]) for u in units],
            mode="markers+text", text=[str(u["unit"]) for u in units], textposition="top center",
            name=label, marker={"symbol": symbol, "size": 11, "color": colour}))
    unit_word = "clinician" if computed.by == "clinician_id" else "site"
    if ratio:
        return _layout(fig, f"{title}: case-mix adjusted funnel by {unit_word}",
                       "observed / expected", "expected count (E)")
    return _layout(fig, f"{title}: funnel by {unit_word}", "%", "denominator (n)")


__all__ = ["control_chart", "funnel_chart"]
