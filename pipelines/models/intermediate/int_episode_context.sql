/* ---
name: int_episode_context
grain: one row per episode
unique_key: [episode_id]
description: >
  Prescription and visit context of an episode. The episode's prescriptions are those of its
  ingredient starting in [start - 30, end] (a prescription is usually written shortly before the
  first fill). max_daily_dose_mg is the highest dose written on them; stop_reason is that of the
  latest of them; the prescriber is the clinician of the earliest of them, else the clinician of
  the visit nearest the start (within a year; earlier visit on ties). Visit counts in
  [+1, +30] (follow-up after a new prescription, ADD initiation), [+31, +300] (ADD continuation)
  and [0, $side_effect_window_days] (the side-effect denominator, DOMAIN 9.3).
columns:
  episode_id: varchar
  max_daily_dose_mg: double
  stop_reason: varchar
  prescriber_id: varchar
  nearest_visit_clinician_id: varchar
  nearest_visit_site_id: varchar
  has_visit_1_30: boolean
  visits_31_300: integer
  has_visit_in_side_effect_window: boolean
--- */
with episodes as (
    select episode_id, patient_id, drug, start_on, end_on
    from intermediate.int_episodes
),

prescribing as (
    select
        episodes.episode_id,
        max(prescriptions.daily_dose_mg) as max_daily_dose_mg,
        arg_max(prescriptions.stop_reason, {'start_on': prescriptions.start_on, 'id': prescriptions.prescription_id})
            as stop_reason,
        arg_min(prescriptions.clinician_id, {'start_on': prescriptions.start_on, 'id': prescriptions.prescription_id})
            filter (where prescriptions.clinician_id is not null) as prescriber_id
    from episodes
    inner join staging.stg_prescriptions as prescriptions
        on episodes.patient_id = prescriptions.patient_id
        and episodes.drug = prescriptions.drug
        and prescriptions.start_on between episodes.start_on - 30 and episodes.end_on
    group by episodes.episode_id
),

visits_near as (
    select
        episodes.episode_id,
        visits.visit_on - episodes.start_on as visit_day,
        visits.clinician_id,
        visits.site_id
    from episodes
    inner join staging.stg_visits as visits
        on episodes.patient_id = visits.patient_id
        and visits.visit_on between episodes.start_on - 365 and episodes.start_on + 365
),

visiting as (
    select
        episode_id,
        -- nearest visit; two visits on that day: the smaller id, so every build picks the same
        arg_min(clinician_id, {'distance': abs(visit_day), 'day': visit_day, 'id': clinician_id})
            filter (where clinician_id is not null) as nearest_visit_clinician_id,
        arg_min(site_id, {'distance': abs(visit_day), 'day': visit_day, 'id': site_id})
            filter (where site_id is not null) as nearest_visit_site_id,
        count(*) filter (where visit_day between 1 and 30) > 0 as has_visit_1_30,
        cast(count(*) filter (where visit_day between 31 and 300) as integer) as visits_31_300,
        count(*) filter (where visit_day between 0 and $side_effect_window_days) > 0
            as has_visit_in_side_effect_window
    from visits_near
    group by episode_id
)

select
    episodes.episode_id,
    prescribing.max_daily_dose_mg,
    prescribing.stop_reason,
    prescribing.prescriber_id,
    visiting.nearest_visit_clinician_id,
    visiting.nearest_visit_site_id,
    coalesce(visiting.has_visit_1_30, false) as has_visit_1_30,
    coalesce(visiting.visits_31_300, 0) as visits_31_300,
    coalesce(visiting.has_visit_in_side_effect_window, false) as has_visit_in_side_effect_window
from episodes
left join prescribing on episodes.episode_id = prescribing.episode_id
left join visiting on episodes.episode_id = visiting.episode_id
