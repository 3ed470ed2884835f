"""Header shorthands: what a metric file's header may say in one entry instead of restating it.

``pipelines.query_files`` expands them before anything reads the header, so the loader, the engine
and the audits see the same ``metric`` and ``tests`` blocks as if the file spelled them out
(tests/test_metric_shorthand.py checks each converted file against its explicit header).

``metric.observed_rate``: the headline rate, a proportion of the *observed* units (those whose
window lies inside the data, ``is_observed``) that meet the numerator (``is_numerator``)::

    metric:
      observed_rate: {units: new_starts, numerator: followed_up, label: 'Visit within 30 days'}

stands for ``kind: proportion``; counts ``{new_starts: '*', observed: is_observed, <the file's
own counts>, followed_up: is_numerator}``; attrition ``[{count: new_starts}, {count: observed,
dropped: not_observed}, <the file's own steps>]``; rates ``[{name: rate, numerator: followed_up,
denominator: observed, label: ...}, <the file's own rates>]``; and the tests ``unique: [unit_id]``
(unless the unit or the file names the key) and ``expressions: [is_numerator <= is_observed,
<the file's own>]``. Options: ``denominator: {reviewed: has_review, dropped: without_review}``
names the observed units' count, column and attrition step otherwise (``dropped`` defaults to
``not_observed``); a numerator the file's own counts name keeps that column and place; ``within:
has_followup`` says the numerator is a subset of a column that is itself a subset of the observed
units (the tests become ``is_numerator <= has_followup, has_followup <= is_observed``). A
patient-year unit omits ``units``: ``query_filters.unit_defaults`` counts ``patient_years`` and
``observed`` first.

``metric.source: episodes``: a table aggregated from the treatment episodes (``kind: table``,
``filter_source: marts.fct_treatment_episodes``, the episode filters of ``SOURCES`` and
``period: start_on``); the file's own entries override these.

Implied tests: a unit implies its key (``unit: episode`` is one row per ``episode_id``,
``unit: patient-year`` one per ``unit_id``), and attrition steps are nested, so each step after
the second is a subset of the one before (``is_eligible <= has_baseline``).
"""

from __future__ import annotations

import itertools
from typing import Any

from pipelines import query_filters

#: ``metric.source`` presets: the filtering of a table built from one mart's rows.
SOURCES: dict[str, dict[str, Any]] = {
    "episodes": {
        "filter_source": "marts.fct_treatment_episodes",
        "filters": ["site_id", "diagnosis_group", "age_band", "sex", "drug_class"],
        "period": "start_on",
        "kind": "table",
    },
}

#: A worklist (``columns_from: worklist``, docs/worklists.md) lists patients on a day: a table at
#: patient level, with the parameter ``as_of`` and two CTEs before the file's own: ``as_of`` (one
#: row, ``as_of_on``: ``$as_of``, or the data end date) and ``current_episodes`` (the treatment
#: episodes current on that day, start_on <= as_of_on <= end_on + grace_days, with as_of_on).
WORKLIST_METRIC: dict[str, Any] = {"kind": "table", "patient_level": True}
WORKLIST_PARAMS: dict[str, dict[str, Any]] = {
    "as_of": {"type": "date", "description": "the day the list is for (null = the data end date)"},
}
WORKLIST_CTES = """as_of as (
    select coalesce(cast($as_of as date), (select data_end_on from marts.data_coverage)) as as_of_on
),

current_episodes as (
    select
        episodes.episode_id, episodes.patient_id, episodes.clinician_id, episodes.drug,
        episodes.drug_class, episodes.start_on, episodes.end_on, as_of.as_of_on
    from marts.fct_treatment_episodes as episodes
    cross join as_of
    where episodes.start_on <= as_of.as_of_on and as_of.as_of_on <= episodes.end_on + episodes.grace_days
)"""

#: The leading CTE of a metric that counts observed units (``counts.observed: is_observed``): the
#: one row of the data's coverage, against which a unit's window is observed or not.
COVERAGE_CTE = """coverage as (
    select data_start_on, data_end_on from marts.data_coverage
)"""


def observed_body(metric: dict[str, Any], body: str) -> str:
    """``body`` with the CTE ``coverage`` first when the metric counts observed units."""
    if (metric.get("counts") or {}).get("observed") != "is_observed":
        return body
    return query_filters.with_leading_ctes(body, COVERAGE_CTE)


#: The key column a unit implies (``tests.unique``).
UNIT_KEYS: dict[str, str] = {"episode": "episode_id", "patient-year": "unit_id"}


def key_columns(metric: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The key column an episode unit returns first (``episode_id``), without the header listing
    it; a patient-year unit's comes with ``columns_from: patient_year_unit``."""
    return {"episode_id": {"type": "varchar"}} if metric.get("unit") == "episode" else {}

_RATE_KEYS = {"units", "numerator", "label", "within", "denominator"}


def expand(metric: dict[str, Any], tests: dict[str, Any],
           where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header's ``metric`` (with ``query_filters.unit_defaults`` applied) and ``tests``, with
    ``source`` and ``observed_rate`` spelt out and the implied tests added (module docstring)."""
    metric, tests = dict(metric), dict(tests)
    source = metric.pop("source", None)
    if source is not None:
        if source not in SOURCES:
            raise ValueError(f"{where}: metric.source {source!r} is not one of {sorted(SOURCES)}")
        metric = {**SOURCES[source], **metric}
    rate = metric.pop("observed_rate", None)
    if rate is not None:
        metric, tests = _observed_rate(metric, tests, rate, where)
    metric = query_filters.unit_defaults(metric)
    if metric.get("kind", "table") != "table" and isinstance(metric.get("period"), str):
        metric.setdefault("date", metric["period"])  # an aggregated unit is dated as it is placed
    key = UNIT_KEYS.get(str(metric.get("unit")), "unit_id" if rate is not None else None)
    if key is not None:
        tests = {"unique": [key], **tests}
    nested = _nested_steps(metric)
    if nested:
        own = list(tests.get("expressions") or [])
        tests["expressions"] = [*[b for b in nested if b not in own], *own]
    return metric, tests


def worklist(header: dict[str, Any], body: str) -> tuple[dict[str, Any], str]:
    """A worklist's header and SQL with what every worklist has (``WORKLIST_*``) added."""
    header = {**header, "metric": {**WORKLIST_METRIC, **(header.get("metric") or {})},
              "params": {**WORKLIST_PARAMS, **(header.get("params") or {})}}
    return header, query_filters.with_leading_ctes(body, WORKLIST_CTES)


def _nested_steps(metric: dict[str, Any]) -> list[str]:
    """``<step> <= <previous step>`` for each attrition step after the second (the first is
    every unit), in the columns the counts name."""
    counts = metric.get("counts") or {}
    columns = [counts.get(step.get("count")) for step in metric.get("attrition") or []]
    return [f"{column} <= {previous}" for previous, column in itertools.pairwise(columns[1:])
            if previous not in (None, "*") and column not in (None, "*")]


def _observed_rate(metric: dict[str, Any], tests: dict[str, Any], rate: Any,
                   where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(rate, dict) or not {"numerator", "label"} <= set(rate) <= _RATE_KEYS:
        raise ValueError(f"{where}: metric.observed_rate needs numerator and label "
                         f"(and may name {', '.join(sorted(_RATE_KEYS - {'numerator', 'label'}))})")
    units = rate.get("units")
    if units is None and metric.get("unit") != "patient-year":
        raise ValueError(f"{where}: metric.observed_rate needs units (the count of every unit row)")
    step = dict(rate.get("denominator") or {"observed": "is_observed"})
    dropped = step.pop("dropped", "not_observed")
    if len(step) != 1:
        raise ValueError(f"{where}: metric.observed_rate.denominator names one count and its column")
    [(observed, observed_column)] = step.items()
    own = dict(metric.get("counts") or {})
    numerator = rate["numerator"]
    numerator_column = own.get(numerator, "is_numerator")
    within = rate.get("within")
    bounds = ([f"{numerator_column} <= {within}", f"{within} <= {observed_column}"] if within
              else [f"{numerator_column} <= {observed_column}"])
    metric = {
        "kind": "proportion",
        **metric,
        "counts": {**({units: "*", observed: observed_column} if units else {}), **own,
                   numerator: numerator_column},
        "attrition": [*([{"count": units}, {"count": observed, "dropped": dropped}] if units else []),
                      *(metric.get("attrition") or [])],
        "rates": [{"name": "rate", "numerator": numerator, "denominator": observed,
                   "label": rate["label"]}, *(metric.get("rates") or [])],
    }
    if not metric["attrition"]:
        del metric["attrition"]
    return metric, {**tests, "expressions": [*bounds, *(tests.get("expressions") or [])]}
