/* ---
name: score_change
title: Mean change in score
description: >
  Mean change (follow-up minus baseline; negative = improvement) among assessed episodes: episodes
  starting in the period with an eligible baseline (latest score in [-30, +7] days; PHQ-9 >= 10)
  and a follow-up score (latest in the preset window, default [+42, +112] days). Reported with the
  standard deviation and a t-based 95% interval; episodes without a follow-up are excluded (this is
  a completers' figure). DOMAIN.md section 3.
grain: one row per treatment episode x instrument in the chosen preset (unit level)
params:
  instrument: {type: varchar, default: PHQ-9, description: 'instrument family (PHQ-9 includes PHQ-A; GAD-7, QIDS-SR16, MADRS, HAM-D17, YMRS)'}
  preset: {type: varchar, description: 'follow-up window preset (clinic_w6_16, hedis_drr_e, six_months, twelve_months); null = the configured default'}
  eligibility_min: {type: integer, description: 'baseline score needed to be eligible (null = the configured threshold, PHQ-9 >= 10)'}
columns:
  episode_id: {type: varchar}
  start_on: {type: date}
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
  instrument: {type: varchar}
  baseline_score: {type: integer}
  followup_score: {type: integer}
  is_eligible: {type: boolean}
  is_assessed: {type: boolean}
  change: {type: integer, description: follow-up minus baseline, null unless assessed}
metric:
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: start_on
  kind: mean
  unit: episode
  date: start_on
  value: change
  counts:
    eligible: is_eligible
  fmt: num1
tests:
  unique: [episode_id]
  expressions:
    - is_assessed <= is_eligible
    - (change is null) = (not is_assessed)
  total: >
   select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
   is_default_preset and is_eligible and has_followup
--- */
with outcomes as (
    select * from marts.fct_episode_outcomes
),

in_scope as (
    select *
    from outcomes
    where
        instrument = coalesce($instrument, 'PHQ-9')
        and (preset = $preset or ($preset is null and is_default_preset))
),

evaluated as (
    select
        *,
        coalesce(has_baseline and baseline_score >= coalesce($eligibility_min, eligibility_min), false)
            as is_eligible_now
    from in_scope
),

final as (
    select
        episode_id,
        start_on,
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
        adherence_band,
        instrument,
        baseline_score,
        followup_score,
        is_eligible_now as is_eligible,
        is_eligible_now and has_followup as is_assessed,
        case when is_eligible_now and has_followup then followup_score - baseline_score end as change
    from evaluated
)

select * from final
order by episode_id
