"""Build the SQL models (staging -> intermediate -> marts) in the order their SQL implies.

Before the first model the build writes the shared rules every layer may use: the instrument
rules in force (``ref.instrument_rules``, ``pipelines.instruments.write_rules``) and the macros
``age_band`` (from ``reference/age_bands.csv``), ``instrument_family`` (from
``reference/instruments.csv``) and those of ``models/macros.sql`` (``adherence_band``,
``meets_response_rule``). They are stored in the warehouse, so metric files call them too.

Each model is one file ``pipelines/models/<layer>/<name>.sql`` holding a single SELECT; the
runner materialises it as ``<layer>.<name>`` with ``create or replace table``. The order comes
from the tables each SELECT reads (``pipelines.dag``: DuckDB's parser, a topological sort with
ties broken by layer and name); a cycle, a reference to a missing model or a read of a later
layer stops the build before any model runs. Definition parameters are bound as ``$name``; a
model uses only the parameters it names.

A model whose header says ``materialized: view`` becomes a view instead, as dbt-labs/jaffle-shop
materialises its staging layer: the rename-and-cast staging models cost nothing to read through,
while writing each as a table meant compressing millions of rows a second time (9M visits took
3.3 s) only for the next layer to read them once. The same holds for an intermediate model with
one reader that mostly unions and filters (int_exposures: int_episodes builds 2.7 s faster at 1M
patients reading it as a view; its one window runs only over prescriptions of pairs without
fills). A view model takes no parameters (DuckDB cannot bind them into a stored view).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines import dag
from pipelines.instruments import family_macro, write_rules
from pipelines.query_filters import episode_unit_columns_macro
from pipelines.reference import age_band_macro

MODELS_DIR = Path(__file__).parent / "models"
#: shared rules as macros (age band, response rule), created before the first model
MACROS = MODELS_DIR / "macros.sql"
LAYERS: tuple[str, ...] = dag.LAYERS
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
# The header shape of queries/ too (queries.parse); pipelines may not import queries.
_HEADER = re.compile(r"\A\s*/\*\s*---\s*\n(.*?)\n\s*---\s*\*/", re.S)
_KINDS = {"table": "BASE TABLE", "view": "VIEW"}


def plan() -> list[dag.Model]:
    """The models under ``MODELS_DIR`` in build order (``pipelines.dag.plan``)."""
    return dag.plan(MODELS_DIR)


def build_models(con: duckdb.DuckDBPyConnection, params: Mapping[str, Any], *,
                 seconds: dict[str, float] | None = None,
                 on_model: Callable[[str, int, int, int | None, float], None] | None = None,
                 ) -> dict[str, int]:
    """Materialise every model; return rows per ``layer.table``.

    ``params`` holds every definition parameter (``pipelines.definitions``); each model is bound
    only the parameters its SQL names, so adding a parameter never breaks an unrelated model.
    ``seconds``, when given, receives each model's build time (the benchmarks read it).
    ``on_model(target, position, count, rows, seconds)`` is called before each model (rows None)
    and after it (its rows and build time): the load's progress lines.
    """
    models = plan()  # every model checked before the first one is built
    rows: dict[str, int] = {}
    seconds = {} if seconds is None else seconds
    # the instrument rules in force and the shared macros come first: every layer may use them
    write_rules(con, dict(params))
    write_macros(con)
    for layer in LAYERS:
        con.execute(f"create schema if not exists {layer}")  # layer names are constants
    count = len(models)
    for model in models:
        path, sql, target = model.path, model.sql, model.target
        used = {name: params[name] for name in sorted(set(_PARAM.findall(_strip_comments(sql))))}
        kind = materialization(path, sql)
        if kind == "view" and used:
            raise ValueError(f"{path}: a view model cannot take parameters ({', '.join(used)})")
        _drop_other_kind(con, model.layer, model.name, kind)
        if on_model is not None:
            on_model(target, len(rows), count, None, 0.0)
        # The target is built from a constant layer name and a file name in our package,
        # never from user input; the body's parameters are bound.
        started = time.perf_counter()
        con.execute(f"create or replace {kind} {target} as {sql}", used)
        seconds[target] = time.perf_counter() - started
        rows[target] = con.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
        if on_model is not None:
            on_model(target, len(rows) - 1, count, rows[target], seconds[target])
    return rows


def write_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The shared macros (``age_band``, ``instrument_family``, ``episode_unit_columns`` and those
    of ``macros.sql``)."""
    con.execute(age_band_macro())
    con.execute(family_macro())
    con.execute(episode_unit_columns_macro())
    for statement in re.split(r";\s*$", _strip_comments(MACROS.read_text(encoding="utf-8")), flags=re.M):
        if statement.strip():
            con.execute(statement)


def materialization(path: Path, sql: str) -> str:
    """``table`` (the default) or ``view``, from the header's ``materialized`` key."""
    match = _HEADER.match(sql)
    header = (yaml.safe_load(match.group(1)) or {}) if match else {}
    kind = str(header.get("materialized", "table"))
    if kind not in _KINDS:
        raise ValueError(f"{path}: materialized must be one of {', '.join(_KINDS)}, not {kind!r}")
    return kind


def _drop_other_kind(con: duckdb.DuckDBPyConnection, layer: str, name: str, kind: str) -> None:
    """An incremental load starts from the live file, whose model may be of the other kind (a
    view now, a table when it was built); CREATE OR REPLACE cannot change an object's kind."""
    found = con.sql("select table_type from information_schema.tables where table_catalog = "
                    "current_database() and table_schema = $layer and table_name = $name",
                    params={"layer": layer, "name": name}).fetchall()
    if found and found[0][0] != _KINDS[kind]:
        other = "view" if found[0][0] == "VIEW" else "table"
        con.execute(f"drop {other} {layer}.{name}")  # constant layer, our file's name


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)
    return re.sub(r"--[^\n]*", "", sql)
