"""The one bridge between the Streamlit views and the warehouse (DESIGN.md section 6).

- **Connection.** One in-memory DuckDB connection per warehouse *file version*, with the file
  ``ATTACH``-ed ``READ_ONLY`` as ``warehouse``. The version is the file's ``(st_ino,
  st_mtime_ns)``: ingestion publishes a new warehouse with ``os.replace``, which changes the inode,
  so the next call attaches the new file and ``max_entries=1`` closes the old connection. We attach
  instead of ``duckdb.connect(path, read_only=True)`` because DuckDB reuses a database already
  open in the process for a path, and would keep serving the replaced file.
- **A cursor per query**: Streamlit sessions run on threads and DuckDB 2.0 refuses to share one
  connection between threads.
- **Caching** of results on (metric name, small hashable parameters, file version), never on a
  frame. Results are small, already-suppressed aggregates.

Views reach data only through this module; they never import ``duckdb`` or ``queries``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import streamlit as st

import queries
from dashboard import auth
from dashboard.comparisons import (  # noqa: F401 - re-exported for views
    DEFAULT_GROUPS,
    adjusted_summary,
    baseline_balance,
    candidate_groups,
    compare_groups,
)
from dashboard.qi_data import (  # noqa: F401 - re-exported: the QI page's bridges, reached through data
    meeting_pack_html,
    qi_add_intervention,
    qi_chart,
    qi_funnel,
    qi_interventions,
    qi_measures,
    qi_measures_table,
    qi_period_options,
    qi_remove_intervention,
    qi_series,
)
from dashboard.warehouse import (  # noqa: F401 - re-exported: views reach everything through data
    CREATE_COMMAND,
    DEFAULT_DB,
    ENV_DB,
    MIN_CELL,
    NotInWarehouse,
    Result,
    Status,
    cursor,
    db_path,
    status,
    version,
)
from queries.access import AccessDenied, User, authorise
from queries.aggregate import not_defined_reasons  # noqa: F401 - re-exported for views
from queries.vocabulary import VALUE_SOURCES, known_values


def available(name: str) -> bool:
    """Is a metric of that name in the catalogue (it may land later than the page using it)?"""
    return name in queries.catalog()


def supports(name: str, dimension: str) -> bool:
    """Can the metric be grouped by this dimension (e.g. ``month`` needs an anchor date)?"""
    from queries.engine import dimensions_of

    return available(name) and dimension in dimensions_of(queries.describe(name))


def describe(name: str) -> queries.Query:
    return queries.describe(name)


def catalog_names() -> list[str]:
    return list(queries.catalog())


def _formats(query: queries.Query) -> dict[str, str | None]:
    return {column: spec.get("fmt") for column, spec in query.columns.items()}


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _metric(
    name: str,
    file_version: tuple[int, int],
    by: tuple[str, ...],
    filter_items: tuple[tuple[str, Any], ...],
    override_items: tuple[tuple[str, Any], ...],
    min_cell: int,
    not_applied: tuple[str, ...] = (),
    user_key: tuple[str, str | None] = ("leadership", None),
) -> Result:
    del file_version
    query = queries.describe(name)
    applicable = dict(filter_items)
    cur = cursor()
    try:
        result = queries.metric(
            cur, name, by=by, filters=applicable, min_cell=min_cell, user=User(*user_key),
            **dict(override_items)
        )
    except duckdb.CatalogException as exc:
        raise NotInWarehouse(f"{name}: {str(exc).splitlines()[0]}") from None
    finally:
        cur.close()
    meta = dict(getattr(result, "meta", {}) or {})
    meta["filters_not_applied"] = list(not_applied)
    formats = result.formats() if hasattr(result, "formats") else _formats(query)
    return Result(
        name=name,
        title=query.title,
        description=query.description,
        frame=result.frame,
        meta=meta,
        formats={**_formats(query), **formats},
    )


def metric(
    name: str,
    filters: Any = None,
    by: tuple[str, ...] | str = (),
    **definition_overrides: Any,
) -> Result:
    """A metric aggregated ``by`` dimensions under the sidebar ``filters``, suppressed.

    ``filters`` is a ``dashboard.filters.Filters`` (or None for the whole warehouse). The
    result is cached on the metric name, dimensions, filter values and the file version.
    """
    by_tuple = (by,) if isinstance(by, str) else tuple(by)
    declared = queries.describe(name).params
    chosen = filters.query_filters() if filters is not None else {}
    # Key the cache on the filters the metric declares only: changing the instrument must not
    # re-run adherence. A filter it does not declare is not applied, and the view says so.
    filter_items = tuple(sorted((k, v) for k, v in chosen.items() if k in declared))
    not_applied = tuple(sorted(k for k, v in chosen.items() if v is not None and k not in declared))
    override_items = tuple(sorted(definition_overrides.items()))
    # the role is part of the cache key: a result computed for an analyst is never served to
    # a leadership session (queries.access decides inside queries.metric)
    user = auth.current_user()
    return _metric(name, version(), by_tuple, filter_items, override_items, MIN_CELL, not_applied,
                   (user.role, user.clinician_id))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _run(name: str, file_version: tuple[int, int], param_items: tuple[tuple[str, Any], ...]) -> Result:
    del file_version
    query = queries.describe(name)
    cur = cursor()
    try:
        frame = queries.run(cur, name, **dict(param_items))
    finally:
        cur.close()
    return Result(name, query.title, query.description, frame, {}, _formats(query))


def run(name: str, **params: Any) -> Result:
    """A ``table`` query at its published grain (data-quality and reference tables).

    Only for queries whose output is already safe to show (``kind: table`` in the header);
    unit-level metrics must go through ``metric()`` so they are aggregated and suppressed.
    """
    query = queries.describe(name)
    if query.kind != "table":
        raise ValueError(f"{name} is a {query.kind} metric: use data.metric() so it is suppressed")
    if query.metric.get("patient_level"):
        user = auth.current_user()
        own = authorise(user, "patient_rows", what=f"{name!r} (patient-level rows)",
                        clinician_id=params.get("clinician_id"))
        if user.role == "clinician":
            if "clinician_id" not in query.params:
                raise AccessDenied(f"{name!r} cannot be narrowed to one clinician's patients, "
                                   "so it needs the analyst role")
            params = {**params, "clinician_id": own}
    return _run(name, version(), tuple(sorted(params.items())))


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _deployment(path: str, file_version: tuple[int, int]) -> dict[str, str]:
    del path, file_version
    cur = cursor()
    try:
        exists = cur.sql(
            "select count(*) from information_schema.tables where table_catalog = 'warehouse' "
            "and table_schema = 'meta' and table_name = 'deployment'"
        ).fetchall()[0]
        if not exists or not exists[0]:
            return {}
        rows = cur.sql("select key, value from meta.deployment").fetchall()
        # An unset key (e.g. no DUA reference for synthetic data) is absent, not the text "None".
        return {str(k): str(v) for k, v in rows if v is not None and str(v).strip()}
    finally:
        cur.close()


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _completeness(path: str, file_version: tuple[int, int]) -> Any:
    del path, file_version
    from queries.periods import completeness as read

    cur = cursor()
    try:
        return read(cur)
    finally:
        cur.close()


def completeness() -> Any:
    """The data span, the follow-up wait and the complete end (``queries.periods``)."""
    from queries.periods import DEFAULT_FOLLOW_UP_DAYS, Completeness

    if not status().ok:
        return Completeness(None, None, DEFAULT_FOLLOW_UP_DAYS)
    return _completeness(str(db_path()), version())


def saved_views() -> list[Any]:
    """Views saved beside the warehouse (``report.saved_views``); [] when the file is unreadable."""
    from report import saved_views as store

    try:
        return store.load(db_path())
    except store.SavedViewError:
        return []


def save_view(name: str, page: str, params: dict[str, str]) -> list[Any]:
    from report import saved_views as store

    return store.save(db_path(), store.make(name, page, params))


def deployment() -> dict[str, str]:
    """``meta.deployment`` as a dict: de-identification mode, DUA reference, data_start/end ..."""
    return _deployment(str(db_path()), version())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _last_load(path: str, file_version: tuple[int, int]) -> dict[str, Any]:
    del path, file_version
    cur = cursor()
    try:
        exists = cur.sql(
            "select count(*) from information_schema.tables where table_catalog = 'warehouse' "
            "and table_schema = 'meta' and table_name = 'load_log'"
        ).fetchall()[0]
        if not exists or not exists[0]:
            return {}
        frame = cur.sql(
            "select load_id, finished_at, status, source_kind from meta.load_log "
            "order by finished_at desc nulls last limit 1"
        ).pl()
        return frame.row(0, named=True) if frame.height else {}
    finally:
        cur.close()


def last_load() -> dict[str, Any]:
    """The most recent row of ``meta.load_log`` (load id, finish time, status), or {}."""
    return _last_load(str(db_path()), version())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def _dimension_values(path: str, file_version: tuple[int, int], dimension: str) -> tuple[str, ...]:
    del path, file_version
    cur = cursor()
    try:
        return known_values(cur, dimension)
    finally:
        cur.close()


def dimension_values(dimension: str) -> tuple[str, ...]:
    """Distinct values of a filter dimension present in the warehouse (for the sidebar)."""
    if dimension not in VALUE_SOURCES or not status().ok:
        return ()
    return _dimension_values(str(db_path()), version(), dimension)


#: The data-quality queries the Data & loads view shows (``queries/data_quality/``). Their
#: ``fmt: count`` and ``fmt: rows`` columns are counts, published by
#: ``queries.published_counts.data_quality_table``: perturbed and suppressed like every metric's
#: (a load with 3 rejected rows reads "<11", and rows read minus rows loaded is noisy), except
#: for an analyst (``queries.access``, capability ``exact_data_quality``), who sees exact counts
#: with only 1 to MIN_CELL-1 hidden.
DATA_QUALITY_TABLES = ("load_history", "rejects_by_reason", "unmapped_drugs", "scale_completeness",
                       "definitions_in_force", "data_freshness", "audit_results",
                       "quarantined_values")


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _dq_table(name: str, file_version: tuple[int, int], min_cell: int, exact: bool) -> Result | None:
    del file_version
    from queries.published_counts import stored_data_quality_table

    query = queries.describe(name)
    cur = cursor()
    try:
        frame, formats = stored_data_quality_table(cur, name, min_cell, exact=exact)
    except duckdb.CatalogException:
        return None  # the warehouse predates a meta table this query reads
    finally:
        cur.close()
    return Result(name, query.title, query.description, frame, {}, formats)


def dq_table(name: str) -> Result | None:
    """A data-quality table (``queries/data_quality/<name>.sql``), counts published for the
    page's user (exact for an analyst); None when the warehouse lacks the meta table it reads."""
    from queries.access import may

    if name not in DATA_QUALITY_TABLES:
        raise ValueError(f"{name} is not a data-quality table: {', '.join(DATA_QUALITY_TABLES)}")
    exact = may(auth.current_user(), "exact_data_quality")
    return _dq_table(name, version(), MIN_CELL, exact)


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Adjusting for baseline differences…")
def _adjusted(name: str, file_version: tuple[int, int], filter_items: tuple[tuple[str, Any], ...],
              level: str, group_a: str, group_b: str, adjust: str, trim: float | None,
              min_cell: int) -> Any:
    del file_version
    from queries.compare import compare
    from queries.engine import MetricError

    cur = cursor()
    try:
        return compare(cur, name, {level: group_a}, {level: group_b}, filters=dict(filter_items),
                       adjust=adjust, min_cell=min_cell, trim_percentile=trim)
    except MetricError as exc:
        return str(exc)
    finally:
        cur.close()


def adjusted_comparison(name: str, filters: Any, level: str, group_a: str, group_b: str,
                        adjust: str, trim: float | None = None) -> Any:
    """``queries.compare.compare`` of two groups with ``adjust`` (none, stratified, weighting,
    matching): a ``Comparison`` whose published parts are suppressed, or a message string when
    the comparison cannot be made. Unit rows never leave ``queries.adjusted``."""
    declared = queries.describe(name).params
    chosen = filters.query_filters() if filters is not None else {}
    items = tuple(sorted((k, v) for k, v in chosen.items() if k in declared and k != level))
    return _adjusted(name, version(), items, level, group_a, group_b, adjust, trim, MIN_CELL)
