/* ---
name: active_patients
title: Patients on treatment
description: >
  Distinct patients with a treatment episode active at any time in the period (episode start on
  or before the period end and last covered day on or after the period start; an open period
  bound means no limit), and the number of such episodes. A patient on two classes counts once in
  the total and once under each class, so class rows do not sum to the total.
grain: one row per treatment episode active in the period (unit level)
params:
  start_date: {type: date, description: period start (null = no lower bound)}
  end_date: {type: date, description: period end (null = no upper bound)}
  site_id: {type: varchar, description: site filter (null = all)}
  clinician_id: {type: varchar, description: clinician filter (null = all)}
  diagnosis_group: {type: varchar, description: diagnosis group filter (null = all)}
  age_band: {type: varchar, description: age band filter (null = all)}
  sex: {type: varchar, description: sex filter (null = all)}
  drug_class: {type: varchar, description: drug class filter (null = all)}
  drug: {type: varchar, description: ingredient filter (null = all)}
columns:
  episode_id: {type: varchar}
  drug_class: {type: varchar}
  drug_subclass: {type: varchar}
  drug: {type: varchar}
  regimen: {type: varchar}
  site_id: {type: varchar}
  clinician_id: {type: varchar}
  diagnosis_group: {type: varchar}
  age_band: {type: varchar}
  sex: {type: varchar}
  adherence_band: {type: varchar}
  patient_id: {type: varchar, description: de-identified surrogate (drill-down only)}
metric:
  kind: count
  unit: episode
  counts:
    patients: distinct patient_id
    active_episodes: '*'
tests:
  unique: [episode_id]
  total: >
   select count(distinct patient_id) from marts.fct_treatment_episodes
--- */
with episodes as (
    select *
    from marts.fct_treatment_episodes
    where
        ($end_date is null or start_on <= $end_date)
        and ($start_date is null or end_on >= $start_date)
        and ($site_id is null or site_id = $site_id)
        and ($clinician_id is null or clinician_id = $clinician_id)
        and ($diagnosis_group is null or diagnosis_group = $diagnosis_group)
        and ($age_band is null or age_band = $age_band)
        and ($sex is null or sex = $sex)
        and ($drug_class is null or drug_class = $drug_class)
        and ($drug is null or drug = $drug)
),

final as (
    select
        episode_id,
        patient_id,
        drug_class,
        drug_subclass,
        drug,
        regimen,
        site_id,
        clinician_id,
        diagnosis_group,
        age_band,
        sex,
        adherence_band
    from episodes
)

select * from final
order by episode_id
