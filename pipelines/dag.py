"""The model graph: which model reads which, from the SQL itself, and the order to build them in.

A model is ``pipelines/models/<layer>/<name>.sql`` and becomes ``<layer>.<name>``. Its inputs are
the tables its SELECT names, read with DuckDB's own parser (``json_serialize_sql``), so the
graph cannot drift from the SQL the way file-name prefixes could:

- a schema-qualified name in a model layer (``staging.``, ``intermediate.``, ``marts.``) is an
  edge to that model, which must exist and be in the same or an earlier layer;
- a name in a loaded schema (``raw.``, ``ref.``, ``meta.``) is a source, written by the load
  before any model runs;
- an unqualified name must be a CTE of the same file (``with fills as (...)``); anything else
  (another schema, a bare table name) is an error, since it would resolve to whatever the
  connection happens to hold.

``plan()`` checks every model and raises one ``ModelGraphError`` listing every problem (an
unparseable file, a reference to a missing model, a cycle, with the models named) before
anything is built; otherwise it returns the models in a topological order, ties broken by layer
and then name, so every build runs them in the same order.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

#: The model layers, earliest first: a model may read its own layer and earlier ones.
LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")
#: Schemas the load writes before the models run (``pipelines.ingest``, ``pipelines.meta``).
SOURCE_SCHEMAS: tuple[str, ...] = ("raw", "ref", "meta")


class ModelGraphError(ValueError):
    """The models cannot be built: each problem names the model (``layer.name``) at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the SQL models cannot be built: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Model:
    """One model file and the tables its SQL reads."""

    layer: str
    name: str
    path: Path
    sql: str
    reads: frozenset[str]  # models, as "layer.name"
    sources: frozenset[str]  # loaded tables, as "raw.x", "ref.y", "meta.z"

    @property
    def target(self) -> str:
        return f"{self.layer}.{self.name}"


@dataclass(frozen=True)
class References:
    """What one SELECT names: schema-qualified tables, unqualified names and its CTE names."""

    qualified: frozenset[tuple[str, str]]
    unqualified: frozenset[str]
    ctes: frozenset[str]

    @property
    def bare(self) -> frozenset[str]:
        """Unqualified names that are not CTEs of the statement (never valid in a model)."""
        return self.unqualified - self.ctes


def table_references(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> References:
    """The tables one SELECT reads, from DuckDB's parse tree; ValueError when it does not parse
    or is not exactly one SELECT. ``$name`` parameters are fine (they parse as placeholders)."""
    own = con is None
    con = duckdb.connect(":memory:") if con is None else con
    try:
        tree = json.loads(con.execute("select json_serialize_sql($sql)", {"sql": sql}).fetchall()[0][0])
    finally:
        if own:
            con.close()
    if tree.get("error"):
        raise ValueError(str(tree.get("error_message", "DuckDB could not parse it")))
    if len(tree["statements"]) != 1:
        raise ValueError(f"holds {len(tree['statements'])} statements, not one SELECT")
    qualified: set[tuple[str, str]] = set()
    unqualified: set[str] = set()
    ctes: set[str] = set()
    for node in _nodes(tree["statements"]):
        if node.get("type") == "BASE_TABLE":
            schema, table = node.get("schema_name") or "", node["table_name"]
            if schema:
                qualified.add((schema.lower(), table.lower()))
            else:
                unqualified.add(table.lower())
        for entry in (node.get("cte_map") or {}).get("map", []):
            ctes.add(str(entry["key"]).lower())
    return References(frozenset(qualified), frozenset(unqualified), frozenset(ctes))


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of the parse tree (subqueries, CTEs, joins and set operations)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def discover(models_dir: Path) -> list[Model]:
    """Every model file under ``models_dir/<layer>/``, parsed; ModelGraphError lists the files
    that do not parse or name tables no model could read."""
    problems: list[str] = []
    found: list[Model] = []
    con = duckdb.connect(":memory:")
    try:
        for layer in LAYERS:
            for path in sorted((models_dir / layer).glob("*.sql")):
                target = f"{layer}.{path.stem}"
                sql = path.read_text(encoding="utf-8")
                try:
                    refs = table_references(sql, con)
                except ValueError as exc:
                    problems.append(f"{target} ({path.name}) is not one SELECT DuckDB can parse: {exc}")
                    continue
                problems += [f"{target} reads {name}, which is neither a CTE of the file nor "
                             "schema-qualified (staging., intermediate., marts., raw., ref., meta.)"
                             for name in sorted(refs.bare)]
                reads = {f"{s}.{t}" for s, t in refs.qualified if s in LAYERS}
                sources = {f"{s}.{t}" for s, t in refs.qualified if s in SOURCE_SCHEMAS}
                problems += [f"{target} reads {s}.{t}: {s} is not a schema models may read"
                             for s, t in sorted(refs.qualified)
                             if s not in LAYERS and s not in SOURCE_SCHEMAS]
                found.append(Model(layer, path.stem, path, sql, frozenset(reads), frozenset(sources)))
    finally:
        con.close()
    if problems:
        raise ModelGraphError(problems)
    return found


def order(models: Iterable[Model]) -> list[Model]:
    """``models`` in build order (Kahn's algorithm; among the models ready to build, the earliest
    layer first, then the name). ModelGraphError names missing models, reads of a later layer
    and cycles."""
    by_target = {m.target: m for m in models}
    problems: list[str] = []
    for model in by_target.values():
        for read in sorted(model.reads):
            if read not in by_target:
                layer, name = read.split(".", 1)
                problems.append(f"{model.target} reads {read}, which is not a model "
                                f"(no {layer}/{name}.sql)")
            elif LAYERS.index(read.split(".", 1)[0]) > LAYERS.index(model.layer):
                problems.append(f"{model.target} reads {read}, a later layer "
                                f"({' -> '.join(LAYERS)})")
    if problems:
        raise ModelGraphError(problems)
    waiting = {t: set(m.reads) for t, m in by_target.items()}
    readers: dict[str, list[str]] = {t: [] for t in by_target}
    for target, reads in waiting.items():
        for read in reads:
            readers[read].append(target)

    def key(target: str) -> tuple[int, str]:
        return LAYERS.index(by_target[target].layer), by_target[target].name

    ready = [(*key(t), t) for t, reads in waiting.items() if not reads]
    heapq.heapify(ready)
    ordered: list[Model] = []
    while ready:
        target = heapq.heappop(ready)[2]
        ordered.append(by_target[target])
        for reader in readers[target]:
            waiting[reader].discard(target)
            if not waiting[reader]:
                heapq.heappush(ready, (*key(reader), reader))
    if len(ordered) < len(by_target):
        stuck = {t: reads for t, reads in waiting.items() if reads}
        raise ModelGraphError([f"cycle: {' -> '.join(cycle)}" for cycle in _cycles(stuck)])
    return ordered


def _cycles(stuck: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each group of models that wait on each other (each a closed path,
    e.g. ``[a, b, a]``). Every stuck model waits on another stuck one, so walking the first
    unvisited dependency from any of them must come back to a model already on the path."""
    cycles: list[list[str]] = []
    seen: set[str] = set()
    for start in sorted(stuck):
        if start in seen:
            continue
        path: list[str] = []
        node = start
        while node not in path and node not in seen:
            path.append(node)
            node = sorted(stuck[node])[0]
        seen.update(path)
        if node in path:
            cycle = path[path.index(node):]
            # in the direction data flows (a read by b: a -> b), from its first name
            cycle.reverse()
            first = cycle.index(min(cycle))
            cycle = cycle[first:] + cycle[:first]
            cycles.append([*cycle, cycle[0]])
    return cycles


def plan(models_dir: Path) -> list[Model]:
    """Every model under ``models_dir`` in build order; ModelGraphError before anything runs."""
    return order(discover(models_dir))
