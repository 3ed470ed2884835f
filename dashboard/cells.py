"""Cells and messages every page piece shares: reading one value of a result (None when it is
suppressed), formatting it, the label of a hidden value, and the notes a page shows (no data,
no metric, the suppression and perturbation note).

A cell the query layer suppressed is null with ``<col>_suppressed`` set; it is labelled with
``stats.suppression.hidden_label`` (``<11``, or "suppressed" for a complementary or derived
figure) and never recomputed here.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboard import data
from stats.suppression import hidden_label, mark, marks_note

#: The mark of a count hidden because it is itself 1 to 10 (``<11`` at the default threshold).
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
