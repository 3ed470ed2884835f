"""The audit runner (pipelines.audits.run) on hand-made tables: audits that are a condition on
one table are counted together in one scan, with the same counts as one query each, and two
metric variants sharing their SQL but not their constants each audit their own unit rows."""

from __future__ import annotations

import duckdb

from pipelines.audit_rule import Audit
from pipelines.audits import run


def _audit(name: str, sql: str, **extra: object) -> Audit:
    return Audit(name=name, severity="error", model="marts.t", category="completeness",
                 description=name, sql=sql, origin="test", **extra)  # type: ignore[arg-type]


def _warehouse() -> duckdb.DuckDBPyConnection:
    """marts.t: ids 1, 2, 2, NULL with scores 5, 50, 7, NULL."""
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    con.execute("create table marts.t as select * from (values (1, 5), (2, 50), (2, 7), "
                "(null, null)) v(id, score)")
    return con


def test_conditions_on_one_table_are_counted_as_their_own_queries_count() -> None:
    # id is null: 1 row (the fourth); score > 10: 1 row (50); score < 0: none.
    # The unique-key audit is not a condition: id 2 is held twice, one offending key.
    audits = [
        _audit("a_not_null", "select * from marts.t\nwhere id is null",
               scan=("marts.t", "id is null")),
        _audit("b_range", "select * from marts.t\nwhere score > 10",
               scan=("marts.t", "score > 10")),
        _audit("c_negative", "select * from marts.t\nwhere score < 0",
               scan=("marts.t", "score < 0")),
        _audit("d_unique", "select id from marts.t group by id having count(*) > 1"),
    ]
    results = run(_warehouse(), audits, {}, ["marts.t"])
    assert [(r.audit.name, r.offending_rows, r.status) for r in results] == [
        ("a_not_null", 1, "fail"), ("b_range", 1, "fail"), ("c_negative", 0, "pass"),
        ("d_unique", 1, "fail")]


def test_an_audit_of_a_model_not_built_is_skipped() -> None:
    audits = [_audit("gone", "select * from marts.gone\nwhere x is null",
                     scan=("marts.gone", "x is null"))]
    assert [(r.offending_rows, r.status) for r in run(_warehouse(), audits, {}, ["marts.t"])] == [
        (None, "skipped")]


def test_variants_sharing_their_sql_audit_their_own_unit_rows() -> None:
    # The unit rows are the scores above $floor. Variant "low" (floor 6): 50 and 7; its audit
    # counts units below 6: none. Variant "high" (floor 40): 50 alone; its audit counts units
    # below 45: none. Read through the low variant's rows (50, 7), it would count 7: one.
    shared = ("units", "select score from marts.t where score > $floor")
    audits = [
        _audit("metric__v_low__check", "select * from units\nwhere score < 6",
               shared=shared, params=(("floor", 6),), scan=("units", "score < 6")),
        _audit("metric__v_high__check", "select * from units\nwhere score < 45",
               shared=shared, params=(("floor", 40),), scan=("units", "score < 45")),
    ]
    results = run(_warehouse(), audits, {}, ["marts.t"])
    assert [(r.audit.name, r.offending_rows) for r in results] == [
        ("metric__v_low__check", 0), ("metric__v_high__check", 0)]
