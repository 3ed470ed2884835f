"""Audits at every build: SELECTs that return the rows breaking a rule (DESIGN.md section 5).

In the spirit of sqlmesh audits and the OHDSI Data Quality Dashboard, an audit is a SELECT over
the freshly built warehouse whose result rows are the offenders; none means it passes. Each has a
``severity``: ``error`` fails the load before the swap, so the live warehouse stays as it was;
``warn`` is recorded with the load (``meta.audit_results``) and shown on the Data & loads page.
Each names the ``model`` it checks and its category in Kahn et al.'s harmonised data-quality
framework (eGEMs 2016): conformance (value, relational, computational), completeness, or
plausibility (uniqueness, atemporal, temporal).

Audits come from three places, all collected by ``collect``:

1. ``pipelines/audits/<name>.sql``: rules written out, each with a YAML header (``name`` = file
   stem, ``severity``, ``model``, ``category``, ``description``);
2. the model headers (``pipelines.transform``): ``unique_key`` (unique, and not null unless a
   ``not_null`` list says which key columns must be set) and a column's ``range: [low, high]``;
3. the metric headers (``pipelines.metric_audits``).

Audits may use the build's definition parameters and ``$instrument_ranges`` (the contract's score
range per instrument, ``pipelines.contract.INSTRUMENT_RANGES``), bound, never formatted in. An
audit of a model this build did not make (a test's reduced model set) is skipped, not failed.
The failure message names each failed audit and how many rows it returned, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines import dag
from pipelines.audit_rule import CATEGORIES, SEVERITIES, Audit  # noqa: F401 - re-exported
from pipelines.column_kinds import expand_columns
from pipelines.contract import INSTRUMENT_RANGES
from pipelines.extract import IngestError

AUDITS_DIR = Path(__file__).parent / "audits"
_HEADER = re.compile(r"\A\s*/\*\s*---\s*\n(.*?)\n\s*---\s*\*/", re.S)
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
AUDIT_RESULTS_DDL = """create table if not exists meta.audit_results (
    load_id VARCHAR, audit VARCHAR, severity VARCHAR, model VARCHAR, category VARCHAR,
    description VARCHAR, offending_rows BIGINT, status VARCHAR)"""


@dataclass(frozen=True)
class AuditResult:
    audit: Audit
    offending_rows: int | None  # None when skipped
    status: str  # "pass", "fail" or "skipped"


class AuditError(IngestError):
    """Error-level audits failed: the load is refused and the live warehouse left as it was."""

    def __init__(self, failed: list[AuditResult]) -> None:
        listed = "; ".join(f"{r.audit.name} on {r.audit.model}: {_rows(r.offending_rows or 0)}"
                           for r in failed)
        super().__init__(f"{len(failed)} error-level audit(s) failed ({listed}); the load is "
                         "refused and the previous warehouse stays live",
                         file=failed[0].audit.origin, reason="audit_failed")
        self.failed = failed


def _rows(n: int) -> str:
    return f"{n} offending row" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- collecting


def parse_header(path: Path, text: str) -> dict[str, Any]:
    match = _HEADER.match(text)
    if not match:
        raise ValueError(f"{path}: no '/* --- ... --- */' YAML header at the top of the file")
    try:
        header = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: header is not valid YAML: {exc}") from exc
    if "columns" in header:
        header["columns"] = expand_columns(header["columns"], str(path))
    return header


def audit_files(audits_dir: Path = AUDITS_DIR) -> list[Audit]:
    """The written-out audits, ``<audits_dir>/<name>.sql``."""
    found = []
    for path in sorted(audits_dir.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        header = parse_header(path, text)
        missing = [k for k in ("name", "severity", "model", "category", "description")
                   if k not in header]
        if missing:
            raise ValueError(f"{path}: audit header lacks {', '.join(missing)}")
        if header["name"] != path.stem:
            raise ValueError(f"{path}: audit name {header['name']!r} is not the file name")
        found.append(Audit(name=path.stem, severity=str(header["severity"]),
                           model=str(header["model"]), category=str(header["category"]),
                           description=" ".join(str(header["description"]).split()),
                           sql=text.rstrip().rstrip(";"), origin=str(path)))
    return found


def model_audits(models: Iterable[dag.Model]) -> list[Audit]:
    """Audits declared in the model headers: ``unique_key``/``not_null`` and column ranges."""
    found = []
    for model in models:
        header = parse_header(model.path, model.sql) if _HEADER.match(model.sql) else {}
        key = header.get("unique_key")
        origin = str(model.path)
        if key is not None:
            columns = [_identifier(c, origin) for c in key]
            found.append(Audit(
                name=f"{model.name}__key_unique", severity="error", model=model.target,
                category="plausibility (uniqueness)", origin=origin,
                description=(f"one row per ({', '.join(columns)}) (the model's grain); returns "
                             "each key held by more than one row" if columns else
                             "at most one row (the model's grain); returns the table's rows "
                             "when it holds more than one"),
                # group by () is the whole table: "more than one row" for a one-row model
                sql=(f"select {', '.join(columns) or 'count(*) as rows'} from {model.target}\n"  # noqa: S608
                     f"group by {', '.join(columns) or '()'}\nhaving count(*) > 1")))
            not_null = [_identifier(c, origin) for c in header.get("not_null", columns)]
            if not_null:
                condition = " or ".join(f"{c} is null" for c in not_null)
                found.append(Audit(
                    name=f"{model.name}__key_not_null", severity="error", model=model.target,
                    category="completeness", origin=origin,
                    description=f"every row has {', '.join(not_null)} (its key)",
                    sql=f"select * from {model.target}\nwhere {condition}",  # noqa: S608
                    scan=(model.target, condition)))
        for column, spec in (header.get("columns") or {}).items():
            bounds = (spec or {}).get("range") if isinstance(spec, dict) else None
            if bounds is None:
                continue
            low, high = (float(b) for b in bounds)  # numbers from our header, checked here
            column = _identifier(column, origin)
            condition = f"{column} < {low!r} or {column} > {high!r}"
            found.append(Audit(
                name=f"{model.name}__{column}_range", severity="error", model=model.target,
                category="plausibility (atemporal)", origin=origin,
                description=f"{column} is within [{low:g}, {high:g}] where it is set",
                sql=f"select * from {model.target}\nwhere {condition}",  # noqa: S608
                scan=(model.target, condition)))
    return found


def _identifier(name: object, origin: str) -> str:
    """A column name from a header, checked before it is placed in SQL."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"{origin}: {name!r} is not a column name")
    return name


def collect(models: list[dag.Model], audits_dir: Path = AUDITS_DIR,
            metrics_dir: Path | None = None) -> list[Audit]:
    """Every audit of this build, sorted by name; names must be unique."""
    from pipelines import metric_audits

    audits = [*audit_files(audits_dir), *model_audits(models),
              *metric_audits.metric_audits(metrics_dir or metric_audits.METRICS_DIR)]
    seen: dict[str, str] = {}
    for audit in audits:
        if audit.name in seen:
            raise ValueError(f"audit name {audit.name!r} used by {seen[audit.name]} and "
                             f"{audit.origin}")
        seen[audit.name] = audit.origin
    return sorted(audits, key=lambda a: a.name)


# --------------------------------------------------------------------------- running


def audit_params(definitions: Mapping[str, Any]) -> dict[str, Any]:
    """What audits may bind: the definition parameters and the instrument score ranges."""
    ranges = [{"instrument": name, "min_score": low, "max_score": high}
              for name, (low, high) in sorted(INSTRUMENT_RANGES.items())]
    return {**definitions, "instrument_ranges": ranges}


def run(con: duckdb.DuckDBPyConnection, audits: Iterable[Audit], params: Mapping[str, Any],
        built: Iterable[str]) -> list[AuditResult]:
    """Count each audit's rows; an audit reading a model not in ``built`` is skipped.

    The audits that are a condition on one table (``Audit.scan``: a model's key and range
    audits, a metric's expressions and rates) are counted together, one ``count(*) filter (where ...)`` per audit
    in a single scan of that table; the others run one by one. A metric's unit rows (``shared``)
    are built once per metric and parameter set, then all its audits read them. Results come in
    the order of ``audits``.
    """
    built = set(built)
    audits = list(audits)
    counts: dict[int, int] = {}
    # the audits to run, grouped by the rows they read: None (the warehouse) or a shared SELECT
    # with its parameters (variants of one metric share the SQL, not the constants)
    groups: dict[tuple[tuple[str, str], tuple] | None, list[int]] = {}
    for position, audit in enumerate(audits):
        refs = dag.table_references(audit.full_sql, con)
        if {f"{s}.{t}" for s, t in refs.qualified if s in dag.LAYERS} <= built:
            key = None if audit.shared is None else (audit.shared, audit.params)
            groups.setdefault(key, []).append(position)
    for key, positions in groups.items():
        if key is None:
            counts.update(_count(con, [(p, audits[p]) for p in positions], params))
            continue
        (name, shared_sql), own = key
        bound = _binder(dict(own), params)
        # What the audits sharing unit rows read of them: only those columns are materialised
        checks = "\n".join(audits[p].sql for p in positions)
        columns = _read_columns(con, shared_sql, bound(shared_sql), checks)
        # The SQL comes from files of this package (names checked where generated); the
        # parameters are bound.
        con.execute(f"create or replace temp table {name} as\n"
                    f"select {columns} from (\n{shared_sql}\n)", bound(shared_sql))
        try:
            counts.update(_count(con, [(p, audits[p]) for p in positions], params))
        finally:
            con.execute(f"drop table if exists {name}")
    return [AuditResult(audit, None, "skipped") if position not in counts else
            AuditResult(audit, counts[position], "fail" if counts[position] else "pass")
            for position, audit in enumerate(audits)]


def _binder(own: dict[str, Any], params: Mapping[str, Any]) -> Any:
    """``bound(sql)``: the parameters ``sql`` names, an audit's own before the build's."""
    def bound(sql: str) -> dict[str, Any]:
        names = sorted(set(_PARAM.findall(_strip_comments(sql))))
        return {n: own[n] if n in own else params[n] for n in names}
    return bound


def _count(con: duckdb.DuckDBPyConnection, audits: list[tuple[int, Audit]],
           params: Mapping[str, Any]) -> dict[int, int]:
    """Offending rows per audit position: one scan per (table, own parameters) for the
    ``scan`` audits, one query for each other audit."""
    counts: dict[int, int] = {}
    scans: dict[tuple[str, tuple], list[tuple[int, Audit]]] = {}
    for position, audit in audits:
        if audit.scan is not None:
            scans.setdefault((audit.scan[0], audit.params), []).append((position, audit))
            continue
        bound = _binder(dict(audit.params), params)
        sql = audit.sql if audit.shared is not None else audit.full_sql
        counts[position] = int(con.execute(f"select count(*) from (\n{sql}\n)",  # noqa: S608
                                           bound(sql)).fetchall()[0][0])
    for (table, own), batch in scans.items():
        bound = _binder(dict(own), params)
        sql = (f"select {', '.join(f'count(*) filter (where {a.scan[1]})' for _, a in batch if a.scan)}\n"
               f"from {table}")
        row = con.execute(sql, bound(sql)).fetchall()[0]
        counts.update((position, int(n)) for (position, _), n in zip(batch, row, strict=True))
    return counts


def _read_columns(con: duckdb.DuckDBPyConnection, shared_sql: str, params: dict[str, Any],
                  checks: str) -> str:
    """The select list of the shared unit rows that ``checks`` (the SQL of every audit reading
    them) can name: each column whose name appears as a word in it, else the first column.

    A metric's unit rows carry every filter and display column; its audits read a few of them.
    Materialising only those lets DuckDB skip the rest of the metric's work (a column read from
    a mart, an expression), so the build's audits cost less; a column named only in a comment
    is kept too, which costs time, never a wrong count.
    """
    names = [d[0] for d in con.execute(
        f"select * from (\n{shared_sql}\n) limit 0", params).description]  # noqa: S608
    used = [n for n in names
            if re.search(rf"(?<![\w$]){re.escape(n)}(?!\w)", checks, flags=re.IGNORECASE)]
    return ", ".join('"' + n.replace('"', '""') + '"' for n in used or names[:1])


def record(con: duckdb.DuckDBPyConnection, load_id: str, results: list[AuditResult]) -> None:
    """One ``meta.audit_results`` row per audit of this load."""
    con.execute(AUDIT_RESULTS_DDL)
    con.executemany("insert into meta.audit_results values (?, ?, ?, ?, ?, ?, ?, ?)", [
        (load_id, r.audit.name, r.audit.severity, r.audit.model, r.audit.category,
         r.audit.description, r.offending_rows, r.status) for r in results])


def audit_build(con: duckdb.DuckDBPyConnection, load_id: str, definitions: Mapping[str, Any],
                models: list[dag.Model]) -> list[AuditResult]:
    """Run every audit on the models just built, record the results, and raise AuditError when
    an error-level audit returned rows (before the swap, so the live file is untouched)."""
    con.execute(AUDIT_RESULTS_DDL)  # the audit_results metric is audited too, on earlier loads
    results = run(con, collect(models), audit_params(definitions), [m.target for m in models])
    failed = [r for r in results if r.status == "fail" and r.audit.severity == "error"]
    if failed:
        raise AuditError(failed)
    record(con, load_id, results)
    return results


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)
    return re.sub(r"--[^\n]*", "", sql)
