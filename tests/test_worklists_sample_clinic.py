"""The sample clinic (``sample_data/``, what ``outcomes demo`` loads) shows someone on every
worklist on its data end date, the worklists' default as-of date, and its planted worklist
patients (``sample_data/worklist_cases.json``) are listed exactly as their manifest says.

Why the sample carries planted patients: the drawn clinic records every PHQ-9 at a visit, so
each positive item 9 is followed by the same-day visit and the item-9 list would be empty; the
planted cases (``outcomes generate ... --worklist-cases``) give every list at least one row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_worklists_planted import assert_planted_cases_listed

from pipelines.definitions import Definitions
from queries.worklist import WORKLISTS, run_worklist

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def sample_rows(warehouse_path, is_sample_data):  # type: ignore[no-untyped-def]
    import duckdb

    if not is_sample_data:
        pytest.skip("sample_data/ is not committed")
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return {name: run_worklist(con, name, definitions=Definitions()).frame.to_dicts()
                for name in WORKLISTS}


@pytest.mark.parametrize("name", list(WORKLISTS))
def test_every_worklist_lists_someone_on_the_sample_clinic(name, sample_rows):
    assert sample_rows[name], f"the sample clinic shows nobody on {name}"


def test_the_sample_clinic_is_generated_with_the_planted_worklist_cases():
    truth = json.loads((SAMPLE / "truth.json").read_text())
    manifest = json.loads((SAMPLE / "worklist_cases.json").read_text())
    assert "--worklist-cases" in truth["command"]
    assert truth["worklist_cases"] == manifest
    # the manifest's as-of date is the data end date the worklists default to
    assert manifest["as_of"] == truth["end"]


def test_every_planted_case_of_the_sample_is_listed_as_its_manifest_says(sample_rows):
    manifest = json.loads((SAMPLE / "worklist_cases.json").read_text())
    assert_planted_cases_listed(manifest, sample_rows)
