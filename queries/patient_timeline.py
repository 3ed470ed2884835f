"""One patient's de-identified timeline, for the "My patients" page (issue 19, item 4).

The timeline of a patient surrogate id holds, each sorted by date, from the marts only (no
source table, no name, no date of birth; dates are as the warehouse holds them, i.e. shifted
when the de-identification mode shifts dates):

* ``scores``: every assessment (PHQ-9, GAD-7 and the other instruments) with its total and
  PHQ-9 item 9 (``marts.fct_scores``, one row per assessment);
* ``fills``: every dispense with its days' supply and the days it covers
  (``marts.fct_fill_coverage``);
* ``measurements``: labs and measurements (``marts.fct_measurements``, one row per measurement);
* ``side_effects``: reported side effects with severity, action and suspected drug
  (``marts.fct_side_effect_events``, one row per report);
* ``recovery``: the PHQ-9 trajectory of each eligible antidepressant episode (default preset),
  one row per week since start 1-16 with a score: the week's latest score and its change from
  the baseline, with the baseline severity band, to read against the clinic's expected-recovery
  band (``queries/worklists/expected_recovery.sql``, DOMAIN.md 13.1).

Patient-level rows: ``queries.access.authorise`` refuses leadership (naming the role needed), and
a clinician sees the timeline only of a patient with a treatment episode of theirs
(``marts.fct_treatment_episodes.clinician_id``). A refusal never echoes the patient id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from queries.access import ANALYST, AccessDenied, User, authorise

if TYPE_CHECKING:
    import duckdb
    import polars as pl

#: Each part of the timeline: its query (one bound parameter, ``$patient``), ordered by date.
PARTS: dict[str, str] = {
    "scores": """
        select distinct assessment_id, assessed_on, instrument, total_score, item_9
        from marts.fct_scores where patient_id = $patient
        order by assessed_on, instrument, assessment_id""",
    "fills": """
        select distinct dispense_id, filled_on, drug, drug_class, days_supply, cov_start_on,
               cov_end_on
        from marts.fct_fill_coverage where patient_id = $patient
        order by filled_on, drug, dispense_id""",
    "measurements": """
        select distinct measurement_id, measured_on, measure, measure_group, value
        from marts.fct_measurements where patient_id = $patient
        order by measured_on, measure, measurement_id""",
    "side_effects": """
        select distinct side_effect_id, report_on, effect_code, severity, action, suspected_drug
        from marts.fct_side_effect_events where patient_id = $patient
        order by report_on, effect_code, side_effect_id""",
    "recovery": """
        select
            outcomes.episode_id, outcomes.drug, outcomes.start_on, outcomes.baseline_score,
            outcomes.baseline_severity_band, scores.weeks_from_start as week_since_start,
            arg_max(scores.total_score, {'on': scores.assessed_on, 'id': scores.assessment_id})
                as score,
            arg_max(scores.total_score, {'on': scores.assessed_on, 'id': scores.assessment_id})
                - outcomes.baseline_score as change
        from marts.fct_episode_outcomes as outcomes
        inner join marts.fct_scores as scores on outcomes.episode_id = scores.episode_id
        where outcomes.patient_id = $patient and outcomes.is_default_preset
              and outcomes.is_eligible and outcomes.instrument = 'PHQ-9'
              and outcomes.drug_class = 'antidepressant' and scores.instrument = 'PHQ-9'
              and scores.weeks_from_start between 1 and 16
        group by outcomes.episode_id, outcomes.drug, outcomes.start_on, outcomes.baseline_score,
                 outcomes.baseline_severity_band, scores.weeks_from_start
        order by outcomes.start_on, outcomes.episode_id, week_since_start""",
}

WHAT = "A patient timeline (patient-level rows)"


@dataclass(frozen=True)
class Timeline:
    """A patient's scores, fills, measurements, side effects and recovery trajectory (see the
    module docstring)."""

    patient_id: str
    scores: pl.DataFrame
    fills: pl.DataFrame
    measurements: pl.DataFrame
    side_effects: pl.DataFrame
    recovery: pl.DataFrame


def patient_timeline(con: duckdb.DuckDBPyConnection, patient_id: str, *,
                     user: User = ANALYST) -> Timeline:
    """The timeline of ``patient_id`` for ``user`` (``AccessDenied`` for leadership, and for a
    clinician when the patient has no episode of theirs)."""
    own = authorise(user, "patient_rows", what=WHAT)
    if user.role == "clinician":
        theirs = con.sql(
            "select count(*) from marts.fct_treatment_episodes "
            "where patient_id = $patient and clinician_id = $clinician",
            params={"patient": patient_id, "clinician": own}).fetchall()[0][0]
        if not theirs:
            raise AccessDenied(f"{WHAT} of a patient without an episode of yours needs the "
                               "analyst role; a clinician sees their own patients only")
    frames = {part: con.sql(sql, params={"patient": patient_id}).pl()
              for part, sql in PARTS.items()}
    return Timeline(patient_id, **frames)
