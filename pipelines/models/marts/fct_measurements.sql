/* ---
name: fct_measurements
grain: one row per measurement x episode it falls in, or one row with a null episode
unique_key: [measurement_id, episode_id]
not_null: [measurement_id]
description: >
  Weight, labs and vitals with days from each episode start, for weight change at 12 weeks and
  metabolic monitoring (DOMAIN 9.4: baseline [-90, +30], early [+56, +140]). A measurement falls
  in an episode when start_on - 90 <= measured_on <= greatest(end_on, start_on + 140);
  measurements in no episode appear once with a null episode.
columns_from: stg_measurements  # its columns first (pipelines/model_columns.py)
columns:
  episode_id: varchar
  drug: varchar
  drug_class: varchar
  drug_subclass: varchar
  start_on: date
  days_from_start: integer
  site_id: varchar
  age_band: varchar
  sex: varchar
  diagnosis_group: varchar
--- */
-- one left join, as in fct_scores: a measurement matches every episode whose window holds it, or
-- stays once with nulls (matching first and joining back by measurement_id read every
-- measurement twice)
select
    measurements.measurement_id,
    measurements.patient_id,
    measurements.measured_on,
    measurements.measure,
    measurements.value,
    measurements.measure_group,
    episodes.episode_id,
    episodes.drug,
    episodes.drug_class,
    episodes.drug_subclass,
    episodes.start_on,
    cast(measurements.measured_on - episodes.start_on as integer) as days_from_start,
    coalesce(episodes.site_id, patients.site_id, 'unknown') as site_id,
    coalesce(episodes.age_band, patients.age_band, 'unknown') as age_band,
    coalesce(episodes.sex, patients.sex, 'U') as sex,
    coalesce(episodes.diagnosis_group, patients.diagnosis_group, 'unknown') as diagnosis_group
from staging.stg_measurements as measurements
left join marts.fct_treatment_episodes as episodes
    on measurements.patient_id = episodes.patient_id
    and measurements.measured_on >= episodes.start_on - 90
    and measurements.measured_on <= greatest(episodes.end_on, episodes.start_on + 140)
left join marts.dim_patients as patients on measurements.patient_id = patients.patient_id
