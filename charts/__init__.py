"""Pure figure builders: polars DataFrame in, ``plotly.graph_objects.Figure`` out. No ``st.*``.

Conventions every builder follows, so a chart reads the same on every page:

- **One colour per drug class, everywhere** (``CLASS_COLOURS``), from the Okabe–Ito
  colour-blind-safe palette, in the fixed order ``DRUG_CLASSES``; a legend is always shown and
  colour is never the only cue (bars and points carry text labels).
- **Suppressed cells** (flagged ``<col>_suppressed`` by the query layer) are drawn as empty grey
  markers labelled by ``stats.suppression.hidden_labels``: ``<11`` for a count that is itself
  1–10, "suppressed" for a count hidden to protect another and for a rate; a builder never
  invents a value for them.
- Rates are proportions (0–1) on the data side and percentages on the axis (``tickformat``).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from charts.style import (  # noqa: F401 - re-exported: views use charts.CLASS_COLOURS etc.
    ADHERENCE_BANDS,
    CLASS_COLOURS,
    CLASS_LABELS,
    DRUG_CLASSES,
    FONT,
    OKABE_ITO,
    SUPPRESSED_COLOUR,
    SUPPRESSED_MARK,
    _is_suppressed,
    _layout,
    _pct,
    _rgba,
    class_colour,
    class_label,
    empty_figure,
    group_colours,
    label_bands,
    sort_classes,
)
from queries.labels import column_label, label  # the one label table, also re-exported for views
from stats.suppression import SUPPRESSED_WORD, hidden_labels


def rate_bars(
    frame: pl.DataFrame,
    group: str,
    title: str,
    *,
    rate: str = "rate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    denominator: str = "denominator",
    colour_by: str | None = None,
    axis_title: str = "Rate (%)",
) -> go.Figure:
    """Horizontal bars of a proportion per group with Wilson 95% whiskers and ``n=`` labels.

    ``colour_by`` names the column holding each row's drug class (defaults to ``group`` when the
    groups are classes). Suppressed rows are drawn as a grey stub at zero, labelled "suppressed"
    with their ``n`` as ``<11`` (a denominator of 1–10) or "suppressed" (hidden to protect another).
    """
    if frame.is_empty() or group not in frame.columns:
        return empty_figure(title, "No episodes match the filters.")
    if denominator in frame.columns:
        # a group with no unit at all has no rate: "suppressed (n=0)" would read as hidden data
        frame = frame.filter(pl.col(denominator).is_null() | (pl.col(denominator) != 0))
        if frame.is_empty():
            return empty_figure(title, "No episodes match the filters.")
    colour_column = colour_by or (group if group == "drug_class" else None)
    if group == "drug_class":
        frame = frame.with_columns(pl.col(group).cast(pl.String))
        order = sort_classes(frame[group].to_list())
        frame = frame.sort(pl.col(group).replace_strict(order, list(range(len(order)))))
    hidden = _is_suppressed(frame, rate)
    labels = [
        class_label(g) if group == "drug_class" else str(g) for g in frame[group].to_list()
    ]
    rates = frame[rate].to_list()
    lows = frame[ci_low].to_list() if ci_low in frame.columns else [None] * len(rates)
    highs = frame[ci_high].to_list() if ci_high in frame.columns else [None] * len(rates)
    dens = frame[denominator].to_list() if denominator in frame.columns else [None] * len(rates)
    den_hidden = _is_suppressed(frame, denominator) if denominator in frame.columns else hidden
    colours = [
        SUPPRESSED_COLOUR if h else (class_colour(c) if colour_column else OKABE_ITO[0])
        for h, c in zip(
            hidden,
            frame[colour_column].to_list() if colour_column else [None] * len(rates),
            strict=True,
        )
    ]
    den_labels = hidden_labels(frame, denominator) if denominator in frame.columns else [None] * len(rates)
    text = []
    for r, n, h, nh, n_label in zip(rates, dens, hidden, den_hidden, den_labels, strict=True):
        n_text = (n_label or SUPPRESSED_WORD) if nh or n is None else f"{int(n):,}"
        text.append(f"{SUPPRESSED_WORD} (n={n_text})" if h or r is None else f"{r:.1%}  (n={n_text})")
    shown = [0 if (h or r is None) else r for r, h in zip(rates, hidden, strict=True)]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=shown,
            orientation="h",
            marker={"color": colours},
            error_x={
                "type": "data",
                "symmetric": False,
                # no whisker (None, not 0) where the rate is hidden: a zero-length one still
                # draws its caps at zero, over the end of the axis label
                "array": [(hi - r) if None not in (hi, r) and not h else None
                          for r, hi, h in zip(rates, highs, hidden, strict=True)],
                "arrayminus": [(r - lo) if None not in (lo, r) and not h else None
                               for r, lo, h in zip(rates, lows, hidden, strict=True)],
                "color": "#333",
                "thickness": 1.2,
            },
            customdata=text,
            hovertemplate="%{y}: %{customdata}<extra></extra>",
            showlegend=False,
        )
    )
    # The label sits right of the interval's upper end, so whisker and text never overlap.
    fig.add_trace(go.Scatter(
        y=labels,
        x=[max(v for v in (x, hi) if v is not None) + 0.015 for x, hi in zip(shown, highs, strict=True)],
        mode="text", text=text, textposition="middle right", showlegend=False, hoverinfo="skip",
        textfont={"size": 12, "color": "#333"}, cliponaxis=False,
    ))
    # When bars are classes, the axis labels already name them; a legend is needed only when
    # the colour carries information the labels do not (e.g. drugs coloured by their class).
    if colour_column and colour_column != group:
        _class_legend(fig, frame[colour_column].to_list())
    fig.update_xaxes(range=[0, 1.3], tickformat=".0%", title=axis_title, tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_yaxes(autorange="reversed", showgrid=False, type="category", ticklabelstandoff=4)
    legend_rows = 2 if colour_column and colour_column != group else 0
    return _layout(fig, title, height=max(240, 130 + 30 * len(labels) + 22 * legend_rows))


def _class_legend(fig: go.Figure, classes: Sequence[str | None]) -> None:
    """Legend entries (one per class present) for figures whose traces aren't split by class."""
    for drug_class in sort_classes([c for c in dict.fromkeys(classes) if c]):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=class_label(drug_class),
                marker={"color": class_colour(drug_class), "size": 10, "symbol": "square"},
            )
        )


def balance_chart(
    frame: pl.DataFrame,
    group: str,
    title: str = "Benefit–risk balance",
    *,
    benefit: str = "response_rate",
    benefit_low: str = "response_ci_low",
    benefit_high: str = "response_ci_high",
    risk: str = "side_effect_rate",
    risk_low: str = "side_effect_ci_low",
    risk_high: str = "side_effect_ci_high",
    size: str = "patients",
    colour_by: str | None = None,
) -> go.Figure:
    """Response rate (y, better upward) against side-effect burden (x, better leftward).

    One bubble per compared group, area proportional to patients, with 95% intervals on both
    axes. The upper-left corner is the good corner; a shaded note says so. Groups whose response
    or burden is suppressed are listed under the chart rather than placed on it.
    """
    if frame.is_empty():
        return empty_figure(title, "Pick groups with data to compare.")
    fig = go.Figure()
    sizes = [s for s in frame[size].to_list() if s is not None] if size in frame.columns else []
    max_size = max(sizes) if sizes else 1
    hidden_groups: list[str] = []
    for row in frame.iter_rows(named=True):
        name = class_label(row[group]) if group == "drug_class" else str(row[group])
        if row.get(benefit) is None or row.get(risk) is None:
            hidden_groups.append(name)
            continue
        colour_key = row.get(colour_by) if colour_by else row[group]
        colour = class_colour(colour_key) if colour_key in CLASS_COLOURS else group_colours(
            list(frame[group].cast(pl.String).to_list())
        )[str(row[group])]
        n = row.get(size)
        fig.add_trace(
            go.Scatter(
                x=[row[risk]],
                y=[row[benefit]],
                mode="markers+text",
                name=name,
                text=[name],
                textposition="top center",
                marker={
                    "size": 18 + 42 * ((n or 0) / max_size) ** 0.5,
                    "color": colour,
                    "opacity": 0.75,
                    "line": {"color": "#222", "width": 1},
                },
                error_x=_asym(row, risk, risk_low, risk_high),
                error_y=_asym(row, benefit, benefit_low, benefit_high),
                hovertemplate=(
                    f"{name}<br>response %{{y:.1%}}<br>side effects %{{x:.1%}}"
                    f"<br>patients {n if n is not None else SUPPRESSED_WORD}<extra></extra>"
                ),
            )
        )
    if not fig.data:
        return empty_figure(title, f"Not plotted: the rates of {', '.join(hidden_groups)} are suppressed.<br>"
                                   "Widen the period or pick larger groups.")
    fig.add_annotation(
        x=0.01, y=0.99, xref="paper", yref="paper", showarrow=False, xanchor="left",
        yanchor="top", text="better: more response, fewer side effects", font={"color": "#2E7D32"},
    )
    if hidden_groups:
        fig.add_annotation(
            x=0, y=-0.22, xref="paper", yref="paper", showarrow=False, xanchor="left",
            text=f"Not plotted (suppressed): {', '.join(hidden_groups)}",
        )
    fig.update_xaxes(title="Episodes with any side effect (%, 95% CI)", tickformat=".0%", range=[0, 1.02])
    fig.update_yaxes(title="Response rate (%, 95% CI)", tickformat=".0%", range=[0, 1.02])
    return _layout(fig, title, height=460)


def _asym(row: dict, value: str, low: str, high: str) -> dict:
    v, lo, hi = row.get(value), row.get(low), row.get(high)
    if None in (v, lo, hi):
        return {"visible": False}
    return {"type": "data", "symmetric": False, "array": [hi - v], "arrayminus": [v - lo],
            "color": "#444", "thickness": 1}


def colour_scale(values: Sequence[float]) -> dict[str, object]:
    """The heat map's scale, from the data: shares (all >= 0) run white-to-blue from 0 to the
    largest value; differences (any < 0) get a diverging scale symmetric about 0, from -m to +m
    where m is the largest absolute value, so equal changes either way look equally strong."""
    if not values:
        return {"colorscale": "Blues", "zmin": 0, "zmax": 1}
    if min(values) < 0:
        m = max(abs(v) for v in values) or 1.0
        return {"colorscale": "RdBu", "zmid": 0, "zmin": -m, "zmax": m}
    return {"colorscale": "Blues", "zmin": 0, "zmax": max(values) or 1.0}


def diagnosis_label(code: str | None) -> str:
    return label("diagnosis_group", code)


def heat_map(
    frame: pl.DataFrame, rows: str, columns: str, value: str, title: str, *, value_title: str = "%",
    count: str = "numerator", x_title: str = "", y_title: str = "",
) -> go.Figure:
    """A rows × columns matrix of a rate; suppressed cells stay blank and read ``<11`` (their
    ``count`` is 1–10) or "suppressed"."""
    if frame.is_empty():
        return empty_figure(title, "No side-effect reports match the filters.")
    row_values = sorted(dict.fromkeys(frame[rows].cast(pl.String).to_list()))
    column_values = sorted(dict.fromkeys(frame[columns].cast(pl.String).to_list()))
    # a hidden rate reads "<11" when its count (``count``) is itself 1-10, else "suppressed"
    count_labels = hidden_labels(frame, count) if count in frame.columns else [None] * frame.height
    lookup = {
        (str(r[rows]), str(r[columns])): (r[value], bool(r.get(f"{value}_suppressed")), mark)
        for r, mark in zip(frame.iter_rows(named=True), count_labels, strict=True)
    }
    z, text = [], []
    for r in row_values:
        z_row, text_row = [], []
        for c in column_values:
            v, hidden, mark = lookup.get((r, c), (0.0, False, None))
            z_row.append(None if hidden or v is None else v)
            text_row.append((mark or SUPPRESSED_WORD) if hidden or v is None else f"{v:.0%}")
        z.append(z_row)
        text.append(text_row)
    fig = go.Figure(go.Heatmap(
        z=z, x=[label(columns, c) for c in column_values], y=[label(rows, r) for r in row_values], text=text,
        texttemplate="%{text}", hovertemplate="%{y} × %{x}: %{text}<extra></extra>", xgap=1, ygap=1,
        **colour_scale([v for row in z for v in row if v is not None]),
        colorbar={"title": value_title, "tickformat": ".0%"},
    ))
    fig.update_xaxes(tickangle=-40, showgrid=False, title=x_title or column_label(columns))
    fig.update_yaxes(autorange="reversed", showgrid=False, title=y_title or column_label(rows))
    return _layout(fig, title, height=max(320, 120 + 26 * len(row_values)))


def stacked_shares(
    frame: pl.DataFrame, group: str, category: str, value: str, title: str, *, categories: Sequence[str] = ()
) -> go.Figure:
    """100% stacked horizontal bars (e.g. severity mix per class); suppressed segments omitted."""
    if frame.is_empty():
        return empty_figure(title, "Nothing to show for these filters.")
    order = list(categories) or sorted(dict.fromkeys(frame[category].cast(pl.String).to_list()))
    palette = ("#56B4E9", "#E69F00", "#D55E00", "#CC79A7", "#009E73", "#0072B2", "#999999")
    groups = list(dict.fromkeys(frame[group].cast(pl.String).to_list()))
    if group == "drug_class":
        groups = sort_classes(groups)
    fig = go.Figure()
    for i, cat in enumerate(order):
        part = frame.filter(pl.col(category).cast(pl.String) == cat)
        values = dict(zip(part[group].cast(pl.String).to_list(), part[value].to_list(), strict=True))
        fig.add_trace(go.Bar(
            y=[class_label(g) if group == "drug_class" else g for g in groups],
            x=[values.get(g) for g in groups], name=label(category, cat), orientation="h",
            marker={"color": palette[i % len(palette)]},
            text=[_pct(values.get(g)) if g in values else "" for g in groups], textposition="inside",
        ))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat=".0%", range=[0, 1], title="Share (%)")
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return _layout(fig, title, height=max(240, 90 + 40 * len(groups)))


def distribution_bars(frame: pl.DataFrame, bin_column: str, count: str, title: str, *, x_title: str,
                      group: str | None = None, y_title: str = "Patients") -> go.Figure:
    """Counts per bin (e.g. PDC deciles), optionally one series per drug class."""
    if frame.is_empty():
        return empty_figure(title, "Nothing to show for these filters.")
    fig = go.Figure()
    series = [None] if group is None else sort_classes(list(dict.fromkeys(frame[group].to_list())))
    for g in series:
        part = frame if g is None else frame.filter(pl.col(group) == g)
        hidden = _is_suppressed(part, count)
        fig.add_trace(go.Bar(
            x=part[bin_column].cast(pl.String), y=[None if h else v for v, h in zip(part[count].to_list(), hidden, strict=True)],
            name=class_label(g) if g else count, marker={"color": class_colour(g) if g else OKABE_ITO[0]},
            text=[(label or SUPPRESSED_WORD) if h else f"{v:,}"
                  for v, h, label in zip(part[count].to_list(), hidden, hidden_labels(part, count), strict=True)],
            textposition="outside", cliponaxis=False,
        ))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title=x_title, type="category")
    fig.update_yaxes(title=y_title)
    return _layout(fig, title)


def sparkline_values(frame: pl.DataFrame, x: str, y: str) -> list[float]:
    """The y values in x order, suppressed points dropped (for ``st.metric(chart_data=...)``)."""
    if frame.is_empty() or y not in frame.columns:
        return []
    return [v for v in frame.sort(x)[y].to_list() if v is not None]


# Builders kept in their own modules so each stays readable; callers keep writing charts.<builder>.
from charts.over_time import survival_curves, trajectories  # noqa: E402, F401
from charts.pathways import pathway_sankey, pathway_sunburst  # noqa: E402, F401
from charts.qi import control_chart, funnel_chart  # noqa: E402, F401 - QI figures, shared with the meeting pack
