"""The rewrite pass of the Spark compile step (``pipelines.portability.compile``; issue #20).

``rewrite_statement(tree)`` rewrites a parsed DuckDB statement, once its macros are expanded,
where sqlglot's DuckDB-to-Spark transpilation would change its meaning. Each rewrite is a
difference of meaning rather than spelling:

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
- ``group by ()`` is dropped (an aggregate select without GROUP BY is the same one group);
- ``with x as not materialized (...)`` loses its hint (a DuckDB planner hint only);
- ``bit_count(bitstring_agg(x, lo, hi))`` (a fast distinct count over a small integer domain) ->
  ``count(distinct x)``;
- ``a / b`` -> ``cast(a as double) / b``: DuckDB's ``/`` is always floating point, Spark's keeps
  decimals as decimals;
- ``md5_number_lower(s)`` (the record keys of cell-key perturbation, ``queries.cell_keys``) ->
  the same unsigned 64-bit number from Spark's ``md5`` hex digits, as ``decimal(20, 0)``, and
  ``hugeint`` -> ``decimal(38, 0)``;
- ``unnest(list, recursive := true)`` (a list of flat structs) -> ``inline(list)``;
- ``string_agg(x, sep order by x)`` (distinct or not) -> a sorted ``collect_set``/``collect_list``
  joined: Spark 4.3's ordered ``listagg`` fails beside other distinct aggregates.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from sqlglot import exp

from pipelines.contract import TABLES

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
_HEADER_DATE = re.compile(r"^\s+([a-z_][a-z0-9_]*): \{type: date\b", re.M)
_DATE_NAME = re.compile(r".*(_on|_date)$")
#: Names the statement being compiled gives to date expressions (``greatest(a_on, b_on) as
#: overlap_from``): dates wherever the statement refers to them.
_STATEMENT_DATES: ContextVar[frozenset[str]] = ContextVar("statement_dates", default=frozenset())


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


def output_names(select: exp.Expression, ctes: dict[str, exp.Expression]) -> list[str]:
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
        names += output_names(ctes[source.name], ctes)
    return names


def _union_by_position(node: exp.Expression) -> exp.Expression:
    """``union all by name`` with every branch listing its columns in the first branch's order."""
    if not (isinstance(node, exp.Union) and node.args.get("by_name")):
        return node
    ctes = {cte.alias: cte.this for w in node.root().find_all(exp.With) for cte in w.expressions}
    branches = _branches(node)
    order = output_names(branches[0], ctes)
    for branch in branches:
        names = output_names(branch, ctes)
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
    return _string_agg_as_array(aggregate)


def _string_agg_as_array(node: exp.GroupConcat) -> exp.Expression:
    """``string_agg([distinct] x, sep order by x [desc])`` (ordered by the value it joins) as
    ``case when size(a) > 0 then array_join(transform(array_sort(a), v -> cast(v as string)),
    sep) end`` over ``a = collect_set(x)`` (``collect_list`` without distinct), reversed for
    ``desc``. Spark 4.3's ``listagg ... within group`` fails at run time (ClassCastException in
    ListAgg, from RewriteDistinctAggregates) in a select holding other distinct aggregates;
    ``collect_set`` is not a distinct aggregate there. Both skip nulls, sort by the value itself
    and give null, not '', when no value is left. Any other ``string_agg`` is left as it is."""
    order = node.this
    if not (isinstance(order, exp.Order) and len(order.expressions) == 1):
        return node
    distinct = isinstance(order.this, exp.Distinct)
    values = order.this.expressions if distinct else [order.this]
    ordered = order.expressions[0]
    if len(values) != 1 or ordered.this != values[0]:
        return node
    collected = exp.Anonymous(this="collect_set" if distinct else "collect_list",
                              expressions=[values[0].copy()])
    items: exp.Expression = exp.Anonymous(this="array_sort", expressions=[collected])
    if ordered.args.get("desc"):
        items = exp.Anonymous(this="reverse", expressions=[items])
    value = exp.to_identifier("joined_value")
    as_text = exp.Anonymous(this="transform", expressions=[items, exp.Lambda(
        this=exp.Cast(this=exp.column(value), to=exp.DataType.build("string")),
        expressions=[value])])
    separator = node.args.get("separator") or exp.Literal.string(",")
    joined = exp.Anonymous(this="array_join", expressions=[as_text, separator.copy()])
    size = exp.Anonymous(this="size", expressions=[collected.copy()])
    return exp.Case(ifs=[exp.If(this=exp.GT(this=size, expression=exp.Literal.number(0)),
                                true=joined)])


def _md5_number_lower(argument: exp.Expression) -> exp.Expression:
    """DuckDB's ``md5_number_lower(s)``: the last 8 bytes of the md5 digest of ``s`` read as a
    little-endian unsigned 64-bit integer (checked against Python's hashlib in the tests). Spark
    has no such function: the digest's hex digits 17-32, their byte order reversed (two hex
    digits a byte), read by ``conv`` as an unsigned base-16 number, kept exact as
    ``decimal(20, 0)`` (a ``bigint`` holds only half the range)."""
    digits = exp.Anonymous(this="substr", expressions=[
        exp.Anonymous(this="md5", expressions=[argument]), exp.Literal.number(17),
        exp.Literal.number(16)])
    reversed_bytes = exp.Anonymous(this="array_join", expressions=[
        exp.Anonymous(this="reverse", expressions=[exp.Anonymous(
            this="regexp_extract_all",
            expressions=[digits, exp.Literal.string(".."), exp.Literal.number(0)])]),
        exp.Literal.string("")])
    number = exp.Anonymous(this="conv", expressions=[
        reversed_bytes, exp.Literal.number(16), exp.Literal.number(10)])
    return exp.Cast(this=number, to=exp.DataType.build("decimal(20, 0)"))


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
    if isinstance(node, exp.Select) and node.args.get("group") \
            and node.args["group"].expressions and all(
            isinstance(e, exp.Tuple) and not e.expressions for e in node.args["group"].expressions):
        # group by () (the whole table as one group; an audit of a one-row model): Spark reads
        # no empty grouping set, and an aggregate select without GROUP BY is the same one group
        node.set("group", None)
        return node
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
    if isinstance(node, exp.GroupConcat):
        return _string_agg_as_array(node)
    if isinstance(node, exp.Format):
        return _format_as_concatenation(node)
    if isinstance(node, exp.Explode) and any(
            isinstance(e, exp.PropertyEQ) and e.name.lower() == "recursive" for e in node.expressions):
        # unnest(list of structs, recursive := true) in a select list: a row per element, a
        # column per field; Spark's inline (flat structs, the one shape our SQL unnests so)
        return exp.Anonymous(this="inline", expressions=[node.this])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "md5_number_lower" \
            and len(node.expressions) == 1:
        return _md5_number_lower(node.expressions[0])
    if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.INT128):
        # hugeint (a sum of unsigned 64-bit record keys): exact in Spark's widest decimal
        return exp.DataType.build("decimal(38, 0)")
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


def rewrite_statement(tree: exp.Expression) -> exp.Expression:
    """Every rewrite of the pass over ``tree``, with the dates the statement names in scope."""
    token = _STATEMENT_DATES.set(_aliased_dates(tree))
    try:
        return tree.transform(_rewrite)
    finally:
        _STATEMENT_DATES.reset(token)


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
