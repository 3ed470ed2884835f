"""Ground truth: per episode what the generator drew, and per drug what a correct metric must find.

For each episode (one ingredient from its first fill, day ``s``) this module applies the product
default definitions (DOMAIN.md section 3) to the generated scores exactly as the metrics should:
baseline = latest score in ``[s-30, s+7]``; evaluable ("assessed") = baseline >= 10 and a score in
``[s+42, s+112]``; follow-up = the latest of those; response = ``2*followup <= baseline``;
remission = ``followup < 5``. Next to these *measured* outcomes it keeps the *probability* the
generator gave them: the latent response probability of the step whose outcome governs that
follow-up score (the episode's own, or, for a drug stopped early for intolerance, the next drug's,
since its follow-up window lies in the next drug's weeks). The per-drug mean of that probability
over evaluable episodes is ``expected_response_rate_among_assessed``; the measured count must
equal ``measured_responders`` exactly, and lies within ``expected +- 1.96 sd`` with ~95% chance.

Side effects: the denominator is episodes with >= 1 visit in ``[s, s+90]``; the expected count is
the sum of the episodes' effect probabilities over that denominator.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic.parameters import (
    ADHERENCE_GROUPS,
    DRUGS,
    EFFECT_CODES,
    EFFECT_PROBABILITIES,
    REMISSION_GIVEN_RESPONSE,
)
from synthetic.treatment import KIND_NAMES, Steps

INGREDIENTS = pl.Series([d.ingredient for d in DRUGS])
INSTRUMENT_FAMILIES = {"phq9": ("PHQ-9", "PHQ-A"), "gad7": ("GAD-7",)}


class TruthInconsistency(AssertionError):
    """A measured outcome disagrees with the latent outcome that governs it (a generator bug)."""


def _episode_frame(steps: Steps) -> pl.DataFrame:
    return pl.DataFrame({
        "step_row": np.arange(steps.n), "pat": steps.pat, "drug": steps.drug, "s": steps.s,
        "step": steps.k, "kind": steps.kind, "adherence": steps.adherence,
        "adequate": steps.adequate, "p_response": steps.p_response,
        "responder": steps.responder, "remitter": steps.remitter,
    })


def measured_outcomes(steps: Steps, assessments: pl.DataFrame, family: str) -> pl.DataFrame:
    """Per episode: baseline, follow-up, evaluable, response, remission, governing probabilities."""
    scores = assessments.filter(pl.col("instrument").is_in(INSTRUMENT_FAMILIES[family])).select(
        "pat", "day", "total_score", pl.col("step_row").alias("gov_row"), "consistent")
    episodes = _episode_frame(steps).select("step_row", "pat", "s")
    joined = episodes.join(scores, on="pat")

    def latest(lo: int, hi: int, prefix: str) -> pl.DataFrame:
        return (joined.filter(pl.col("day").is_between(pl.col("s") + lo, pl.col("s") + hi))
                .sort(["step_row", "day"]).group_by("step_row", maintain_order=True).last()
                .select("step_row", pl.col("total_score").alias(prefix),
                        pl.col("gov_row").alias(f"{prefix}_gov"),
                        pl.col("consistent").alias(f"{prefix}_consistent")))

    out = (episodes.join(latest(-30, 7, "baseline"), on="step_row", how="left")
           .join(latest(42, 112, "followup"), on="step_row", how="left")
           .with_columns(evaluable=(pl.col("baseline") >= 10) & pl.col("followup").is_not_null())
           .with_columns(pl.col("evaluable").fill_null(False))
           .with_columns(response=pl.col("evaluable") & (2 * pl.col("followup") <= pl.col(
               "baseline")), remission=pl.col("evaluable") & (pl.col("followup") < 5)))
    gov = out["followup_gov"].fill_null(0).to_numpy()
    evaluable = out["evaluable"].to_numpy()
    p_resp = np.where(evaluable, steps.p_response[gov], np.nan)
    out = out.with_columns(pl.Series("p_response_governing", p_resp),
                           pl.Series("p_remission_governing", p_resp * REMISSION_GIVEN_RESPONSE))
    ok = out.filter("evaluable").with_columns(
        latent_response=pl.Series(steps.responder[gov[evaluable]]),
        latent_remission=pl.Series(steps.remitter[gov[evaluable]]))
    bad = ok.filter(~pl.col("followup_consistent") | (pl.col("response") != pl.col(
        "latent_response")) | (pl.col("remission") != pl.col("latent_remission")))
    if bad.height:
        raise TruthInconsistency(f"{family}: {bad.height} follow-up scores contradict the latent "
                                 f"outcome, e.g. {bad.head(3).to_dicts()}")
    return out


def side_effect_exposure(steps: Steps, visits: pl.DataFrame,
                         reports: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per episode: has a visit in [s, s+90]; and [episode, effect] any report of the code by the
    patient in that window whatever the suspected drug (date-only attribution)."""
    episodes = _episode_frame(steps).select("step_row", "pat", "s")
    seen = (episodes.join(visits.select("pat", "day"), on="pat")
            .filter(pl.col("day").is_between(pl.col("s"), pl.col("s") + 90))
            .get_column("step_row").unique().to_numpy())
    has_visit = np.zeros(steps.n, bool)
    has_visit[seen] = True
    any_report = np.zeros((steps.n, len(EFFECT_CODES)), bool)
    hits = (episodes.join(reports.select("pat", "day", "effect_index"), on="pat")
            .filter(pl.col("day").is_between(pl.col("s"), pl.col("s") + 90)))
    any_report[hits["step_row"].to_numpy(), hits["effect_index"].to_numpy()] = True
    return has_visit, any_report


def chunk_truth(steps: Steps, assessments: pl.DataFrame, visits: pl.DataFrame,
                reports: pl.DataFrame, patient_ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-episode truth rows, per-drug sums) for one chunk."""
    episodes = _episode_frame(steps)
    per_family = {f: measured_outcomes(steps, assessments, f) for f in INSTRUMENT_FAMILIES}
    has_visit, any_report = side_effect_exposure(steps, visits, reports)
    sums = episodes.select("drug").with_columns(pl.lit(1).alias("episodes"),
                                                pl.Series("se_denominator", has_visit.astype(int)))
    for family, measured in per_family.items():
        p = measured["p_response_governing"].fill_nan(0.0).fill_null(0.0)
        q = measured["p_remission_governing"].fill_nan(0.0).fill_null(0.0)
        sums = sums.with_columns(
            measured["evaluable"].cast(pl.Int64).alias(f"{family}_assessed"),
            measured["response"].cast(pl.Int64).alias(f"{family}_responders"),
            measured["remission"].cast(pl.Int64).alias(f"{family}_remitters"),
            p.alias(f"{family}_p_response_sum"), (p * (1 - p)).alias(f"{family}_response_var"),
            q.alias(f"{family}_p_remission_sum"), (q * (1 - q)).alias(f"{family}_remission_var"))
    for j, code in enumerate(EFFECT_CODES):
        p = np.where(has_visit, steps.effect_p[:, j], 0.0)
        sums = sums.with_columns(
            pl.Series(f"se_{code}_p_sum", p), pl.Series(f"se_{code}_var", p * (1 - p)),
            pl.Series(f"se_{code}_reported", (steps.effect[:, j] & has_visit).astype(int)),
            pl.Series(f"se_{code}_reported_any_drug", (any_report[:, j] & has_visit).astype(int)))
    drug_sums = sums.group_by("drug").sum()

    phq, gad = per_family["phq9"], per_family["gad7"]
    reported = [np.where(steps.effect[:, j] & has_visit, code, "") for j, code in
                enumerate(EFFECT_CODES)]
    reported_codes = ["|".join(c for c in codes if c) for codes in zip(*reported, strict=True)] \
        if steps.n else []
    rows = pl.DataFrame({
        "patient_id": patient_ids.gather(steps.pat), "ingredient": INGREDIENTS.gather(steps.drug),
        "episode_start_day": steps.s, "step": steps.k + 1,
        "step_kind": np.array(KIND_NAMES)[steps.kind],
        "adherence_group": np.array([g.name for g in ADHERENCE_GROUPS])[steps.adherence],
        "adequate_dose": steps.adequate, "p_response": np.round(steps.p_response, 6),
        "latent_responder": steps.responder, "latent_remitter": steps.remitter,
        "phq9_baseline": phq["baseline"], "phq9_followup": phq["followup"],
        "phq9_assessed": phq["evaluable"], "phq9_response": phq["response"],
        "phq9_remission": phq["remission"],
        "phq9_p_response": phq["p_response_governing"].round(6),
        "gad7_baseline": gad["baseline"], "gad7_followup": gad["followup"],
        "gad7_assessed": gad["evaluable"], "gad7_response": gad["response"],
        "gad7_remission": gad["remission"],
        "has_visit_day_0_90": has_visit, "side_effects_day_0_90": reported_codes,
    }).with_columns(pl.col("episode_start_day").cast(pl.Int32).cast(pl.Date)
                    .alias("episode_start")).drop("episode_start_day")
    return rows, drug_sums


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def summarise(drug_sums: pl.DataFrame) -> dict[str, dict]:
    """Per ingredient: parameters, expected values of the measured quantities, measured counts."""
    totals = drug_sums.group_by("drug").sum().sort("drug")
    out: dict[str, dict] = {}
    for row in totals.iter_rows(named=True):
        drug = DRUGS[row["drug"]]
        entry: dict = {"episodes": row["episodes"],
                       "response_probability_adequate": drug.response_probability,
                       "odds_ratio_vs_placebo": drug.odds_ratio}
        for family in INSTRUMENT_FAMILIES:
            n = row[f"{family}_assessed"]
            entry[family] = {
                "assessed_episodes": n,
                "expected_response_rate_among_assessed": _rate(row[f"{family}_p_response_sum"], n),
                "response_rate_sd": _rate(row[f"{family}_response_var"] ** 0.5, n),
                "measured_responders": row[f"{family}_responders"],
                "expected_remission_rate_among_assessed": _rate(
                    row[f"{family}_p_remission_sum"], n),
                "remission_rate_sd": _rate(row[f"{family}_remission_var"] ** 0.5, n),
                "measured_remitters": row[f"{family}_remitters"],
            }
        effects: dict[str, dict] = {}
        den = row["se_denominator"]
        for code in EFFECT_CODES:
            p = EFFECT_PROBABILITIES[drug.ingredient].get(code)
            if p is None:
                continue
            effects[code] = {
                "probability_at_target_dose": p,
                "expected_frequency": _rate(row[f"se_{code}_p_sum"], den),
                "frequency_sd": _rate(row[f"se_{code}_var"] ** 0.5, den),
                "reported_episodes": row[f"se_{code}_reported"],
                "reported_episodes_any_suspected_drug": row[f"se_{code}_reported_any_drug"],
            }
        entry["side_effects"] = {"episodes_with_visit_day_0_90": den, "effects": effects}
        out[drug.ingredient] = entry
    return out
