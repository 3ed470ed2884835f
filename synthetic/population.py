"""Patients of the synthetic clinic: age, sex, site, clinician, diagnoses and time in care.

Everything is drawn per chunk of patients with the chunk's own generator, in whole arrays; days are
integers counted from 1970-01-01 so that dates are exact and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.parameters import (
    COMORBIDITY,
    DIAGNOSES,
    DIAGNOSIS_INDEX,
    DROPOUT_MEDIAN_DAYS,
    MEASURING_CLINICIAN_SHARE,
    SEX_SHARES,
)

SEX_CODES: tuple[str, ...] = tuple(SEX_SHARES)
#: Patients enter care no later than this many days before the data end, so most have follow-up.
LAST_INTAKE_BEFORE_END_DAYS = 60


@dataclass(frozen=True)
class Clinic:
    """Sites and clinicians: clinician ``c`` works at site ``c % sites``; some measure routinely."""

    sites: int
    clinicians: int
    clinician_measures: np.ndarray  # bool per clinician: records PHQ-9/GAD-7 at visits

    @classmethod
    def draw(cls, seed: int, sites: int, clinicians: int) -> Clinic:
        # Its own stream (not a chunk's), so a clinician behaves alike in every chunk.
        rng = np.random.default_rng([seed, 0xC11])
        measures = rng.random(clinicians) < MEASURING_CLINICIAN_SHARE
        measures[0] = True  # at least one clinician measures, even in a tiny clinic
        return cls(sites, clinicians, measures)

    def site_of(self, clinician: np.ndarray) -> np.ndarray:
        return clinician % self.sites


@dataclass
class Population:
    """One chunk of patients (arrays of equal length ``n``)."""

    first_index: int  # global index of the chunk's first patient (patient_id = PT + index + 1)
    dx: np.ndarray  # primary diagnosis index into DIAGNOSES
    age: np.ndarray  # age in years at intake
    birth_year: np.ndarray
    sex: np.ndarray  # index into SEX_CODES
    clinician: np.ndarray
    site: np.ndarray
    measured: np.ndarray  # bool: the clinician records rating scales
    comorbid: dict[str, np.ndarray]  # diagnosis name -> bool
    has_phq: np.ndarray  # depressive symptoms followed with PHQ-9 (PHQ-A for some adolescents)
    uses_phq_a: np.ndarray
    has_gad: np.ndarray
    intake_day: np.ndarray
    last_day: np.ndarray  # last day in care: drop-out or the data end, whichever comes first
    height_m: np.ndarray
    weight_kg: np.ndarray
    hba1c_pct: np.ndarray
    ldl_mg_dl: np.ndarray

    @property
    def n(self) -> int:
        return int(self.dx.size)


def draw_population(rng: np.random.Generator, first_index: int, n: int, clinic: Clinic,
                    start_day: int, end_day: int) -> Population:
    """Draw ``n`` patients entering care between ``start_day`` and ``end_day - 60``."""
    shares = np.array([d.share for d in DIAGNOSES])
    dx = rng.choice(len(DIAGNOSES), size=n, p=shares / shares.sum())
    age_lo = np.array([d.age_range[0] for d in DIAGNOSES])[dx]
    age_hi = np.array([d.age_range[1] for d in DIAGNOSES])[dx]
    # Beta(2, 3): most patients in their 20s-40s, a tail of older adults.
    age = (age_lo + (age_hi - age_lo) * rng.beta(2.0, 3.0, size=n)).astype(np.int64)
    last_intake = max(start_day, end_day - LAST_INTAKE_BEFORE_END_DAYS)
    intake_day = rng.integers(start_day, last_intake + 1, size=n)
    intake_year = 1970 + (intake_day / 365.2425).astype(np.int64)
    birth_year = intake_year - age - rng.integers(0, 2, size=n)
    sex_p = np.array(list(SEX_SHARES.values()))
    sex = rng.choice(len(SEX_CODES), size=n, p=sex_p)
    clinician = rng.integers(0, clinic.clinicians, size=n)

    comorbid: dict[str, np.ndarray] = {}
    for name in ("major_depression", "anxiety", "substance_use"):
        p = np.array([COMORBIDITY[d.name].get(name, 0.0) for d in DIAGNOSES])[dx]
        comorbid[name] = rng.random(n) < p
    depressed = (dx == DIAGNOSIS_INDEX["major_depression"]) | (dx == DIAGNOSIS_INDEX["bipolar"]) \
        | comorbid["major_depression"]
    anxious = (dx == DIAGNOSIS_INDEX["anxiety"]) | comorbid["anxiety"]
    uses_phq_a = (age < 18) & (rng.random(n) < 0.5)

    # Drop-out: exponential time in care with the given median (ln 2 converts median to scale).
    # At least 6 days, so the first fill (0-5 days after intake) happens in care.
    dropout = intake_day + rng.exponential(DROPOUT_MEDIAN_DAYS / np.log(2.0), size=n).astype(
        np.int64) + 6
    last_day = np.minimum(dropout, end_day)

    is_female = sex == SEX_CODES.index("F")
    adult_height = np.where(is_female, rng.normal(1.63, 0.07, n), rng.normal(1.77, 0.075, n))
    child_height = 1.20 + 0.05 * np.clip(age - 7, 0, 11) + rng.normal(0, 0.05, n)
    height = np.where(age >= 18, adult_height, np.minimum(child_height, adult_height))
    bmi = np.where(age >= 18, rng.lognormal(np.log(27.0), 0.18, n),
                   rng.lognormal(np.log(19.0), 0.15, n))
    weight = bmi * height**2
    hba1c = np.clip(rng.normal(5.4, 0.45, n) + 0.02 * np.maximum(bmi - 25, 0), 4.2, 9.5)
    ldl = np.clip(rng.normal(112.0, 30.0, n), 40, 260)
    return Population(
        first_index=first_index, dx=dx, age=age, birth_year=birth_year, sex=sex,
        clinician=clinician, site=clinic.site_of(clinician),
        measured=clinic.clinician_measures[clinician], comorbid=comorbid,
        has_phq=depressed, uses_phq_a=uses_phq_a, has_gad=anxious, intake_day=intake_day,
        last_day=last_day, height_m=height, weight_kg=weight, hba1c_pct=hba1c, ldl_mg_dl=ldl,
    )
