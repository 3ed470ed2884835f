"""Audits at every build (pipelines.audits): an injected inconsistency refuses the load, naming the
audit and counting its rows, and the previous warehouse stays live, byte for byte."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

import queries
from cli.main import main
from pipelines import audits, transform
from pipelines.audits import AuditError
from pipelines.ingest import ingest

GOOD = Path(__file__).parent / "fixtures" / "ingest" / "good"
_HEADER = re.compile(r"\A/\* ---\n.*?\n--- \*/\n", re.S)


@pytest.fixture()
def extract(tmp_path: Path) -> Path:
    """The small good extract plus a visit of P001 on 2024-06-30, so the data end (the latest
    event) is 2024-06-30 and P001's sertraline is evaluable for PDC: fills on 2024-01-11 and
    2024-02-10 (30 days each, two distinct dates), index 2024-01-11, 171 days before the period
    end (>= 91). Covered days 30 + 30 = 60; denominator 2024-01-11..2024-06-30 = 172 days;
    PDC 60/172 = 0.349. P002 (one fill date) is not evaluable; P003's drug is unmapped."""
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    with (folder / "visits.csv").open("a") as visits:
        visits.write("V005,P001,2024-06-30,C1,S1,follow_up,\n")
    return folder


def inject(tmp_path: Path, replace: str = "", union: str = "",
           mart: str = "fct_adherence_pdc") -> Path:
    """A copy of the real models whose ``mart`` is the real one with a column replaced
    (``replace``, a DuckDB ``* replace`` item) or extra rows appended (``union``, a condition
    on the real rows, which are added a second time)."""
    models = tmp_path / "models"
    shutil.copytree(transform.MODELS_DIR, models)
    path = models / "marts" / f"{mart}.sql"
    text = path.read_text(encoding="utf-8")
    header = _HEADER.match(text).group(0)
    body = text[len(header):]
    # a test fixture: the SQL is the real model wrapped, written to a temporary model file
    sql = f"select * {f'replace ({replace})' if replace else ''} from (\n{body}\n) as real_rows"  # noqa: S608
    if union:
        sql += f"\nunion all\nselect * from (\n{body}\n) as again where {union}"
    path.write_text(header + sql, encoding="utf-8")
    return models


def test_the_fixture_story_holds_on_the_real_models(extract: Path, tmp_path: Path) -> None:
    db = tmp_path / "o.duckdb"
    ingest(extract, db)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.sql("select level, covered_days, denominator_days from marts.fct_adherence_pdc "
                   "where patient_id = 'P001' order by level").fetchall()
    con.close()
    assert rows == [("class", 60, 172), ("ingredient", 60, 172)]


def test_a_numerator_above_its_denominator_refuses_the_load_and_the_old_warehouse_answers(
        extract: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "o.duckdb"
    ingest(extract, db)
    before = db.read_bytes()
    # A model bug: each evaluable row counts one day more than its denominator. The evaluable
    # rows are P001's sertraline (ingredient) and antidepressant (class) rows: 2 offenders.
    monkeypatch.setattr(transform, "MODELS_DIR", inject(
        tmp_path, replace="case when covered_days is not null then denominator_days + 1 end "
                          "as covered_days"))
    with pytest.raises(AuditError) as refused:
        ingest(extract, db)
    message = str(refused.value)
    assert ("adherence_covered_days_within_denominator on marts.fct_adherence_pdc: "
            "2 offending rows") in message
    assert "1 error-level audit(s) failed" in message
    assert "P001" not in message  # counts, never the offending values
    assert db.read_bytes() == before
    assert not db.with_name(db.name + ".tmp").exists()
    # The live warehouse still answers: P001's class row is the one evaluable unit, at 60/172.
    con = duckdb.connect(str(db), read_only=True)
    result = queries.metric(con, "adherence", min_cell=0).frame.row(0, named=True)
    con.close()
    assert (result["numerator"], result["denominator"]) == (0, 1)


def test_a_pdc_above_one_fails_the_range_audit(extract: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "o.duckdb"
    ingest(extract, db)
    before = db.read_bytes()
    # 3 x 60/172 = 1.047 > 1 on P001's two evaluable rows; the others have no PDC.
    monkeypatch.setattr(transform, "MODELS_DIR", inject(tmp_path, replace="pdc * 3 as pdc"))
    with pytest.raises(AuditError) as refused:
        ingest(extract, db)
    failed = {r.audit.name: r.offending_rows for r in refused.value.failed}
    assert failed["fct_adherence_pdc__pdc_range"] == 2
    assert failed["adherence_covered_days_within_denominator"] == 2  # pdc is not covered/denominator
    # the adherence metric reads the class level: P001's antidepressant row
    assert failed["metric__adherence__pdc_between_0_and_1"] == 1
    assert db.read_bytes() == before


def test_a_duplicate_key_fails_the_key_audit_without_showing_the_key(
        extract: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "o.duckdb"
    # P002's class row appears twice: one key held by two rows.
    monkeypatch.setattr(transform, "MODELS_DIR", inject(
        tmp_path, union="patient_id = 'P002' and level = 'class'"))
    with pytest.raises(AuditError) as refused:
        ingest(extract, db)
    failed = {r.audit.name: r.offending_rows for r in refused.value.failed}
    assert failed["fct_adherence_pdc__key_unique"] == 1
    assert "P002" not in str(refused.value)
    assert not db.exists()  # there was no warehouse; none is published


def test_a_mart_flag_that_disagrees_with_the_metric_fails_the_total_audit(
        extract: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The mart marks no episode eligible, while P001's sertraline episode has a PHQ-9 baseline of
    # 18 (>= 10) the day before it starts: response and remission, which apply the threshold to
    # the baseline score themselves, count 1 eligible episode; the mart's count is 0.
    monkeypatch.setattr(transform, "MODELS_DIR", inject(
        tmp_path, mart="fct_episode_outcomes", replace="false as is_eligible"))
    with pytest.raises(AuditError) as refused:
        ingest(extract, tmp_path / "o.duckdb")
    failed = {r.audit.name: r.offending_rows for r in refused.value.failed}
    assert failed["metric__response__total_equals_mart"] == 1
    assert failed["metric__remission__total_equals_mart"] == 1


def test_the_cli_names_the_audit_and_the_count(extract: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(transform, "MODELS_DIR", inject(tmp_path, replace="pdc * 3 as pdc"))
    code = main(["ingest", str(extract), "--db", str(tmp_path / "o.duckdb")])
    err = capsys.readouterr().err
    assert code != 0
    assert "fct_adherence_pdc__pdc_range on marts.fct_adherence_pdc: 2 offending rows" in err
    assert "not changed" in err


def test_a_warn_audit_is_recorded_with_the_load_and_does_not_stop_it(tmp_path: Path) -> None:
    db = tmp_path / "o.duckdb"
    summary = ingest(GOOD, db)  # P004 is in patients.csv but has no row in visits.csv
    con = duckdb.connect(str(db), read_only=True)
    rows = con.sql("select load_id, severity, offending_rows, status from meta.audit_results "
                   "where audit = 'patient_without_visit'").fetchall()
    errors = con.sql("select count(*) from meta.audit_results where severity = 'error' "
                     "and status <> 'pass'").fetchall()
    con.close()
    assert rows == [(summary.load_id, "warn", 1, "fail")]
    assert errors == [(0,)]


def test_the_load_summary_lists_the_warnings(tmp_path: Path, capsys) -> None:
    code = main(["ingest", str(GOOD), "--db", str(tmp_path / "o.duckdb")])
    err = capsys.readouterr().err
    assert code == 0
    assert "every error-level audit passed, 1 warning(s)" in err
    assert "warn  patient_without_visit on marts.dim_patients: 1 row(s)" in err


def test_the_sample_clinic_passes_every_error_audit_and_none_is_skipped(warehouse) -> None:  # type: ignore[no-untyped-def]
    expected = {a.name for a in audits.collect(transform.plan())}
    rows = warehouse.sql("select audit, severity, status from meta.audit_results").fetchall()
    assert {name for name, _, _ in rows} == expected
    assert [r for r in rows if r[1] == "error" and r[2] != "pass"] == []
    assert [r for r in rows if r[2] == "skipped"] == []


def test_the_rules_the_issue_names_are_all_audited() -> None:
    names = {a.name for a in audits.collect(transform.plan())}
    marts = [m for m in transform.plan() if m.layer == "marts"]
    # keys unique and not null for every mart
    assert all(f"{m.name}__key_unique" in names for m in marts)
    assert all(f"{m.name}__key_not_null" in names for m in marts if m.name != "data_coverage")
    # PDC and rates in [0, 1]; numerators within denominators; temporal and relational rules
    assert {"fct_adherence_pdc__pdc_range", "fct_treatment_episodes__pdc_84_range",
            "adherence_covered_days_within_denominator", "episode_ends_before_start",
            "episode_drug_without_class", "score_outside_instrument_range",
            "metric__response__responders_within_eligible"} <= names
    # every metric's header invariants, and the total of every aggregated metric over a mart
    # (the HEDIS-style measures build their units in several steps; see docs/audits.md)
    for query in queries.catalog().values():
        if query.tests.get("unique"):
            assert f"metric__{query.name}__unique" in names
        if query.kind != "table" and query.domain != "measures":
            assert f"metric__{query.name}__total_equals_mart" in names, query.name


def test_an_audit_file_needs_a_full_header_and_a_kahn_category(tmp_path: Path) -> None:
    (tmp_path / "x.sql").write_text("/* ---\nname: x\nseverity: error\nmodel: marts.m\n--- */\n"
                                    "select 1")
    with pytest.raises(ValueError, match=r"x\.sql: audit header lacks category, description"):
        audits.audit_files(tmp_path)
    (tmp_path / "x.sql").write_text("/* ---\nname: x\nseverity: fatal\nmodel: marts.m\n"
                                    "category: completeness\ndescription: d\n--- */\nselect 1")
    with pytest.raises(ValueError, match="severity must be error or warn"):
        audits.audit_files(tmp_path)
    (tmp_path / "x.sql").write_text("/* ---\nname: x\nseverity: warn\nmodel: marts.m\n"
                                    "category: accuracy\ndescription: d\n--- */\nselect 1")
    with pytest.raises(ValueError, match="not a Kahn category"):
        audits.audit_files(tmp_path)
