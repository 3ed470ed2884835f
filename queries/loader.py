"""The metric catalogue: list the query files, bind parameters and run one as is.

The loader of DESIGN.md section 4 (the file format is parsed by ``pipelines.query_files``). ``queries`` re-exports it; modules inside the package import
this module (not the package) so that the package and its modules never import each other.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.query_files import Query, parse, parse_file  # noqa: F401 - parse re-exported by queries

if TYPE_CHECKING:
    import duckdb
    import polars as pl

QUERIES_DIR = Path(__file__).parent
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@functools.cache
def catalog() -> dict[str, Query]:
    """Every query under ``queries/**/*.sql``, by name (sorted)."""
    found: dict[str, Query] = {}
    for path in sorted(QUERIES_DIR.glob("*/*.sql")):
        for query in parse_file(path):
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
    bound = {
        name: params[name] if name in params else spec.get("default")
        for name, spec in query.params.items()
    }
    return {**bound, **query.constants}


def run(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pl.DataFrame:
    """Run one query file as is with its parameters bound; returns an eager polars frame.

    For unit-level metrics (``kind`` other than ``table``) this is the unit-level frame; use
    ``metric()`` for the aggregated, suppressed result that may be shown to people.
    """
    query = describe(name)
    bound = check_params(query, params)
    return con.sql(query.sql, params=bound).pl()
