"""Treatment-pathway figures: line-to-line Sankey and sunburst (conventions in ``charts``;
suppressed flows and leaves are left out, never drawn with an invented value)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from charts.style import CLASS_COLOURS, CLASS_LABELS, _layout, empty_figure


def pathway_sankey(frame: pl.DataFrame, title: str, *, source: str = "source", target: str = "target",
                   value: str = "patients") -> go.Figure:
    """Flows between treatment lines; node labels carry the line (``L1 sertraline``)."""
    visible = frame.filter(pl.col(value).is_not_null()) if not frame.is_empty() else frame
    if visible.is_empty():
        return empty_figure(title, "No pathways with at least 11 patients for these filters.")
    nodes = list(dict.fromkeys(visible[source].to_list() + visible[target].to_list()))
    index = {n: i for i, n in enumerate(nodes)}
    size = dict.fromkeys(nodes, 0.0)
    inflow = dict.fromkeys(nodes, 0.0)
    for s_, t_, v in zip(visible[source], visible[target], visible[value], strict=True):
        size[s_] += v
        inflow[t_] += v
    x, y = _positions(nodes, [max(size[n], inflow[n]) for n in nodes])
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": nodes, "pad": 12, "thickness": 14, "color": [_node_colour(n) for n in nodes],
              **({"x": x, "y": y} if x else {})},
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


def line_of(label: str) -> int | None:
    """The line a node stands for ("Line 2: Antipsychotic" and "No line 3" -> 2 and 3)."""
    found = re.search(r"\bline (\d+)", label, re.IGNORECASE)
    return int(found.group(1)) if found else None


def _positions(nodes: Sequence[str], sizes: Sequence[float]) -> tuple[list[float], list[float]]:
    """One column per line of therapy, so line 3 gets its own column even when plotly's
    automatic layout would fold it into line 2; down each column, each node's centre sits at
    the middle of its share of the column's patients, so no node runs off the bottom."""
    lines = [line_of(n) for n in nodes]
    if any(line is None for line in lines):
        return [], []
    columns = sorted(set(lines))
    span = max(len(columns) - 1, 1)
    x = [0.001 + 0.998 * columns.index(line) / span for line in lines]
    weight = dict(zip(nodes, sizes, strict=True))
    y = []
    for node, line in zip(nodes, lines, strict=True):
        same = [n for n, other in zip(nodes, lines, strict=True) if other == line]
        total = sum(weight[n] for n in same) or 1.0
        before = sum(weight[n] for n in same[: same.index(node)])
        y.append(0.001 + 0.998 * (before + weight[node] / 2) / total)
    return x, y


def _node_colour(label: str) -> str:
    """A node's class colour, found by class key or its label ("Line 2: Antipsychotic")."""
    for drug_class, colour in CLASS_COLOURS.items():
        if drug_class in label or label.endswith(CLASS_LABELS[drug_class]):
            return colour
    return "#7F8C9A"
