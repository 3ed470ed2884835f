"""The whole pipeline recovers the generator's ground truth (issue 3 and issue 4, "Done when").

A clinic of 20,000 patients is generated with a fixed seed, loaded with ``pipelines.ingest.ingest``
(validation, models, marts) and measured with ``queries.metric``, exactly as a user would. For every
drug, the rates must agree with ``truth.json`` (``per_drug``, keys in the generator's
``truth.json["definitions"]``):

* **Response and remission** (PHQ-9 and GAD-7). truth.json's ``expected_response_rate_among_assessed``
  is the mean, over the *assessed* episodes (baseline >= 10 in [start-30, start+7] and a score in
  [start+42, start+112]), of each episode's true response probability. That is the completers' rate,
  so it is compared with the metric's ``rate_assessed`` (responders / assessed), not with the
  headline rate among eligible, which counts a missing follow-up as "not achieved" (DOMAIN.md 3).
* **Side effects** (every drug x effect the generator gives the drug). ``expected_frequency`` is the
  mean true 90-day probability over episodes with a visit in [start, start+90]; it is compared with
  ``side_effects`` by drug for that ``effect_code``: episodes with a report in [0, +90] among
  episodes with a visit in the window (DOMAIN.md 9.3).

Two kinds of check:

1. **Counts are exact.** The generator also records what it measured with the product-default
   definitions (``assessed_episodes``, ``measured_responders``, ``episodes_with_visit_day_0_90``,
   ``reported_episodes``), so the metric's numerator and denominator must equal them to the unit.
2. **Rates recover the truth.** The recovered count is a sum of independent Bernoulli draws whose
   probabilities average to the truth value, so the truth lies in the 95% Wilson interval of the
   recovered rate about 95% of the time (a little more: a Poisson-binomial count varies less than a
   binomial one with the same mean). Only cells with at least ``MIN_EVALUABLE`` = 100 episodes in
   the denominator are checked (smaller cells give intervals too wide to say anything).
   Multiplicity, per family (response/remission cells, side-effect cells), with m cells:
   (a) every cell's truth lies in the Bonferroni-adjusted Wilson interval at level 1 - 0.05/m, so
   the family-wise chance of a false failure is at most 5% for any seed; and (b) the number of
   cells whose product 95% interval (``ci_low``/``ci_high`` as ``queries.metric`` publishes them)
   misses the truth is at most the 99.9th percentile of Binomial(m, 0.05): more misses than that
   would mean the intervals are too narrow or the rates biased, even if no single cell is far off.

A cheaper check runs without a warehouse: on the committed ``sample_data/``, counts computed
directly from the raw CSV files with polars (episodes per drug, the side-effect denominator and
numerator) equal the sample's ``truth.json``. (``tests/test_generator_ingest.py`` checks the PHQ-9
counts from the loaded raw tables.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

import queries
from stats import inference

PATIENTS = 20_000
SEED = 7
MIN_EVALUABLE = 100  # episodes in a cell's denominator before its rate is checked
FAMILY_ALPHA = 0.05  # Bonferroni: family-wise error of the per-cell intervals
MISS_TAIL = 0.999  # at most this percentile of Binomial(m, 0.05) cells may miss their 95% interval
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
INSTRUMENTS = {"PHQ-9": "phq9", "GAD-7": "gad7"}


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Generate and load the clinic once; return the warehouse path and truth.json."""
    from pipelines.ingest import ingest
    from synthetic.generator import generate

    folder = tmp_path_factory.mktemp("truth")
    extract = folder / "clinic"
    generate(PATIENTS, SEED, extract)
    db_path = folder / "outcomes.duckdb"
    summary = ingest(extract, db_path)
    assert summary.status == "ok" and summary.rows_rejected == 0, summary
    return db_path, json.loads((extract / "truth.json").read_text())


@pytest.fixture()
def con(clinic: tuple[Path, dict[str, Any]]):  # type: ignore[no-untyped-def]
    connection = duckdb.connect(str(clinic[0]), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def _rows_by_drug(result: queries.engine.MetricResult) -> dict[str, dict[str, Any]]:
    return {row["drug"]: row for row in result.frame.iter_rows(named=True)}


def _assert_truth_recovered(cells: list[dict[str, Any]]) -> None:
    """``cells``: dicts with ``name``, ``k``, ``n``, ``truth``, ``ci_low``, ``ci_high`` (the product's
    95% Wilson interval). Applies the two multiplicity rules of the module docstring."""
    m = len(cells)
    k = np.array([c["k"] for c in cells])
    n = np.array([c["n"] for c in cells])
    low, high = inference.wilson_intervals(k, n, confidence=1 - FAMILY_ALPHA / m)
    outside = [f"{c['name']}: {c['k']}/{c['n']} = {c['k'] / c['n']:.4f}, truth {c['truth']:.4f}, "
               f"adjusted interval [{lo:.4f}, {hi:.4f}]"
               for c, lo, hi in zip(cells, low, high, strict=True) if not lo <= c["truth"] <= hi]
    assert not outside, f"truth outside the Bonferroni-adjusted interval ({m} cells): {outside}"
    misses = [c["name"] for c in cells if not c["ci_low"] <= c["truth"] <= c["ci_high"]]
    allowed = int(sps.binom.ppf(MISS_TAIL, m, 0.05))
    assert len(misses) <= allowed, f"{len(misses)} of {m} 95% intervals miss (allowed {allowed}): {misses}"
    # the product's interval is the Wilson interval of the same counts
    np.testing.assert_allclose([c["ci_low"] for c in cells], inference.wilson_intervals(k, n)[0])


@pytest.mark.slow
def test_every_truth_episode_is_an_episode_of_the_marts(con, clinic):
    """The generator's episodes (one per patient x ingredient) are the marts' episodes, per drug."""
    truth = clinic[1]["per_drug"]
    episodes = _rows_by_drug(queries.metric(con, "episodes", by=("drug",), min_cell=0))
    assert {d: episodes[d]["episodes"] for d in truth} == {d: t["episodes"] for d, t in truth.items()}


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["response", "remission"])
def test_response_and_remission_among_assessed_recover_the_true_rates(con, clinic, outcome):
    """Per drug and instrument with >= 100 assessed episodes: assessed and responders (remitters)
    equal the generator's measured counts, and the true expected rate among assessed lies in the
    interval of ``rate_assessed``."""
    truth = clinic[1]["per_drug"]
    counted, truth_rate, measured = {
        "response": ("responders", "expected_response_rate_among_assessed", "measured_responders"),
        "remission": ("remitters", "expected_remission_rate_among_assessed", "measured_remitters"),
    }[outcome]
    cells = []
    for instrument, key in INSTRUMENTS.items():
        rows = _rows_by_drug(queries.metric(con, outcome, by=("drug",), min_cell=0,
                                            filters={"instrument": instrument}))
        for drug, per_drug in truth.items():
            expected = per_drug[key]
            row = rows.get(drug, {"assessed": 0, counted: 0})
            assert (row["assessed"], row[counted]) == (expected["assessed_episodes"], expected[measured]), (
                instrument, drug)
            if row["assessed"] >= MIN_EVALUABLE:
                cells.append({"name": f"{instrument} {drug}", "k": row[counted], "n": row["assessed"],
                              "truth": expected[truth_rate], "ci_low": row["rate_assessed_ci_low"],
                              "ci_high": row["rate_assessed_ci_high"]})
    assert len(cells) >= 20, "too few evaluable drug x instrument cells to test recovery"
    _assert_truth_recovered(cells)


@pytest.mark.slow
def test_side_effect_frequencies_recover_the_true_probabilities(con, clinic):
    """Per drug x effect the generator gives the drug, with >= 100 episodes with a visit in
    [0, +90]: the denominator and numerator equal the generator's counts, and the true expected
    frequency lies in the interval of the recovered rate."""
    truth = clinic[1]["per_drug"]
    effects = sorted({e for t in truth.values() for e in t["side_effects"]["effects"]})
    cells = []
    for effect in effects:
        rows = _rows_by_drug(queries.metric(con, "side_effects", by=("drug",), min_cell=0,
                                            effect_code=effect))
        for drug, per_drug in truth.items():
            expected = per_drug["side_effects"]
            if effect not in expected["effects"]:
                continue
            row = rows[drug]
            assert row["reviewed"] == expected["episodes_with_visit_day_0_90"], (effect, drug)
            assert row["with_report"] == expected["effects"][effect]["reported_episodes"], (effect, drug)
            if row["reviewed"] >= MIN_EVALUABLE:
                cells.append({"name": f"{drug} {effect}", "k": row["with_report"], "n": row["reviewed"],
                              "truth": expected["effects"][effect]["expected_frequency"],
                              "ci_low": row["ci_low"], "ci_high": row["ci_high"]})
    assert len(cells) >= 50, "too few evaluable drug x effect cells to test recovery"
    _assert_truth_recovered(cells)


# --------------------------------------------------------------------------- raw files, no warehouse


def _raw_episodes(folder: Path) -> pl.DataFrame:
    """One row per patient x ingredient: the first fill is the episode start (the generator never
    gives a patient the same ingredient twice)."""
    from pipelines.reference import normalise_drug_names

    fills = pl.read_csv(folder / "dispenses.csv", try_parse_dates=True, infer_schema_length=0)
    fills = fills.with_columns(
        ingredient=normalise_drug_names(fills.get_column("drug")),
        filled_on=pl.col("dispense_date").str.to_date(),
    )
    assert fills.get_column("ingredient").null_count() == 0
    return fills.group_by("patient_id", "ingredient").agg(start=pl.col("filled_on").min())


def test_side_effect_counts_from_the_raw_sample_files_equal_truth():
    """On the committed sample clinic, from the raw CSVs alone: episodes per drug; the
    denominator (episodes with a visit in [start, start+90]); the numerator per effect (episodes
    with a report of the effect naming the drug in [start, start+90]) equal truth.json."""
    from pipelines.reference import normalise_drug_names, normalise_effects

    full_truth = json.loads((SAMPLE / "truth.json").read_text())
    truth = full_truth["per_drug"]
    # per_drug describes the drawn clinic; the planted worklist patients (PW...) are extra, with
    # their own truth in truth["worklist_cases"] (docs/worklists.md)
    planted = [case["patient_id"] for case in
               (full_truth.get("worklist_cases") or {}).get("cases", {}).values()]
    assert not planted or all(p.startswith("PW") for p in planted)
    episodes = _raw_episodes(SAMPLE).filter(~pl.col("patient_id").is_in(planted))
    visits = pl.read_csv(SAMPLE / "visits.csv", infer_schema_length=0).select(
        "patient_id", visit_on=pl.col("visit_date").str.to_date())
    reports = pl.read_csv(SAMPLE / "side_effects.csv", infer_schema_length=0)
    reports = reports.select(
        "patient_id",
        report_on=pl.col("report_date").str.to_date(),
        ingredient=normalise_drug_names(reports.get_column("drug")),
        effect_code=normalise_effects(reports.get_column("effect")),
    ).drop_nulls("ingredient")

    def within_90_days(date: str) -> pl.Expr:
        return (pl.col(date) >= pl.col("start")) & (pl.col(date) <= pl.col("start") + pl.duration(days=90))

    reviewed = (episodes.join(visits, on="patient_id").filter(within_90_days("visit_on"))
                .select("patient_id", "ingredient").unique())
    reported = (episodes.join(reports, on=["patient_id", "ingredient"])
                .filter(within_90_days("report_on"))
                .select("patient_id", "ingredient", "effect_code").unique()
                .join(reviewed, on=["patient_id", "ingredient"], how="semi"))

    episodes_per_drug = dict(episodes.group_by("ingredient").len().iter_rows())
    reviewed_per_drug = dict(reviewed.group_by("ingredient").len().iter_rows())
    reported_per_cell = {(d, e): n for d, e, n in
                         reported.group_by("ingredient", "effect_code").len().iter_rows()}
    checked = 0
    for drug, per_drug in truth.items():
        assert episodes_per_drug.get(drug, 0) == per_drug["episodes"], drug
        effects = per_drug["side_effects"]
        assert reviewed_per_drug.get(drug, 0) == effects["episodes_with_visit_day_0_90"], drug
        for effect, entry in effects["effects"].items():
            assert reported_per_cell.get((drug, effect), 0) == entry["reported_episodes"], (drug, effect)
            checked += 1
    assert checked >= 50
