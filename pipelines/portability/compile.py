"""Compile the DuckDB SQL of a model or a metric into Spark SQL (issue #20).

The DuckDB files stay the only definition. ``to_spark(sql)`` parses a statement with sqlglot's
DuckDB dialect, applies the rewrites below, and writes it in sqlglot's Spark dialect. Plain
transpilation carries most constructs (``list()`` -> ``collect_list``, ``strftime`` ->
``date_format``, null ordering, ``$name`` -> ``:name``); the rewrites handle what it gets wrong
or leaves to the engine, each a difference of meaning rather than spelling:

- the shared macros (``age_band``, ``instrument_family``, ``adherence_band``,
  ``meets_response_rule``; ``pipelines.transform``) are expanded in place: Spark has no SQL macro;
- ``unnest(episode_unit_columns(alias))`` in a select list (a DuckDB struct macro written from
  ``pipelines.query_filters.EPISODE_UNIT_COLUMNS``) becomes ``alias.<column>, ...`` from that same
  list: Spark cannot unnest a struct into columns; ``columns(lambda c: list_contains([...], c))``
  (a variant's projection) becomes the listed columns;
- ``date - date`` is a number of days in DuckDB and an interval in Spark: ``datediff``. Which
  operands are dates comes from the schemas we declare (the contract's date columns, the
  ``type: date`` columns of every model and metric header, the ``*_on``/``*_date`` naming rule),
  from the aliases the statement gives to date expressions, and from the expression (date
  literals, casts, ``make_date``, ``least``/``greatest`` of dates, a date plus or minus days);
- ``format('... {} ...', args)`` -> ``'... ' || cast(arg as string) || ' ...'``: Spark's
  ``format_string`` is printf-style (``%`` is special, a date prints as its day number) and
  writes ``null`` for a null argument where DuckDB's whole result is null, as ``||``'s is;
- ``a union all by name b`` -> the branches' columns listed in the first branch's order (Spark
  reads no ``by name``), resolved through ``select *`` of the statement's CTEs;
- ``cross join unnest(list) as t (c)`` -> ``cross join lateral explode(list) as t (c)``: sqlglot's
  ``lateral view`` comes after every join, so a join condition on ``t.c`` could not see it;
- ``range(start, stop, interval 1 day)`` -> ``sequence(start, stop - 1, interval 1 day)``, empty
  when ``start >= stop`` (Spark's sequence is inclusive and refuses a stop before its start);
- ``cast(unnest(list) as t)`` -> ``explode(transform(list, v -> cast(v as t)))`` (Spark refuses
  a generator inside an expression);
- ``quantile_cont(x, p)`` -> ``percentile(x, p)`` (linear interpolation on both engines);
- ``string_agg(...) filter (where c)`` -> the filter moved into the aggregated value and its
  order (Spark fails at run time on an ordered distinct ``listagg`` with a filter);
- a scalar subquery in a grouped select list is added to GROUP BY (Spark refuses it elsewhere);
- ``list_has_any(a, b)`` -> ``arrays_overlap`` (sqlglot writes ``&&``, which Spark lacks);
- ``len`` of a list -> ``size`` (sqlglot writes ``length``, a string function in Spark);
- ``interval (expr) month`` -> ``make_ym_interval(0, expr)``;
- ``with x as not materialized (...)`` loses its hint (a DuckDB planner hint only);
- ``bit_count(bitstring_agg(x, lo, hi))`` (a fast distinct count over a small integer domain) ->
  ``count(distinct x)``;
- ``a / b`` -> ``cast(a as double) / b``: DuckDB's ``/`` is always floating point, Spark's keeps
  decimals as decimals;
- QUALIFY is kept as QUALIFY (Spark 4.3 reads it): sqlglot's rewrite into a subquery leaked its
  row-number column through ``select *`` and lost the table prefix of the columns it listed.

``pipelines.portability.check`` refuses what none of this carries (ASOF joins, ``* replace``,
functions Spark lacks), naming the file, the line and the construct.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark

from pipelines.contract import TABLES
from pipelines.instruments import family_macro
from pipelines.query_filters import EPISODE_UNIT_COLUMNS
from pipelines.reference import age_band_macro

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
_HEADER_DATE = re.compile(r"^\s+([a-z_][a-z0-9_]*): \{type: date\b", re.M)
_MACRO = re.compile(r"create or replace macro (\w+)\(([^)]*)\) as\s+(.*)", re.S | re.I)
_DATE_NAME = re.compile(r".*(_on|_date)$")
#: Names the statement being compiled gives to date expressions (``greatest(a_on, b_on) as
#: overlap_from``): dates wherever the statement refers to them.
_STATEMENT_DATES: ContextVar[frozenset[str]] = ContextVar("statement_dates", default=frozenset())


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
        found[match.group(1).lower()] = (params, sqlglot.parse_one(match.group(3), read="duckdb"))
    return found


@cache
def date_columns() -> frozenset[str]:
    """Column names declared as dates: the contract's, and ``type: date`` in any header."""
    names = {c.name for t in TABLES.values() for c in t.columns if c.kind == "date"}
    roots = [MODELS_DIR, MODELS_DIR.parent.parent / "queries"]
    for root in roots:
        for path in root.rglob("*.sql"):
            names.update(_HEADER_DATE.findall(path.read_text(encoding="utf-8")))
    return frozenset(names)


def is_date(node: exp.Expression) -> bool:
    """Whether ``node`` is a date, from the declared schemas and the expression's own form."""
    if isinstance(node, exp.Paren):
        return is_date(node.this)
    if isinstance(node, exp.Cast):
        return node.to.is_type(exp.DataType.Type.DATE)
    if isinstance(node, (exp.Date, exp.DateFromParts, exp.CurrentDate, exp.DateAdd, exp.DateSub)):
        return True
    if isinstance(node, exp.Column):
        return node.name in date_columns() or node.name in _STATEMENT_DATES.get() \
            or bool(_DATE_NAME.fullmatch(node.name))
    if isinstance(node, exp.Placeholder | exp.Parameter):
        return bool(_DATE_NAME.fullmatch(node.name))
    if isinstance(node, (exp.Least, exp.Greatest, exp.Coalesce, exp.Max, exp.Min, exp.AnyValue)):
        return is_date(node.this)
    if isinstance(node, exp.Case):
        return any(is_date(branch.args["true"]) for branch in node.args.get("ifs") or ())
    if isinstance(node, (exp.Add, exp.Sub)):
        return is_date(node.this) and not is_date(node.expression)
    return bool(isinstance(node, exp.Anonymous) and node.name.lower() in ("make_date", "last_day"))


def _is_list(node: exp.Expression) -> bool:
    return isinstance(node, (exp.Split, exp.Array, exp.ArrayAgg, exp.ArrayDistinct, exp.ArrayConcat,
                             exp.ArrayFilter, exp.ArraySort, exp.RegexpSplit))


def _expand_macro(node: exp.Expression) -> exp.Expression:
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    if name not in macros():
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
        order = _output_names(ctes[source.name], ctes) if isinstance(source, exp.Table) else []
    except (KeyError, ValueError):
        order = []
    return [n for n in order if n in listed] if set(listed) <= set(order) else listed


def _format_as_concatenation(node: exp.Format) -> exp.Expression:
    """DuckDB's ``format`` with ``{}`` placeholders as a ``||`` chain of its pieces."""
    template = node.this
    # 'a' 'b' and 'a' || 'b' (a template split over lines) are one literal
    parts_of = template.expressions if isinstance(template, exp.Concat) else [template]
    while any(isinstance(part, exp.DPipe) for part in parts_of):
        parts_of = [piece for part in parts_of for piece in (
            (part.this, part.expression) if isinstance(part, exp.DPipe) else (part,))]
    if not all(isinstance(part, exp.Literal) and part.is_string for part in parts_of):
        raise ValueError("format() with a template that is not a literal")
    pieces = "".join(str(part.this) for part in parts_of).split("{}")
    if any("{" in piece or "}" in piece for piece in pieces) or len(pieces) != len(
            node.expressions) + 1:
        raise ValueError("format() with placeholders other than one {} per argument")
    parts: list[exp.Expression] = [exp.Literal.string(pieces[0])] if pieces[0] else []
    for argument, piece in zip(node.expressions, pieces[1:], strict=True):
        parts.append(exp.Cast(this=argument, to=exp.DataType.build("string")))
        if piece:
            parts.append(exp.Literal.string(piece))
    chained = parts[0]
    for part in parts[1:]:
        chained = exp.DPipe(this=chained, expression=part, safe=True)
    return exp.Paren(this=chained)


def _branches(node: exp.Expression) -> list[exp.Expression]:
    """The branches of a chain of ``union all by name`` (left to right)."""
    if isinstance(node, exp.Union) and node.args.get("by_name"):
        return [*_branches(node.this), *_branches(node.expression)]
    return [node]


def _output_names(select: exp.Expression, ctes: dict[str, exp.Expression]) -> list[str]:
    """The column names a branch returns, through ``select * from <cte>``."""
    if not isinstance(select, exp.Select):
        raise ValueError("union by name of a branch that is not a select")
    names: list[str] = []
    for item in select.expressions:
        if not isinstance(item, exp.Star):
            names.append(item.alias_or_name)
            continue
        source = select.args["from_"].this if select.args.get("from_") else None
        if select.args.get("joins") or item.args.get("except") or item.args.get("replace") \
                or not isinstance(source, exp.Table) or source.name not in ctes:
            raise ValueError("union by name of a select * not over one CTE")
        names += _output_names(ctes[source.name], ctes)
    return names


def _union_by_position(node: exp.Expression) -> exp.Expression:
    """``union all by name`` with every branch listing its columns in the first branch's order."""
    if not (isinstance(node, exp.Union) and node.args.get("by_name")):
        return node
    ctes = {cte.alias: cte.this for w in node.root().find_all(exp.With) for cte in w.expressions}
    branches = _branches(node)
    order = _output_names(branches[0], ctes)
    for branch in branches:
        names = _output_names(branch, ctes)
        if sorted(names) != sorted(order):
            raise ValueError("union by name of branches with different columns")
        if any(isinstance(item, exp.Star) for item in branch.expressions):
            branch.set("expressions", [exp.column(name) for name in order])
        else:
            by_name = {item.alias_or_name: item for item in branch.expressions}
            branch.set("expressions", [by_name[name] for name in order])
    chained = branches[0]
    for branch in branches[1:]:
        chained = exp.Union(this=chained, expression=branch, distinct=node.args.get("distinct"))
    for key, value in node.args.items():  # the statement's WITH, ORDER BY, LIMIT stay outermost
        if key not in ("this", "expression", "by_name", "distinct") and value is not None:
            chained.set(key, value)
    return chained


def _group_by_scalar_subqueries(node: exp.Select) -> exp.Select:
    """A grouped select's scalar subqueries (correlated on its group keys) added to its GROUP BY:
    Spark refuses them outside GROUP BY or an aggregate; DuckDB computes one per group anyway."""
    group = node.args["group"]
    for item in node.expressions:
        query = item.this if isinstance(item, exp.Alias) else item
        if isinstance(query, exp.Subquery) and query not in group.expressions:
            group.append("expressions", query.copy())
    return node


def _is_one_day(step: exp.Expression | None) -> bool:
    return isinstance(step, exp.Interval) and step.this.name == "1" and step.unit is not None \
        and step.unit.name.upper() == "DAY"


def _day_sequence(node: exp.GenerateSeries) -> exp.Expression:
    """DuckDB's ``range(start, stop, interval 1 day)`` (the days from start up to, not including,
    stop; none when start >= stop) as Spark's inclusive ``sequence``, which refuses a stop
    before its start: ``case when start < stop then sequence(start, stop - 1, ...) else [] end``."""
    start, stop = node.args["start"], node.args["end"]
    days = exp.Anonymous(this="sequence", expressions=[
        start.copy(), exp.Sub(this=exp.Paren(this=stop.copy()), expression=exp.Literal.number(1)),
        node.args["step"].copy()])
    return exp.Case(ifs=[exp.If(this=exp.LT(this=start.copy(), expression=stop.copy()), true=days)],
                    default=exp.Array(expressions=[]))


def _filter_into_string_agg(node: exp.Filter) -> exp.Expression:
    """``string_agg(x ...) filter (where c)`` as ``string_agg(case when c then x end ...)``,
    ordered by the same: Spark fails at run time on an ordered distinct listagg with a filter
    (ClassCastException), and string_agg skips nulls, so the two agree."""
    condition = node.expression.this

    def only_when(part: exp.Expression) -> exp.Expression:
        return exp.Case(ifs=[exp.If(this=condition.copy(), true=part.copy())])

    aggregate = node.this.copy()
    for value in list(aggregate.find_all(exp.Distinct)):
        value.set("expressions", [only_when(e) for e in value.expressions])
    for ordered in list(aggregate.find_all(exp.Ordered)):
        ordered.set("this", only_when(ordered.this))
    if not any(aggregate.find_all(exp.Distinct)):
        inner = aggregate.this.this if isinstance(aggregate.this, exp.Order) else aggregate.this
        inner.replace(only_when(inner))
    return aggregate


def _lateral_explode(node: exp.Expression) -> exp.Expression:
    """``cross join unnest(list) as t (c)`` as a lateral ``explode`` in the join's place."""
    unnest = node.this if isinstance(node, exp.Join) else None
    if isinstance(unnest, exp.Unnest) and len(unnest.expressions) == 1 \
            and not unnest.args.get("offset") and str(node.args.get("kind") or "").upper() == "CROSS":
        node.set("this", exp.Lateral(this=exp.Explode(this=unnest.expressions[0]),
                                     alias=unnest.args.get("alias")))
    return node


def _rewrite(node: exp.Expression) -> exp.Expression:
    """One rewrite, then the rewrites of the new node's parts (``transform`` does not descend
    into a node that replaced another)."""
    new = _rewrite_node(node)
    if new is not node:
        for child in list(new.iter_expressions()):
            child.replace(child.transform(_rewrite))
    return new


def _rewrite_node(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
        return node
    if isinstance(node, exp.Sub) and is_date(node.this) and is_date(node.expression):
        return exp.Anonymous(this="datediff", expressions=[node.this, node.expression])
    if isinstance(node, exp.Select) and node.args.get("group"):
        return _group_by_scalar_subqueries(node)
    if isinstance(node, exp.GenerateSeries) and _is_one_day(node.args.get("step")) \
            and node.args.get("is_end_exclusive"):
        return _day_sequence(node)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Explode):
        # Spark refuses a generator inside an expression: cast the elements instead
        value = exp.to_identifier("unnested_value")
        cast = exp.Cast(this=exp.column(value), to=node.to.copy())
        return exp.Explode(this=exp.Anonymous(this="transform", expressions=[
            node.this.this, exp.Lambda(this=cast, expressions=[value])]))
    if isinstance(node, exp.PercentileCont) and node.expression is not None \
            and not isinstance(node.expression, exp.Array):
        # Spark's percentile_cont is WITHIN GROUP only; its percentile interpolates as DuckDB's
        # quantile_cont (linear between order statistics)
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.GroupConcat):
        return _filter_into_string_agg(node)
    if isinstance(node, exp.Format):
        return _format_as_concatenation(node)
    if isinstance(node, exp.Union):
        return _union_by_position(node)
    if isinstance(node, exp.Join):
        return _lateral_explode(node)
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Length) and _is_list(node.this):
        return exp.Anonymous(this="size", expressions=[node.this])
    if isinstance(node, exp.Interval) and node.unit and node.unit.name.upper() == "MONTH" \
            and not node.this.is_string:
        return exp.Anonymous(this="make_ym_interval", expressions=[exp.Literal.number(0), node.this])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "bit_count" and node.expressions \
            and isinstance(node.expressions[0], exp.Anonymous) \
            and node.expressions[0].name.lower() == "bitstring_agg":
        return exp.Count(this=exp.Distinct(expressions=[node.expressions[0].expressions[0]]))
    if isinstance(node, exp.Div) and not node.args.get("typed"):
        return exp.Div(this=exp.Cast(this=node.this, to=exp.DataType.build("double")),
                       expression=node.expression, typed=True)
    return node


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
    tree = tree.transform(_expand_macro)
    tree = tree.transform(_expand_struct_unnest)
    token = _STATEMENT_DATES.set(_aliased_dates(tree))
    try:
        tree = tree.transform(_rewrite)
    finally:
        _STATEMENT_DATES.reset(token)
    return tree.sql(dialect=SparkQualify, comments=False)


def _aliased_dates(tree: exp.Expression) -> frozenset[str]:
    """The aliases the statement gives to date expressions, through aliases of aliases."""
    found: frozenset[str] = frozenset()
    while True:
        token = _STATEMENT_DATES.set(found)
        try:
            more = found | {a.alias for a in tree.find_all(exp.Alias) if is_date(a.this)}
        finally:
            _STATEMENT_DATES.reset(token)
        if more == found:
            return found
        found = more
