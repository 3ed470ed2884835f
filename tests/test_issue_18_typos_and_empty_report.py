"""Issue 18: a typo in a filter is refused with a suggestion (exit 2), never answered with zeros;
a period or site without data gives an explicit "no data" pack, never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from queries import vocabulary


def _outcomes(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("option", "typed", "meant"),
    [
        (["--where", "drug=sertralin"], "sertralin", "sertraline"),
        (["--instrument", "PHQ9"], "PHQ9", "PHQ-9"),
        (["--preset", "hedis_drr"], "hedis_drr", "hedis_drr_e"),
        (["--where", "drug_class=antidepresant"], "antidepresant", "antidepressant"),
        (["--set", "eligibilty_min=10"], "eligibilty_min", "eligibility_min"),
    ],
)
def test_issue_18_a_typo_is_refused_with_the_closest_value(warehouse_path: Path, option, typed, meant) -> None:
    done = _outcomes("metric", "response", "--db", str(warehouse_path), *option, "--format", "json")
    assert done.returncode == 2
    assert done.stdout == ""  # no zeros on stdout for a script to pick up
    assert typed in done.stderr and f"did you mean {meant}?" in done.stderr


def test_issue_18_compare_refuses_a_typo_too(warehouse_path: Path) -> None:
    done = _outcomes("compare", "response", "--db", str(warehouse_path), "--a", "drug=sertralin", "--b", "drug=escitalopram")
    assert done.returncode == 2 and "did you mean sertraline?" in done.stderr


def test_suggestion_rules_by_hand() -> None:
    known = ("S01", "S02", "S03", "S04")
    assert vocabulary.suggest("S0l", known) == "S01"  # letter l typed for digit 1
    assert vocabulary.suggest("s03", known) == "S03"  # case
    assert vocabulary.suggest("north", known) is None  # nothing close: no guess
    assert vocabulary.suggest("phq 9", ("GAD-7", "PHQ-9")) == "PHQ-9"


def test_issue_18_report_for_a_period_without_data_says_so(warehouse_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack.html"
    done = _outcomes("report", "--db", str(warehouse_path), "--period", "2019-Q1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "No data for 2019-Q1 (all sites)." in out.read_text()


def test_issue_18_report_for_an_unknown_site_is_refused(warehouse_path: Path, tmp_path: Path) -> None:
    done = _outcomes("report", "--db", str(warehouse_path), "--period", "2025-Q3", "--site", "S0l",
                     "--out", str(tmp_path / "p.html"))
    assert done.returncode == 2
    assert "did you mean S01?" in done.stderr and "Traceback" not in done.stderr
