"""The portability check (issue #20): every model and metric compiles to Spark SQL, and a file
with a construct the compile step cannot carry is refused, naming the file, line and construct.

Needs sqlglot (the ``spark`` extra), not Spark itself: the results on Spark are
tests/test_spark_parity.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sqlglot", reason="the spark extra (pip install -e .[spark]) is not installed")

from pipelines.portability import check, compile
from pipelines.query_filters import EPISODE_UNIT_COLUMNS


def test_every_model_and_metric_can_be_carried_to_spark() -> None:
    assert check.check_all() == []


def test_the_check_reads_every_model_and_every_metric_variant() -> None:
    paths = {path for path, _ in check.statements()}
    assert compile.MODELS_DIR / "marts" / "fct_adherence_pdc.sql" in paths
    assert check.QUERIES_DIR / "measures" / "amm.sql" in paths


def test_the_check_reads_every_audit_of_a_build() -> None:
    from pipelines.audits import AUDITS_DIR

    origins = {path for path, _, _ in check.audit_statements()}
    assert AUDITS_DIR / "episode_ends_before_start.sql" in origins  # an audit file
    assert compile.MODELS_DIR / "marts" / "fct_treatment_episodes.sql" in origins  # its key
    assert check.QUERIES_DIR / "adherence" / "adherence.sql" in origins  # a metric's tests


def test_a_planted_untranslatable_audit_is_refused_with_file_line_and_construct(
        tmp_path: Path) -> None:
    from pipelines.audits import audit_files

    planted = tmp_path / "fill_after_stay.sql"
    planted.write_text(
        "/* ---\nname: fill_after_stay\nseverity: error\nmodel: staging.stg_dispenses\n"
        "category: plausibility (temporal)\ndescription: a planted audit with an ASOF join\n"
        "--- */\nselect fills.patient_id\nfrom staging.stg_dispenses as fills\n"
        "asof join staging.stg_visits as stays\n"
        "    on fills.patient_id = stays.patient_id and fills.filled_on >= stays.visit_on\n",
        encoding="utf-8")
    found = check.audit_problems(audit_files(tmp_path))
    assert len(found) == 1
    assert found[0].startswith(f"{planted}:10: ASOF join")
    assert found[0].endswith("(audit fill_after_stay)")


def test_a_planted_untranslatable_file_is_refused_with_file_line_and_construct(tmp_path: Path) -> None:
    planted = tmp_path / "fct_planted.sql"
    planted.write_text(
        "-- an ASOF join in a comment is not a construct\n"
        "select fills.patient_id, stays.stay_start_on\n"
        "from staging.stg_dispenses as fills\n"
        "asof left join staging.stg_visits as stays\n"
        "    on fills.patient_id = stays.patient_id and fills.filled_on >= stays.visit_on\n",
        encoding="utf-8")
    found = check.problems(planted, planted.read_text(encoding="utf-8"))
    assert len(found) == 1
    assert found[0].startswith(f"{planted}:4: ASOF join")


def test_an_unknown_function_is_refused_on_its_line(tmp_path: Path) -> None:
    planted = tmp_path / "planted.sql"
    planted.write_text("select\n    patient_id,\n    bitstring_agg(day, 1, 366) as days\nfrom t\n",
                       encoding="utf-8")
    found = check.problems(planted, planted.read_text(encoding="utf-8"))
    assert found == [f"{planted}:3: function bitstring_agg(): not a Spark function the compile "
                     "step knows (SPARK_FUNCTIONS)"]


def test_star_replace_and_a_framed_lag_are_refused(tmp_path: Path) -> None:
    planted = tmp_path / "planted.sql"
    planted.write_text(
        "select * replace (1 as a), lag(b) over running as previous\n"
        "from t window running as (order by b rows between unbounded preceding and current row)\n",
        encoding="utf-8")
    found = check.problems(planted, planted.read_text(encoding="utf-8"))
    assert [f.split(": ")[1] for f in found] == ["* replace", "lag over a window frame"]


@pytest.mark.parametrize(("duckdb_sql", "spark_sql"), [
    # a date minus a date is a number of days in DuckDB, an interval in Spark
    ("select visit_on - date '2024-01-01' from t",
     "SELECT DATEDIFF(visit_on, CAST('2024-01-01' AS DATE)) FROM t"),
    # a date minus days stays a date
    ("select visit_on - 3 from t", "SELECT visit_on - 3 FROM t"),
    ("select list_has_any(groups, ['a']) from t", "SELECT ARRAYS_OVERLAP(groups, ARRAY('a')) FROM t"),
    ("select len(string_split(regimen, '+')) from t", "SELECT SIZE(SPLIT(regimen, CONCAT('\\\\Q', '+', '\\\\E'))) FROM t"),
    ("select d - interval (n % 4) month from t", "SELECT d - MAKE_YM_INTERVAL(0, (n % 4)) FROM t"),
    ("with x as not materialized (select 1 as a) select a from x",
     "WITH x AS (SELECT 1 AS a) SELECT a FROM x"),
    ("select bit_count(bitstring_agg(dayofyear(filled_on), 1, 366)) from t",
     "SELECT COUNT(DISTINCT DAYOFYEAR(filled_on)) FROM t"),
    ("select a / b from t", "SELECT CAST(a AS DOUBLE) / b FROM t"),
    ("select a from t qualify row_number() over (order by a) = 1",
     "SELECT a FROM t QUALIFY ROW_NUMBER() OVER (ORDER BY a NULLS LAST) = 1"),
    ("select a from t where site_id = $site_id", "SELECT a FROM t WHERE site_id = :site_id"),
    # DuckDB's format is null when an argument is; Spark's format_string is printf-style
    ("select format('day {} of {}%', visit_on - start_on, n) from t",
     "SELECT ('day ' || CAST(DATEDIFF(visit_on, start_on) AS STRING) || ' of ' || CAST(n AS STRING)"
     " || '%') FROM t"),
    # a date expression's alias is a date where the statement refers to it
    ("with p as (select greatest(a_on, b_on) as since from t) select c_on - since from p",
     "WITH p AS (SELECT GREATEST(a_on, b_on) AS since FROM t) SELECT DATEDIFF(c_on, since) FROM p"),
    ("with p as (select a, b from t), q as (select b, a from u) "
     "select * from p union all by name select * from q",
     "WITH p AS (SELECT a, b FROM t), q AS (SELECT b, a FROM u) "
     "SELECT a, b FROM p UNION ALL SELECT a, b FROM q"),
    ("select r.a, parts.c from r cross join unnest(string_split(r.a, '+')) as parts (c) "
     "inner join d on parts.c = d.c",
     "SELECT r.a, parts.c FROM r CROSS JOIN LATERAL EXPLODE(SPLIT(r.a, CONCAT('\\\\Q', '+', '\\\\E')))"
     " AS parts(c) INNER JOIN d ON parts.c = d.c"),
    ("with u as (select b, a, x from t) select columns(lambda c: list_contains(['a', 'b'], c)) "
     "from u", "WITH u AS (SELECT b, a, x FROM t) SELECT b, a FROM u"),
    ("select quantile_cont(change, 0.25) from t", "SELECT PERCENTILE(change, 0.25) FROM t"),
    # DuckDB's range stops before its end and is empty when start >= stop; Spark's sequence
    # includes its end and refuses an end before its start
    ("select unnest(range(a_on, b_on, interval 1 day)) from t",
     "SELECT EXPLODE(CASE WHEN a_on < b_on THEN SEQUENCE(a_on, (b_on) - 1, INTERVAL '1' DAY) "
     "ELSE ARRAY() END) FROM t"),
    ("select cast(unnest(xs) as date) from t",
     "SELECT EXPLODE(TRANSFORM(xs, unnested_value -> CAST(unnested_value AS DATE))) FROM t"),
    # Spark 4.3's ordered listagg fails beside other distinct aggregates: the filter moves into
    # the value, and a string_agg ordered by its own value joins a sorted collect_set (distinct)
    # or collect_list, null when nothing is left, reversed for desc
    ("select string_agg(distinct d, '+' order by d) filter (where k = 1) from t",
     "SELECT CASE WHEN SIZE(COLLECT_SET(CASE WHEN k = 1 THEN d END)) > 0 THEN ARRAY_JOIN("
     "TRANSFORM(ARRAY_SORT(COLLECT_SET(CASE WHEN k = 1 THEN d END)), joined_value -> "
     "CAST(joined_value AS STRING)), '+') END FROM t"),
    ("select string_agg(m, ' or ' order by m desc) from t",
     "SELECT CASE WHEN SIZE(COLLECT_LIST(m)) > 0 THEN ARRAY_JOIN(TRANSFORM(REVERSE(ARRAY_SORT("
     "COLLECT_LIST(m))), joined_value -> CAST(joined_value AS STRING)), ' or ') END FROM t"),
    # ordered by another column: left to Spark's listagg
    ("select string_agg(x, ',' order by y) from t",
     "SELECT LISTAGG(x, ',') WITHIN GROUP (ORDER BY y NULLS LAST) FROM t"),
    # group by () (a one-row model's key audit) is the one group of an aggregate select;
    # group by all stays
    ("select count(*) as n from t group by () having count(*) > 1",
     "SELECT COUNT(*) AS n FROM t HAVING COUNT(*) > 1"),
    ("select a, count(*) from t group by all", "SELECT a, COUNT(*) FROM t GROUP BY ALL"),
    # DuckDB's md5_number_lower: the digest's last 8 bytes, little-endian, unsigned
    ("select md5_number_lower(s)::hugeint from t",
     "SELECT CAST(CAST(CONV(ARRAY_JOIN(REVERSE(REGEXP_EXTRACT_ALL(SUBSTR(MD5(s), 17, 16), '..', 0)),"
     " ''), 16, 10) AS DECIMAL(20, 0)) AS DECIMAL(38, 0)) FROM t"),
    ("select unnest($ranges, recursive := true)", "SELECT INLINE(:ranges)"),
    ("select k, (select max(v) from s where s.k = t.k) as m from t group by k",
     "SELECT k, (SELECT MAX(v) FROM s WHERE s.k = t.k) AS m FROM t "
     "GROUP BY k, (SELECT MAX(v) FROM s WHERE s.k = t.k)"),
])
def test_each_rewrite(duckdb_sql: str, spark_sql: str) -> None:
    assert compile.to_spark(duckdb_sql) == spark_sql


def test_a_macro_is_expanded_with_its_arguments() -> None:
    # adherence_band(pdc, threshold) from pipelines/models/macros.sql, the arguments in place
    compiled = compile.to_spark("select adherence_band(covered / days, $pdc_threshold) from t")
    assert "adherence_band" not in compiled.lower()
    assert "WHEN (CAST(covered AS DOUBLE) / days) >= (:pdc_threshold) THEN '>=' ||" in compiled


def test_the_episode_unit_struct_is_unnested_into_the_aliased_columns() -> None:
    # unnest(episode_unit_columns(alias)) stands for alias.<c> for every c of the one Python list
    compiled = compile.to_spark("select episode_id, unnest(episode_unit_columns(eps)), is_event "
                                "from eps")
    listed = ", ".join(f"eps.{name}" for name in EPISODE_UNIT_COLUMNS)
    assert compiled == "SELECT episode_id, " + listed + ", is_event FROM eps"  # noqa: S608 - an expected string
    assert "eps.patient_id" in listed and "eps.adherence_band" in listed


def test_a_struct_macro_unnested_in_a_select_list_becomes_one_column_per_field() -> None:
    # patient_year_unit_columns(patients, prescriber, measurement_year) (macros.sql) returns a
    # struct of six fields; DuckDB's unnest() of it in a select list gives six columns, and
    # Spark's explode takes no struct: the compile step lists the fields, each under its name,
    # with the row parameters bound to the query's own aliases (p and pr here)
    compiled = compile.to_spark("select unit_id, unnest(patient_year_unit_columns(p, pr, yr)) "
                                "from units as p join spans as pr on true")
    assert "explode" not in compiled.lower() and "patients." not in compiled
    assert compiled.startswith("SELECT unit_id, COALESCE(pr.site_id, p.site_id, 'unknown') AS site_id, "
                               "COALESCE(pr.clinician_id, 'unknown') AS clinician_id, "
                               "p.diagnosis_group AS diagnosis_group, ")
    assert compiled.endswith("AS age_band, p.sex AS sex, 'not applicable' AS severity_band "
                             "FROM units AS p JOIN spans AS pr ON TRUE")


def test_a_failed_audit_on_spark_names_the_audit_and_its_count_and_the_warehouse_left_as_it_was(
        tmp_path: Path) -> None:
    from pipelines.audit_rule import Audit
    from pipelines.audits import AuditResult
    from pipelines.portability.spark_audits import SparkAuditError

    audit = Audit(name="episode_ends_before_start", severity="error",
                  model="marts.fct_treatment_episodes", category="plausibility (temporal)",
                  description="d", sql="select 'P000123' as patient_id", origin="planted.sql")
    error = SparkAuditError([AuditResult(audit, 3, "fail")], tmp_path)
    assert str(error) == ("1 error-level audit(s) failed (episode_ends_before_start on "
                          "marts.fct_treatment_episodes: 3 offending rows); the build is refused "
                          f"and the warehouse at {tmp_path} is left as it was")
    assert error.exit_status == 1
