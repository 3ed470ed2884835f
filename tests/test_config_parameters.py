"""Every parameter of outcomes.toml.example reaches the output: change it in a config file, rebuild
(or re-query) the sample clinic, and something the user sees changes (issue 15 item 6).

The raw/ref/meta layers of the sample clinic are loaded once; each case writes a config file with
one key changed from its product default, builds the models with ``Definitions.from_config`` of
that file and compares a checksum of every mart with the default build. ``min_cell`` does not
change the warehouse (suppression is applied at query time): its case queries a metric with the
file in ``$OUTCOMES_CONFIG`` and sees the threshold, the hidden cells and the CLI footer change.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import duckdb
import pytest
from conftest import REPO

import queries
from cli.main import main
from pipelines.definitions import DefinitionError, Definitions
from pipelines.ingest import ingest
from pipelines.transform import build_models

EXAMPLE = REPO / "outcomes.toml.example"

#: key -> a value different from the product default, written as TOML
CHANGES: dict[str, str] = {
    "grace_days": "grace_days = 7",
    "antipsychotic_grace_days": "antipsychotic_grace_days = 14",
    "washout_days": "washout_days = 30",
    "combination_window_days": "combination_window_days = 7",
    "baseline_window": "baseline_window = [-14, 0]",
    "followup_preset": 'followup_preset = "hedis_drr_e"',
    "followup_window": "followup_window = [28, 84]",
    "which_score": 'which_score = "best"',
    "pcl5_response_min_drop": "pcl5_response_min_drop = 20",
    "pdc_threshold": "pdc_threshold = 0.9",
    "pdc_min_index_days": "pdc_min_index_days = 200",
    "pdc_inpatient_adjustment": "pdc_inpatient_adjustment = true",
    "side_effect_window_days": "side_effect_window_days = 30",
    "followup_presets": "[definitions.followup_presets]\nclinic_w6_16 = [35, 98]",
    "eligibility_min": '[definitions.eligibility_min]\n"PHQ-9" = 15',
    "remission": '[definitions.remission]\n"PHQ-9" = "<=5"',
}
#: keys whose only allowed value is the default: changing them must be refused, by name
ONE_VALUE_ONLY = {"measurement_period": 'measurement_period = "fiscal_year"'}
QUERY_TIME = {"min_cell": "min_cell = 5"}
#: the worklist rules' sub-table, read when a worklist runs (tested below, key by key)
WORKLIST_TABLE = {"worklists"}


def _example_keys() -> set[str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    # the commented-out followup_window is a documented key too
    text = text.replace("# followup_window", "followup_window")
    return set(tomllib.loads(text)["definitions"])


def test_every_parameter_of_the_example_has_a_case():
    assert _example_keys() == set(CHANGES) | set(ONE_VALUE_ONLY) | set(QUERY_TIME) | WORKLIST_TABLE


def _config(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "outcomes.toml"
    if line.startswith("["):
        path.write_text(line + "\n", encoding="utf-8")
    else:
        path.write_text("[definitions]\n" + line + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The sample clinic's raw, ref and meta layers, without models."""
    db = tmp_path_factory.mktemp("config-raw") / "clinic.duckdb"
    summary = ingest(REPO / "sample_data", db, run_models=False)
    assert summary.status == "ok", summary
    return db


def _mart_checksums(raw: Path, target: Path, definitions: Definitions) -> dict[str, tuple]:
    shutil.copy(raw, target)
    con = duckdb.connect(str(target))
    try:
        build_models(con, definitions.as_params())
        tables = [t for (t,) in con.sql("select table_name from information_schema.tables where "
                                        "table_schema = 'marts' order by 1").fetchall()]
        # table names from the catalogue, not from input
        return {t: con.sql(f"select count(*), sum(hash(m)) from marts.{t} as m").fetchall()[0]  # noqa: S608
                for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def default_checksums(raw_warehouse, tmp_path_factory) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    return _mart_checksums(raw_warehouse, tmp_path_factory.mktemp("config-default") / "d.duckdb",
                           Definitions())


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(CHANGES))
def test_changing_a_definition_in_the_file_changes_the_marts(key, raw_warehouse, default_checksums,
                                                             tmp_path):
    definitions = Definitions.from_config(_config(tmp_path, CHANGES[key]))
    assert definitions != Definitions(), f"{key}: the file did not change the definitions"
    changed = _mart_checksums(raw_warehouse, tmp_path / "c.duckdb", definitions)
    moved = [t for t in changed if changed[t] != default_checksums.get(t)]
    assert moved, f"{key}: no mart changed"


@pytest.mark.parametrize("key", sorted(ONE_VALUE_ONLY))
def test_a_value_outside_the_supported_ones_is_refused_by_name(key, tmp_path):
    with pytest.raises(DefinitionError, match=key):
        Definitions.from_config(_config(tmp_path, ONE_VALUE_ONLY[key]))


def test_min_cell_in_the_file_reaches_metrics_cli_and_the_recorded_result(
        warehouse, warehouse_path, tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    # by regimen: the sample clinic has regimens with 5-10 episodes, hidden at 11 and shown at 5
    default = queries.metric(warehouse, "episodes", by="regimen")
    assert default.meta["min_cell"] == 11
    monkeypatch.setenv("OUTCOMES_CONFIG", str(_config(tmp_path, QUERY_TIME["min_cell"])))
    lowered = queries.metric(warehouse, "episodes", by="regimen")
    assert lowered.meta["min_cell"] == 5
    assert lowered.meta["min_cell_source"] == str(tmp_path / "outcomes.toml")
    hidden_default = default.frame["episodes_suppressed"].sum()
    hidden_lowered = lowered.frame["episodes_suppressed"].sum()
    assert hidden_lowered < hidden_default
    code = main(["metric", "episodes", "--db", str(warehouse_path), "--by", "regimen"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Suppression: <5 = a count of 1-4" in out
    assert "lowered to 5 by min_cell in" in err


def test_min_cell_in_the_file_reaches_compare_and_the_meeting_pack(warehouse, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from queries import qi
    from queries.compare import compare
    from report.pack import build_pack

    def both():  # type: ignore[no-untyped-def]
        comparison = compare(warehouse, "response", {"drug_class": "antidepressant"},
                             {"drug_class": "antipsychotic"})
        pack = build_pack(warehouse, qi.parse_period("2024"), names=("followup_30d_new_rx",))
        return comparison.min_cell, pack.min_cell

    assert both() == (11, 11)
    monkeypatch.setenv("OUTCOMES_CONFIG", str(_config(tmp_path, "min_cell = 5")))
    assert both() == (5, 5)


def test_a_bad_min_cell_in_the_file_is_a_clear_cli_error(warehouse_path, tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OUTCOMES_CONFIG", str(_config(tmp_path, "min_cell = -3")))
    assert main(["metric", "episodes", "--db", str(warehouse_path)]) == 2
    assert "min_cell must be a whole number >= 0" in capsys.readouterr().err


def _worklist_example() -> dict[str, object]:
    return dict(tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["definitions"]["worklists"])


@pytest.mark.parametrize("key", sorted(_worklist_example()))
def test_every_worklist_setting_in_the_file_reaches_the_rule(tmp_path: Path, key: str) -> None:
    """Each key of [definitions.worklists], changed in a config file, is the value the worklist
    queries bind (``Definitions.worklist_params``), not the default."""
    default = _worklist_example()[key]
    changed = {"nice_cg185": "qof_mh009", "us_label": "uk", "apa2020": "ada2004"}.get(str(default))
    if changed is None:
        changed = default + 1 if isinstance(default, int) else round(float(default) - 0.05, 2)  # type: ignore[operator]
    value = f'"{changed}"' if isinstance(changed, str) else changed
    config = _config(tmp_path, f"[definitions.worklists]\n{key} = {value}")
    assert Definitions.from_config(config).worklist_params()[key] == changed
    assert Definitions.from_config().worklist_params()[key] == default


@pytest.mark.parametrize(("setting", "name"), [
    ("polypharmacy_min_days = 1", "prescribing-safety"),
    ("adherence_pdc_min = 0.99", "adherence-drop"),
    ("early_improvement_min_pct = 90", "not-on-track"),
])
def test_changing_a_worklist_rule_in_the_file_changes_its_list(tmp_path: Path, warehouse, setting: str,
                                                                 name: str) -> None:  # type: ignore[no-untyped-def]
    """A looser rule lists more patients on the sample clinic: two antipsychotics together for 1
    day instead of 90, a PDC under 0.99 instead of 0.80, an improvement under 90% instead of 20%."""
    from queries.worklist import run_worklist

    config = _config(tmp_path, f"[definitions.worklists]\n{setting}")
    default_rows = run_worklist(warehouse, name, definitions=Definitions.from_config()).frame.height
    changed_rows = run_worklist(warehouse, name, definitions=Definitions.from_config(config)).frame.height
    assert changed_rows > default_rows
