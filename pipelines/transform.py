"""Run the SQL models in layer order: staging -> intermediate -> marts.

Each model is one file ``pipelines/models/<layer>/<name>.sql`` holding a single SELECT; the
runner materialises it as ``<layer>.<name>`` with ``create or replace table``. Files run in name
order within a layer, so a model may read any model of an earlier layer and, within a layer, any
model whose name sorts before its own (prefix names with ``01_``-style numbers where needed; the
prefix is stripped from the table name). Definition parameters are bound as ``$name``; a model
uses only the parameters it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

MODELS_DIR = Path(__file__).parent / "models"
LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts")
_ORDER_PREFIX = re.compile(r"^\d+_")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def model_files(layer: str) -> list[Path]:
    """The model files of one layer, in run order."""
    return sorted((MODELS_DIR / layer).glob("*.sql"))


def table_name(path: Path) -> str:
    return _ORDER_PREFIX.sub("", path.stem)


def build_models(con: duckdb.DuckDBPyConnection, params: Mapping[str, Any]) -> dict[str, int]:
    """Materialise every model; return rows per ``layer.table``.

    ``params`` holds every definition parameter (``pipelines.definitions``); each model is bound
    only the parameters its SQL names, so adding a parameter never breaks an unrelated model.
    """
    rows: dict[str, int] = {}
    for layer in LAYERS:
        con.execute(f"create schema if not exists {layer}")  # layer names are constants above
        for path in model_files(layer):
            sql = path.read_text(encoding="utf-8")
            used = {name: params[name] for name in sorted(set(_PARAM.findall(_strip_comments(sql))))}
            target = f"{layer}.{table_name(path)}"
            # The target is built from a constant layer name and a file name in our package,
            # never from user input; the body's parameters are bound.
            con.execute(f"create or replace table {target} as {sql}", used)  # noqa: S608
            rows[target] = con.sql(f"select count(*) from {target}").fetchall()[0][0]  # noqa: S608
    return rows


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)
    return re.sub(r"--[^\n]*", "", sql)
