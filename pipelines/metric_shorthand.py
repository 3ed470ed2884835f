"""Header shorthands: what a metric file's header may say in one entry instead of restating it.

``pipelines.query_files`` expands them before anything reads the header, so the loader, the engine
and the audits see the same ``metric`` and ``tests`` blocks as if the file spelled them out
(tests/test_metric_shorthand.py checks each converted file against its explicit header).

``metric.observed_rate``: a proportion of the *observed* units (those whose window lies inside the
data, ``is_observed``) that meet the numerator (``is_numerator``)::

    metric:
      observed_rate: {units: new_starts, numerator: followed_up, label: 'Visit within 30 days'}

stands for ``kind: proportion``; counts ``{new_starts: '*', observed: is_observed, <the file's
own counts>, followed_up: is_numerator}``; attrition ``[{count: new_starts}, {count: observed,
dropped: not_observed}, <the file's own steps>]``; rates ``[{name: rate, numerator: followed_up,
denominator: observed, label: ...}, <the file's own rates>]``; and the tests ``unique: [unit_id]``
and ``expressions: [is_numerator <= is_observed, <the file's own>]``. ``within: has_followup``
says the numerator is a subset of a column that is itself a subset of the observed units (the
tests become ``is_numerator <= has_followup, has_followup <= is_observed``). A patient-year unit
omits ``units``: ``unit_defaults`` already counts ``patient_years`` and ``observed`` first.

``metric.source: episodes``: a table aggregated from the treatment episodes (``kind: table``,
``filter_source: marts.fct_treatment_episodes``, the episode filters of ``EPISODE_TABLE`` and
``period: start_on``); the file's own entries override these.

A unit implies its key's test: ``unit: episode`` is one row per ``episode_id``, ``unit:
patient-year`` one row per ``unit_id``.
"""

from __future__ import annotations

from typing import Any

#: ``metric.source`` presets: the filtering of a table built from one mart's rows.
SOURCES: dict[str, dict[str, Any]] = {
    "episodes": {
        "filter_source": "marts.fct_treatment_episodes",
        "filters": ["site_id", "diagnosis_group", "age_band", "sex", "drug_class"],
        "period": "start_on",
        "kind": "table",
    },
}

#: The key column a unit implies (``tests.unique``).
UNIT_KEYS: dict[str, str] = {"episode": "episode_id", "patient-year": "unit_id"}

_RATE_KEYS = {"units", "numerator", "label", "within"}


def expand(metric: dict[str, Any], tests: dict[str, Any],
           where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header's ``metric`` and ``tests`` with ``source`` and ``observed_rate`` spelt out and
    the unit's key test added (see the module docstring)."""
    metric, tests = dict(metric), dict(tests)
    source = metric.pop("source", None)
    if source is not None:
        if source not in SOURCES:
            raise ValueError(f"{where}: metric.source {source!r} is not one of {sorted(SOURCES)}")
        metric = {**SOURCES[source], **metric}
    rate = metric.pop("observed_rate", None)
    if rate is not None:
        metric, tests = _observed_rate(metric, tests, rate, where)
    key = UNIT_KEYS.get(str(metric.get("unit")))
    if key is not None:
        tests = {"unique": [key], **tests}
    return metric, tests


def _observed_rate(metric: dict[str, Any], tests: dict[str, Any], rate: Any,
                   where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(rate, dict) or not {"numerator", "label"} <= set(rate) <= _RATE_KEYS:
        raise ValueError(f"{where}: metric.observed_rate needs numerator and label "
                         f"(and may name {', '.join(sorted(_RATE_KEYS - {'numerator', 'label'}))})")
    units = rate.get("units")
    if units is None and metric.get("unit") != "patient-year":
        raise ValueError(f"{where}: metric.observed_rate needs units (the count of every unit row)")
    every = {units: "*", "observed": "is_observed"} if units else {}
    steps = [{"count": units}, {"count": "observed", "dropped": "not_observed"}] if units else []
    numerator = rate["numerator"]
    within = rate.get("within")
    bounds = ([f"is_numerator <= {within}", f"{within} <= is_observed"] if within
              else ["is_numerator <= is_observed"])
    metric = {
        "kind": "proportion",
        **metric,
        "counts": {**every, **(metric.get("counts") or {}), numerator: "is_numerator"},
        "attrition": [*steps, *(metric.get("attrition") or [])],
        "rates": [{"name": "rate", "numerator": numerator, "denominator": "observed",
                   "label": rate["label"]}, *(metric.get("rates") or [])],
    }
    if not metric["attrition"]:
        del metric["attrition"]
    tests = {"unique": ["unit_id"], **tests,
             "expressions": [*bounds, *(tests.get("expressions") or [])]}
    return metric, tests
