"""Pure figure builders: polars DataFrame in, ``plotly.graph_objects.Figure`` out. No ``st.*``.

Conventions every builder follows, so a chart reads the same on every page:

- **One colour per drug class, everywhere** (``CLASS_COLOURS``), from the Okabe–Ito
  colour-blind-safe palette, in the fixed order ``DRUG_CLASSES``; a legend is always shown and
  colour is never the only cue (bars and points carry text labels).
- **Suppressed cells** (flagged ``<col>_suppressed`` by the query layer) are drawn as empty grey
  markers labelled by ``queries.suppression.hidden_labels``: ``<11`` for a count that is itself
  1–10, "suppressed" for a count hidden to protect another and for a rate; a builder never
  invents a value for them.
- Rates are proportions (0–1) on the data side and percentages on the axis (``tickformat``).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from queries.suppression import SUPPRESSED_WORD, hidden_labels

#: Fixed display order of drug classes (architecture.md, ``ref.drugs``).
DRUG_CLASSES: tuple[str, ...] = (
    "antidepressant",
    "antipsychotic",
    "mood_stabiliser",
    "anxiolytic_hypnotic",
    "adhd_medication",
    "other",
)

#: Okabe & Ito (2008) colour-universal-design palette; grey for "other".
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#999999",  # grey
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

CLASS_COLOURS: dict[str, str] = dict(zip(DRUG_CLASSES, OKABE_ITO, strict=False))
CLASS_LABELS: dict[str, str] = {
    "antidepressant": "Antidepressant",
    "antipsychotic": "Antipsychotic",
    "mood_stabiliser": "Mood stabiliser",
    "anxiolytic_hypnotic": "Anxiolytic / hypnotic",
    "adhd_medication": "ADHD medication",
    "other": "Other",
}
#: Adherence bands as the marts spell them, in reading order, with the words shown for them.
ADHERENCE_BANDS: dict[str, str] = {
    "<0.5": "PDC < 50%",
    "0.5-0.8": "PDC 50–79%",
    ">=0.8": "PDC ≥ 80%",
    "not observed": "PDC not measured",
}
SUPPRESSED_COLOUR = "#BBBBBB"
SUPPRESSED_MARK = "<11"
FONT = {"family": "Inter, Source Sans Pro, Arial, sans-serif", "size": 13}


def class_colour(drug_class: str | None) -> str:
    """The one colour of a drug class; unknown classes get grey rather than a borrowed colour."""
    return CLASS_COLOURS.get(drug_class or "other", CLASS_COLOURS["other"])


def class_label(drug_class: str | None) -> str:
    return CLASS_LABELS.get(drug_class or "", str(drug_class).replace("_", " ").capitalize())


def label_bands(frame: pl.DataFrame, column: str = "adherence_band") -> pl.DataFrame:
    """Adherence bands in reading order (lowest PDC first) with readable labels in ``column``."""
    if frame.is_empty() or column not in frame.columns:
        return frame
    order = list(ADHERENCE_BANDS)
    return (
        frame.with_columns(pl.col(column).cast(pl.String))
        .with_columns(pl.col(column).replace_strict(order, list(range(len(order))), default=len(order),
                                                    return_dtype=pl.Int64).alias("_band_order"))
        .sort("_band_order", maintain_order=True)
        .drop("_band_order")
        .with_columns(pl.col(column).replace(ADHERENCE_BANDS))
    )


def group_colours(groups: Sequence[str]) -> dict[str, str]:
    """Colours for arbitrary groups (drugs, regimens): Okabe–Ito in order, classes keep theirs."""
    colours: dict[str, str] = {}
    spare = [c for c in OKABE_ITO]
    for i, group in enumerate(groups):
        colours[group] = CLASS_COLOURS.get(group) or spare[i % len(spare)]
    return colours


def sort_classes(values: Sequence[str]) -> list[str]:
    """Drug classes in the fixed order, unknown values after them alphabetically."""
    order = {c: i for i, c in enumerate(DRUG_CLASSES)}
    return sorted(values, key=lambda v: (order.get(v, len(order)), str(v)))


def _layout(fig: go.Figure, title: str, height: int = 380, **extra: object) -> go.Figure:
    """Shared look. The legend sits between the title and the plot, so it never collides with
    the x-axis title however many rows it wraps to; the top margin grows to hold it."""
    has_legend = any(getattr(t, "showlegend", None) is not False and getattr(t, "name", None)
                     for t in fig.data)
    top = 100 if has_legend else 50
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top",
               "pad": {"t": 12}, "font": {"size": 16}},
        font=FONT,
        height=height + (top - 50),
        margin={"l": 10, "r": 20, "t": top, "b": 60},
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        **extra,
    )
    fig.update_xaxes(showgrid=True, gridcolor="#EEEEEE", zeroline=False, automargin=True)
    fig.update_yaxes(showgrid=True, gridcolor="#EEEEEE", zeroline=False, automargin=True)
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A figure that says why it is empty instead of drawing blank axes."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": "#555"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=220)


def _is_suppressed(frame: pl.DataFrame, column: str) -> list[bool]:
    flag = f"{column}_suppressed"
    if flag in frame.columns:
        return [bool(v) for v in frame[flag].fill_null(False).to_list()]
    return [v is None for v in frame[column].to_list()] if column in frame.columns else []


def _pct(value: float | None) -> str:
    return SUPPRESSED_WORD if value is None else f"{value:.1%}"


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
                "array": [(hi - r) if None not in (hi, r) else 0 for r, hi in zip(rates, highs, strict=True)],
                "arrayminus": [(r - lo) if None not in (lo, r) else 0 for r, lo in zip(rates, lows, strict=True)],
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
    fig.update_yaxes(autorange="reversed", showgrid=False, type="category")
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


def heat_map(
    frame: pl.DataFrame, rows: str, columns: str, value: str, title: str, *, value_title: str = "%",
    count: str = "numerator",
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
        (str(r[rows]), str(r[columns])): (r[value], bool(r.get(f"{value}_suppressed")), label)
        for r, label in zip(frame.iter_rows(named=True), count_labels, strict=True)
    }
    z, text = [], []
    for r in row_values:
        z_row, text_row = [], []
        for c in column_values:
            v, hidden, label = lookup.get((r, c), (0.0, False, None))
            z_row.append(None if hidden or v is None else v)
            text_row.append((label or SUPPRESSED_WORD) if hidden or v is None else f"{v:.0%}")
        z.append(z_row)
        text.append(text_row)
    fig = go.Figure(go.Heatmap(
        z=z, x=[c.replace("_", " ") for c in column_values], y=row_values, text=text,
        texttemplate="%{text}", colorscale="Blues", zmin=0, colorbar={"title": value_title, "tickformat": ".0%"},
        hovertemplate="%{y} × %{x}: %{text}<extra></extra>", xgap=1, ygap=1,
    ))
    fig.update_xaxes(tickangle=-40, showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return _layout(fig, title, height=max(320, 120 + 26 * len(row_values)))


def stacked_shares(
    frame: pl.DataFrame, group: str, category: str, value: str, title: str, *, categories: Sequence[str] = ()
) -> go.Figure:
    """100% stacked horizontal bars (e.g. severity mix per class); suppressed segments omitted."""
    if frame.is_empty():
        return empty_figure(title, "Nothing to show for these filters.")
    order = list(categories) or sorted(dict.fromkeys(frame[category].cast(pl.String).to_list()))
    palette = ("#56B4E9", "#E69F00", "#D55E00", "#CC79A7", "#009E73", "#0072B2", "#999999")
    groups = [g for g in dict.fromkeys(frame[group].cast(pl.String).to_list())]
    if group == "drug_class":
        groups = sort_classes(groups)
    fig = go.Figure()
    for i, cat in enumerate(order):
        part = frame.filter(pl.col(category).cast(pl.String) == cat)
        values = dict(zip(part[group].cast(pl.String).to_list(), part[value].to_list(), strict=True))
        fig.add_trace(go.Bar(
            y=[class_label(g) if group == "drug_class" else g for g in groups],
            x=[values.get(g) for g in groups], name=cat.replace("_", " "), orientation="h",
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


def pathway_sankey(frame: pl.DataFrame, title: str, *, source: str = "source", target: str = "target",
                   value: str = "patients") -> go.Figure:
    """Flows between treatment lines; node labels carry the line (``L1 sertraline``)."""
    visible = frame.filter(pl.col(value).is_not_null()) if not frame.is_empty() else frame
    if visible.is_empty():
        return empty_figure(title, "No pathways with at least 11 patients for these filters.")
    nodes = list(dict.fromkeys(visible[source].to_list() + visible[target].to_list()))
    index = {n: i for i, n in enumerate(nodes)}
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": nodes, "pad": 12, "thickness": 14, "color": [_node_colour(n) for n in nodes]},
        link={"source": [index[s] for s in visible[source]], "target": [index[t] for t in visible[target]],
              "value": visible[value].to_list(), "color": "rgba(120,120,120,0.25)"},
    ))
    return _layout(fig, title, height=480)


def pathway_sunburst(frame: pl.DataFrame, title: str, *, path: Sequence[str], value: str = "patients") -> go.Figure:
    """Lines 1→2→3 as rings; suppressed leaves are left out (their parents keep their totals)."""
    visible = frame.filter(pl.col(value).is_not_null()) if not frame.is_empty() else frame
    if visible.is_empty():
        return empty_figure(title, "No pathways with at least 11 patients for these filters.")
    ids, labels, parents, values, colours = [], [], [], [], []
    totals: dict[str, float] = {}
    for row in visible.iter_rows(named=True):
        prefix = ""
        for depth, column in enumerate(path):
            step = row[column]
            if step is None:
                break
            node_id = f"{prefix}/{step}" if prefix else str(step)
            totals[node_id] = totals.get(node_id, 0) + row[value]
            if node_id not in ids:
                ids.append(node_id)
                labels.append(str(step))
                parents.append(prefix)
                colours.append(_node_colour(str(step)) if depth == 0 else None)
            prefix = node_id
    values = [totals[i] for i in ids]
    fig = go.Figure(go.Sunburst(ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
                                marker={"colors": colours}, hovertemplate="%{label}: %{value} patients<extra></extra>"))
    return _layout(fig, title, height=480)


def _node_colour(label: str) -> str:
    """A node's class colour, found by class key or its label ("Line 2: Antipsychotic")."""
    for drug_class, colour in CLASS_COLOURS.items():
        if drug_class in label or label.endswith(CLASS_LABELS[drug_class]):
            return colour
    return "#7F8C9A"


def sparkline_values(frame: pl.DataFrame, x: str, y: str) -> list[float]:
    """The y values in x order, suppressed points dropped (for ``st.metric(chart_data=...)``)."""
    if frame.is_empty() or y not in frame.columns:
        return []
    return [v for v in frame.sort(x)[y].to_list() if v is not None]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


from dashboard.report.figures import control_chart, funnel_chart  # noqa: F401 - QI figures, shared with the meeting pack
