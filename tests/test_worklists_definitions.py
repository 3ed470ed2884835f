"""Worklist parameters: DOMAIN 13 defaults in one place, restated by the query headers and the
example config, configurable through [definitions.worklists]."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.definitions import DEFAULT_WORKLIST_PARAMS, DefinitionError, Definitions
from queries.worklist import WORKLISTS, query_of

EXAMPLE = Path(__file__).resolve().parent.parent / "outcomes.toml.example"


def test_domain_defaults():
    params = Definitions().worklist_params()
    assert (params["early_window_start_days"], params["early_window_end_days"]) == (10, 35)
    assert (params["week6_window_start_days"], params["week6_window_end_days"]) == (35, 63)
    assert (params["early_improvement_min_pct"], params["week6_improvement_min_pct"]) == (20, 25)
    assert params["item9_followup_days"] == 1
    assert params["adherence_window_days"] == 90 and params["adherence_pdc_min"] == 0.80
    assert params["polypharmacy_min_days"] == 90 and params["benzodiazepine_min_days"] == 120
    assert (params["baseline_start_days"], params["baseline_end_days"], params["eligible_min"]) == (
        -30, 7, 10)


@pytest.mark.parametrize("name", sorted(WORKLISTS))
def test_query_header_defaults_equal_the_definitions(name):
    query = query_of(name)
    configured = Definitions().worklist_params()
    rule_params = [p for p in query.params if p not in ("as_of", "clinician_id")]
    assert rule_params, name
    for param in rule_params:
        assert query.params[param]["default"] == configured[param], (name, param)


def test_the_example_config_restates_the_worklist_defaults():
    assert dict(Definitions.from_config(EXAMPLE).worklists) == DEFAULT_WORKLIST_PARAMS


def test_config_overrides_and_refusals(tmp_path):
    config = tmp_path / "outcomes.toml"
    config.write_text('[definitions.worklists]\nbenzodiazepine_min_days = 90\n'
                      'clozapine_preset = "uk"\n')
    params = Definitions.from_config(config).worklist_params()
    assert params["benzodiazepine_min_days"] == 90 and params["clozapine_preset"] == "uk"
    assert params["polypharmacy_min_days"] == 90  # the other keys keep their defaults
    config.write_text('[definitions.worklists]\nclozapine_preset = "weekly"\n')
    with pytest.raises(DefinitionError, match="clozapine_preset"):
        Definitions.from_config(config)
    config.write_text('[definitions.worklists]\nitem9_days = 2\n')
    with pytest.raises(DefinitionError, match="item9_days"):
        Definitions.from_config(config)


def test_reference_tables_name_known_groups_and_drugs():
    import polars as pl

    reference = Path(__file__).resolve().parent.parent / "pipelines" / "reference"
    read = lambda name: pl.read_csv(reference / f"{name}.csv", infer_schema=False)  # noqa: E731
    groups = set(read("monitoring_tests")["test_group"])
    schedules = read("monitoring_schedules")
    drugs = set(read("drugs")["ingredient"])
    assert set(schedules["test_group"]) <= groups
    assert set(schedules["drug"].drop_nulls()) <= drugs
    assert set(read("dose_maximums")["drug"]) <= drugs
    # every schedule's phases start at its first phase and follow on without a gap
    for _, phases in schedules.group_by(["schedule", "preset", "test_group"]):
        starts = sorted(int(v) for v in phases["phase_from_day"])
        ends = [int(v) for v in phases.sort(pl.col("phase_from_day").cast(pl.Int64))["phase_to_day"]
                .fill_null("-1")]
        assert [e + 1 for e in ends[:-1]] == starts[1:] and ends[-1] == -1


def test_the_monitoring_labs_are_contract_measures_mapped_from_loinc():
    import polars as pl

    from pipelines.adapters.codes import measure_rows
    from pipelines.adapters.common import AdapterReport
    from pipelines.contract import MEASURE_RANGES

    labs = ["calcium_mg_dl", "egfr_ml_min", "alt_u_l", "ast_u_l", "platelets_10e9_l",
            "wbc_10e9_l", "hemoglobin_g_dl"]
    assert set(labs) <= set(MEASURE_RANGES)
    source = pl.DataFrame({"loinc": ["718-7", "777-3", "1742-6", "718-7"],
                           "value": [13.5, 250.0, 30.0, 135.0],
                           "unit": ["g/dL", "10*3/uL", "U/L", "g/L"]})
    report = AdapterReport(kind="test")
    mapped = measure_rows(source, report, "test")
    # haemoglobin in g/L is another unit: skipped and counted, never written as g/dL
    assert mapped.select("measure", "value").rows() == [
        ("hemoglobin_g_dl", 13.5), ("platelets_10e9_l", 250.0), ("alt_u_l", 30.0)]
    assert report.counts["skipped.measure_unit.hemoglobin_g_dl"] == 1
