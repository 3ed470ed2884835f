"""Prescriptions (start-low-go-slow titration) and pharmacy fills (adherence groups).

Titration: the first prescription is at the drug's start dose; at each of the next scheduled
visits the dose goes up by one step until the target (adequate) dose, or, for the episodes not
titrated fully, until a lower level. Each dose level is one prescription row; the last row ends
with a stop reason when the drug is stopped (intolerance, non-response, remission, ...), or is
open (no end date) while the patient is still on it.

Fills: the first fill is the episode start ``s``. Each next fill comes ``gap`` days after the
supply on hand runs out (supply carried forward, DOMAIN.md section 5.2): adherent patients refill
between 7 days early (overlapping supply) and 3 days late, partially adherent ones 8-25 days late
(always inside the 30-day grace period, so one ingredient is one episode), early discontinuers
stop after one or two fills. A quarter of episodes move to 90-day supplies after the third fill.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipelines.contract import STOP_REASONS
from synthetic.parameters import ADHERENCE_GROUPS, DRUGS
from synthetic.population import Population
from synthetic.treatment import Steps

MAX_LEVELS = 5
MAX_FILLS = 60
EARLY_DISCONTINUER = [g.name for g in ADHERENCE_GROUPS].index("early_discontinuer")


def _format_mg(mg: float) -> str:
    return str(int(mg)) if float(mg).is_integer() else f"{mg:g}"


def _dose_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per drug and level: daily dose, tablet strength, tablets per day; and levels to target."""
    dose = np.zeros((len(DRUGS), MAX_LEVELS))
    strength = np.zeros((len(DRUGS), MAX_LEVELS))
    n_increments = np.zeros(len(DRUGS), np.int64)
    for i, d in enumerate(DRUGS):
        n_increments[i] = math.ceil((d.target_mg - d.start_mg) / d.step_mg)
        for level in range(MAX_LEVELS):
            mg = min(d.start_mg + level * d.step_mg, d.target_mg)
            # The largest tablet that gives the dose in whole or half tablets.
            fits = [st for st in d.strengths_mg if st <= mg and (2 * mg / st).is_integer()]
            dose[i, level], strength[i, level] = mg, max(fits) if fits else min(d.strengths_mg)
    return dose, strength, dose / strength, n_increments


DOSE, STRENGTH, UNITS_PER_DAY, N_INCREMENTS = _dose_tables()
RX_VARIANTS = max(len(d.names_rx) for d in DRUGS)
FILL_VARIANTS = max(len(d.names_fill) for d in DRUGS)


def _name_table(attr: str, variants: int) -> pl.Series:
    """Names indexed by ``(drug * variants + variant) * MAX_LEVELS + level``."""
    names = []
    for i, d in enumerate(DRUGS):
        spellings = getattr(d, attr)
        for variant in range(variants):
            spelling = spellings[variant % len(spellings)]
            names.extend(spelling.format(mg=_format_mg(STRENGTH[i, level]))
                         for level in range(MAX_LEVELS))
    return pl.Series(names, dtype=pl.String)


RX_NAMES = _name_table("names_rx", RX_VARIANTS)
FILL_NAMES = _name_table("names_fill", FILL_VARIANTS)


def rx_name_code(drug: np.ndarray, variant: np.ndarray, level: np.ndarray) -> np.ndarray:
    return (drug * RX_VARIANTS + variant % RX_VARIANTS) * MAX_LEVELS + level


def draw_fills(rng: np.random.Generator, pop: Population,
               steps: Steps) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Fill rows (step_row, day, days_supply), and per step the last fill day and the last day
    its supply covers, carried forward (DOMAIN.md section 5.2); -1 where a step has no fill."""
    limit = np.minimum(steps.stop_day - 1, pop.last_day[steps.pat])
    early = steps.adherence == EARLY_DISCONTINUER
    max_fills = np.where(early, rng.integers(1, 3, steps.n), MAX_FILLS)
    gap_lo = np.array([g.gap_days[0] for g in ADHERENCE_GROUPS])[steps.adherence]
    gap_hi = np.array([g.gap_days[1] for g in ADHERENCE_GROUPS])[steps.adherence]
    next_day = steps.s.copy()
    cover_end = steps.s - 1
    last_fill = np.full(steps.n, -1)
    rows, days, supplies = [], [], []
    for f in range(MAX_FILLS):
        active = (next_day <= limit) & (f < max_fills)
        if not active.any():
            break
        idx = np.nonzero(active)[0]
        supply = np.where(steps.ninety[idx] & (f >= 3), 90, 30)
        rows.append(idx)
        days.append(next_day[idx])
        supplies.append(supply)
        last_fill[idx] = next_day[idx]
        cover_end[idx] = np.maximum(next_day[idx] - 1, cover_end[idx]) + supply
        gap = gap_lo[idx] + (rng.random(idx.size) * (gap_hi[idx] - gap_lo[idx] + 1)).astype(np.int64)
        next_day[idx] = cover_end[idx] + 1 + gap
        next_day[~active] = np.iinfo(np.int64).max // 2
    fills = pl.DataFrame({"step_row": np.concatenate(rows), "day": np.concatenate(days),
                          "days_supply": np.concatenate(supplies)}).sort(["step_row", "day"])
    return fills, last_fill, np.where(last_fill >= 0, cover_end, -1)


def dose_change_days(rng: np.random.Generator, pop: Population, steps: Steps,
                     last_fill_day: np.ndarray) -> np.ndarray:
    """[steps, MAX_LEVELS - 1] days of each dose increase (a far-future day when none)."""
    never = np.iinfo(np.int64).max // 2
    n_inc = N_INCREMENTS[steps.drug]
    partial = (rng.random(steps.n) * n_inc).astype(np.int64)
    reached = np.where(steps.adequate, n_inc, partial)
    changes = np.full((steps.n, MAX_LEVELS - 1), never)
    last = np.minimum(pop.last_day[steps.pat], steps.stop_day - 1)
    # Early discontinuers are not titrated past their last fill.
    last = np.where(steps.adherence == EARLY_DISCONTINUER, np.minimum(last, last_fill_day), last)
    for j in range(MAX_LEVELS - 1):
        day = steps.grid[:, j + 1]
        changes[:, j] = np.where((j < reached) & (day <= last), day, never)
    # Levels are consecutive: once a change is missing, later ones are too.
    missing = np.cumsum(changes == never, axis=1) > 0
    return np.where(missing, never, changes)


def build_prescriptions(rng: np.random.Generator, pop: Population, steps: Steps,
                        changes: np.ndarray, last_cover_day: np.ndarray) -> pl.DataFrame:
    """Prescription rows (internal columns: pat, step_row, level, start/end days, reason)."""
    never = np.iinfo(np.int64).max // 2
    n_levels = 1 + (changes != never).sum(axis=1)
    row = np.repeat(np.arange(steps.n), n_levels)
    level = np.arange(row.size) - np.repeat(np.cumsum(n_levels) - n_levels, n_levels)
    starts = np.concatenate([steps.v[:, None], changes], axis=1)
    start_day = starts[row, level]
    is_last = level == n_levels[row] - 1
    next_start = starts[row, np.minimum(level + 1, MAX_LEVELS - 1)]
    reason = steps.stop_reason[row]
    early = steps.adherence[row] == EARLY_DISCONTINUER
    end_day = np.where(~is_last, next_start - 1, -1)
    end_day = np.where(is_last & (reason >= 0), steps.stop_day[row] - 1, end_day)
    early_end = is_last & (reason < 0) & early & (last_cover_day[row] >= 0)
    end_day = np.where(early_end, np.maximum(last_cover_day[row], start_day), end_day)
    reason = np.where(is_last, np.where(early_end, STOP_REASONS.index("patient_choice"), reason),
                      -1)
    supply = np.where(steps.ninety[row] & (level > 0), 90, 30)
    units = UNITS_PER_DAY[steps.drug[row], level]
    refills = np.where(supply == 90, rng.integers(0, 4, row.size), rng.integers(0, 6, row.size))
    return pl.DataFrame({
        "pat": steps.pat[row], "step_row": row, "level": level, "start_day": start_day,
        "end_day": end_day, "daily_dose_mg": DOSE[steps.drug[row], level],
        "days_supply": supply, "quantity": units * supply, "refills": refills,
        "reason": reason,
        "name_code": rx_name_code(steps.drug[row], steps.name_variant[row], level),
    })


def fill_levels(fills: pl.DataFrame, changes: np.ndarray) -> np.ndarray:
    """Dose level in force on each fill's day (number of increases on or before it)."""
    r = fills["step_row"].to_numpy()
    day = fills["day"].to_numpy()
    return (changes[r] <= day[:, None]).sum(axis=1)
