/* ---
name: followup_30d_new_rx
title: Follow-up visit within 30 days of a new prescription
description: >
  Product measure in the spirit of the initiation phase of HEDIS ADD / eCQM CMS136 (DOMAIN.md
  section 4), applied to every psychotropic class and age. Unit: a new-user treatment episode (no
  drug of the same class in the 105 days before its start, DOMAIN glossary) from fills or
  prescriptions. Numerator: at least one visit of any type in [+1, +30] days of the start (the
  start day itself does not count). Denominator: new starts whose day +30 is inside the data
  ("enrolled" = observed). What our data cannot do exactly: visits are not restricted to the
  prescriber (ADD requires a prescriber visit), telephone and inpatient visits count, and there
  are no narcolepsy, inpatient-stay or hospice exclusions.
grain: one row per new-user treatment episode, unit level
columns_from: unit_dimensions
columns:
  unit_id: {type: varchar, description: episode id}
  index_on: {type: date, description: episode start (day 0)}
  drug_class: varchar
  drug_subclass: varchar
  drug: varchar
  severity_band: {type: varchar, description: 'baseline PHQ-9 band (case mix); no baseline when none'}
  is_observed: {type: boolean, description: 'day +30 is inside the data'}
  is_numerator: {type: boolean, description: 'observed with a visit in [+1, +30]'}
metric:
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: index_on
  unit: new treatment episode
  direction: higher
  target: 0.8
  observed_rate: {units: new_starts, numerator: followed_up, label: 'Visit within 30 days of a new prescription'}
--- */
with final as (
    select
        episodes.episode_id as unit_id,
        episodes.start_on as index_on,
        episodes.patient_id,
        episodes.drug_class,
        episodes.drug_subclass,
        episodes.drug,
        episodes.site_id,
        episodes.clinician_id,
        episodes.diagnosis_group,
        episodes.age_band,
        episodes.sex,
        case_mix.severity_band,
        episodes.start_on + 30 <= coverage.data_end_on as is_observed,
        is_observed and episodes.has_visit_1_30 as is_numerator
    from marts.fct_treatment_episodes as episodes
    cross join coverage
    left join marts.dim_episode_case_mix as case_mix on episodes.episode_id = case_mix.episode_id
    where
        episodes.is_new_user
)

select * from final
order by unit_id
