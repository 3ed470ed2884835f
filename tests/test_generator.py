"""The synthetic clinic: deterministic, in the contract, realistic, and honest about its truth."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import polars as pl
import pytest

from pipelines.contract import TABLE_ORDER, TABLES
from pipelines.reference import normalise_drug_names, normalise_effects
from synthetic.generator import generate
from synthetic.parameters import DRUGS, EFFECT_PROBABILITIES

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clinic") / "x"
    generate(2000, 1, out)
    return out


def _table(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{name}.csv", infer_schema=False)


def test_same_seed_gives_byte_identical_files(clinic, tmp_path):
    again = tmp_path / "x"
    generate(2000, 1, again)
    for name in [*TABLE_ORDER, "truth/episodes"]:
        assert filecmp.cmp(clinic / f"{name}.csv", again / f"{name}.csv", shallow=False), name
    assert json.loads((clinic / "truth.json").read_text())["per_drug"] == json.loads(
        (again / "truth.json").read_text())["per_drug"]


def test_different_seeds_differ(clinic, tmp_path):
    other = tmp_path / "y"
    generate(2000, 2, other)
    assert (clinic / "assessments.csv").read_bytes() != (other / "assessments.csv").read_bytes()


def test_every_table_has_exactly_the_contract_columns(clinic):
    for name in TABLE_ORDER:
        assert tuple(_table(clinic, name).columns) == TABLES[name].column_names, name


def test_row_counts_are_sane(clinic):
    rows = {name: _table(clinic, name).height for name in TABLE_ORDER}
    assert rows["patients"] == 2000
    assert 5 <= rows["visits"] / rows["patients"] <= 15  # 2-8-weekly follow-up, drop-out
    assert rows["dispenses"] > rows["prescriptions"] > rows["patients"]
    assert rows["assessments"] > rows["patients"]
    assert 0 < rows["side_effects"] < rows["prescriptions"]


def test_dates_are_iso_and_inside_the_extract(clinic):
    visits = _table(clinic, "visits")
    dates = visits["visit_date"].str.to_date("%Y-%m-%d", strict=True)
    assert str(dates.min()) >= "2023-01-01" and str(dates.max()) <= "2025-12-31"


def test_keys_are_unique_and_references_resolve(clinic):
    patients = set(_table(clinic, "patients")["patient_id"])
    for name in TABLE_ORDER:
        frame = _table(clinic, name)
        for key in TABLES[name].primary_key:
            duplicates = frame.filter(frame[key].is_duplicated())
            assert duplicates.height == 0, name
        if "patient_id" in frame.columns and name != "patients":
            assert set(frame["patient_id"]) <= patients, name


def test_every_drug_name_normalises_to_a_known_ingredient(clinic):
    known = {d.ingredient for d in DRUGS}
    for name in ("prescriptions", "dispenses"):
        names = _table(clinic, name)["drug"].unique()
        mapped = normalise_drug_names(names)
        assert mapped.null_count() == 0, names.filter(mapped.is_null()).to_list()
        assert set(mapped) <= known
    effects = _table(clinic, "side_effects")["effect"].unique()
    assert normalise_effects(effects).null_count() == 0


def test_drug_names_are_written_as_clinics_write_them(clinic):
    names = set(_table(clinic, "dispenses")["drug"]) | set(_table(clinic, "prescriptions")["drug"])
    assert any(n.isupper() and "MG" in n for n in names)  # pharmacy style
    assert any(n.startswith("Zoloft") for n in names)  # brand with strength


def test_ssri_sexual_dysfunction_exceeds_bupropion_in_truth_and_raw_counts(clinic):
    truth = json.loads((clinic / "truth.json").read_text())["per_drug"]
    assert EFFECT_PROBABILITIES["sertraline"]["sexual_dysfunction"] > \
        EFFECT_PROBABILITIES["bupropion"]["sexual_dysfunction"]
    sd = {d: truth[d]["side_effects"]["effects"]["sexual_dysfunction"]
          for d in ("sertraline", "escitalopram", "bupropion")}
    ssri = [sd[d]["reported_episodes"] / truth[d]["side_effects"]["episodes_with_visit_day_0_90"]
            for d in ("sertraline", "escitalopram")]
    bup = sd["bupropion"]["reported_episodes"] / truth["bupropion"]["side_effects"][
        "episodes_with_visit_day_0_90"]
    assert min(ssri) > bup
    # Raw counts straight from the files: reports naming the drug / patients filling it.
    reports = _table(clinic, "side_effects").with_columns(
        ingredient=normalise_drug_names(_table(clinic, "side_effects")["drug"]),
        code=normalise_effects(_table(clinic, "side_effects")["effect"]))
    fills = _table(clinic, "dispenses").with_columns(
        ingredient=normalise_drug_names(_table(clinic, "dispenses")["drug"]))

    def rate(drug: str) -> float:
        users = fills.filter(pl.col("ingredient") == drug)["patient_id"].n_unique()
        hit = reports.filter((pl.col("ingredient") == drug)
                             & (pl.col("code") == "sexual_dysfunction"))["patient_id"].n_unique()
        return hit / users

    assert rate("sertraline") > 2 * rate("bupropion")


def test_olanzapine_weight_gain_shows_in_truth_parameters():
    assert EFFECT_PROBABILITIES["olanzapine"]["weight_gain"] > \
        EFFECT_PROBABILITIES["aripiprazole"]["weight_gain"]


def test_phq9_scores_and_item_9_stay_in_range(clinic):
    a = _table(clinic, "assessments").with_columns(pl.col("total_score", "item_9").cast(pl.Int64))
    phq = a.filter(pl.col("instrument").is_in(["PHQ-9", "PHQ-A"]))
    assert phq["total_score"].min() >= 0 and phq["total_score"].max() <= 27
    assert phq.filter(pl.col("item_9") > pl.col("total_score")).height == 0
    assert 0 < phq.filter(pl.col("item_9") > 0).height < phq.height * 0.2


def test_truth_counts_match_the_episode_file(clinic):
    """truth.json's measured counts are sums over truth/episodes.csv (the per-episode truth)."""
    truth = json.loads((clinic / "truth.json").read_text())["per_drug"]
    episodes = pl.read_csv(clinic / "truth" / "episodes.csv")
    per_drug = episodes.group_by("ingredient").agg(
        pl.len().alias("episodes"), pl.col("phq9_assessed").sum().alias("assessed"),
        pl.col("phq9_response").sum().alias("responders"))
    for row in per_drug.iter_rows(named=True):
        entry = truth[row["ingredient"]]
        assert entry["episodes"] == row["episodes"]
        assert entry["phq9"]["assessed_episodes"] == row["assessed"]
        assert entry["phq9"]["measured_responders"] == row["responders"]


def test_sample_data_is_committed_small_and_documented():
    assert (SAMPLE / "README.md").exists()
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert size < 8_000_000
    truth = json.loads((SAMPLE / "truth.json").read_text())
    assert truth["patients"] == 2000 and truth["seed"] == 20250101


def test_sample_edge_cases_are_all_found_and_hold():
    cases = json.loads((SAMPLE / "edge_cases.json").read_text())
    assert all(case["found"] for case in cases.values()), [k for k, v in cases.items()
                                                           if not v["found"]]
    a = _table(SAMPLE, "assessments")
    fu = a.filter(pl.col("assessment_id") == cases["EC-03"]["assessment_id"]).row(0, named=True)
    start = cases["EC-03"]["episode_start"]
    assert (pl.Series([fu["assessment_date"]]).str.to_date() - pl.Series([start]).str.to_date()
            ).dt.total_days()[0] == 112
    half = cases["EC-04"]
    assert 2 * half["total_score"] == half["phq9_baseline"]
    same_day = a.filter((pl.col("patient_id") == cases["EC-08"]["patient_id"])
                        & (pl.col("assessment_date") == cases["EC-08"]["assessment_date"])
                        & pl.col("instrument").is_in(["PHQ-9", "PHQ-A"]))
    assert same_day.height == 2
    patients = _table(SAMPLE, "patients")
    ec7 = patients.filter(pl.col("patient_id") == cases["EC-07"]["patient_id"])
    assert 2023 - int(ec7["birth_year"][0]) >= 90
    no_drug = _table(SAMPLE, "side_effects").filter(
        pl.col("side_effect_id") == cases["EC-09"]["side_effect_id"])
    assert no_drug["drug"][0] is None
