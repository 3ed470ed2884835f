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
