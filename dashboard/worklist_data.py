"""The bridges of the "My patients" and "Clinicians" pages to the worklists, beside
``dashboard.data`` (whose connection and file version they use; the import goes one way only,
so the two modules do not import each other).

Every call passes the page's user (``dashboard.auth.current_user``) to ``queries.worklist``,
where ``queries.access`` refuses patient rows to leadership and narrows a clinician to their own
patients. Results are cached per worklist, file version, user and clinician filter; pages take
the rows a page at a time. Counts for leadership are published as every count
(``queries.published_counts``: perturbed, 1 to MIN_CELL-1 hidden).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from dashboard import auth
from dashboard import warehouse as _data
from queries import published_counts
from queries.access import AccessDenied, User, authorise
from queries.patient_timeline import Timeline, patient_timeline
from queries.scorecards import Scorecard, clinician_scorecard
from queries.worklist import CAUTIONS, WORKLISTS, Worklist, run_worklist

#: Rows per page of a patient-level table.
PAGE_SIZE = 50


@dataclass(frozen=True)
class WorklistPage:
    """One page of a worklist's rows, with the whole list's size and its rule."""

    name: str
    rows: pl.DataFrame
    total: int
    page: int
    pages: int
    worklist: Worklist


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _worklist(name: str, file_version: tuple[int, int], user_key: tuple[str, str | None],
              clinician_id: str | None) -> Worklist:
    del file_version
    cur = _data.cursor()
    try:
        return run_worklist(cur, name, user=User(*user_key), clinician_id=clinician_id)
    finally:
        cur.close()


def worklist_names() -> list[str]:
    return list(WORKLISTS)


def worklist_caution(name: str) -> str | None:
    return CAUTIONS.get(name)


def may_see_patients() -> tuple[bool, str]:
    """(allowed, the refusal naming the role needed) for the page's user."""
    try:
        authorise(auth.current_user(), "patient_rows", what="Patient worklists")
    except AccessDenied as exc:
        return False, str(exc)
    return True, ""


def page_user() -> User:
    return auth.current_user()


def worklist(name: str, clinician_id: str | None = None) -> Worklist:
    """The whole list for the page's user (raises ``AccessDenied`` for leadership)."""
    user = auth.current_user()
    return _worklist(name, _data.version(), (user.role, user.clinician_id), clinician_id)


def worklist_page(name: str, page: int = 1, *, clinician_id: str | None = None,
                  reasons: tuple[str, ...] = ()) -> WorklistPage:
    """Rows ``(page - 1) * PAGE_SIZE`` onwards of a worklist, optionally only some reasons."""
    result = worklist(name, clinician_id)
    frame = result.frame
    if reasons:
        frame = frame.filter(pl.col("reason").is_in(list(reasons)))
    pages = max(1, -(-frame.height // PAGE_SIZE))
    page = min(max(1, page), pages)
    return WorklistPage(name, frame.slice((page - 1) * PAGE_SIZE, PAGE_SIZE), frame.height,
                        page, pages, result)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _counts(file_version: tuple[int, int], min_cell: int) -> pl.DataFrame:
    del file_version
    cur = _data.cursor()
    try:
        # distinct patients, published as the meeting pack's (queries.published_counts:
        # perturbed with the patients' record keys, then 1 to min_cell-1 hidden as "<11")
        frame = published_counts.worklist_counts(cur, min_cell)
    finally:
        cur.close()
    return frame.rename({c: c.replace(published_counts.PATIENTS, "rows", 1)
                         for c in frame.columns if c.startswith(published_counts.PATIENTS)})


def worklist_counts() -> pl.DataFrame:
    """Distinct patients on each worklist on the data end (column ``rows``), published:
    perturbed, 1 to MIN_CELL-1 hidden (``rows`` null, ``rows_suppressed``)."""
    return _counts(_data.version(), _data.MIN_CELL)


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _counts_by_clinician(file_version: tuple[int, int], min_cell: int) -> pl.DataFrame:
    del file_version
    cur = _data.cursor()
    try:
        # the same publication as each list's total on My patients, per clinician
        return published_counts.worklist_counts_by_clinician(cur, min_cell)
    finally:
        cur.close()


def worklist_counts_by_clinician() -> pl.DataFrame:
    """Patients on each worklist per clinician (aggregates: published, 1 to MIN_CELL-1 hidden)."""
    return _counts_by_clinician(_data.version(), _data.MIN_CELL)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _timeline(patient_id: str, file_version: tuple[int, int],
              user_key: tuple[str, str | None]) -> Timeline:
    del file_version
    cur = _data.cursor()
    try:
        return patient_timeline(cur, patient_id, user=User(*user_key))
    finally:
        cur.close()


def timeline(patient_id: str) -> Timeline:
    """One patient's de-identified timeline for the page's user (``queries.patient_timeline``;
    raises ``AccessDenied`` for leadership exactly as the worklist rows do). The user is part of
    the cache key, so a refusal is never answered from another user's cached timeline."""
    user = auth.current_user()
    return _timeline(patient_id, _data.version(), (user.role, user.clinician_id))


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _scorecard(measure: str, file_version: tuple[int, int], user_key: tuple[str, str | None],
               filter_items: tuple[tuple[str, object], ...], min_cell: int) -> Scorecard:
    del file_version
    cur = _data.cursor()
    try:
        return clinician_scorecard(cur, measure, user=User(*user_key), filters=dict(filter_items),
                                   min_cell=min_cell)
    finally:
        cur.close()


def scorecard(measure: str, filters: dict[str, object] | None = None) -> Scorecard:
    """A measure's clinician positions and quarterly trend (``queries.scorecards``) for the
    page's user: aggregates only, a clinician's own row and the clinic's."""
    user = auth.current_user()
    items = tuple(sorted((k, v) for k, v in (filters or {}).items() if v is not None))
    return _scorecard(measure, _data.version(), (user.role, user.clinician_id), items,
                      _data.MIN_CELL)
