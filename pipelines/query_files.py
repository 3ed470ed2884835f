"""Query files with a YAML header: the metric catalogue's file format, parsed in one place.

A file is ``/* --- <yaml> --- */`` followed by one SELECT (DESIGN.md section 4). ``parse_file``
returns its catalogue entries: the file's metric, or one per ``variants:`` entry, with the shared
filters of ``pipelines.query_filters`` composed around the SQL. ``queries`` builds the catalogue
and runs metrics from these; ``pipelines.metric_audits`` audits them at every build. It lives in
``pipelines`` (which imports no other package of ours) so that both read files one way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines import metric_shorthand, query_filters
from pipelines.column_kinds import expand_columns

#: libyaml's parser when PyYAML was built with it (ten times faster on the ~50 headers the
#: dashboard parses at start), the same safe constructor either way.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

HEADER = re.compile(r"\A/\* ---\n(.*?)\n--- \*/\n", re.S)
#: ``$name``, or ``${name}`` where a name runs into other text (``on_treatment_${days}d``)
_PLACEHOLDER = re.compile(r"\$(?:\{([a-z_][a-z0-9_]*)\}|([a-z_][a-z0-9_]*))")

#: The unit columns every measure of this kind has: the patient and the five dimensions.
_UNIT_DIMENSIONS: dict[str, dict[str, Any]] = {
    "patient_id": {"type": "varchar", "description": "de-identified surrogate (drill-down only)"},
    **{name: {"type": "varchar"} for name in (
        "site_id", "clinician_id", "diagnosis_group", "age_band", "sex")},
}

#: Column sets a header names with ``columns_from:`` instead of restating them; they come first,
#: before the file's own ``columns`` (which may override an entry's wording). ``worklist``: the
#: leading columns of every worklist (queries/worklists, docs/worklists.md; the rest of what a
#: worklist has comes from ``metric_shorthand.worklist``); ``unit_dimensions``:
#: a measure unit's patient and dimension columns; ``patient_year_unit``: those of a patient x
#: calendar year unit of the antipsychotic measures (the dimensions the macro
#: ``patient_year_unit_columns`` returns, pipelines/models/macros.sql).
SHARED_COLUMNS: dict[str, dict[str, dict[str, Any]]] = {
    "worklist": {
        "worklist": {"type": "varchar"},
        "patient_id": {"type": "varchar"},
        "clinician_id": {"type": "varchar"},
        "drug": {"type": "varchar"},
        "drug_class": {"type": "varchar"},
        "reason": {"type": "varchar"},
        "facts": {"type": "varchar", "description": "the facts that triggered the row, with their dates"},
        "trigger_on": {"type": "date"},
        "due_on": {"type": "date"},
        "days_overdue": {"type": "integer"},
        "clears": {"type": "varchar", "description": "what would take the row off the list"},
    },
    "unit_dimensions": _UNIT_DIMENSIONS,
    "patient_year_unit": {
        "unit_id": {"type": "varchar", "description": "patient_id|year"},
        "measurement_year": {"type": "integer"},
        **_UNIT_DIMENSIONS,
        "clinician_id": {"type": "varchar", "description":
                         "prescriber of the antipsychotic episode covering index_on"},
        "severity_band": {"type": "varchar",
                          "description": "not applicable (no baseline score in this measure)"},
    },
}


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
    #: parameters a variant fixes (``variants:`` in the header) that its SQL uses: bound on every
    #: run, never settable
    constants: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``proportion``, ``mean``, ``survival``, ``count`` (aggregated by ``metric()``) or
        ``table`` (already at its published grain; ``metric()`` only suppresses it)."""
        return str(self.metric.get("kind", "table"))

    def fmt(self, column: str) -> str | None:
        return self.columns.get(column, {}).get("fmt")


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it; nested mappings merge, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _filled(value: Any, constants: dict[str, Any]) -> Any:
    """``value`` with ``$name`` of each constant replaced by its value, in strings and keys."""
    if isinstance(value, dict):
        return {_filled(k, constants): _filled(v, constants) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, constants) for v in value]
    if isinstance(value, str) and constants:
        return _PLACEHOLDER.sub(
            lambda m: str(constants.get(m.group(1) or m.group(2), m.group(0))), value)
    return value


def parse(path: Path) -> Query:
    """Parse a query file of one metric; a malformed header raises ValueError naming the file."""
    found = parse_file(path)
    if len(found) != 1:
        raise ValueError(f"{path}: declares variants {[q.name for q in found]}; use parse_file")
    return found[0]


def count_condition(source: str) -> str:
    """A ``metric.counts`` entry as a condition on one unit row: ``'*'`` holds for every row,
    ``'distinct <column>'`` for a row whose column is set, anything else is the row's own flag."""
    if source == "*":
        return "true"
    if source.startswith("distinct "):
        return f"({source.removeprefix('distinct ')} is not null)"
    return f"({source})"


def count_expression(source: str) -> str:
    """A ``metric.counts`` entry counted over the unit rows: every row, the distinct values of a
    column, or the rows whose flag holds."""
    # ``source`` comes from a header in this repository, never from user text
    if source == "*":
        return "count(*)"
    if source.startswith("distinct "):
        return f"count({source})"
    return f"count(*) filter (where {source})"


def parse_file(path: Path) -> list[Query]:
    """Every catalogue entry of one file: the file's metric, or one per ``variants:`` entry.

    A variant shares the file's SQL and header and overrides what differs: its name, title and
    wording, its ``metric`` block entries, the columns it adds (a variant returns only the
    columns its header declares, in the SQL's order), and ``constants`` (parameters it fixes, e.g. the
    window of the AMM acute and continuation phases). ``$name`` in the shared description is
    replaced by the variant's constant, so each entry states its definition with real numbers.
    """
    text = path.read_text(encoding="utf-8")
    match = HEADER.match(text)
    if not match:
        raise ValueError(f"{path}: no '/* --- ... --- */' YAML header at the top of the file")
    try:
        header = yaml.load(match.group(1), Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: header is not valid YAML: {exc}") from exc
    # one-word column specs are written out first, so a variant's entry for a column merges
    # with the file's whole spec
    for spec in (header, *dict(header.get("variants") or {}).values()):
        if isinstance(spec, dict) and "columns" in spec:
            spec["columns"] = expand_columns(spec["columns"], str(path))
    variants = header.pop("variants", None)
    if not variants:
        return [_query(path, text, match, header, str(header.get("name")), {}, project=False)]
    return [_query(path, text, match, header, str(name), dict(spec), project=True)
            for name, spec in variants.items()]


def _query(path: Path, text: str, match: re.Match[str], base: dict[str, Any], name: str,
           variant: dict[str, Any], *, project: bool) -> Query:
    constants = dict(variant.pop("constants", None) or {})
    own_words = variant.pop("description", None)
    # a variant's constants fill their $name anywhere in the header (its wording, grain, columns,
    # suppression, tests), so what follows from the constant is stated once
    header = _filled(_merged(base, {**variant, "name": name}), constants)
    shared = header.pop("columns_from", None)
    if shared is not None:
        if shared not in SHARED_COLUMNS:
            raise ValueError(f"{path}: columns_from {shared!r} is not one of {sorted(SHARED_COLUMNS)}")
        header["columns"] = {**SHARED_COLUMNS[shared], **(header.get("columns") or {})}
    body = text[match.end():].rstrip().rstrip(";")
    if shared == "worklist":
        header, body = metric_shorthand.worklist(header, body)
    missing = [k for k in ("name", "title", "description", "grain", "columns") if k not in header]
    if missing:
        raise ValueError(f"{path}: header lacks {', '.join(missing)}")
    description = " ".join(str(header["description"]).split())
    if own_words:
        description = f"{' '.join(str(own_words).split())}. {description}"
    metric, tests = metric_shorthand.expand(dict(header.get("metric") or {}),
                                            dict(header.get("tests") or {}), str(path))
    columns = {**metric_shorthand.key_columns(metric), **dict(header["columns"]),
               **query_filters.unit_columns(metric)}
    # a variant returns only the columns its header declares: the file's and its own
    body = metric_shorthand.observed_body(metric, body)
    body, shared_params = query_filters.compose(body, metric, str(path),
                                                columns=list(columns) if project else None)
    clash = sorted(set(shared_params) & set(header.get("params") or {}))
    if clash:
        raise ValueError(f"{path}: params {clash} are shared filters declared by metric.filters/period; "
                         "remove them from params")
    return Query(
        name=name,
        domain=path.parent.name,
        title=str(header["title"]),
        description=description,
        grain=str(header["grain"]),
        params={**shared_params, **dict(header.get("params") or {})},
        columns=columns,
        tests=tests,
        sql=text[: match.end()] + body,
        path=path,
        metric=metric,
        # a constant only the wording uses (an AMM phase's name) is not bound
        constants={k: v for k, v in constants.items()
                   if re.search(rf"\${k}\b", text[match.end():])},
    )
