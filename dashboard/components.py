"""Reusable page pieces: KPI tiles, tables with CSV download, charts with PNG download, messages.

Numbers are shown exactly as the query layer returns them: a cell it suppressed is null with
``<col>_suppressed`` set. Every piece here labels it with ``stats.suppression.hidden_label``:
``<11`` for a count that is itself 1–10, "suppressed" for a count hidden only to protect another
(``<col>_complementary``; its value may be 50) and for every derived figure. Nothing here
recomputes or un-hides a count.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import data
from queries import aggregate
from stats.suppression import (
    SUPPRESSED_WORD,
    display,
    hidden_label,
    is_flag_column,
    mark,
    marks_note,
)

LOG = logging.getLogger(__name__)
SUPPRESSED = mark(data.MIN_CELL)


# --- values -------------------------------------------------------------------------------


def value_at(frame: pl.DataFrame, column: str, row: int = 0) -> Any:
    """One cell, or None when the frame is too short or the cell is suppressed."""
    if frame.is_empty() or column not in frame.columns or row >= frame.height:
        return None
    flag = f"{column}_suppressed"
    if flag in frame.columns and frame[flag][row]:
        return None
    return frame[column][row]


def is_suppressed(frame: pl.DataFrame, column: str, row: int = 0) -> bool:
    flag = f"{column}_suppressed"
    return bool(flag in frame.columns and row < frame.height and frame[flag][row])


def hidden_text(frame: pl.DataFrame, column: str, row: int = 0) -> str | None:
    """How a hidden cell reads (``<11`` or "suppressed"); None when it is shown."""
    if frame.is_empty() or column not in frame.columns or row >= frame.height:
        return None
    return hidden_label(frame, column, row, data.MIN_CELL)


def fmt(value: Any, kind: str | None = "count", *, hidden: str | None = None) -> str:
    """Format a number for people; a hidden value reads its label (``hidden_text``: ``<11`` or
    "suppressed"), a missing value an en dash."""
    if hidden:
        return hidden
    if value is None:
        return "–"
    if kind in ("pct", "pct1"):
        return f"{100 * value:.1f}%"
    if kind == "pp":  # percentage points, signed
        return f"{100 * value:+.1f} pp"
    if kind in ("num1", "mean"):
        return f"{value:,.1f}"
    if kind == "num2":
        return f"{value:,.2f}"
    if kind == "days":
        return f"{value:,.0f} days"
    return f"{int(value):,}"


# --- messages -----------------------------------------------------------------------------


def database_message(status: data.Status) -> None:
    """The friendly stop page when the warehouse is missing, unreadable or empty."""
    st.title("Psych outcomes")
    headline = {
        "missing": "No outcomes warehouse yet.",
        "unreadable": "The outcomes warehouse can't be opened.",
        "empty": "The outcomes warehouse is empty.",
    }.get(status.state, "The outcomes warehouse is not ready.")
    st.info(f"**{headline}** `{status.path}`: {status.detail}.", icon=":material/database:")
    st.markdown("Create it with the sample clinic, or load your clinic's extract:")
    st.code(
        f"outcomes demo\n# or\noutcomes ingest EXTRACT_FOLDER --db {status.path}\n"
        f"outcomes serve --db {status.path}",
        language="bash",
    )
    st.caption("The dashboard reads the file read-only; reload this page once it exists.")


def missing_metric(name: str) -> None:
    st.info(f"The metric `{name}` is not available in this version yet.", icon=":material/construction:")


def empty_note(what: str = "episodes") -> None:
    st.info(f"No {what} match the filters. Widen the period or clear a filter.", icon=":material/filter_alt_off:")


def suppression_note() -> None:
    """The marks, the perturbation, and a link to the Privacy page (docs/privacy.md)."""
    from dashboard.views import PRIVACY_URL_PATH

    st.caption(
        f"{marks_note(data.MIN_CELL)} (CMS cell-size policy). {PERTURBATION_NOTE} "
        f"[How small counts are protected]({PRIVACY_URL_PATH})"
    )


#: Said wherever perturbed counts are shown (docs/privacy.md).
PERTURBATION_NOTE = (
    "Counts are perturbed by at most 2 (the same count always shows the same value), so that a "
    "hidden count cannot be worked out by comparing views; a total may differ slightly from the "
    "sum of its parts."
)


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
        delta_description="vs prior period" if delta else None,
    )
    if denominator:
        st.caption(denominator)


# --- tables -------------------------------------------------------------------------------


def display_frame(frame: pl.DataFrame, formats: dict[str, str | None], columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Strings for people and for CSV: counts of 1–10 ``<11``; complementary counts and hidden
    derived figures 'suppressed' (``stats.suppression.display``)."""
    shown = [c for c in (columns or frame.columns) if c in frame.columns and not is_flag_column(c)]
    return display(frame, formats, min_cell=data.MIN_CELL, columns=shown)


def _words(column: str) -> str:
    from charts.labels import column_label

    return column_label(column)


def table(
    frame: pl.DataFrame,
    *,
    title: str,
    key: str,
    formats: dict[str, str | None] | None = None,
    columns: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
    caption: str = "",
    height: int | str = "auto",
    source: data.Result | None = None,
) -> None:
    """A full-width table with suppression marks, and a CSV download of the same rows and
    columns as numbers under a stamp (``report.export``; ``source`` adds its definition)."""
    if frame.is_empty():
        st.markdown(f"**{title}**")
        empty_note("rows")
        return
    formats = formats if formats is not None else (source.formats if source is not None else {})
    shown = display_frame(frame, formats, columns)
    for column in _coded(shown.columns):  # codes read as on every chart and filter (charts.labels)
        shown = shown.with_columns(pl.col(column).map_elements(_value_label(column), return_dtype=pl.String))
    # Columns without a label read as words ("median_days" -> "Median days"), never as code.
    names = {**{c: _words(c) for c in shown.columns}, **(labels or {})}
    shown = shown.rename({k: v for k, v in names.items() if k in shown.columns and k != v})
    head, button = st.columns([5, 1], vertical_alignment="bottom")
    head.markdown(f"**{title}**")
    button.download_button(
        "CSV", data=lambda: export_csv(frame, title=title, formats=formats, columns=columns, names=names,
                                       source=source),
        file_name=f"{key}.csv", mime="text/csv",
        key=f"csv_{key}", on_click="ignore", icon=":material/download:",
        help="Download this table as CSV: numbers (rates as proportions), suppressed cells empty, "
             "with the filters, period, definition and suppression in # header lines",
    )
    st.dataframe(shown, hide_index=True, height=height, key=f"table_{key}", width="stretch")
    if caption:
        st.caption(caption)


PAGE_ROWS = 50


def paged_table(frame: pl.DataFrame, *, title: str, key: str, source: data.Result | None = None,
                labels: dict[str, str] | None = None, page_rows: int = PAGE_ROWS) -> None:
    """A long (patient-level) table shown one page of ``page_rows`` at a time: only that page is
    sent to the browser; the CSV download (built on click) holds every row."""
    pages = max(1, -(-frame.height // page_rows))
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {pages:,}; {frame.height:,} rows)", min_value=1, max_value=pages,
                                   value=1, step=1, key=f"page_{key}"))
    rows = frame.slice((page - 1) * page_rows, page_rows)
    formats = source.formats if source is not None else {}
    names = {**{c: _words(c) for c in frame.columns}, **(labels or {})}
    shown = display_frame(rows, formats)
    for column in _coded(shown.columns):
        shown = shown.with_columns(pl.col(column).map_elements(_value_label(column), return_dtype=pl.String))
    shown = shown.rename({k: v for k, v in names.items() if k in shown.columns and k != v})
    head, button = st.columns([5, 1], vertical_alignment="bottom")
    head.markdown(f"**{title}**")
    button.download_button(
        "CSV", data=lambda: export_csv(frame, title=title, formats=formats, names=names, source=source),
        file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}", on_click="ignore", icon=":material/download:",
        help="Download every row as CSV, with the stamp of filters, period and definition",
    )
    st.dataframe(shown, hide_index=True, key=f"table_{key}", width="stretch")


def rate_and_n(result: data.Result, label: str) -> tuple[pl.DataFrame, dict[str, str | None]]:
    """A by-class metric as two numeric columns, ``label`` (its rate, or the first survival
    figure) and ``label n`` (its denominator), with their suppression flags kept."""
    frame = result.frame
    value = "rate" if "rate" in frame.columns else next(
        (c for c in frame.columns if c.startswith("survival_") and not c.endswith(("_low", "_high")) and not is_flag_column(c)), None)
    den = "denominator" if "denominator" in frame.columns else "n"
    keep = {"drug_class": "drug_class"}
    for column, name in ((value, label), (den, f"{label} n")):
        if column is None:
            continue
        keep.update({column: name, **{f"{column}{suffix}": f"{name}{suffix}" for suffix in ("_suppressed", "_complementary")
                                      if f"{column}{suffix}" in frame.columns}})
    out = frame.select([pl.col(c).alias(n) for c, n in keep.items()])
    return out, {label: "pct1", f"{label} n": "count"}


def side_by_side(parts: Sequence[tuple[pl.DataFrame, dict[str, str | None]]], on: str) -> tuple[pl.DataFrame, dict[str, str | None]]:
    """Join ``rate_and_n`` parts on ``on`` (drug classes in the fixed order)."""
    from charts import sort_classes

    merged, formats = parts[0][0], dict(parts[0][1])
    for frame, extra in parts[1:]:
        merged = merged.join(frame, on=on, how="full", coalesce=True)
        formats.update(extra)
    order = sort_classes(merged[on].to_list())
    merged = merged.with_columns(pl.col(on).replace_strict(order, list(range(len(order))), return_dtype=pl.Int64)
                                 .alias("_order")).sort("_order").drop("_order")
    return merged, formats


def _coded(columns: Sequence[str]) -> list[str]:
    from charts.labels import has_labels

    return [c for c in columns if has_labels(c) and not is_flag_column(c)]


def _value_label(column: str) -> Callable[[str | None], str | None]:
    """A column's codes to labels; marks of hidden cells and dashes stay as they are."""
    from charts.labels import label

    return lambda value: value if value in (None, "-", "–", SUPPRESSED, SUPPRESSED_WORD) else label(column, value)


def export_csv(frame: pl.DataFrame, *, title: str, formats: dict[str, str | None], names: dict[str, str],
               columns: Sequence[str] | None = None, source: data.Result | None = None) -> str:
    """The CSV a table's download button gives: numbers, labelled columns, and the stamp."""
    from dashboard import filters
    from report.export import numeric_frame, stamp, stamped_csv

    current = filters.current()
    chosen = [c for c in (columns or frame.columns) if c in frame.columns and not is_flag_column(c)]
    table_frame = numeric_frame(frame, labels=names, columns=chosen, min_cell=data.MIN_CELL,
                                values={c: _value_label(c) for c in _coded(chosen)})
    proportions = [names.get(c, c) for c in chosen if formats.get(c) in ("pct", "pct1")]
    lines = stamp(title=title, filters=current.label(), period=filters.period_words(current),
                  min_cell=data.MIN_CELL, data_as_of=data.deployment().get("data_end"),
                  meta=source.meta if source is not None else None,
                  maturing=filters.maturing_words(current), proportions=proportions)
    return stamped_csv(table_frame, lines)


def adjusted_download(comparison: Any, *, key: str) -> None:
    """A CSV button for a propensity-score adjusted comparison: the balance table (SMD before
    and after, numbers) under the stamp of method, covariates, diagnostics and effect
    (``report.adjusted_export``); built only when clicked."""
    st.download_button(
        "CSV of the adjusted comparison", data=lambda: _adjusted_csv(comparison),
        file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}", on_click="ignore",
        icon=":material/download:",
        help="Balance table (SMD before/after) as numbers, with the method, covariates, "
             "effective sample size, overlap, verdict, effect, E-value and filters in # lines",
    )


def _adjusted_csv(comparison: Any) -> str:
    from dashboard import filters
    from report.adjusted_export import adjusted_csv

    current = filters.current()
    return adjusted_csv(comparison, filters=current.label(), period=filters.period_words(current),
                        data_as_of=data.deployment().get("data_end"),
                        maturing=filters.maturing_words(current))


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


def chart(fig: go.Figure, *, key: str, alt: str, caption: str = "") -> None:
    """A Plotly chart (``theme=None`` keeps our colours) with a PNG download on demand."""
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": key, "scale": 2}}
    st.plotly_chart(fig, theme=None, key=f"chart_{key}", config=config, alt=alt)
    problem = png_export_problem()
    left, right = st.columns([2, 1], vertical_alignment="center")
    if caption:
        left.caption(caption)
    if problem:
        right.caption(f"PNG: use the camera icon ({problem})")
        return
    make_png: Callable[[], bytes] = lambda: figure_png(fig)  # noqa: E731 - built only on click
    make_svg: Callable[[], bytes] = lambda: figure_png(fig, "svg")  # noqa: E731
    buttons = right.container(horizontal=True, horizontal_alignment="right", gap="small")
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
    click away. The breakdown is computed only when asked for (a toggle), under the same
    filters and definition parameters."""
    by = "_".join(result.meta.get("by") or []) or "total"
    with st.expander(f"Definition, SQL and breakdown: {result.title}", icon=":material/info:"):
        st.write(result.description)
        method = result.meta.get("suppression") or result.meta.get("suppression_method")
        if method:
            st.caption(f"Suppression: {method}")
        bound = {k: v for k, v in (result.meta.get("parameters") or {}).items() if v is not None}
        if bound:
            st.caption("Parameters bound to the SQL: " + ", ".join(f"${k} = {v}" for k, v in sorted(bound.items())))
        if data.available(result.name):
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
