"""Visits: the scheduled follow-ups of each treatment step, plus unscheduled and inpatient visits.

A step's visits are its grid days from the prescribing visit up to the next step's prescribing
visit (or the patient's last day in care). The first visit of a patient is the intake; a third of
follow-ups are telehealth. Inpatient stays (with a discharge ``end_day``) and emergency visits are
added without rating scales; they still count as visits (a chance to report a side effect).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.contract import VISIT_TYPES
from synthetic.parameters import DIAGNOSES, INPATIENT_LENGTH_DAYS, INPATIENT_SHARE, TELEHEALTH_SHARE
from synthetic.population import Population
from synthetic.treatment import Steps

#: Visit column ``col``: grid column of a scheduled visit, or one of these for the others.
COL_STOP_VISIT = -2  # unscheduled visit where a drug was stopped for intolerance (patient leaves)
COL_EXTRA = -3  # inpatient or emergency
EMERGENCY_SHARE = 0.02


def build_visits(rng: np.random.Generator, pop: Population, steps: Steps) -> pl.DataFrame:
    """One row per visit: pat, day, end_day, step_row (-1 unscheduled), col, visit_type, clinician.

    Sorted by patient, day and visit type so ids are deterministic.
    """
    last = pop.last_day[steps.pat]
    in_step = (steps.grid < steps.visit_end[:, None]) & (steps.grid <= last[:, None])
    row, col = np.nonzero(in_step)
    day = steps.grid[row, col]

    # A drug stopped for intolerance with no next drug: the stopping visit ends the patient's care.
    stop_rows = np.nonzero((steps.se_day >= 0) & (steps.next_kind < 0))[0]
    on_grid = (steps.grid[stop_rows] == steps.se_day[stop_rows, None]).any(axis=1)
    stop_rows = stop_rows[~on_grid]

    pats_all = np.arange(pop.n)
    dx_names = [d.name for d in DIAGNOSES]
    stay_p = np.array([INPATIENT_SHARE.get(name, 0.0) for name in dx_names])[pop.dx]
    room = pop.last_day - pop.intake_day - 10
    has_stay = (rng.random(pop.n) < stay_p) & (room > 7)
    stay_pats = pats_all[has_stay]
    stay_day = pop.intake_day[stay_pats] + 7 + (rng.random(stay_pats.size) * (
        room[stay_pats] - 7)).astype(np.int64)
    stay_len = rng.integers(INPATIENT_LENGTH_DAYS[0], INPATIENT_LENGTH_DAYS[1] + 1, stay_pats.size)
    has_er = (rng.random(pop.n) < EMERGENCY_SHARE) & (room > 7)
    er_pats = pats_all[has_er]
    er_day = pop.intake_day[er_pats] + 7 + (rng.random(er_pats.size) * (room[er_pats] - 7)).astype(
        np.int64)

    follow_up = VISIT_TYPES.index("follow_up")
    scheduled_type = np.where(rng.random(row.size) < TELEHEALTH_SHARE,
                              VISIT_TYPES.index("telehealth"), follow_up)
    scheduled_type = np.where((col == 0) & (steps.k[row] == 0), VISIT_TYPES.index("intake"),
                              scheduled_type)
    n_sched, n_stop = row.size, stop_rows.size
    frame = pl.DataFrame({
        "pat": np.concatenate([steps.pat[row], steps.pat[stop_rows], stay_pats, er_pats]),
        "day": np.concatenate([day, steps.se_day[stop_rows], stay_day, er_day]),
        "end_day": np.concatenate([np.full(n_sched + n_stop, -1), stay_day + stay_len,
                                   np.full(er_pats.size, -1)]),
        "step_row": np.concatenate([row, stop_rows, np.full(stay_pats.size + er_pats.size, -1)]),
        "col": np.concatenate([col, np.full(n_stop, COL_STOP_VISIT),
                               np.full(stay_pats.size + er_pats.size, COL_EXTRA)]),
        "visit_type": np.concatenate([
            scheduled_type, np.full(n_stop, follow_up),
            np.full(stay_pats.size, VISIT_TYPES.index("inpatient")),
            np.full(er_pats.size, VISIT_TYPES.index("emergency"))]),
    }, schema={"pat": pl.Int64, "day": pl.Int64, "end_day": pl.Int64, "step_row": pl.Int64,
               "col": pl.Int64, "visit_type": pl.Int64})
    # Patients keep their clinician (and so their site) throughout.
    clinician = pop.clinician[frame["pat"].to_numpy()]
    frame = frame.with_columns(pl.Series("clinician", clinician, dtype=pl.Int64))
    return frame.sort(["pat", "day", "visit_type", "col"])
