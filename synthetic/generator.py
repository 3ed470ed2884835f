"""The synthetic clinic: ``generate(...)`` writes an extract (contract v1) plus its ground truth.

Patients are drawn in chunks of ``CHUNK_PATIENTS``; chunk ``c`` uses
``numpy.random.default_rng([seed, c])``, so output depends only on the seed, the patient count and
the options, never on the machine or on ``hash()``. Per chunk: population -> treatment steps ->
visits -> rating scales -> fills and prescriptions -> side effects and measurements -> contract
tables, appended to the output; the truth sums are added up across chunks.

Output folder: the eight contract tables, ``truth.json`` (parameters, expected values of the
measured quantities and the measured counts; keys documented in ``sample_data/README.md``),
``truth/episodes.csv|parquet`` (one row per episode; a folder the ingest ignores) and
``edge_cases.json`` (rows that are valid but tricky, with stable ids EC-01...).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.contract import CONTRACT_VERSION, TABLE_ORDER
from synthetic import parameters as P
from synthetic.edge_cases import plant_and_find_edge_cases
from synthetic.effects import build_measurements, build_side_effects
from synthetic.outcomes import build_assessments, draw_baselines
from synthetic.pharmacy import build_prescriptions, dose_change_days, draw_fills, fill_levels
from synthetic.planted import PlantedEffect
from synthetic.population import Clinic, draw_population
from synthetic.records import IdCounters, contract_tables
from synthetic.treatment import simulate_steps
from synthetic.truth import chunk_truth, summarise
from synthetic.visits import build_visits
from synthetic.worklist_cases import plant_worklist_cases
from synthetic.writer import OutputFormat, TableWriter

CHUNK_PATIENTS = 50_000
EPOCH = dt.date(1970, 1, 1)


@dataclass
class GenerationResult:
    """What was written: the folder, rows per table, seconds, and the truth summary."""

    out: Path
    rows: dict[str, int]
    seconds: float
    truth: dict = field(repr=False)


def _day(date: dt.date) -> int:
    return (date - EPOCH).days


def _chunk(seed: int, index: int, first: int, n: int, clinic: Clinic, start: int, end: int,
           counters: IdCounters, planted: PlantedEffect | None = None):
    rng = np.random.default_rng([seed, index])
    pop = draw_population(rng, first, n, clinic, start, end)
    steps = simulate_steps(rng, pop, planted)
    baselines = draw_baselines(rng, pop, steps)
    visits = build_visits(rng, pop, steps)
    assessments = build_assessments(rng, pop, steps, baselines, visits)
    fills, last_fill, last_cover = draw_fills(rng, pop, steps)
    changes = dose_change_days(rng, pop, steps, last_fill)
    prescriptions = build_prescriptions(rng, pop, steps, changes, last_cover)
    levels = fill_levels(fills, changes)
    reports = build_side_effects(rng, steps, visits)
    measurements = build_measurements(rng, pop, steps, visits)
    tables = contract_tables(rng, pop, steps, visits, assessments, prescriptions, fills, levels,
                             reports, measurements, counters)
    episodes, sums = chunk_truth(steps, assessments, visits, reports,
                                 tables["patients"]["patient_id"])
    return tables, episodes, sums


def parameters_as_dict() -> dict:
    """Every generator parameter, for ``truth.json``."""
    return {
        "placebo_response": P.PLACEBO_RESPONSE,
        "remission_given_response": P.REMISSION_GIVEN_RESPONSE,
        "subtherapeutic_response_factor": P.SUBTHERAPEUTIC_RESPONSE_FACTOR,
        "adequate_dose_share": P.ADEQUATE_DOSE_SHARE,
        "subtherapeutic_effect_factor": P.SUBTHERAPEUTIC_EFFECT_FACTOR,
        "adherence_groups": {g.name: {"share": g.share, "refill_gap_days": list(g.gap_days),
                                      "response_factor": g.response_factor,
                                      "max_fills": g.max_fills,
                                      "design_pdc_range": list(g.design_pdc)}
                             for g in P.ADHERENCE_GROUPS},
        "drugs": {d.ingredient: {"start_mg": d.start_mg, "step_mg": d.step_mg,
                                 "target_mg": d.target_mg, "odds_ratio_vs_placebo": d.odds_ratio,
                                 "response_probability_adequate": d.response_probability,
                                 "side_effect_probability_90d": P.EFFECT_PROBABILITIES[
                                     d.ingredient]}
                  for d in P.DRUGS},
        "diagnoses": {d.name: {"share": d.share, "icd10": list(d.icd10),
                               "first_line": d.first_line, "augment": d.augment}
                      for d in P.DIAGNOSES},
        "comorbidity": P.COMORBIDITY,
        "severity_shares": dict(zip(("mild", "moderate", "severe"), P.SEVERITY_SHARES,
                                    strict=True)),
        "intolerable_stop_probability": P.INTOLERABLE_STOP_PROBABILITY,
        "nonresponse_next_step": P.NONRESPONSE_NEXT,
        "dropout_median_days": P.DROPOUT_MEDIAN_DAYS,
        "measuring_clinician_share": P.MEASURING_CLINICIAN_SHARE,
        "telehealth_share": P.TELEHEALTH_SHARE,
    }


def generate(n_patients: int, seed: int, out: Path, *, fmt: OutputFormat = "csv",
             start: dt.date = dt.date(2023, 1, 1), end: dt.date = dt.date(2025, 12, 31),
             sites: int = 4, clinicians: int = 40, command: str = "",
             edge_cases: bool = True,
             planted_effect: PlantedEffect | None = None,
             worklist_cases: bool = False) -> GenerationResult:
    """Write a synthetic extract of ``n_patients`` to ``out`` (see the module docstring).

    ``planted_effect``: an optional known drug effect under confounding by age
    (``synthetic.planted``), recorded in ``truth.json["planted_effect"]``. ``worklist_cases``
    appends the planted worklist patients (``synthetic.worklist_cases``) to the last chunk and
    writes their manifest; off by default, so the sample clinic is unchanged.
    """
    if n_patients < 1:
        raise ValueError("--patients must be at least 1")
    if end <= start + dt.timedelta(days=180):
        raise ValueError(f"--end {end} must be more than 180 days after --start {start}")
    if sites < 1 or clinicians < sites:
        raise ValueError("need at least one site and at least as many clinicians as sites")
    if end > dt.date.today():
        raise ValueError(f"--end {end} is in the future; the ingest refuses dates after tomorrow")
    began = time.perf_counter()
    out = Path(out)
    clinic = Clinic.draw(seed, sites, clinicians)
    writer = TableWriter(out, fmt)
    episode_writer = TableWriter(out / "truth", fmt)
    counters = IdCounters()
    all_sums = []
    found_edge_cases: dict = {}
    planted: dict = {}
    last_chunk = (n_patients - 1) // CHUNK_PATIENTS
    try:
        for index, first in enumerate(range(0, n_patients, CHUNK_PATIENTS)):
            n = min(CHUNK_PATIENTS, n_patients - first)
            tables, episodes, sums = _chunk(
                seed, index, first, n, clinic, _day(start), _day(end), counters, planted_effect)
            if index == 0 and edge_cases:
                tables, found_edge_cases = plant_and_find_edge_cases(tables, episodes, start)
            if index == last_chunk and worklist_cases:
                tables, planted = plant_worklist_cases(tables, end)
            writer.write(tables)
            episode_writer.write_frame("episodes", episodes)
            all_sums.append(sums)
    finally:
        writer.close()
        episode_writer.close()
    truth = {
        "generator": "psych-outcomes synthetic clinic",
        "contract_version": CONTRACT_VERSION,
        "seed": seed, "patients": n_patients, "command": command,
        "start": start.isoformat(), "end": end.isoformat(), "sites": sites,
        "clinicians": clinicians, "chunk_patients": CHUNK_PATIENTS,
        "rows": writer.rows,
        "definitions": {
            "episode": "continuous use of one ingredient from its first fill (refill gaps stay "
                       "under 30 days; no ingredient is used twice by a patient)",
            "baseline": "latest score in [start-30, start+7]",
            "assessed": "baseline >= 10 and a score in [start+42, start+112]",
            "followup": "latest score in [start+42, start+112]",
            "response": "2*followup <= baseline", "remission": "followup < 5",
            "side_effect_denominator": "episodes with >= 1 visit in [start, start+90]",
            "side_effect_numerator": "episodes with >= 1 report of the code in [start, start+90] "
                                     "naming the episode's drug",
        },
        "parameters": parameters_as_dict(),
        "per_drug": summarise(pl.concat(all_sums)),
        "edge_cases": found_edge_cases,
        "planted_effect": None if planted_effect is None else planted_effect.as_truth(),
    }
    if planted:
        truth["worklist_cases"] = planted
        (out / "worklist_cases.json").write_text(json.dumps(planted, indent=2) + "\n")
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n")
    if found_edge_cases:
        (out / "edge_cases.json").write_text(json.dumps(found_edge_cases, indent=2) + "\n")
    return GenerationResult(out, dict(writer.rows), time.perf_counter() - began, truth)


__all__ = ["CHUNK_PATIENTS", "TABLE_ORDER", "GenerationResult", "generate"]
