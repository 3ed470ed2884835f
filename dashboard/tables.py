"""Tables with a stamped CSV download: a short table in full, a patient-level one a page at a
time (only the shown page goes to the browser), codes shown as labels, columns as words.

The CSV holds numbers (rates as proportions, suppressed cells empty) under ``#`` lines naming
the filters, period, definition and suppression (``report.export``); it is built on click.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import streamlit as st

from dashboard import data
from dashboard.cells import SUPPRESSED, empty_note
from stats.suppression import SUPPRESSED_WORD, display, is_flag_column

# --- tables -------------------------------------------------------------------------------


def _title_row() -> Any:
    """A table's title with its CSV button at the right: a row that wraps rather than squeezing
    the button into a fixed column share, where its label is cut off in a half-width table."""
    return st.container(horizontal=True, vertical_alignment="bottom", horizontal_alignment="distribute")


def display_frame(frame: pl.DataFrame, formats: dict[str, str | None], columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Strings for people and for CSV: counts of 1–10 ``<11``; complementary counts and hidden
    derived figures 'suppressed' (``stats.suppression.display``)."""
    shown = [c for c in (columns or frame.columns) if c in frame.columns and not is_flag_column(c)]
    return display(frame, formats, min_cell=data.MIN_CELL, columns=shown)


def _words(column: str) -> str:
    from queries.labels import column_label

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
    for column in _coded(shown.columns):  # codes read as on every chart and filter (queries.labels)
        shown = shown.with_columns(pl.col(column).map_elements(_value_label(column), return_dtype=pl.String))
    # Columns without a label read as words ("median_days" -> "Median days"), never as code.
    names = {**{c: _words(c) for c in shown.columns}, **(labels or {})}
    shown = shown.rename({k: v for k, v in names.items() if k in shown.columns and k != v})
    head = _title_row()
    head.markdown(f"**{title}**", width="stretch")
    head.download_button(
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
    head = _title_row()
    head.markdown(f"**{title}**", width="stretch")
    head.download_button(
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
    from queries.labels import has_labels

    return [c for c in columns if has_labels(c) and not is_flag_column(c)]


def _value_label(column: str) -> Callable[[str | None], str | None]:
    """A column's codes to labels; marks of hidden cells and dashes stay as they are."""
    from queries.labels import label

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
