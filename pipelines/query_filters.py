"""The shared filters of every metric, defined once and composed around each metric's SQL.

A metric file (``queries/<domain>/<name>.sql``) states what is special to it (its unit rows, numerator, denominator, attrition)
and, in its header's ``metric`` block, which shared filters apply and which column carries the
period::

    metric:
      filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug_class, drug]
      period: start_on                              # a unit is in the period when start_on is
      # or  period: {overlap: [period_start_on, period_end_on]}   # when its span overlaps it

``compose`` wraps the file's SQL as a CTE and filters its unit rows with bound parameters; the
declarations of those parameters (type and meaning) are added to the header's ``params``, so the
loader, the engine and the header tests see one composed query. Before this, 32 metric files
each repeated the same parameter declarations and the same filter block.

Filtering the unit rows a file returns equals filtering its first CTE when every later step works
row by row. A metric that must filter *before* it aggregates or looks across rows (a table-kind
metric, a window over other episodes) names the mart to filter instead::

    metric:
      filter_source: marts.fct_treatment_episodes   # the filters apply to this table's rows
      filters: [site_id, diagnosis_group, age_band, sex, drug_class]
      period: start_on

and ``compose`` puts a leading CTE ``filtered_source`` (that mart's rows passing the declared
filters) before the file's own CTEs; the file selects from ``filtered_source`` where it read the
mart, and its unit rows are returned as they are.

Identifiers in the composed SQL come from this module's allow-lists and from headers of files in
this package, never from user text; values are always bound ``$parameters``.
"""

from __future__ import annotations

import re
from typing import Any

#: Every shared filter: its parameter declaration, stated once for all metrics.
FILTER_PARAMS: dict[str, dict[str, Any]] = {
    "start_date": {"type": "date", "description": "first day of the period (null = no lower bound)"},
    "end_date": {"type": "date", "description": "last day of the period (null = no upper bound)"},
    "site_id": {"type": "varchar", "description": "site filter (null = all)"},
    "clinician_id": {"type": "varchar", "description": "clinician filter (null = all)"},
    "diagnosis_group": {"type": "varchar", "description": "diagnosis group filter (null = all)"},
    "age_band": {"type": "varchar", "description": "age band filter (null = all)"},
    "sex": {"type": "varchar", "description": "sex filter (null = all)"},
    "drug_class": {"type": "varchar", "description": "drug class filter (null = all)"},
    "drug": {"type": "varchar", "description": "ingredient filter (null = all)"},
    "instrument": {"type": "varchar", "description": "rating scale (null = the metric's default)"},
}
#: The outcome scope: which rows of ``marts.fct_episode_outcomes`` (one per episode x instrument x
#: preset) a metric reads. ``metric.scope: [instrument, preset]`` with a ``filter_source`` adds
#: these conditions to the source's filters and these parameters to the header.
DEFAULT_INSTRUMENT = "PHQ-9"
SCOPE_PARAMS: dict[str, dict[str, Any]] = {
    "instrument": {"type": "varchar", "default": DEFAULT_INSTRUMENT, "description":
                   "instrument family (PHQ-9 includes PHQ-A; GAD-7, QIDS-SR16, MADRS, HAM-D17, YMRS, PCL-5)"},
    "preset": {"type": "varchar", "description": "follow-up window preset (clinic_w6_16, hedis_drr_e, "
               "six_months, twelve_months); null = the configured default"},
}
SCOPE_CLAUSES: dict[str, str] = {
    "instrument": f"instrument = coalesce($instrument, '{DEFAULT_INSTRUMENT}')",
    "preset": "(preset = $preset or ($preset is null and is_default_preset))",
}
#: The dimension filters ``compose`` applies as ``column = $column`` (null = all).
DIMENSION_FILTERS: tuple[str, ...] = (
    "site_id", "clinician_id", "diagnosis_group", "age_band", "sex", "drug_class", "drug",
)
#: Filters ``queries.metric()`` accepts (each a declared parameter of the composed query).
FILTERS: tuple[str, ...] = tuple(FILTER_PARAMS)
#: The columns of an episode unit row after its key and start: the patient and the dimension
#: columns (docs/marts.md), in the order metric files return them. A metric whose header says
#: ``metric.unit: episode`` returns them with ``unnest(episode_unit_columns(<alias>))`` (the macro
#: ``episode_unit_columns_macro`` writes), does not list them in its header (the loader adds
#: them) and takes every shared dimension filter unless its ``metric.filters`` says otherwise.
EPISODE_UNIT_COLUMNS: dict[str, dict[str, Any]] = {
    "patient_id": {"type": "varchar", "description": "de-identified surrogate (drill-down only)"},
    **{name: {"type": "varchar"} for name in (
        "drug_class", "drug_subclass", "drug", "regimen", "site_id", "clinician_id",
        "diagnosis_group", "age_band", "sex", "adherence_band")},
}

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
#: A ``filter_source``: a mart table (metrics read marts only; DESIGN.md section 4).
_MART_TABLE = re.compile(r"marts\.[a-z_][a-z0-9_]*")
#: The leading ``with`` of a file body, to which ``filter_source`` adds its CTE.
_LEADING_WITH = re.compile(r"\A\s*with\s+(?!recursive\b)", re.IGNORECASE)
#: A trailing top-level ``order by`` of plain column names (no parentheses, so not a window's;
#: nothing after it, so no ``limit`` depends on it).
TRAILING_ORDER_BY = re.compile(
    r"\border\s+by\s+[a-z_][a-z0-9_.]*(\s+(asc|desc))?(\s+nulls\s+(first|last))?"
    r"(\s*,\s*[a-z_][a-z0-9_.]*(\s+(asc|desc))?(\s+nulls\s+(first|last))?)*\s*;?\s*$",
    re.IGNORECASE,
)


def unit_columns(metric: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The header columns an episode unit (``metric.unit: episode``) has without listing them."""
    return dict(EPISODE_UNIT_COLUMNS) if metric.get("unit") == "episode" else {}


#: The shared filters of a patient x calendar year unit (``metric.unit: patient-year``: APC, SAA,
#: APM); its columns are ``columns_from: patient_year_unit`` (pipelines.query_files).
PATIENT_YEAR_FILTERS: list[str] = ["site_id", "clinician_id", "diagnosis_group", "age_band", "sex"]


def unit_defaults(metric: dict[str, Any]) -> dict[str, Any]:
    """The metric block with what its unit implies unless it says otherwise.

    An episode is placed in the period by its start (``period: start_on``) and dated by the same
    column. A patient-year (``patient-year``) takes the five patient dimension filters, is placed
    in the period and dated by ``index_on``, and counts its units (``patient_years``) and the
    observed ones (``observed: is_observed``, the years wholly inside the data) first, in its
    counts and attrition, before the file's own.
    """
    if metric.get("unit") == "patient-year":
        return {"filters": list(PATIENT_YEAR_FILTERS), "period": "index_on", "date": "index_on",
                **metric,
                "counts": {"patient_years": "*", "observed": "is_observed", **(metric.get("counts") or {})},
                "attrition": [{"count": "patient_years"}, {"count": "observed", "dropped": "not_observed"},
                              *(metric.get("attrition") or [])]}
    if metric.get("unit") != "episode":
        return metric
    out = {"period": "start_on", **metric}
    if isinstance(out["period"], str):
        out.setdefault("date", out["period"])
    return out


def episode_unit_columns_macro() -> str:
    """``create or replace macro episode_unit_columns(unit)``: the struct of
    ``EPISODE_UNIT_COLUMNS`` taken from the row ``unit`` (a table or CTE alias), for ``unnest``."""
    fields = ", ".join(f"'{name}': unit.{name}" for name in EPISODE_UNIT_COLUMNS)
    return f"create or replace macro episode_unit_columns(unit) as {{{fields}}}"


def _column(name: Any, where: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{where}: {name!r} is not a column name")
    return name


def period_clause(period: Any, where: str) -> str:
    """The period condition: a date column inside [start, end], or a span overlapping it."""
    if isinstance(period, dict) and set(period) == {"overlap"}:
        start, end = (_column(c, where) for c in period["overlap"])
        return (f"($start_date is null or {end} >= $start_date) "
                f"and ($end_date is null or {start} <= $end_date)")
    column = _column(period, where)
    return f"($start_date is null or {column} >= $start_date) and ($end_date is null or {column} <= $end_date)"


def _filtered_source(body: str, table: Any, clauses: list[str], where: str) -> str:
    """``body`` with a leading CTE ``filtered_source``: the rows of ``table`` passing ``clauses``."""
    if not isinstance(table, str) or not _MART_TABLE.fullmatch(table):
        raise ValueError(f"{where}: metric.filter_source {table!r} is not a mart table (marts.<name>)")
    # the table is a checked marts.<name> from our header; the clauses bind every value
    source = (f"filtered_source as (\n    select *\n    from {table}\n    where\n        "  # noqa: S608
              + "\n        and ".join(clauses) + "\n)")
    return with_leading_ctes(body, source)


def with_leading_ctes(body: str, ctes: str) -> str:
    """``body`` with ``ctes`` (``name as (...)``, comma-separated) before its own CTEs."""
    leading = _LEADING_WITH.match(body)
    if leading:
        return f"with {ctes},\n\n{body[leading.end():]}"
    return f"with {ctes}\n\n{body}"


def _projection(columns: list[str] | None, where: str) -> str:
    """``*``, or the declared columns in the order the SQL returns them (a variant's columns)."""
    if columns is None:
        return "*"
    names = ", ".join(f"'{_column(c, where)}'" for c in columns)
    return f"columns(lambda c: list_contains([{names}], c))"


def compose(body: str, metric: dict[str, Any], where: str,
            columns: list[str] | None = None) -> tuple[str, dict[str, dict[str, Any]]]:
    """The file's SQL with the declared shared filters applied to its unit rows (or, with
    ``metric.filter_source``, to that mart's rows in a leading ``filtered_source`` CTE), and the
    declarations of the parameters that adds. ``columns`` (a variant's declared columns) keeps
    only those of the SQL's columns. A file without ``metric.filters`` is unchanged."""
    default_filters = DIMENSION_FILTERS if metric.get("unit") == "episode" else None
    filters = metric.get("filters", default_filters)
    period = metric.get("period")
    if filters is None and period is None and not metric.get("scope") and "filter_source" in metric:
        raise ValueError(f"{where}: metric.filter_source needs metric.filters, period or scope")
    unknown = [f for f in filters or () if f not in DIMENSION_FILTERS]
    if unknown:
        raise ValueError(f"{where}: metric.filters {unknown} are not shared dimension filters "
                         f"({', '.join(DIMENSION_FILTERS)})")
    scope = list(metric.get("scope") or ())
    if scope and ("filter_source" not in metric or not set(scope) <= set(SCOPE_CLAUSES)):
        raise ValueError(f"{where}: metric.scope {scope} needs a filter_source and may name only "
                         f"{', '.join(SCOPE_CLAUSES)}")
    clauses = [SCOPE_CLAUSES[s] for s in scope]
    clauses += [period_clause(period, where)] if period is not None else []
    clauses += [f"(${f} is null or {f} = ${f})" for f in filters or ()]
    params = {s: SCOPE_PARAMS[s] for s in scope}
    if period is not None:
        params.update({"start_date": FILTER_PARAMS["start_date"], "end_date": FILTER_PARAMS["end_date"]})
    params.update({f: FILTER_PARAMS[f] for f in filters or ()})
    if "filter_source" in metric:
        body = _filtered_source(body, metric["filter_source"], clauses, where)
        clauses = []
    if not clauses and columns is None:
        return body, params
    order = TRAILING_ORDER_BY.search(body.rstrip())
    rows = TRAILING_ORDER_BY.sub("", body.rstrip()) if order else body.rstrip()
    composed = (
        f"with shared_filter_units as (\n{rows}\n)\n\n"  # noqa: S608 - our files and allow-listed names
        f"select {_projection(columns, where)} from shared_filter_units"
        + ("\nwhere\n    " + "\n    and ".join(clauses) if clauses else "")
        + (f"\n{order.group(0).strip()}" if order else "")
    )
    return composed, params
