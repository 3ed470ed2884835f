"""Every model's header states its built table's columns exactly: names and types, with the
columns it takes from another model's header (``columns_from``, pipelines/model_columns.py)
expanded. A header that names a column the SQL does not return, misses one it returns, or gives
another type fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import dag, transform
from pipelines.model_columns import declared_columns

MODELS = transform.plan()
DECLARED = declared_columns(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.target)
def test_declared_columns_are_the_built_tables_columns(model: dag.Model, warehouse) -> None:  # type: ignore[no-untyped-def]
    built = warehouse.sql(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = $layer and table_name = $name order by ordinal_position",
        params={"layer": model.layer, "name": model.name}).fetchall()
    declared = {name: str((spec or {}).get("type", "")).upper() for name, spec in DECLARED[model.name].items()}
    assert declared == dict(built)


def _model(tmp_path: Path, name: str, header: str) -> dag.Model:
    sql = f"/* ---\nname: {name}\n{header}\n--- */\nselect 1 as x\n"
    path = tmp_path / f"{name}.sql"
    path.write_text(sql, encoding="utf-8")
    return dag.Model(layer="marts", name=name, path=path, sql=sql, reads=frozenset(), sources=frozenset())


def test_columns_from_puts_the_named_models_columns_first_then_its_own(tmp_path: Path) -> None:
    upstream = _model(tmp_path, "up", "columns:\n  a: {type: varchar}\n  b: {type: date}\n  c: {type: integer}")
    whole = _model(tmp_path, "whole", "columns_from: up\ncolumns:\n  d: {type: double}")
    some = _model(tmp_path, "some", "columns_from: {model: up, only: [c, a]}\ncolumns: {}")
    but = _model(tmp_path, "but", "columns_from: {model: whole, except: [b]}\ncolumns:\n  e: {type: boolean}")
    found = declared_columns([upstream, whole, some, but])
    assert list(found["whole"]) == ["a", "b", "c", "d"]
    assert list(found["some"]) == ["c", "a"]  # in the order listed
    assert list(found["but"]) == ["a", "c", "d", "e"]  # through whole, which takes all of up
    assert found["but"]["c"] == {"type": "integer"}


def test_columns_from_an_unknown_model_or_column_is_refused(tmp_path: Path) -> None:
    upstream = _model(tmp_path, "up", "columns:\n  a: {type: varchar}")
    with pytest.raises(ValueError, match="is not another model"):
        declared_columns([upstream, _model(tmp_path, "x", "columns_from: nowhere\ncolumns: {}")])
    with pytest.raises(ValueError, match="has no columns"):
        declared_columns([upstream, _model(tmp_path, "y", "columns_from: {model: up, only: [z]}\ncolumns: {}")])
