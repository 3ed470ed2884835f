/* ---
name: fct_treatment_episodes
grain: one row per episode (patient x ingredient x continuous use)
unique_key: [episode_id]
description: >
  Treatment episodes (int_episodes: gaps and islands with the grace period, new-user washout,
  discontinuation and censoring), with their relations (regimen, switches, additions), line of
  therapy, adherence over the first 84/180 days, prescription and visit context and the
  patient's dimensions. age_band is the age at the episode start. clinician_id is the prescriber,
  else the clinician of the nearest visit; site_id is the nearest visit's site, else the
  patient's. Missing dimension values are 'unknown' so group-bys keep every row. docs/marts.md
  gives every column.
columns:
  episode_id: varchar
  patient_id: varchar
  drug: varchar
  drug_class: varchar
  drug_subclass: varchar
  regimen: varchar
  start_on: date
  end_on: date
  exposure_source: varchar
  exposures: integer
  grace_days: integer
  days_on_treatment: integer
  is_discontinued: boolean
  is_censored: boolean
  is_new_user: boolean
  has_full_lookback: boolean
  line_of_therapy: integer
  max_daily_dose_mg: double
  stop_reason: varchar
  switched_to: varchar
  switched_from: varchar
  added_to: varchar
  is_augmentation: boolean
  is_combination: boolean
  site_id: varchar
  clinician_id: varchar
  diagnosis_group: varchar
  sex: varchar
  age_band: varchar
  age_at_start: integer
  pdc_84: {type: double, range: [0, 1]}
  pdc_180: {type: double, range: [0, 1]}
  adherence_band: varchar
  has_visit_1_30: boolean
  visits_31_300: integer
  has_visit_in_side_effect_window: boolean
  start_month: date
--- */
select
    episodes.episode_id,
    episodes.patient_id,
    episodes.drug,
    episodes.drug_class,
    drugs.drug_subclass,
    relations.regimen,
    episodes.start_on,
    episodes.end_on,
    episodes.exposure_source,
    episodes.exposures,
    episodes.grace_days,
    episodes.days_on_treatment,
    episodes.is_discontinued,
    episodes.is_censored,
    episodes.is_new_user,
    episodes.has_full_lookback,
    lines.line_of_therapy,
    context.max_daily_dose_mg,
    context.stop_reason,
    relations.switched_to,
    relations.switched_from,
    relations.added_to,
    relations.is_augmentation,
    relations.is_combination,
    coalesce(context.nearest_visit_site_id, patients.site_id, 'unknown') as site_id,
    coalesce(context.prescriber_id, context.nearest_visit_clinician_id, 'unknown') as clinician_id,
    coalesce(patients.diagnosis_group, 'unknown') as diagnosis_group,
    coalesce(patients.sex, 'U') as sex,
    age_band(year(episodes.start_on) - patients.birth_year) as age_band,
    cast(year(episodes.start_on) - patients.birth_year as integer) as age_at_start,
    adherence.pdc_84,
    adherence.pdc_180,
    adherence.adherence_band,
    context.has_visit_1_30,
    context.visits_31_300,
    context.has_visit_in_side_effect_window,
    cast(date_trunc('month', episodes.start_on) as date) as start_month
from intermediate.int_episodes as episodes
inner join staging.stg_drugs as drugs on episodes.drug = drugs.drug
inner join intermediate.int_episode_relations as relations on episodes.episode_id = relations.episode_id
inner join intermediate.int_episode_lines as lines on episodes.episode_id = lines.episode_id
inner join intermediate.int_episode_adherence as adherence on episodes.episode_id = adherence.episode_id
inner join intermediate.int_episode_context as context on episodes.episode_id = context.episode_id
left join marts.dim_patients as patients on episodes.patient_id = patients.patient_id
