"""Valid-but-tricky rows, with stable ids (EC-01 ...) that tests and ``sample_data/README.md`` use.

Most edge cases occur naturally; this module finds the first of each in the first chunk. A few
are planted because they are rare or need a specific shape, and each plant is chosen so it cannot
change any ground-truth number: the age-90+ patient only changes a birth year; the same-day
duplicate score is *lower* than the original (the product rule keeps the higher); the side effect
with no suspected drug falls on an intake visit before any drug started.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.reference import drug_table, normalise_drug_names

PHQ = ("PHQ-9", "PHQ-A")


def _first(frame: pl.DataFrame, what: str) -> dict:
    if frame.height == 0:
        return {"found": False, "why_missing": f"no {what} in the first chunk"}
    return {"found": True, **{k: (v.isoformat() if isinstance(v, dt.date) else v)
                              for k, v in frame.row(0, named=True).items()}}


def _followups(episodes: pl.DataFrame, assessments: pl.DataFrame) -> pl.DataFrame:
    """Assessed PHQ episodes with the assessment that is their follow-up (latest in window)."""
    phq = assessments.filter(pl.col("instrument").is_in(PHQ))
    return (episodes.filter("phq9_assessed").select(
        "patient_id", "ingredient", "episode_start", "phq9_baseline", "phq9_followup")
        .join(phq.select("patient_id", "assessment_id", "assessment_date", "total_score"),
              on="patient_id")
        .filter(pl.col("assessment_date").is_between(
            pl.col("episode_start") + pl.duration(days=42),
            pl.col("episode_start") + pl.duration(days=112)))
        .sort(["patient_id", "episode_start", "assessment_date"])
        .group_by(["patient_id", "episode_start"], maintain_order=True).last()
        .with_columns(day=(pl.col("assessment_date") - pl.col("episode_start")).dt.total_days()))


def plant_and_find_edge_cases(tables: dict[str, pl.DataFrame], episodes: pl.DataFrame,
                              start: dt.date) -> tuple[dict[str, pl.DataFrame], dict]:
    """Plant the rare edge cases into ``tables`` and locate every edge case; returns both."""
    found: dict[str, dict] = {}
    a = tables["assessments"]
    fu = _followups(episodes, a)
    dispenses = tables["dispenses"].with_columns(
        normalise_drug_names(tables["dispenses"]["drug"]).alias("ingredient"))

    overlap = (dispenses.sort(["patient_id", "ingredient", "dispense_date", "dispense_id"])
               .with_columns(prev_end=(pl.col("dispense_date") + pl.duration(
                   days=pl.col("days_supply"))).shift(1).over(["patient_id", "ingredient"]))
               .filter(pl.col("dispense_date") < pl.col("prev_end")))
    found["EC-01"] = {"title": "early refill overlapping the previous fill's supply",
                      **_first(overlap.select("patient_id", "ingredient", "dispense_id",
                                              "dispense_date"), "overlapping refill")}
    classes = drug_table().select("ingredient", "drug_class")
    steps = episodes.join(classes, on="ingredient", how="left").sort(
        ["patient_id", "step"]).with_columns(
        prev_class=pl.col("drug_class").shift(1).over("patient_id"),
        prev_ingredient=pl.col("ingredient").shift(1).over("patient_id"))
    switch = steps.filter(pl.col("step_kind").is_in(["switch", "se_switch"])
                          & (pl.col("drug_class") != pl.col("prev_class")))
    found["EC-02"] = {"title": "switch to another drug class",
                      **_first(switch.select("patient_id", "prev_ingredient", "ingredient",
                                             "episode_start"), "class switch")}
    found["EC-03"] = {"title": "PHQ-9 follow-up exactly on day 112 (window edge, included)",
                      **_first(fu.filter(pl.col("day") == 112).select(
                          "patient_id", "ingredient", "episode_start", "assessment_id"),
                          "follow-up on day 112")}
    found["EC-04"] = {"title": "follow-up exactly half the baseline (a response)",
                      **_first(fu.filter(2 * pl.col("total_score") == pl.col("phq9_baseline"))
                               .select("patient_id", "ingredient", "episode_start",
                                       "assessment_id", "phq9_baseline", "total_score"),
                               "half-baseline follow-up")}
    found["EC-05"] = {"title": "baseline PHQ-9 of 9 (not eligible)",
                      **_first(episodes.filter(pl.col("phq9_baseline") == 9).select(
                          "patient_id", "ingredient", "episode_start"), "baseline of 9")}
    found["EC-06"] = {"title": "follow-up score of 5 (a response at best, not a remission)",
                      **_first(fu.filter(pl.col("total_score") == 5).select(
                          "patient_id", "ingredient", "episode_start", "assessment_id"),
                          "follow-up of 5")}

    patients = tables["patients"]
    old = patients.row(0, named=True)
    old_year = start.year - 92
    tables["patients"] = patients.with_columns(
        pl.when(pl.col("patient_id") == old["patient_id"]).then(pl.lit(old_year))
        .otherwise(pl.col("birth_year")).alias("birth_year"))
    found["EC-07"] = {"title": "patient aged 90 or more (birth year top-coded on load)",
                      "found": True, "patient_id": old["patient_id"], "birth_year": old_year}

    original = a.filter(pl.col("instrument").is_in(PHQ) & (pl.col("total_score") >= 3)).head(1)
    if original.height:
        duplicate = original.with_columns((pl.col("assessment_id") + "D").alias("assessment_id"),
                                          (pl.col("total_score") - 2).alias("total_score"),
                                          pl.lit(None, pl.Int64).alias("item_9"))
        position = a["assessment_id"].index_of(original["assessment_id"][0]) + 1
        tables["assessments"] = pl.concat([a.head(position), duplicate, a.slice(position)])
    found["EC-08"] = {"title": "two PHQ-9 scores on one day (the higher is kept)",
                      **_first(original.select("patient_id", "assessment_id", "assessment_date",
                                               "total_score"), "PHQ-9 score")}

    visits = tables["visits"]
    before_drug = (visits.filter(pl.col("visit_type") == "intake")
                   .join(episodes.filter(pl.col("step") == 1).select("patient_id",
                                                                     "episode_start"),
                         on="patient_id")
                   .filter(pl.col("visit_date") < pl.col("episode_start")).head(1))
    if before_drug.height:
        row = before_drug.row(0, named=True)
        extra = pl.DataFrame({"side_effect_id": ["SE000000000X"], "patient_id": [row["patient_id"]],
                              "report_date": [row["visit_date"]], "effect": ["headache"],
                              "severity": ["mild"], "drug": [None], "action": ["none"]},
                             schema=tables["side_effects"].schema)
        tables["side_effects"] = pl.concat([extra, tables["side_effects"]])
    found["EC-09"] = {"title": "side effect with no suspected drug (before any drug started)",
                      **_first(before_drug.select("patient_id", "visit_date").with_columns(
                          pl.lit("SE000000000X").alias("side_effect_id")), "intake visit")}

    stay = (visits.filter(pl.col("visit_type") == "inpatient")
            .join(dispenses.select("patient_id", "dispense_id", "dispense_date", "days_supply"),
                  on="patient_id")
            .filter((pl.col("dispense_date") <= pl.col("end_date"))
                    & (pl.col("dispense_date") + pl.duration(days=pl.col("days_supply"))
                       > pl.col("visit_date"))))
    found["EC-10"] = {"title": "inpatient stay during a fill's supply",
                      **_first(stay.select("patient_id", "visit_id", "visit_date", "end_date",
                                           "dispense_id"), "inpatient stay during a fill")}
    found["EC-11"] = {"title": "adolescent PHQ-A score (treated as PHQ-9)",
                      **_first(a.filter(pl.col("instrument") == "PHQ-A").select(
                          "patient_id", "assessment_id"), "PHQ-A score")}
    diagnoses = tables["diagnoses"]
    found["EC-12"] = {"title": "ICD-10 code written without the dot",
                      **_first(diagnoses.filter(~pl.col("icd10_code").str.contains(".", literal=True)
                                                & (pl.col("icd10_code").str.len_chars() > 3))
                               .select("patient_id", "icd10_code"), "code without dot")}
    found["EC-13"] = {"title": "PHQ-9 item 9 positive",
                      **_first(a.filter(pl.col("item_9") > 0).select(
                          "patient_id", "assessment_id", "item_9"), "positive item 9")}
    found["EC-14"] = {"title": "90-day supply",
                      **_first(dispenses.filter(pl.col("days_supply") == 90).select(
                          "patient_id", "dispense_id"), "90-day fill")}
    found["EC-15"] = {"title": "switch after an intolerable side effect",
                      **_first(tables["side_effects"].filter(pl.col("action") == "switched")
                               .select("patient_id", "side_effect_id", "effect"),
                               "switch for intolerance")}
    found["EC-16"] = {"title": "open prescription (no end date)",
                      **_first(tables["prescriptions"].filter(pl.col("end_date").is_null())
                               .select("patient_id", "prescription_id"), "open prescription")}
    return tables, found
