"""The synthetic clinic through the real ingest: clean loads clean, dirty rejects what it planted."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.extract import IngestError
from pipelines.ingest import ingest
from synthetic.dirty import make_dirty
from synthetic.generator import generate

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_sample_clinic_loads_with_no_rejects_and_no_unmapped_drugs(tmp_path):
    db = tmp_path / "sample.duckdb"
    summary = ingest(SAMPLE, db, deid_mode="synthetic", run_models=False)
    assert summary.rows_rejected == 0
    assert _query(db, "select count(*) from meta.rejects") == [(0,)]
    assert _query(db, "select count(*) from meta.unmapped_drugs") == [(0,)]
    assert summary.birth_years_top_coded == 1  # EC-07


@pytest.mark.slow
def test_dirty_rejects_exactly_what_the_manifest_lists(tmp_path):
    out = tmp_path / "dirty"
    generate(2000, 7, out)
    manifest = make_dirty(out, seed=7)
    db = tmp_path / "dirty.duckdb"
    ingest(out, db, run_models=False)
    got = set(_query(db, "select table_name, line, column_name, reason_code from meta.rejects"))
    expected = {(r["table"], r["line"], r["column"], r["reason_code"])
                for r in manifest["rejects"]}
    assert got == expected
    unmapped = set(_query(db, "select table_name, drug_as_written from meta.unmapped_drugs"))
    assert unmapped == {(u["table"], u["drug_as_written"]) for u in manifest["unmapped_drugs"]}
    with pytest.raises(IngestError) as refused:
        ingest(Path(manifest["phi_folder"]), tmp_path / "phi.duckdb", run_models=False)
    assert refused.value.reason == "direct_identifier_column"
    assert refused.value.column == "ssn"


@pytest.mark.slow
def test_truth_recovered_from_raw_files_on_20000_patients(tmp_path):
    """Per drug, counts recomputed from the loaded raw tables with the product-default
    definitions equal the generator's measured counts, and lie in the 95% interval of the
    expected rates. (The metrics-based version belongs to the metrics tests.)"""
    out = tmp_path / "big"
    generate(20_000, 11, out, fmt="parquet")
    truth = json.loads((out / "truth.json").read_text())["per_drug"]
    db = tmp_path / "big.duckdb"
    summary = ingest(out, db, deid_mode="synthetic", run_models=False)
    assert summary.rows_rejected == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        recovered = con.sql("""
            with starts as (   -- episode start: first fill of each ingredient per patient
                select patient_id, ingredient, min(dispense_date) as s
                from raw.dispenses group by all
            ),
            phq as (
                select patient_id, assessment_date as d,
                       max(total_score) as score   -- same-day duplicates: keep the higher
                from raw.assessments where instrument in ('PHQ-9', 'PHQ-A') group by all
            ),
            scored as (
                select st.ingredient, st.patient_id, st.s,
                       arg_max(b.score, b.d) as baseline
                from starts st join phq b on b.patient_id = st.patient_id
                     and b.d between st.s - 30 and st.s + 7
                group by all
            ),
            followed as (
                select sc.ingredient, sc.baseline, arg_max(f.score, f.d) as followup
                from scored sc join phq f on f.patient_id = sc.patient_id
                     and f.d between sc.s + 42 and sc.s + 112
                where sc.baseline >= 10
                group by sc.ingredient, sc.patient_id, sc.s, sc.baseline
            )
            select ingredient, count(*) as assessed,
                   count(*) filter (where 2 * followup <= baseline) as responders,
                   count(*) filter (where followup < 5) as remitters
            from followed group by all
        """).pl()
    finally:
        con.close()
    checked = 0
    for row in recovered.iter_rows(named=True):
        entry = truth[row["ingredient"]]["phq9"]
        assert row["assessed"] == entry["assessed_episodes"], row
        assert row["responders"] == entry["measured_responders"], row
        assert row["remitters"] == entry["measured_remitters"], row
        if row["assessed"] >= 100:
            rate = row["responders"] / row["assessed"]
            expected, sd = entry["expected_response_rate_among_assessed"], entry[
                "response_rate_sd"]
            # 99.9% band per drug: several drugs are checked, so keep the family error small.
            assert abs(rate - expected) <= 3.3 * sd, (row, expected, sd)
            checked += 1
    assert checked >= 5
    assert pl.DataFrame(recovered).height >= 10
