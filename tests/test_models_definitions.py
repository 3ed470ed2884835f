"""Definitions: product defaults from DOMAIN.md, outcomes.toml, overrides and the records kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.definitions import DefinitionError, Definitions

EXAMPLE = Path(__file__).resolve().parent.parent / "outcomes.toml.example"


def test_product_defaults():
    params = Definitions().as_params()
    assert (params["grace_days"], params["antipsychotic_grace_days"], params["washout_days"]) == (30, 60, 105)
    assert (params["baseline_start_days"], params["baseline_end_days"]) == (-30, 7)
    assert (params["followup_start_days"], params["followup_end_days"]) == (42, 112)
    assert params["phq9_eligible_min"] == 10 and params["phq9_remission_max"] == 4  # < 5
    assert params["hamd17_remission_max"] == 7 and params["madrs_remission_max"] == 9
    assert params["pdc_threshold"] == 0.80 and params["min_cell"] == 11


def test_the_example_config_restates_the_defaults():
    assert Definitions.from_config(EXAMPLE).as_params() == Definitions().as_params()


def test_config_file_and_overrides(tmp_path, monkeypatch):
    config = tmp_path / "outcomes.toml"
    config.write_text('[definitions]\ngrace_days = 60\nfollowup_window = [150, 210]\n'
                      '[definitions.remission]\n"PHQ-9" = "<=4"\n')
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    definitions = Definitions.from_config(washout_days=120)
    params = definitions.as_params()
    assert (params["grace_days"], params["washout_days"]) == (60, 120)
    assert params["followup_preset"] == "custom"
    assert params["followup_presets"].endswith(",custom:150:210")
    records = {key: (value, is_default) for key, value, is_default in definitions.as_records()}
    assert records["grace_days"] == ("60", False)
    assert records["phq9_remission_max"] == ("4", True)  # "<=4" is the same cut-off as "<5"


def test_bad_values_name_the_file_and_key(tmp_path):
    config = tmp_path / "outcomes.toml"
    config.write_text("[definitions]\ngrace_dayz = 30\n")
    with pytest.raises(DefinitionError, match=r"outcomes.toml.*grace_dayz"):
        Definitions.from_config(config)
    with pytest.raises(DefinitionError, match="baseline_window"):
        Definitions.from_config(None, baseline_window=[7, -30])
    with pytest.raises(DefinitionError, match=r"remission\.PHQ-9"):
        Definitions.from_config(None, remission={"PHQ-9": "5"})
