"""CSV exports that stand on their own: numbers (not formatted text) under a stamp of how they
were computed.

The file is plain CSV preceded by ``# key: value`` comment lines (docs/exports.md):

```
# title: Response rate by drug class
# filters: site S01; instrument PHQ-9
# period: 2024-01-01 to 2024-12-31
# ...
Drug class,Rate,95% CI low,...
Antidepressant,0.423,0.39,...
```

``pl.read_csv(path, comment_prefix="#")`` (or pandas ``comment="#"``) reads it back with numeric
columns. Rates and shares are proportions (0.123 means 12.3%). A cell hidden by small-cell
suppression is empty, and a text column ``<column> (hidden)`` beside it says why: ``<11`` for a
count of 1-10, ``suppressed`` for a figure hidden to protect another one. Nothing here un-hides
a count: the frame arrives already suppressed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from stats.suppression import hidden_labels, is_flag_column, method

#: The stamp's keys, in the order they are written.
STAMP_KEYS = ("title", "filters", "period", "maturing", "metric", "definition", "parameters",
              "definitions_in_force", "suppression_threshold", "suppression_method",
              "data_as_of", "product_version", "exported_at", "units")


def product_version() -> str:
    """The installed package version, else the one in this checkout's pyproject.toml."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.exists():
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M)
        if found:
            return found.group(1)
    try:
        return metadata.version("psych-outcomes")
    except metadata.PackageNotFoundError:
        return "unknown"


def stamp(
    *,
    title: str,
    filters: str,
    period: str,
    min_cell: int,
    data_as_of: str | None,
    meta: Mapping[str, Any] | None = None,
    maturing: str | None = None,
    proportions: Sequence[str] = (),
) -> dict[str, str]:
    """The stamp of one export. ``meta`` is a metric result's record (``queries.metric``):
    its definition, bound parameters and the definitions the warehouse was built with."""
    meta = meta or {}
    values: dict[str, str] = {
        "title": title,
        "filters": filters,
        "period": period,
        "maturing": maturing or "",
        "metric": str(meta.get("metric") or ""),
        "definition": " ".join(str(meta.get("definition") or "").split()),
        "parameters": _compact(meta.get("parameters")),
        "definitions_in_force": _compact({k: v.get("value") if isinstance(v, Mapping) else v
                                          for k, v in (meta.get("definitions") or {}).items()}),
        "suppression_threshold": f"counts below {min_cell} hidden" if min_cell > 1 else "off",
        "suppression_method": method(min_cell),
        "data_as_of": data_as_of or "unknown",
        "product_version": product_version(),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "units": ("proportions (0.123 = 12.3%): " + ", ".join(proportions)) if proportions else "",
    }
    return {k: values[k] for k in STAMP_KEYS if values[k]}


def _compact(value: Any) -> str:
    if not value:
        return ""
    return json.dumps({k: v for k, v in dict(value).items() if v is not None}, default=str,
                      ensure_ascii=False, sort_keys=True)


def numeric_frame(
    frame: pl.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    columns: Sequence[str] | None = None,
    min_cell: int,
    values: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """The export's table: the chosen columns with their numeric types kept, renamed to their
    labels; each column with hidden cells gets a ``<label> (hidden)`` text column after it.

    ``values`` maps a text column to a function from code to label (e.g. drug classes)."""
    labels = labels or {}
    chosen = [c for c in (columns or frame.columns) if c in frame.columns and not is_flag_column(c)]
    out: list[pl.Series] = []
    for column in chosen:
        name = labels.get(column, column)
        series = frame.get_column(column)
        if values and column in values:
            series = series.cast(pl.String).map_elements(values[column], return_dtype=pl.String)
        out.append(series.alias(name))
        marks = hidden_labels(frame, column, min_cell)
        if any(mark is not None for mark in marks):
            out.append(pl.Series(f"{name} (hidden)", marks, dtype=pl.String))
    return pl.DataFrame(out)


def stamped_csv(frame: pl.DataFrame, stamp_lines: Mapping[str, str]) -> str:
    """``# key: value`` lines (newlines in values flattened), then the CSV."""
    head = "".join(f"# {key}: {' '.join(str(value).split())}\n" for key, value in stamp_lines.items())
    return head + frame.write_csv()
