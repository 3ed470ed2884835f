"""Audits generated from the metric headers (``queries/<domain>/<name>.sql``), run at every build.

A metric's number can be wrong with every mart correct, so each build also checks the metric
catalogue on the freshly built warehouse, at the default parameters (every filter NULL = all):

- ``tests.unique``: one unit row per key (``metric__<name>__unique``);
- ``tests.expressions``: each holds on every unit row (``metric__<name>__<expression>``);
- for a proportion, each rate's numerator units are among its denominator units, so every rate
  is in [0, 1] (``metric__<name>__<numerator>_within_<denominator>``);
- ``tests.total``: the metric's total equals a count taken straight from its mart, written in
  the header (``metric__<name>__total_equals_mart``). The total is the headline denominator of a
  proportion, ``n`` (units with a value) of a mean, the units of a survival metric and the first
  count of a count metric: the number a reader would check against the mart.

The metric files are parsed with ``pipelines.query_files`` (the parser ``queries`` uses too), so
an audit runs exactly the SQL a metric runs: the shared filters composed around it, a variant's
constants bound; ``pipelines`` still imports no other package of the project.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipelines.audit_rule import Audit
from pipelines.query_files import Query, count_condition, count_expression, parse_file
from pipelines.query_filters import TRAILING_ORDER_BY

METRICS_DIR = Path(__file__).resolve().parents[1] / "queries"
#: What the generated audits call the metric's unit rows (a CTE, or a temporary table at a build).
UNITS = "metric_units"


def metric_audits(metrics_dir: Path = METRICS_DIR) -> list[Audit]:
    """The audits of every metric file under ``metrics_dir/<domain>/``."""
    found: list[Audit] = []
    for path in sorted(metrics_dir.glob("*/*.sql")):
        for query in parse_file(path):
            found += audits_of(query)
    return found


def audits_of(query: Query) -> list[Audit]:
    name = query.name
    tests = query.tests
    spec = query.metric
    # the unit rows: the metric's composed SQL, its parameters bound at their header defaults
    # (NULL = all for a filter) and a variant's constants; the trailing sort is only for readers
    shared = (UNITS, TRAILING_ORDER_BY.sub("", query.sql))
    defaults = tuple((p, (s or {}).get("default")) for p, s in query.params.items())
    defaults += tuple(query.constants.items())
    origin = str(query.path)
    model = f"metric {name}"
    found: list[Audit] = []
    if tests.get("unique"):
        keys = ", ".join(tests["unique"])
        found.append(Audit(
            name=f"metric__{name}__unique", severity="error", model=model,
            category="plausibility (uniqueness)", origin=origin, params=defaults, shared=shared,
            description=f"one unit row per ({keys}) at the default parameters (tests.unique)",
            sql=f"select {keys}\nfrom {UNITS}\ngroup by {keys}\nhaving count(*) > 1"))
    for expression in tests.get("expressions") or []:
        found.append(Audit(
            name=f"metric__{name}__{_slug(expression)}", severity="error", model=model,
            category="conformance (computational)", origin=origin, params=defaults, shared=shared,
            description=f"{expression} on every unit row at the default parameters "
                        "(tests.expressions)",
            sql=f"select *\nfrom {UNITS}\nwhere not ({expression})",
            scan=(UNITS, f"not ({expression})")))
    counts = spec.get("counts") or {}
    if spec.get("kind") == "proportion":
        for rate in spec.get("rates") or []:
            numerator, denominator = counts[rate["numerator"]], counts[rate["denominator"]]
            if denominator == "*" or numerator == denominator:
                continue  # every unit is in the denominator: nothing to check
            within = (f"{count_condition(numerator)} and "
                      f"not coalesce({count_condition(denominator)}, false)")
            found.append(Audit(
                name=f"metric__{name}__{rate['numerator']}_within_{rate['denominator']}",
                severity="error", model=model, category="conformance (computational)",
                origin=origin, params=defaults, shared=shared,
                description=f"every unit counted in {rate['numerator']} is counted in "
                            f"{rate['denominator']}, so the rate is in [0, 1]",
                sql=f"select *\nfrom {UNITS}\nwhere {within}",
                scan=(UNITS, within)))
    if tests.get("total"):
        total = _total_expression(spec)
        found.append(Audit(
            name=f"metric__{name}__total_equals_mart", severity="error", model=model,
            category="conformance (computational)", origin=origin, params=defaults, shared=shared,
            description=f"the metric's total ({total}) at the default parameters equals the "
                        f"count taken from its mart: {' '.join(str(tests['total']).split())}",
            sql=(f"select metric.total as metric_total, mart.total as mart_total\n"  # noqa: S608
                 f"from (select {total} as total from {UNITS}) as metric,\n"
                 f"     (select ({tests['total']}) as total) as mart\n"
                 "where metric.total is distinct from mart.total")))
    return found


def _total_expression(spec: dict[str, Any]) -> str:
    """The metric's total over its unit rows, as ``queries.aggregate`` counts it."""
    counts = spec.get("counts") or {}
    kind = spec.get("kind")
    if kind == "proportion":
        source = counts[spec["rates"][0]["denominator"]]
    elif kind == "mean":
        return f"count({spec['value']})"
    elif kind == "survival":
        return "count(*)"
    else:
        source = next(iter(counts.values()))
    return count_expression(source)


def _slug(expression: str) -> str:
    """``is_assessed <= is_eligible`` -> ``is_assessed_le_is_eligible`` (an audit name)."""
    words = expression.lower()
    for operator, word in (("<=", " le "), (">=", " ge "), ("<>", " ne "), ("!=", " ne "),
                           ("<", " lt "), (">", " gt "), ("=", " eq "), ("+", " plus "),
                           ("-", " minus ")):
        words = words.replace(operator, word)
    return re.sub(r"[^a-z0-9]+", "_", words).strip("_")[:60]
