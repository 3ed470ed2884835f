"""The data's date range spans every dated table, and PDC keeps fills after the last visit.

The range (``meta.deployment`` data_start/data_end, then ``marts.data_coverage``) ends the PDC
measurement period early when the data ends before 31 December (``period_end_on = least(31 Dec,
data end)``) and drops fills dated after it. It used to come from visits, prescriptions and
assessments only, so a clinic whose last fills followed its last visit lost them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import REPO

from pipelines.ingest import ingest
from pipelines.meta import EVENT_DATE_COLUMNS

GOOD = REPO / "tests" / "fixtures" / "ingest" / "good"
STG_DATA_COVERAGE = REPO / "pipelines" / "models" / "staging" / "stg_data_coverage.sql"
#: the latest event date in the ``good`` extract (a visit, a PHQ-9 and a side effect on 1 March)
GOOD_DATA_END = dt.date(2024, 3, 1)
#: a row for each dated table, dated 2024-09-30, after everything else in the ``good`` extract
LATE_ROWS = {
    "visits": "V900,P001,2024-09-30,C1,S1,follow_up,",
    "diagnoses": "P001,2024-09-30,F32.1,",
    "prescriptions": "RX900,P001,sertraline,2024-09-30,,50,30,30,0,C1,",
    "dispenses": "D900,P001,sertraline 50 mg,2024-09-30,30,30",
    "assessments": "A900,P001,2024-09-30,PHQ-9,5,0",
    "side_effects": "SE900,P001,2024-09-30,nausea_gi,mild,sertraline,none",
    "measurements": "M900,P001,2024-09-30,weight_kg,70",
}


def _extract_with(tmp_path: Path, table: str, *rows: str) -> Path:
    extract = tmp_path / "extract"
    shutil.copytree(GOOD, extract)
    with (extract / f"{table}.csv").open("a", encoding="utf-8") as handle:
        handle.writelines(row + "\n" for row in rows)
    return extract


def _deployment_range(db: Path) -> tuple[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        values = dict(con.sql("select key, value from meta.deployment").fetchall())
    finally:
        con.close()
    return values["data_start"], values["data_end"]


def test_the_staging_model_reads_the_range_the_load_recorded_and_lists_no_dated_column():
    # one list of dated columns (pipelines.meta.EVENT_DATE_COLUMNS): the model reads the load's
    # record and names no raw table, so a second list cannot drift from the first
    body = re.sub(r"/\*.*?\*/", "", STG_DATA_COVERAGE.read_text(), flags=re.S)
    body = re.sub(r"--[^\n]*", "", body)
    assert "raw." not in body
    assert not set(EVENT_DATE_COLUMNS.values()) & set(re.findall(r"\w+", body))


@pytest.mark.parametrize("table", ["measurements", "side_effects"])
def test_the_data_coverage_mart_ends_on_the_late_event(tmp_path, table):
    # a row dated 30 September 2024 in a table the visits never see ends the data there, in the
    # load's record and in the mart the dashboard's periods read
    extract = _extract_with(tmp_path, table, LATE_ROWS[table])
    summary = ingest(extract, tmp_path / "o.duckdb")
    assert summary.status == "ok", summary
    con = duckdb.connect(str(tmp_path / "o.duckdb"), read_only=True)
    try:
        row = con.sql("select data_start_on, data_end_on, data_end_source "
                      "from marts.data_coverage").fetchall()
    finally:
        con.close()
    assert row == [(dt.date(2024, 1, 10), dt.date(2024, 9, 30), "deployment")]


def test_every_row_of_the_late_rows_is_the_table_the_test_means():
    assert set(LATE_ROWS) == set(EVENT_DATE_COLUMNS)


@pytest.mark.parametrize("table", sorted(LATE_ROWS))
def test_a_late_event_in_any_dated_table_extends_the_data_end(tmp_path, table):
    # the good extract ends on 1 March 2024; one row dated 30 September 2024 in this table alone
    # makes 30 September the data end
    extract = _extract_with(tmp_path, table, LATE_ROWS[table])
    summary = ingest(extract, tmp_path / "o.duckdb", run_models=False)
    assert summary.status == "ok", summary
    assert _deployment_range(tmp_path / "o.duckdb") == ("2024-01-10", "2024-09-30")


def test_without_late_rows_the_good_extract_ends_on_its_last_visit(tmp_path):
    summary = ingest(GOOD, tmp_path / "o.duckdb", run_models=False)
    assert summary.status == "ok", summary
    assert _deployment_range(tmp_path / "o.duckdb")[1] == GOOD_DATA_END.isoformat()


def test_pdc_for_a_year_whose_last_fills_follow_the_last_visit(tmp_path):
    # P001's last visit and score are on 1 March 2024. Sertraline 30-day fills:
    #   11 Jan (covers 11 Jan - 9 Feb), 10 Feb (10 Feb - 10 Mar; no overlap, no shift),
    #   1 May (1 May - 30 May) and 15 Jun (15 Jun - 14 Jul), the last two after the last visit.
    # The last event of the extract is the 15 June fill, so the data end and the 2024 period end
    # are 15 June 2024 (least(31 Dec, data end)). PQA (DOMAIN 5.1):
    #   index = 11 Jan (>= 2 fill dates; 15 Jun - 11 Jan = 156 >= 91 days, evaluable)
    #   denominator = 11 Jan .. 15 Jun inclusive = day-of-year 167 - 11 + 1 = 157 days
    #   covered = 30 + 30 + 30 + 1 (the 15 June fill truncated to the period end) = 91 days
    #   PDC = 91 / 157
    # With the range from visits, prescriptions and assessments only, the data ended on 1 March:
    # the May and June fills were dropped and the index fell 50 days before the period end.
    extract = _extract_with(tmp_path, "dispenses",
                            "D004,P001,sertraline 50 mg,2024-05-01,30,30",
                            "D005,P001,sertraline 50 mg,2024-06-15,30,30")
    summary = ingest(extract, tmp_path / "o.duckdb")
    assert summary.status == "ok", summary
    con = duckdb.connect(str(tmp_path / "o.duckdb"), read_only=True)
    try:
        (data_end,) = con.sql("select data_end_on from marts.data_coverage").fetchall()[0]
        row = con.sql(
            "select index_on, period_end_on, fills, covered_days, denominator_days, pdc, "
            "not_evaluable_reason from marts.fct_adherence_pdc where patient_id = 'P001' "
            "and level = 'ingredient' and drug = 'sertraline' and measurement_year = 2024"
        ).fetchall()
    finally:
        con.close()
    assert data_end == dt.date(2024, 6, 15)
    assert row == [(dt.date(2024, 1, 11), dt.date(2024, 6, 15), 4, 91, 157, 91 / 157, None)]
