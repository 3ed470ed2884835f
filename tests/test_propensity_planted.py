"""Adjusted comparisons recover a planted drug effect under confounding (issue 21, "Done when").

A small clinic is generated with ``synthetic.planted.PlantedEffect``: sertraline raises the
response probability by exactly ``risk_difference`` (0.10) over escitalopram for every episode,
but older patients both get sertraline more often and respond less (confounding by age). The
truth is read from the generator's ``truth.json["planted_effect"]``. The effect is on response
among assessed episodes, so the comparison uses the metric's ``rate_assessed``.

Expected: the crude difference (Newcombe interval on the same episodes) is biased against
sertraline and its interval misses the truth; the propensity-weighted interval covers it, with
balance reached; the matched interval covers it as well.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

import queries
from queries.adjusted import adjusted
from stats.inference import newcombe_difference

pytestmark = pytest.mark.slow

PATIENTS, SEED = 4000, 6


@pytest.fixture(scope="module")
def planted_clinic(tmp_path_factory):  # type: ignore[no-untyped-def]
    from pipelines.ingest import ingest
    from synthetic.generator import generate
    from synthetic.planted import PlantedEffect

    out = tmp_path_factory.mktemp("planted") / "extract"
    generate(PATIENTS, SEED, out, planted_effect=PlantedEffect(), edge_cases=False,
             end=dt.date(2025, 12, 31))
    truth = json.loads((out / "truth.json").read_text())["planted_effect"]
    db = out.parent / "outcomes.duckdb"
    assert ingest(out, db).status == "ok"
    con = duckdb.connect(str(db), read_only=True)
    yield con, truth
    con.close()


def _run(con, method):  # type: ignore[no-untyped-def]
    return adjusted(con, "response", {}, {"drug": "sertraline"}, {"drug": "escitalopram"}, {},
                    method, rate="rate_assessed", min_cell=0).analysis


def test_truth_manifest_records_the_planted_effect(planted_clinic) -> None:  # type: ignore[no-untyped-def]
    _, truth = planted_clinic
    assert truth["drug_a"] == "sertraline" and truth["drug_b"] == "escitalopram"
    assert truth["risk_difference"] == pytest.approx(0.10)
    assert "age" in truth["confounder"]


def test_crude_interval_misses_the_truth(planted_clinic) -> None:  # type: ignore[no-untyped-def]
    con, truth = planted_clinic
    a = queries.metric(con, "response", filters={"drug": "sertraline"}, min_cell=0).frame.row(0, named=True)
    b = queries.metric(con, "response", filters={"drug": "escitalopram"}, min_cell=0).frame.row(0, named=True)
    crude = newcombe_difference(a["responders"], a["assessed"], b["responders"], b["assessed"])
    assert not crude.low <= truth["risk_difference"] <= crude.high
    assert crude.value < truth["risk_difference"]  # biased against the drug older patients get


def test_weighted_interval_covers_the_truth_with_balance(planted_clinic) -> None:  # type: ignore[no-untyped-def]
    con, truth = planted_clinic
    result = _run(con, "weighting")
    rd = result.risks.difference
    assert rd.low <= truth["risk_difference"] <= rd.high
    assert result.trustworthy, result.warnings
    ages = [r for r in result.balance if r.characteristic == "age"]
    assert ages[0].smd_before > 0.1 > abs(ages[0].smd_after)


def test_matched_interval_covers_the_truth(planted_clinic) -> None:  # type: ignore[no-untyped-def]
    con, truth = planted_clinic
    rd = _run(con, "matching").risks.difference
    assert rd.low <= truth["risk_difference"] <= rd.high
