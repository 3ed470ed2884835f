"""queries.aggregate drops a metric file's final ORDER BY before aggregating its unit rows (the sort
is meaningless under GROUP BY but DuckDB still performs it); anything else is left as written."""

from __future__ import annotations

import duckdb
import pytest

from queries.aggregate import unit_rows


@pytest.mark.parametrize(("sql", "expected"), [
    ("select * from final\norder by episode_id\n", "select * from final\n"),
    ("select * from final order by a desc, b.c nulls first;", "select * from final "),
    ("select * from final\n    order by patient_id, drug_class , year  ", "select * from final\n    "),
])
def test_a_trailing_order_by_of_columns_is_dropped(sql, expected):
    assert unit_rows(sql) == expected


@pytest.mark.parametrize("sql", [
    "select * from final order by episode_id limit 10",  # the limit depends on the order
    "select sum(x) over (partition by p order by d) as s from t",  # a window, not the query's
    "select * from t order by abs(x)",  # an expression: not recognised, kept
    "select * from t order by x -- sorted for readers",  # ends in a comment: kept
    "select * from t",
])
def test_anything_else_is_kept_as_written(sql):
    assert unit_rows(sql) == sql.rstrip()


def test_counts_are_the_same_without_the_sort():
    con = duckdb.connect()
    sql = "select x % 3 as g, x from range(100) t(x)\norder by x desc"
    grouped = "with units as ({}) select g, count(*), sum(x) from units group by g order by g"
    assert con.sql(grouped.format(unit_rows(sql))).fetchall() == con.sql(grouped.format(sql)).fetchall()
