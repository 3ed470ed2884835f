"""The columns a model's header declares, with ``columns_from`` expanded.

A model that carries columns of another model (a mart passing on its episode's drug and
dimensions, a mart extending a staging table) names that model instead of restating its
declarations, in the same key the metric headers use (``pipelines.query_files.SHARED_COLUMNS``)::

    columns_from: stg_measurements                  # all of that model's columns, then these
    columns_from: {model: int_fills__shifted, except: [previous_cov_end_on]}
    columns_from: {model: fct_treatment_episodes, only: [drug, drug_class, site_id]}
    columns:
      measure_group: {type: varchar}

The named model's columns (its own header expanded the same way) come first, in its order, then
the file's own ``columns``, which may override an entry. ``tests/test_models_columns.py`` checks
that every model's expanded columns are exactly its built table's, names and types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pipelines import dag
from pipelines.audits import parse_header

Columns = dict[str, dict[str, Any]]
_HEADER = re.compile(r"\A\s*/\*\s*---\s*\n(.*?)\n\s*---\s*\*/", re.S)  # as pipelines.audits reads it


def declared_columns(models: Iterable[dag.Model]) -> dict[str, Columns]:
    """Each model's declared columns by model name, ``columns_from`` expanded (a cycle or an
    unknown model or column raises ValueError naming the file)."""
    headers = {m.name: (m, parse_header(m.path, m.sql) if _HEADER.match(m.sql) else {})
               for m in models}
    done: dict[str, Columns] = {}

    def expand(name: str, seen: tuple[str, ...]) -> Columns:
        if name in done:
            return done[name]
        model, header = headers[name]
        own: Columns = dict(header.get("columns") or {})
        spec = header.get("columns_from")
        if spec is None:
            done[name] = own
            return own
        source, only, leave = _spec(spec, str(model.path))
        if source not in headers or source in seen:
            raise ValueError(f"{model.path}: columns_from {source!r} is not another model "
                             f"(or includes this one)")
        upstream = expand(source, (*seen, name))
        unknown = sorted((set(only or []) | set(leave)) - set(upstream))
        if unknown:
            raise ValueError(f"{model.path}: columns_from {source!r} has no columns {unknown}")
        chosen = [c for c in (only if only is not None else upstream) if c not in leave]
        done[name] = {**{c: upstream[c] for c in chosen}, **own}
        return done[name]

    return {name: expand(name, ()) for name in headers}


def _spec(spec: Any, where: str) -> tuple[str, list[str] | None, list[str]]:
    """(model, only, except) of a ``columns_from`` value."""
    if isinstance(spec, str):
        return spec, None, []
    if isinstance(spec, dict) and set(spec) <= {"model", "only", "except"} and "model" in spec:
        only = spec.get("only")
        return str(spec["model"]), (list(only) if only is not None else None), list(spec.get("except") or [])
    raise ValueError(f"{where}: columns_from must be a model name or {{model, only | except}}")
