"""A header column in one word: its SQL type, or its display format when that implies the type.

Model and metric headers declare their columns as ``name: spec``. The spec may be written out
(``{type: varchar, description: ...}``, ``{type: bigint, fmt: days}``) or be one word:

- a SQL type (``varchar``, ``integer``, ``bigint``, ``double``, ``boolean``, ``date``,
  ``timestamp``) stands for ``{type: <word>}``;
- a display format stands for that format on the type it always has (``FORMAT_TYPES``):
  ``count`` (units counted: patients, episodes; the suppressed kind) and ``rows`` (source records,
  never suppressed) are ``bigint``; ``pct1`` (a share shown as a percentage), ``num1`` (a value
  with one decimal) and ``days`` are ``double``.

Headers are expanded on reading (``pipelines.audits.parse_header`` for models,
``pipelines.query_files`` for metrics), so nothing downstream sees the one-word form.
"""

from __future__ import annotations

from typing import Any

#: The type each one-word display format implies.
FORMAT_TYPES: dict[str, str] = {
    "count": "bigint",
    "rows": "bigint",
    "pct1": "double",
    "num1": "double",
    "days": "double",
}

SQL_TYPES = frozenset({"varchar", "integer", "bigint", "double", "boolean", "date", "timestamp"})


def column_spec(spec: Any, origin: str = "", column: str = "") -> dict[str, Any]:
    """The written-out spec of one column (a mapping is returned as it is)."""
    if isinstance(spec, dict):
        return spec
    if spec in FORMAT_TYPES:
        return {"type": FORMAT_TYPES[spec], "fmt": spec}
    if spec in SQL_TYPES:
        return {"type": spec}
    raise ValueError(f"{origin}: column {column!r} has spec {spec!r}: write a SQL type "
                     f"({', '.join(sorted(SQL_TYPES))}), a format ({', '.join(FORMAT_TYPES)}) "
                     "or a mapping")


def expand_columns(columns: Any, origin: str = "") -> dict[str, dict[str, Any]]:
    """Every column of a header's ``columns`` with its written-out spec, in order."""
    return {name: column_spec(spec, origin, name) for name, spec in dict(columns or {}).items()}
