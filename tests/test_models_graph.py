"""The model build order comes from the tables each SELECT reads (pipelines.dag), not file names."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import dag, transform


def write_models(root: Path, models: dict[str, str]) -> Path:
    """``{"marts.a": "select ..."}`` -> ``root/marts/a.sql`` for each model."""
    for target, sql in models.items():
        layer, name = target.split(".")
        (root / layer).mkdir(parents=True, exist_ok=True)
        (root / layer / f"{name}.sql").write_text(sql)
    return root


def test_every_real_model_is_built_after_every_model_it_reads() -> None:
    models = transform.plan()
    position = {m.target: i for i, m in enumerate(models)}
    assert len(models) == len(list(transform.MODELS_DIR.glob("*/*.sql")))
    for model in models:
        assert all(position[read] < position[model.target] for read in model.reads), model.target
    # The examples a reader would check by hand: episodes come from exposures, which come from
    # the shifted fills; outcomes from the treatment-episode mart.
    assert position["intermediate.int_fills__shifted"] < position["intermediate.int_exposures"]
    assert position["intermediate.int_exposures"] < position["intermediate.int_episodes"]
    assert position["marts.fct_treatment_episodes"] < position["marts.fct_episode_outcomes"]


def test_model_files_carry_no_order_prefix() -> None:
    assert [p.name for p in transform.MODELS_DIR.glob("*/[0-9]*.sql")] == []


def test_cte_names_are_not_tables_and_sources_are_not_models(tmp_path) -> None:
    root = write_models(tmp_path, {
        "staging.stg_fills": "with fills as (select * from raw.dispenses) select * from fills",
        "marts.fct_a": "with x as (select * from staging.stg_fills) "
                       "select * from x join ref.drugs on true",
    })
    models = {m.target: m for m in dag.plan(root)}
    assert models["staging.stg_fills"].reads == frozenset()
    assert models["staging.stg_fills"].sources == {"raw.dispenses"}
    assert models["marts.fct_a"].reads == {"staging.stg_fills"}
    assert models["marts.fct_a"].sources == {"ref.drugs"}


def test_ties_are_broken_by_layer_then_name_whatever_the_files_are_called(tmp_path) -> None:
    # b and c are independent of each other and both read a; z reads nothing.
    root = write_models(tmp_path, {
        "marts.c": "select * from staging.a", "marts.b": "select * from staging.a",
        "staging.z": "select 1 as one", "staging.a": "select 1 as one",
        "intermediate.y": "select * from staging.z",
    })
    assert [m.target for m in dag.plan(root)] == [
        "staging.a", "staging.z", "intermediate.y", "marts.b", "marts.c"]


def test_a_model_in_a_subquery_or_a_scalar_subquery_is_a_dependency(tmp_path) -> None:
    root = write_models(tmp_path, {
        "staging.a": "select 1 as one", "staging.b": "select 2 as two",
        "marts.m": "select (select count(*) from staging.a) as n from "
                   "(select * from staging.b union all select * from staging.b)",
    })
    assert dag.plan(root)[-1].reads == {"staging.a", "staging.b"}


def test_a_cycle_is_refused_naming_the_models_in_order(tmp_path) -> None:
    root = write_models(tmp_path, {
        "marts.a": "select * from marts.c", "marts.b": "select * from marts.a",
        "marts.c": "select * from marts.b", "marts.ok": "select 1 as one",
    })
    with pytest.raises(dag.ModelGraphError, match=r"cycle: marts\.a -> marts\.b -> marts\.c -> marts\.a"):
        dag.plan(root)


def test_a_model_reading_itself_is_a_cycle(tmp_path) -> None:
    root = write_models(tmp_path, {"marts.a": "select * from marts.a"})
    with pytest.raises(dag.ModelGraphError, match=r"cycle: marts\.a -> marts\.a"):
        dag.plan(root)


def test_a_reference_to_a_missing_model_is_refused_naming_both(tmp_path) -> None:
    root = write_models(tmp_path, {"marts.a": "select * from intermediate.int_nope"})
    with pytest.raises(dag.ModelGraphError,
                       match=r"marts\.a reads intermediate\.int_nope, which is not a model"):
        dag.plan(root)


def test_reading_a_later_layer_a_bare_table_or_another_schema_is_refused(tmp_path) -> None:
    root = write_models(tmp_path, {
        "staging.s": "select * from marts.m", "marts.m": "select 1 as one",
    })
    with pytest.raises(dag.ModelGraphError, match=r"staging\.s reads marts\.m, a later layer"):
        dag.plan(root)
    bare = write_models(tmp_path / "bare", {"marts.m": "select * from patients"})
    with pytest.raises(dag.ModelGraphError, match=r"marts\.m reads patients, which is neither a CTE"):
        dag.plan(bare)
    other = write_models(tmp_path / "other", {"marts.m": "select * from main.patients"})
    with pytest.raises(dag.ModelGraphError, match=r"marts\.m reads main\.patients: main is not"):
        dag.plan(other)


def test_every_problem_is_listed_at_once(tmp_path) -> None:
    root = write_models(tmp_path, {
        "marts.a": "select * from marts.missing_one", "marts.b": "select * from staging.missing_two",
    })
    with pytest.raises(dag.ModelGraphError) as caught:
        dag.plan(root)
    assert len(caught.value.problems) == 2
    assert "marts.missing_one" in str(caught.value) and "staging.missing_two" in str(caught.value)


def test_a_file_that_is_not_one_select_is_refused_naming_it(tmp_path) -> None:
    root = write_models(tmp_path, {"marts.a": "select from where", "marts.b": "select 1; select 2"})
    with pytest.raises(dag.ModelGraphError) as caught:
        dag.plan(root)
    assert "marts.a (a.sql) is not one SELECT" in str(caught.value)
    assert "marts.b (b.sql) is not one SELECT" in str(caught.value)


def test_nothing_is_built_when_the_graph_is_refused(tmp_path, monkeypatch) -> None:
    root = write_models(tmp_path, {
        "staging.fine": "select 1 as one",  # would run first if the runner did not check first
        "marts.a": "select * from marts.b", "marts.b": "select * from marts.a",
    })
    monkeypatch.setattr(transform, "MODELS_DIR", root)
    con = duckdb.connect(":memory:")
    with pytest.raises(dag.ModelGraphError, match="cycle"):
        transform.build_models(con, {})
    assert con.sql("select count(*) from information_schema.tables").fetchall() == [(0,)]
    con.close()


def test_a_refused_graph_fails_the_load_and_publishes_nothing(tmp_path, monkeypatch) -> None:
    from pipelines.ingest import ingest

    good = Path(__file__).parent / "fixtures" / "ingest" / "good"
    monkeypatch.setattr(transform, "MODELS_DIR", write_models(tmp_path / "models", {
        "marts.a": "select * from marts.gone"}))
    db = tmp_path / "o.duckdb"
    with pytest.raises(dag.ModelGraphError, match=r"marts\.a reads marts\.gone"):
        ingest(good, db)
    assert not db.exists()
