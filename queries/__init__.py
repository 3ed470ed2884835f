"""The metric catalogue: one SQL file per metric under ``queries/<domain>/<name>.sql``.

Each file starts with a YAML header in a ``/* --- ... --- */`` comment (DESIGN.md section 4):
``name`` (= file stem), ``title``, ``description`` (numerator, denominator, exclusions, source),
``grain``, ``params``, ``columns``, ``tests`` and, for metrics that ``metric()`` aggregates, a
``metric`` block (kind, unit, counted flags, numerator, denominator; see ``queries.engine``).

Public API (docs/architecture.md, "Queries")::

    catalog() -> dict[str, Query]
    describe(name) -> Query
    run(con, name, **params) -> pl.DataFrame      # the SQL as is, parameters bound ($name)
    metric(con, name, by=(), filters=None, min_cell=11, **definition_overrides) -> MetricResult
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from queries.engine import MetricResult

QUERIES_DIR = Path(__file__).parent
_HEADER = re.compile(r"\A/\* ---\n(.*?)\n--- \*/\n", re.S)
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Query:
    """One parsed query file. ``params``/``columns`` map names to their header entries."""

    name: str
    domain: str
    title: str
    description: str
    grain: str
    params: dict[str, dict[str, Any]]
    columns: dict[str, dict[str, Any]]
    tests: dict[str, Any]
    sql: str
    path: Path
    metric: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``proportion``, ``mean``, ``survival``, ``count`` (aggregated by ``metric()``) or
        ``table`` (already at its published grain; ``metric()`` only suppresses it)."""
        return str(self.metric.get("kind", "table"))

    def fmt(self, column: str) -> str | None:
        return self.columns.get(column, {}).get("fmt")


def parse(path: Path) -> Query:
    """Parse one query file; a malformed header raises ValueError naming the file."""
    text = path.read_text(encoding="utf-8")
    match = _HEADER.match(text)
    if not match:
        raise ValueError(f"{path}: no '/* --- ... --- */' YAML header at the top of the file")
    try:
        header = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: header is not valid YAML: {exc}") from exc
    missing = [k for k in ("name", "title", "description", "grain", "columns") if k not in header]
    if missing:
        raise ValueError(f"{path}: header lacks {', '.join(missing)}")
    return Query(
        name=str(header["name"]),
        domain=path.parent.name,
        title=str(header["title"]),
        description=" ".join(str(header["description"]).split()),
        grain=str(header["grain"]),
        params=dict(header.get("params") or {}),
        columns=dict(header["columns"]),
        tests=dict(header.get("tests") or {}),
        sql=text.rstrip().rstrip(";"),
        path=path,
        metric=dict(header.get("metric") or {}),
    )


@functools.cache
def catalog() -> dict[str, Query]:
    """Every query under ``queries/**/*.sql``, by name (sorted)."""
    found: dict[str, Query] = {}
    for path in sorted(QUERIES_DIR.glob("*/*.sql")):
        query = parse(path)
        if query.name in found:
            raise ValueError(f"{path}: query name {query.name!r} also used by {found[query.name].path}")
        found[query.name] = query
    return dict(sorted(found.items()))


def describe(name: str) -> Query:
    """The parsed header of one query; unknown name -> KeyError listing the known ones."""
    try:
        return catalog()[name]
    except KeyError:
        known = ", ".join(catalog())
        raise KeyError(f"unknown metric {name!r}; known metrics: {known}") from None


def sql_params(sql: str) -> set[str]:
    """The ``$name`` placeholders the SQL body uses (comments, including the header, ignored)."""
    body = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)
    body = re.sub(r"--[^\n]*", "", body)
    return set(_PARAM.findall(body))


def check_params(query: Query, params: dict[str, Any]) -> dict[str, Any]:
    """Bind every declared parameter: unknown names raise TypeError; missing ones are taken
    from the header ``default`` or bound as NULL (NULL = "all" for a filter)."""
    unknown = sorted(set(params) - set(query.params))
    if unknown:
        raise TypeError(
            f"{query.name}: unknown parameter(s) {', '.join(unknown)}; "
            f"declared: {', '.join(query.params) or 'none'}"
        )
    return {
        name: params[name] if name in params else spec.get("default")
        for name, spec in query.params.items()
    }


def run(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run one query file as is with its parameters bound; returns an eager polars frame.

    For unit-level metrics (``kind`` other than ``table``) this is the unit-level frame; use
    ``metric()`` for the aggregated, suppressed result that may be shown to people.
    """
    query = describe(name)
    bound = check_params(query, params)
    return con.sql(query.sql, params=bound).pl()


def metric(
    con: duckdb.DuckDBPyConnection,
    name: str,
    by: tuple[str, ...] | list[str] | str = (),
    filters: dict[str, Any] | None = None,
    min_cell: int = 11,
    user: Any = None,
    **definition_overrides: Any,
) -> MetricResult:
    """Aggregate a metric by allow-listed dimensions, add intervals and suppress small cells.

    See ``queries.engine.metric`` for the rules; the result's ``frame`` is already suppressed.
    """
    from queries import engine

    return engine.metric(
        con, name, by=by, filters=filters, min_cell=min_cell, user=user, **definition_overrides
    )


__all__ = ["Query", "catalog", "check_params", "describe", "metric", "parse", "run", "sql_params"]
