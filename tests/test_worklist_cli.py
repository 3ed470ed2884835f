"""`outcomes worklist NAME` and `outcomes worklists --list` as a user runs them, and who may."""

from __future__ import annotations

import datetime as dt
import io
import json

import polars as pl
import pytest
from test_models_support import Warehouse, day

from cli.main import main
from pipelines.definitions import Definitions
from queries.access import AccessDenied, User
from queries.worklist import WORKLISTS, run_worklist


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _no_local_config(monkeypatch, tmp_path):
    """Run from an empty folder so a developer's ./outcomes.toml cannot change the role."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OUTCOMES_CONFIG", raising=False)


@pytest.mark.parametrize("name", list(WORKLISTS))
def test_json_rows_carry_the_promised_keys(name, warehouse_path, capsys):
    code, out, _ = run_cli(capsys, "worklist", name, "--db", str(warehouse_path), "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list)
    for row in rows:
        assert {"patient_id", "clinician_id", "drug", "reason", "days_overdue"} <= set(row)
        assert row["worklist"] == name


def test_the_sample_clinic_has_rows_and_the_clinician_filter_narrows_them(warehouse_path, capsys):
    _, out, _ = run_cli(capsys, "worklist", "overdue-monitoring", "--db", str(warehouse_path),
                        "--format", "json")
    rows = json.loads(out)
    assert rows, "the sample clinic should show overdue monitoring"
    clinician = rows[0]["clinician_id"]
    _, out, _ = run_cli(capsys, "worklist", "overdue-monitoring", "--db", str(warehouse_path),
                        "--clinician", clinician, "--format", "json")
    mine = json.loads(out)
    assert mine == [r for r in rows if r["clinician_id"] == clinician]


def test_table_csv_and_as_of(warehouse_path, capsys):
    code, out, _ = run_cli(capsys, "worklist", "not-on-track", "--db", str(warehouse_path))
    assert code == 0 and "Rule:" in out and "Note:" in out and "patient_id" in out
    code, out, _ = run_cli(capsys, "worklist", "adherence-drop", "--db", str(warehouse_path),
                           "--format", "csv", "--as-of", "2025-06-30")
    assert code == 0 and out.splitlines()[0].startswith("worklist,patient_id,clinician_id")
    frame = pl.read_csv(io.StringIO(out), try_parse_dates=True)
    # nothing dated after the as-of date can have triggered a row on that date
    assert frame.height and frame["trigger_on"].max() <= dt.date(2025, 6, 30)


def test_bad_input_exits_2_without_a_traceback(warehouse_path, capsys, tmp_path):
    code, _, err = run_cli(capsys, "worklist", "everyone", "--db", str(warehouse_path))
    assert code == 2 and "worklists are: not-on-track" in err
    code, _, err = run_cli(capsys, "worklist", "not-on-track", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "no such warehouse" in err


def test_list_names_every_worklist(capsys):
    code, out, _ = run_cli(capsys, "worklists", "--list", "--format", "json")
    assert code == 0
    assert [e["name"] for e in json.loads(out)] == list(WORKLISTS)


def test_a_leadership_cli_is_refused_and_told_which_role_is_needed(warehouse_path, capsys,
                                                                    tmp_path, monkeypatch):
    config = tmp_path / "outcomes.toml"
    config.write_text('[roles]\ncli = "leadership"\n')
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    code, out, err = run_cli(capsys, "worklist", "overdue-monitoring", "--db", str(warehouse_path),
                             "--format", "json")
    assert code == 3 and out == ""
    assert "clinician or analyst role" in err and "PT0" not in err


def test_a_clinician_sees_only_their_own_patients():
    warehouse = Warehouse()
    for patient, clinician in (("P1", "C1"), ("P2", "C2")):
        warehouse.patient(patient)
        warehouse.prescription(patient, "sertraline", 0, 100, daily_dose_mg=300.0,
                               clinician_id=clinician)
    warehouse.build()

    def patients(user: User, **kw) -> list[str]:
        result = run_worklist(warehouse.con, "prescribing-safety", user=user, as_of=day(50),
                              definitions=Definitions(), **kw)
        return result.frame["patient_id"].to_list()

    assert patients(User("analyst")) == ["P1", "P2"]
    assert patients(User("analyst"), clinician_id="C2") == ["P2"]
    assert patients(User("clinician", "C1")) == ["P1"]
    with pytest.raises(AccessDenied, match="analyst role"):
        patients(User("clinician", "C1"), clinician_id="C2")
    with pytest.raises(AccessDenied, match="needs the clinician or analyst role"):
        patients(User("leadership"))


def test_the_metric_command_acts_as_the_cli_role(warehouse_path, capsys, tmp_path, monkeypatch):
    code, out, _ = run_cli(capsys, "metric", "outreach_list", "--db", str(warehouse_path),
                           "--format", "json")
    assert code == 0 and "patient_id" in out  # analyst by default
    config = tmp_path / "outcomes.toml"
    config.write_text('[roles]\ncli = "leadership"\n')
    monkeypatch.setenv("OUTCOMES_CONFIG", str(config))
    code, out, err = run_cli(capsys, "metric", "outreach_list", "--db", str(warehouse_path),
                             "--format", "json")
    assert code == 3 and out == "" and "clinician or analyst role" in err
