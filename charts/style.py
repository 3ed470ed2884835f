"""The look every chart shares: drug-class palette and labels, layout, the empty figure and the
suppressed-cell helpers (the conventions are listed in ``charts``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from pipelines.reference import DRUG_CLASSES  # display order = the reference table's classes
from queries.labels import VALUES, label
from stats.suppression import SUPPRESSED_WORD

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
CLASS_LABELS: dict[str, str] = VALUES["drug_class"]
#: Adherence bands as the marts spell them, in reading order, with the words shown for them.
ADHERENCE_BANDS: dict[str, str] = VALUES["adherence_band"]
SUPPRESSED_COLOUR = "#BBBBBB"
SUPPRESSED_MARK = "<11"
FONT = {"family": "Inter, Source Sans Pro, Arial, sans-serif", "size": 13}


def class_colour(drug_class: str | None) -> str:
    """The one colour of a drug class; unknown classes get grey rather than a borrowed colour."""
    return CLASS_COLOURS.get(drug_class or "other", CLASS_COLOURS["other"])


def class_label(drug_class: str | None) -> str:
    return label("drug_class", drug_class or "")


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
    spare = list(OKABE_ITO)
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


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
