"""The metric catalogue: one SQL file per metric under ``queries/<domain>/<name>.sql``.

Each file starts with a YAML header in a ``/* --- ... --- */`` comment (DESIGN.md section 4):
``name`` (= file stem), ``title``, ``description`` (numerator, denominator, exclusions, source),
``grain``, ``params``, ``columns``, ``tests`` and, for metrics that ``metric()`` aggregates, a
``metric`` block (kind, unit, counted flags, numerator, denominator; see ``queries.engine``).

Public API (docs/architecture.md, "Queries")::

    catalog() -> dict[str, Query]
    describe(name) -> Query
    run(con, name, **params) -> pl.DataFrame      # the SQL as is, parameters bound ($name)
    metric(con, name, by=(), filters=None, min_cell=None, **definition_overrides) -> MetricResult
"""

from __future__ import annotations

from queries.engine import metric
from queries.loader import (
    QUERIES_DIR,
    Query,
    catalog,
    check_params,
    describe,
    parse,
    run,
    sql_params,
)

__all__ = [
    "QUERIES_DIR", "Query", "catalog", "check_params", "describe", "metric", "parse", "run", "sql_params",
]
