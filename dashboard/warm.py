"""Warm the caches when serving starts, so the first pages a user opens are already computed.

The first session's run (``outcomes serve`` opens one itself when headless Chromium is available;
otherwise the first visitor's) starts one background thread per warehouse version that computes
what the pages ask for under the default filters: the Overview's tiles (this period, the
previous one, the quarterly trend) and by-class charts, then the other pages' default metrics.
The results land in ``data``'s ``st.cache_data`` caches (process-wide), so the pages find them.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

import streamlit as st

from dashboard import data

LOG = logging.getLogger(__name__)

#: (metric, by, definition overrides) the pages ask for under the default filters, first page first.
OVERVIEW_TILES = ("active_patients", "episodes", "response", "remission", "adherence", "side_effects", "mbc_coverage")
PAGES: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    ("response", ("drug_class",), {}), ("side_effects", ("drug_class",), {}),
    ("remission", ("drug_class",), {}), ("adherence", ("drug_class",), {}), ("persistence", ("drug_class",), {}),
    ("adherence", ("drug_class",), {"level": "class"}), ("adherence", ("drug_class", "adherence_band"), {"level": "class"}),
    ("adherence", ("drug",), {"level": "ingredient"}), ("episodes", ("drug_class",), {}),
    ("score_trajectory", (), {}), ("time_to_response", ("drug_class",), {}),
    ("side_effect_heatmap", (), {"min_severity": "mild"}), ("side_effect_severity", (), {}),
    ("side_effect_actions", (), {}), ("weight_change_12w", ("drug",), {}), ("metabolic_monitoring", ("drug_class",), {}),
    ("pathway_transitions", (), {}), ("pathways", (), {}),
    # Compare regimens (default: drugs) and Clinicians
    ("response", ("drug",), {}), ("remission", ("drug",), {}), ("side_effects", ("drug",), {}),
    ("persistence", ("drug",), {}),
    ("response", ("clinician_id",), {}), ("remission", ("clinician_id",), {}),
)


def calls(f: Any, overview: bool = False) -> list[tuple[str, Any, tuple[str, ...], dict[str, Any]]]:
    """Every (metric, filters, by, overrides) to warm, in the order the pages need them. The
    Overview's own tiles only with ``overview`` (the page being drawn computes them itself, and
    computing them twice at once would only slow it on a small machine)."""
    out: list[tuple[str, Any, tuple[str, ...], dict[str, Any]]] = []
    for name in OVERVIEW_TILES if overview else ():
        out.append((name, f, (), {}))
        if f.previous() is not None:
            out.append((name, f.previous(), (), {}))
        if data.supports(name, "quarter"):
            out.append((name, dataclasses.replace(f, start_date=None), ("quarter",), {}))
    without_class = f.without("drug_class")
    out += [(name, without_class if name in ("response", "side_effects", "remission") else f, by, overrides)
            for name, by, overrides in PAGES]
    return [c for c in out if data.available(c[0])]


def _warm(f: Any) -> None:
    for name, filters, by, overrides in calls(f):
        try:
            data.metric(name, filters, by, **overrides)
        except Exception:  # warming is best effort; the page reports real errors
            LOG.debug("warming %s failed", name, exc_info=True)


@st.cache_resource(show_spinner=False, max_entries=1)
def _started(file_version: tuple[int, int], f: Any) -> threading.Thread:
    thread = threading.Thread(target=_warm, args=(f,), name="outcomes-warm", daemon=True)
    thread.start()
    return thread


def start(f: Any) -> None:
    """Start warming once per warehouse version (later calls return at once)."""
    if data.status().ok:
        _started(data.version(), f)
