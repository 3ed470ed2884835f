"""Compile the DuckDB SQL of a model or a metric into Spark SQL (issue #20).

The DuckDB files stay the only definition. ``to_spark(sql)`` parses a statement with sqlglot's
DuckDB dialect, expands what Spark has no form of (below), applies the rewrite pass of
``pipelines.portability.rewrites`` (each rewrite a difference of meaning rather than spelling,
listed there), and writes the statement in sqlglot's Spark dialect. Plain transpilation carries
most constructs (``list()`` -> ``collect_list``, ``strftime`` -> ``date_format``, null ordering,
``$name`` -> ``:name``). Expanded here, before the rewrite pass:

- the shared macros (``age_band``, ``instrument_family``, ``adherence_band``,
  ``meets_response_rule``; ``pipelines.transform``) are expanded in place: Spark has no SQL macro;
- ``unnest(episode_unit_columns(alias))`` in a select list (a DuckDB struct macro written from
  ``pipelines.query_filters.EPISODE_UNIT_COLUMNS``) becomes ``alias.<column>, ...`` from that same
  list: Spark cannot unnest a struct into columns; ``columns(lambda c: list_contains([...], c))``
  (a variant's projection) becomes the listed columns;
- ``unnest({'k': v, ...})`` in a select list (a struct macro such as
  ``patient_year_unit_columns``, once expanded) becomes ``v as k, ...``.

QUALIFY is kept as QUALIFY (Spark 4.3 reads it): sqlglot's rewrite into a subquery leaked its
row-number column through ``select *`` and lost the table prefix of the columns it listed.

``pipelines.portability.check`` refuses what none of this carries (ASOF joins, ``* replace``,
functions Spark lacks), naming the file, the line and the construct.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark

from pipelines.instruments import family_macro
from pipelines.portability.rewrites import MODELS_DIR, output_names, rewrite_statement
from pipelines.query_filters import EPISODE_UNIT_COLUMNS
from pipelines.reference import age_band_macro

__all__ = ["MODELS_DIR", "SparkQualify", "macros", "to_spark"]

_MACRO = re.compile(r"create or replace macro (\w+)\(([^)]*)\) as\s+(.*)", re.S | re.I)


@cache
def macros() -> dict[str, tuple[tuple[str, ...], Any]]:
    """Every shared macro: name -> (parameter names, body expression)."""
    text = re.sub(r"--[^\n]*", "", (MODELS_DIR / "macros.sql").read_text(encoding="utf-8"))
    statements = [s for s in re.split(r";\s*$", text, flags=re.M) if s.strip()]
    found: dict[str, tuple[tuple[str, ...], Any]] = {}
    for statement in [age_band_macro(), family_macro(), *statements]:
        match = _MACRO.search(statement.strip())
        if not match:
            raise ValueError(f"not a macro definition: {statement.strip()[:60]}")
        params = tuple(p.strip().lower() for p in match.group(2).split(","))
        body = match.group(3).strip()
        # a table macro (``as table select ...``) keeps its SELECT; ``_expand_table_macro`` inlines it
        is_table = re.match(r"table\s", body, re.I) is not None
        parsed = sqlglot.parse_one(body[5:] if is_table else body, read="duckdb")
        found[match.group(1).lower()] = (params, exp.Subquery(this=parsed) if is_table else parsed)
    return found


def _expand_table_macro(node: exp.Expression) -> exp.Expression:
    """``from macro(cte) as alias`` (a table macro of macros.sql) as the macro's SELECT, with
    ``query_table(param)`` reading the CTE it was given: Spark has no table macros."""
    call = node.this if isinstance(node, exp.Table) else None
    if not isinstance(call, exp.Anonymous) or call.name.lower() not in macros() \
            or not isinstance(macros()[call.name.lower()][1], exp.Subquery):
        return node
    name = call.name.lower()
    params, body = macros()[name]
    args = [a.name for a in call.expressions]
    if len(args) != len(params):
        raise ValueError(f"{name}() takes {len(params)} arguments, not {len(args)}")
    bound = dict(zip(params, args, strict=True))

    def read(part: exp.Expression) -> exp.Expression:
        inner = part.this if isinstance(part, exp.Table) else None
        if isinstance(inner, exp.Anonymous) and inner.name.lower() == "query_table":
            return exp.to_table(bound[inner.expressions[0].name.lower()], alias=part.alias or None)
        return part

    return exp.Subquery(this=body.this.copy().transform(read), alias=node.args.get("alias"))


def _expand_macro(node: exp.Expression) -> exp.Expression:
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    if name not in macros() or isinstance(macros()[name][1], exp.Subquery):
        return node
    params, body = macros()[name]
    args = node.expressions
    if len(args) != len(params):
        raise ValueError(f"{name}() takes {len(params)} arguments, not {len(args)}")
    bound = dict(zip(params, args, strict=True))

    def substitute(part: exp.Expression) -> exp.Expression:
        if isinstance(part, exp.Column) and not part.table and part.name.lower() in bound:
            return exp.Paren(this=bound[part.name.lower()].copy())
        argument = bound.get(part.table.lower()) if isinstance(part, exp.Column) and part.table else None
        if isinstance(argument, exp.Column) and not argument.table:
            # a row parameter (``patients.sex`` with ``patients`` bound to the alias ``p``)
            return exp.column(part.name, table=argument.name)
        return part

    return exp.Paren(this=body.copy().transform(substitute)).transform(_expand_macro)


def _episode_unit_alias(node: exp.Expression) -> str | None:
    """The alias of ``unnest(episode_unit_columns(alias))``, or None for any other expression."""
    inner = node.this if isinstance(node, exp.Explode) else None
    if not (isinstance(inner, exp.Anonymous) and inner.name.lower() == "episode_unit_columns"):
        return None
    if len(inner.expressions) != 1 or not isinstance(inner.expressions[0], exp.Column) \
            or inner.expressions[0].table:
        raise ValueError("episode_unit_columns() takes one table or CTE alias")
    return str(inner.expressions[0].name)


def _expand_episode_unit_columns(node: exp.Expression) -> exp.Expression:
    """``unnest(episode_unit_columns(alias))`` in a select list as the columns it unnests to."""
    if not isinstance(node, exp.Select):
        return node
    expanded: list[exp.Expression] = []
    for item in node.expressions:
        alias = _episode_unit_alias(item)
        if isinstance(item, exp.Columns):
            expanded += [exp.column(name) for name in _selected_columns(node, item)]
        else:
            expanded += [item] if alias is None else [
                exp.column(name, table=alias) for name in EPISODE_UNIT_COLUMNS]
    node.set("expressions", expanded)
    return node


def _struct_of_unnest(node: exp.Expression) -> exp.Struct | None:
    """The struct literal of ``unnest({'k': v, ...})`` (a struct macro such as
    ``patient_year_unit_columns``, once expanded), or None for any other expression."""
    inner = node.this if isinstance(node, exp.Explode) else None
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Struct) and all(isinstance(e, exp.PropertyEQ) for e in inner.expressions):
        return inner
    return None


def _expand_struct_unnest(node: exp.Expression) -> exp.Expression:
    """``unnest({'k': v, ...})`` in a select list (DuckDB: one column per field) as ``v as k``,
    ... : Spark's explode takes arrays and maps only."""
    if not isinstance(node, exp.Select):
        return node
    expanded: list[exp.Expression] = []
    for item in node.expressions:
        struct = _struct_of_unnest(item)
        if struct is None:
            expanded.append(item)
            continue
        for field in struct.expressions:
            expanded.append(exp.Alias(this=field.expression.copy(),
                                      alias=exp.to_identifier(str(field.this.name))))
    node.set("expressions", expanded)
    return node


def _selected_columns(select: exp.Select, item: exp.Columns) -> list[str]:
    """The names of ``columns(lambda c: list_contains([...], c))`` (a metric variant's
    projection, ``pipelines.query_filters``), in the order its source returns them when the
    source is one of the statement's CTEs, else in the listed order."""
    body = item.this.this if isinstance(item.this, exp.Lambda) else None
    if not (isinstance(body, exp.ArrayContains) and isinstance(body.this, exp.Array)
            and all(isinstance(e, exp.Literal) and e.is_string for e in body.this.expressions)):
        raise ValueError("columns() other than columns(lambda c: list_contains([...], c))")
    listed = [str(e.this) for e in body.this.expressions]
    source = select.args["from_"].this if select.args.get("from_") else None
    ctes = {cte.alias: cte.this for w in select.root().find_all(exp.With) for cte in w.expressions}
    try:
        order = output_names(ctes[source.name], ctes) if isinstance(source, exp.Table) else []
    except (KeyError, ValueError):
        order = []
    return [n for n in order if n in listed] if set(listed) <= set(order) else listed


class SparkQualify(Spark):
    """Spark as sqlglot writes it, except that QUALIFY stays QUALIFY (Spark 4.3 has it): sqlglot's
    rewrite into a subquery leaks its row-number column through ``select *`` and drops the
    table prefix of the columns it lists outside."""

    class Generator(Spark.Generator):  # type: ignore[misc,valid-type]
        # Spark reads a WITH inside a CTE; hoisting it (sqlglot's default for Hive) would put the
        # engine's `units` wrapper and a metric's own `units` CTE in one WITH, which Spark refuses
        EXPRESSIONS_WITHOUT_NESTED_CTES: set[Any] = set()  # noqa: RUF012
        TRANSFORMS = {  # noqa: RUF012 - sqlglot's own class attribute, extended
            **Spark.Generator.TRANSFORMS,
            exp.Select: transforms.preprocess([
                transforms.eliminate_distinct_on, transforms.unnest_to_explode,
                transforms.any_to_exists]),
        }



def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL (``$name`` becomes ``:name``)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(_expand_episode_unit_columns)
    tree = tree.transform(_expand_table_macro)
    tree = tree.transform(_expand_macro)
    tree = tree.transform(_expand_struct_unnest)
    return rewrite_statement(tree).sql(dialect=SparkQualify, comments=False)
