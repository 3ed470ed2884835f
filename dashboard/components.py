"""Reusable page pieces: KPI tiles, charts with PNG download, definitions and drill-down, and
the page helpers; cells and messages live in ``dashboard.cells``, tables in ``dashboard.tables``
(re-exported here, so a view imports one module).

Numbers are shown exactly as the query layer returns them: a cell it suppressed is null with
``<col>_suppressed`` set. Every piece here labels it with ``stats.suppression.hidden_label``:
``<11`` for a count that is itself 1–10, "suppressed" for a count hidden only to protect another
(``<col>_complementary``; its value may be 50) and for every derived figure. Nothing here
recomputes or un-hides a count.
"""

from __future__ import annotations

import dataclasses
import logging
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data
from dashboard.cells import (  # noqa: F401 - the page pieces views use, one import
    PERTURBATION_NOTE,
    SUPPRESSED,
    database_message,
    empty_note,
    fmt,
    hidden_text,
    is_suppressed,
    missing_metric,
    suppression_note,
    value_at,
)
from dashboard.tables import (  # noqa: F401
    PAGE_ROWS,
    adjusted_download,
    display_frame,
    export_csv,
    paged_table,
    rate_and_n,
    side_by_side,
    table,
)
from queries import aggregate
from stats.suppression import (
    SUPPRESSED_WORD,
    is_flag_column,
)

LOG = logging.getLogger(__name__)


# --- KPI tiles ----------------------------------------------------------------------------


def kpi_tile(
    label: str,
    value: Any,
    *,
    kind: str = "count",
    previous: Any = None,
    hidden: str | None = None,
    previous_hidden: bool = False,
    trend: Sequence[float] = (),
    denominator: str = "",
    help: str | None = None,
    higher_is_better: bool | None = True,
) -> None:
    """One headline number with its change against the previous period and a small trend.

    ``hidden`` is the label of a hidden value (``hidden_text``); no change is shown when either
    period's value is hidden (the change would reveal it)."""
    delta = None
    if not hidden and not previous_hidden and value is not None and previous is not None:
        change = value - previous
        delta = fmt(change, "pp") if kind in ("pct", "pct1") else f"{change:+,}"
    colour = "normal" if higher_is_better else ("inverse" if higher_is_better is False else "off")
    st.metric(
        label,
        fmt(value, kind, hidden=hidden),
        delta=delta,
        delta_color=colour,
        help=help,
        border=True,
        chart_data=list(trend) if len(trend) > 1 else None,
        chart_type="line",
        # No per-tile "vs prior period": beside the change chip it is cut off in a quarter-width
        # tile; the page says once what the change is against (overview's caption).
    )
    if denominator:
        st.caption(denominator)


# --- charts -------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def png_export_problem() -> str | None:
    """Why server-side image export can't work here (None when kaleido and a browser exist)."""
    from charts.export import export_problem

    return export_problem()


def figure_png(fig: go.Figure, fmt: str = "png") -> bytes:
    """Render a figure to PNG (or SVG) with kaleido; returns b"" (and logs) rather than raising."""
    from charts.export import figure_image

    try:
        return figure_image(fig, fmt)
    except Exception:
        LOG.exception("%s export failed", fmt.upper())
        return b""


#: Characters per line of a chart title: plotly never wraps a title, and at 390 px (or in a
#: half-width column) a longer line is cut off at the chart's edge.
TITLE_LINE_CHARS = 36


def wrap_title(fig: go.Figure) -> go.Figure:
    """``fig`` with its title broken into lines of at most ``TITLE_LINE_CHARS`` at word breaks,
    the top margin and height grown by one line height per extra line."""
    text = fig.layout.title.text or ""
    if len(text) <= TITLE_LINE_CHARS or "<br>" in text:
        return fig
    lines = textwrap.wrap(text, TITLE_LINE_CHARS)
    extra = 20 * (len(lines) - 1)
    fig.update_layout(title_text="<br>".join(lines), margin_t=(fig.layout.margin.t or 50) + extra,
                      height=(fig.layout.height or 380) + extra)
    return fig


def chart(fig: go.Figure, *, key: str, alt: str, caption: str = "") -> None:
    """A Plotly chart (``theme=None`` keeps our colours) with a PNG download on demand."""
    wrap_title(fig)
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": key, "scale": 2}}
    st.plotly_chart(fig, theme=None, key=f"chart_{key}", config=config, alt=alt)
    problem = png_export_problem()
    # caption and buttons in one wrapping row: in a half-width chart a fixed column share stacked
    # the two buttons one under the other
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.caption(caption or "", width="stretch")
    if problem:
        row.caption(f"PNG: use the camera icon ({problem})")
        return
    make_png: Callable[[], bytes] = lambda: figure_png(fig)  # noqa: E731 - built only on click
    make_svg: Callable[[], bytes] = lambda: figure_png(fig, "svg")  # noqa: E731
    buttons = row.container(horizontal=True, horizontal_alignment="right", gap="small", width="content")
    buttons.download_button(
        "PNG", data=make_png, file_name=f"{key}.png", mime="image/png", key=f"png_{key}",
        on_click="ignore", icon=":material/image:", help="Download this chart as a PNG image",
    )
    buttons.download_button(
        "SVG", data=make_svg, file_name=f"{key}.svg", mime="image/svg+xml", key=f"svg_{key}",
        on_click="ignore", help="Download this chart as an SVG (vector) image",
    )


def definition(result: data.Result) -> None:
    """The metric's definition, the SQL it ran and its breakdown by site then clinician, one
    click away. The SQL is shown when asked for (a toggle), and the breakdown computed when asked
    for (another), under the same filters and definition parameters."""
    by = "_".join(result.meta.get("by") or []) or "total"
    with st.expander(f"Definition, SQL and breakdown: {result.title}", icon=":material/info:"):
        st.write(result.description)
        method = result.meta.get("suppression") or result.meta.get("suppression_method")
        if method:
            st.caption(f"Suppression: {method}")
        bound = {k: v for k, v in (result.meta.get("parameters") or {}).items() if v is not None}
        if bound:
            st.caption("Parameters bound to the SQL: " + ", ".join(f"${k} = {v}" for k, v in sorted(bound.items())))
        # Behind a toggle: a code block, even in a closed expander, makes the browser load and
        # parse Streamlit's 1.5 MB syntax highlighter on the first page (docs/dashboard.md).
        if data.available(result.name) and st.toggle("Show the SQL it ran", key=f"sql_{result.name}_{by}"):
            st.code(data.describe(result.name).sql.strip(), language="sql")
        if data.supports(result.name, "site_id") and st.toggle(
                "Break down by site, then clinician", key=f"drill_{result.name}_{by}"):
            breakdown(result)


def breakdown(result: data.Result) -> None:
    """The same metric by site; pick a site to see its clinicians."""
    from dashboard import filters as sidebar
    from queries.engine import FILTERS

    current = sidebar.current()
    overrides = {k: v for k, v in (result.meta.get("parameters") or {}).items()
                 if k not in FILTERS and v is not None and k in data.describe(result.name).params
                 and k not in ("min_cell",)}
    by = "_".join(result.meta.get("by") or []) or "total"
    by_site = try_metric(result.name, current, "site_id", **overrides)
    if by_site is None or by_site.frame.is_empty():
        empty_note("sites")
        return
    table(by_site.frame, title=f"{result.title} by site", key=f"drill_site_{result.name}_{by}", source=by_site)
    sites = [s for s in by_site.frame["site_id"].to_list() if s is not None]
    site = st.selectbox("Clinicians of site", sites, key=f"drill_pick_{result.name}_{by}", index=None,
                        placeholder="Pick a site to see its clinicians")
    if site and data.supports(result.name, "clinician_id"):
        from dataclasses import replace

        by_clinician = try_metric(result.name, replace(current, site_id=site), "clinician_id", **overrides)
        if by_clinician is not None:
            table(by_clinician.frame, title=f"{result.title}: clinicians of site {site}",
                  key=f"drill_clin_{result.name}_{by}", source=by_clinician)


def saved_views(page_path: str) -> None:
    """Save the page and its filters under a name; list saved views as links that reopen them."""
    with st.expander("Saved views", icon=":material/bookmark:"):
        views = data.saved_views()
        for view in views:
            st.markdown(f"[{view.name}]({view.link()})")
        if not views:
            st.caption("None yet. A saved view is a link to this page with these filters.")
        name = st.text_input("Name this view", key="saved_view_name", max_chars=60,
                             placeholder="e.g. Board: site S01, last 12 months")
        if st.button("Save view", key="saved_view_save", icon=":material/bookmark_add:", disabled=not name):
            try:
                data.save_view(name, page_path, st.query_params.to_dict())
                st.toast(f"Saved “{name}”")
                st.rerun()
            except ValueError as exc:
                st.warning(str(exc))


# --- page helpers shared by views ---------------------------------------------------------


def load(name: str, filters: Any = None, by: tuple[str, ...] | str = (), **overrides: Any) -> data.Result | None:
    """A metric under the filters, or None (with a note) when the catalogue lacks it."""
    if not data.available(name):
        missing_metric(name)
        return None
    try:
        return data.metric(name, filters, by, **overrides)
    except data.NotInWarehouse as exc:
        st.info(f"This warehouse lacks the tables for `{name}` ({exc}); rebuild it with `outcomes ingest`.",
                icon=":material/construction:")
        return None
    except data.AccessDenied as exc:
        st.info(str(exc), icon=":material/lock:")
        return None


def try_metric(name: str, filters: Any = None, by: tuple[str, ...] | str = (), **overrides: Any) -> data.Result | None:
    """Like ``load`` but silent: None when the metric or its tables are not there."""
    if not data.available(name):
        return None
    try:
        return data.metric(name, filters, by, **overrides)
    except (data.NotInWarehouse, data.AccessDenied):
        return None


def headline_tile(
    name: str,
    label: str,
    filters: Any,
    *,
    column: str = "rate",
    kind: str = "pct1",
    denominator_column: str | None = "denominator",
    denominator_label: str = "episodes",
    help: str | None = None,
    higher_is_better: bool | None = True,
    full_name: str = "",
) -> None:
    """A KPI tile for one metric: this period, change vs the previous period, monthly trend."""
    now = try_metric(name, filters)
    if now is None:
        st.metric(label, "n/a", help=f"metric {name} is not available in this warehouse", border=True)
        return
    reasons = aggregate.not_defined_reasons(now.frame)
    if reasons:
        # no rule for this instrument (PCL-5 remission): say so, never show 0
        st.metric(label, "not defined", help="; ".join(reasons), border=True)
        return
    before = try_metric(name, filters.previous()) if filters.previous() else None
    # Quarterly, from the start of the data to the end of the period: monthly rates of a small
    # clinic are mostly suppressed, and a line needs more points than one period holds.
    trend = (try_metric(name, dataclasses.replace(filters, start_date=None), by=("quarter",))
             if data.supports(name, "quarter") else None) or now
    value = value_at(now.frame, column)
    previous = value_at(before.frame, column) if before is not None else None
    caption = ""
    if denominator_column and denominator_column in now.frame.columns:
        caption = denominator_caption(now.frame, denominator_column, denominator_label)
        if column == "rate" and "ci_low" in now.frame.columns and value is not None:
            caption += f" · 95% CI {fmt(value_at(now.frame, 'ci_low'), kind)}–{fmt(value_at(now.frame, 'ci_high'), kind)}"
    kpi_tile(
        label, value, kind=kind, previous=previous,
        hidden=hidden_text(now.frame, column),
        previous_hidden=before is not None and is_suppressed(before.frame, column),
        trend=[v for v in (trend.frame[column].to_list() if column in trend.frame.columns else []) if v is not None],
        denominator=caption, higher_is_better=higher_is_better,
        help=help or (f"**{full_name}**. {now.description}" if full_name else now.description),
    )


def denominator_caption(frame: pl.DataFrame, column: str, words: str, row: int = 0) -> str:
    """"of 1,234 episodes"; "of <11 episodes" when the denominator is itself 1–10; "number of
    episodes suppressed" when it is hidden only to protect another cell (it is not under 11)."""
    hidden = hidden_text(frame, column, row)
    if hidden == SUPPRESSED_WORD:
        return f"number of {words} {SUPPRESSED_WORD}"
    return f"of {fmt(value_at(frame, column, row), hidden=hidden)} {words}"


def filters_caption(filters: Any, result: data.Result | None = None) -> None:
    """What the numbers below are computed over, and any sidebar filter that does not apply."""
    from dashboard.filters import maturing_words

    text = f"Filters: {filters.label()}."
    if result is not None and result.meta.get("filters_not_applied"):
        text += f" Not applicable to {result.title.lower()}: {', '.join(result.meta['filters_not_applied'])}."
    st.caption(text)
    maturing = maturing_words(filters)
    if maturing and filters.provisional:
        st.warning(maturing, icon=":material/hourglass_top:")
    elif maturing:
        st.info(maturing, icon=":material/hourglass_top:")


def survival_section(result: data.Result, group: str, *, key: str, title: str, y_title: str,
                     event_words: str = "events", horizons_words: str = "") -> None:
    """Kaplan–Meier curves with 95% bands (``meta["curve"]``) and the summary table.

    The query layer draws curves only for groups with at least ``min_cell`` units and only
    while at least ``min_cell`` remain at risk, with each step holding ``min_cell`` or more
    events, so no step reveals a count from 1 to 10.
    """
    import charts  # local: charts is only needed on pages with curves

    frame = result.frame
    curve = result.meta.get("curve")
    if isinstance(curve, pl.DataFrame) and not curve.is_empty():
        chart(charts.survival_curves(curve, group, title, y_title=y_title), key=key, alt=title,
              caption="Shaded: 95% log-log interval. Steps are pooled so each holds at least "
                      f"{data.MIN_CELL} events; a curve stops when fewer than {data.MIN_CELL} remain at risk.")
    elif not frame.is_empty():
        st.caption(f"No curve: no group has at least {data.MIN_CELL} episodes with enough events for these filters.")
    summary_columns = [c for c in frame.columns if not is_flag_column(c)]
    table(frame, title=f"{result.title}: summary", key=f"{key}_summary", formats=result.formats,
          columns=summary_columns, labels={"events": event_words.capitalize()},
          caption=f"Episodes (n) = {event_words} + censored (followed until the end of data without the event). "
                  "Median: half the episodes had the event by then; “-” when fewer than half did." + horizons_words)
    definition(result)
