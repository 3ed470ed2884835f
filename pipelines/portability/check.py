"""The portability check: every model and metric file can be carried to Spark, or it is named.

``problems(path, sql)`` lists what ``pipelines.portability.compile`` cannot carry in one
statement, each as ``<file>:<line>: <construct>: <why>``; ``check_all()`` runs it over every model
(``pipelines/models/<layer>/*.sql``) and every metric as the loader composes it
(``pipelines.query_files.parse_file``), and every audit of a build as the Spark build runs it
(``audit_problems``: the audit files, and the audits the model and metric headers generate).
The test suite runs ``check_all`` so that a new file with an untranslatable construct fails
before it reaches a Spark deployment. Refused:

- ASOF joins (Spark has none: write the lookup as a join and a maximum, see fct_adherence_pdc);
- ``* replace (...)`` (Spark reads ``* except`` but not ``replace``: list the columns);
- ``lag``/``lead`` over a window with a frame (Spark refuses the frame);
- a function Spark does not know: one sqlglot cannot name (it would be passed through as written)
  and that is not in ``SPARK_FUNCTIONS``, or one sqlglot itself reports it cannot write for Spark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

from pipelines.audit_rule import Audit
from pipelines.portability.compile import MODELS_DIR, SparkQualify, macros, to_spark

QUERIES_DIR = MODELS_DIR.parent.parent / "queries"
#: Spark functions the compiled SQL may call by name (sqlglot has no class for them): each
#: checked against Spark 4.3 by the parity tests. Add one only with a parity test that uses it.
SPARK_FUNCTIONS: frozenset[str] = frozenset({
    "make_date", "arrays_overlap", "make_ym_interval", "datediff", "size", "sequence",
    "transform", "percentile",
})
_NO_FRAME = (exp.Lag, exp.Lead)


def _line(text: str, pattern: str, occurrence: int = 0) -> int:
    """The line of the ``occurrence``-th match of ``pattern`` (case-insensitive) in ``text``
    outside comments, or 1."""
    code = re.sub(r"--[^\n]*|/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    matches = list(re.finditer(pattern, code, flags=re.I))
    if not matches:
        return 1
    match = matches[min(occurrence, len(matches) - 1)]
    return text.count("\n", 0, match.start()) + 1


def _constructs(tree: Any) -> Iterator[tuple[str, str, str]]:
    """(construct, pattern to find its line, why) for each refused construct of ``tree``."""
    named = {w.alias_or_name.lower(): w for s in tree.find_all(exp.Select)
             for w in s.args.get("windows") or ()}
    for join in tree.find_all(exp.Join):
        if str(join.args.get("method") or "").upper() == "ASOF":
            yield ("ASOF join", r"\basof\b", "Spark has no ASOF join; write the lookup as a join "
                   "and a maximum (see fct_adherence_pdc)")
    for star in tree.find_all(exp.Star):
        if star.args.get("replace"):
            yield ("* replace", r"\*\s*replace\b", "Spark cannot replace columns of a star; list them")
    for window in tree.find_all(exp.Window):
        if not isinstance(window.this, _NO_FRAME):
            continue
        spec = window.args.get("spec")
        if spec is None and window.alias:
            definition = named.get(window.alias.lower())
            spec = definition.args.get("spec") if definition is not None else None
        if spec is not None:
            name = window.this.key
            yield (f"{name} over a window frame", rf"\b{name}\s*\(",
                   f"Spark refuses a frame on {name}(); give it a window without one")


def problems(path: Path, sql: str) -> list[str]:
    """What of ``sql`` (from ``path``) cannot be carried to Spark; empty when all of it can."""
    text = path.read_text(encoding="utf-8") if path.exists() else sql
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError as exc:
        return [f"{path}:1: unparseable: {str(exc).splitlines()[0]}"]
    found, seen = [], {}  # type: ignore[var-annotated]
    for construct, pattern, why in _constructs(tree):
        seen[pattern] = seen.get(pattern, -1) + 1
        found.append(f"{path}:{_line(text, pattern, seen[pattern])}: {construct}: {why}")
    if found:
        return found
    try:
        compiled = to_spark(sql)
        sqlglot.parse_one(compiled, read=SparkQualify).sql(
            dialect=SparkQualify, unsupported_level=ErrorLevel.RAISE)
        tree = sqlglot.parse_one(sql, read="duckdb").transform(_no_macro)
        tree.sql(dialect=SparkQualify, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        return [f"{path}:1: unsupported by sqlglot's Spark writer: {str(exc).splitlines()[0]}"]
    except (SqlglotError, ValueError) as exc:
        return [f"{path}:1: cannot compile: {str(exc).splitlines()[0]}"]
    unknown = sorted({f.name.lower() for f in sqlglot.parse_one(compiled, read=SparkQualify)
                      .find_all(exp.Anonymous)} - SPARK_FUNCTIONS)
    return [f"{path}:{_line(text, _call(name))}: function {name}(): "
            "not a Spark function the compile step knows (SPARK_FUNCTIONS)" for name in unknown]


def _call(name: str) -> str:
    return r"\b" + re.escape(name) + r"\s*\("


def _no_macro(node: exp.Expression) -> exp.Expression:
    """Macro calls as plain columns, for the unsupported-construct pass (they are expanded)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in macros():
        return exp.column(node.name)
    return node


def statements() -> Iterator[tuple[Path, str]]:
    """Every model file's SELECT and every metric's composed SQL (one per variant)."""
    from pipelines.query_files import parse_file

    for layer in ("staging", "intermediate", "marts"):
        for path in sorted((MODELS_DIR / layer).glob("*.sql")):
            yield path, path.read_text(encoding="utf-8")
    for path in sorted(QUERIES_DIR.glob("*/*.sql")):
        for query in parse_file(path):
            yield path, query.sql


def audit_statements(audits: Iterable[Audit] | None = None) -> Iterator[tuple[Path, str, str]]:
    """Every audit of a build (default ``pipelines.audits.collect``: the audit files, the model
    headers' keys and ranges, the metric headers' tests) as (the file it is written in, its
    name, the audit as one standalone SELECT, shared unit rows included)."""
    if audits is None:
        from pipelines import dag
        from pipelines.audits import collect

        audits = collect(dag.plan(MODELS_DIR))
    for audit in audits:
        yield Path(audit.origin), audit.name, audit.full_sql


def audit_problems(audits: Iterable[Audit] | None = None) -> list[str]:
    """Every problem of every audit, each naming the audit after the file, line and construct."""
    return [f"{problem} (audit {name})" for path, name, sql in audit_statements(audits)
            for problem in problems(path, sql)]


def check_all() -> list[str]:
    """Every problem of every model, metric and audit (empty when all can run on Spark)."""
    return [problem for path, sql in statements() for problem in problems(path, sql)] + \
        audit_problems()
