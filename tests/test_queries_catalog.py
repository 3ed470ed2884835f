"""Header <-> SQL consistency over queries.catalog(), declared invariants, goldens, differential.

DESIGN.md section 8 tiers 2-4 and 7: name = stem; the $params the SQL uses = those declared;
output columns = declared columns; only marts is read (data_quality may read meta); the
header's unique keys and expressions hold on the session warehouse; goldens on sample_data.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from conftest import REPO
from polars.testing import assert_frame_equal

import queries
from queries.engine import DIMENSIONS, FILTERS, dimensions_of

CATALOG = queries.catalog()
NAMES = sorted(CATALOG)
GOLDEN = REPO / "tests" / "golden"
REQUIRED = {
    "response", "remission", "score_change", "side_effects", "adherence", "mpr", "persistence",
    "time_to_response", "episodes", "mbc_coverage", "safety_flags", "score_trajectory",
    "side_effect_heatmap", "side_effect_severity", "side_effect_actions", "weight_change_12w",
    "metabolic_monitoring", "pathways", "regimens", "baseline_characteristics",
    "active_patients", "outreach_list", "load_history", "rejects_by_reason", "unmapped_drugs",
    "scale_completeness", "definitions_in_force", "data_freshness",
}
_TABLE_REF = re.compile(r"\b(from|join)\s+([a-z_]+)\.([a-z_]+)", re.I)


def test_every_required_metric_exists() -> None:
    assert set(CATALOG) >= REQUIRED, sorted(REQUIRED - set(CATALOG))


@pytest.mark.parametrize("name", NAMES)
def test_header_names_the_file_and_declares_its_parameters(name: str) -> None:
    query = CATALOG[name]
    # a file of one metric is named after it; a file of variants names their family (amm.sql)
    # or, for a family without a common prefix (score_outcomes.sql), lists each by name
    listed = re.search(rf"^  {re.escape(query.name)}:$", query.path.read_text(encoding="utf-8"), re.M)
    assert query.name == query.path.stem or query.name.startswith(query.path.stem + "_") or listed
    assert queries.sql_params(query.sql) == set(query.params) | set(query.constants)
    assert query.title and query.description and query.grain


@pytest.mark.parametrize("name", NAMES)
def test_reads_only_marts_or_meta_for_data_quality(name: str) -> None:
    query = CATALOG[name]
    body = re.sub(r"/\*.*?\*/", "", query.sql, flags=re.S)
    schemas = {m.group(2).lower() for m in _TABLE_REF.finditer(body)}
    allowed = {"marts", "meta"} if query.domain == "data_quality" else {"marts"}
    assert schemas <= allowed, f"{name} reads {schemas - allowed}"


@pytest.mark.parametrize("name", NAMES)
def test_metric_block_refers_to_declared_columns(name: str) -> None:
    query = CATALOG[name]
    spec = query.metric
    flags = [s for s in spec.get("counts", {}).values() if s != "*" and not s.startswith("distinct ")]
    named = [spec.get(k) for k in ("date", "value", "time", "event") if spec.get(k)]
    assert set(flags + named) <= set(query.columns)
    filters = [p for p in query.params if p in FILTERS]
    assert all(d in DIMENSIONS for d in dimensions_of(query))
    assert query.kind == "table" or filters, f"{name}: a metric with no standard filters"


@pytest.mark.parametrize("name", NAMES)
def test_output_columns_equal_the_declared_columns(name: str, warehouse) -> None:  # type: ignore[no-untyped-def]
    frame = queries.run(warehouse, name)
    assert frame.columns == list(CATALOG[name].columns) or set(frame.columns) == set(CATALOG[name].columns)


@pytest.mark.parametrize("name", NAMES)
def test_declared_invariants_hold(name: str, warehouse) -> None:  # type: ignore[no-untyped-def]
    query = CATALOG[name]
    params = queries.check_params(query, {})
    unique = query.tests.get("unique")
    # The key and expressions come from headers of files in this package, not from users.
    if unique:
        keys = ", ".join(unique)
        dupes = warehouse.sql(
            f"select {keys}, count(*) from ({query.sql}) group by all having count(*) > 1",  # noqa: S608
            params=params,
        ).fetchall()
        assert dupes == [], f"{name}: duplicate {unique}: {dupes[:3]}"
    for expression in query.tests.get("expressions", []):
        bad = warehouse.sql(
            f"select count(*) from ({query.sql}) where not ({expression})", params=params  # noqa: S608
        ).fetchall()[0][0]
        assert bad == 0, f"{name}: {bad} rows break {expression!r}"


def _golden_frame(name: str, warehouse) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    query = CATALOG[name]
    if name in ("load_history", "data_freshness"):
        pytest.skip("load times differ per build")
    if name == "audit_results":
        pytest.skip("load ids differ per build, and the list grows with every audit "
                    "(tests/test_models_audits.py checks it)")
    by = ("drug_class",) if "drug_class" in dimensions_of(query) else ()
    frame = queries.metric(warehouse, name, by=by, min_cell=0).frame
    return frame.select([c for c in frame.columns if not c.endswith("_suppressed")])


@pytest.mark.parametrize("name", NAMES)
def test_golden_output_on_sample_data(name: str, warehouse, is_sample_data, update_golden) -> None:  # type: ignore[no-untyped-def]
    if not is_sample_data:
        pytest.skip("goldens pin sample_data outputs; sample_data/ is not committed yet")
    frame = _golden_frame(name, warehouse)
    path = GOLDEN / f"{name}.csv"
    if update_golden or not path.exists():
        frame.write_csv(path)
        if not update_golden:
            pytest.fail(f"{path} did not exist; written for review")
    expected = pl.read_csv(path, schema=frame.schema, try_parse_dates=True)
    # Float tolerance: polars 2 streaming sums can differ in the last bits (DESIGN.md 7).
    assert_frame_equal(frame, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_headline_response_rate_equals_a_polars_recomputation_from_the_mart(warehouse) -> None:  # type: ignore[no-untyped-def]
    mart = warehouse.sql("select * from marts.fct_episode_outcomes").pl()
    default = mart.filter(pl.col("is_default_preset") & (pl.col("instrument") == "PHQ-9"))
    eligible = default.filter(pl.col("has_baseline") & (pl.col("baseline_score") >= pl.col("eligibility_min")))
    responders = eligible.filter(
        pl.col("has_followup") & (2 * pl.col("followup_score") <= pl.col("baseline_score"))
    )
    result = queries.metric(warehouse, "response", min_cell=0).frame.row(0, named=True)
    assert result["episodes"] == default.height
    assert result["denominator"] == eligible.height
    assert result["numerator"] == responders.height
    if eligible.height:
        assert result["rate"] == pytest.approx(responders.height / eligible.height)


def test_docs_metrics_md_is_generated_from_the_current_headers() -> None:
    from queries.catalogue import render

    current = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert current == render(), "run: python -m queries.catalogue > docs/metrics.md"
