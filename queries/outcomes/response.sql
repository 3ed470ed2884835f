/* ---
name: response
title: Response rate
description: >
  Numerator: eligible episodes whose latest follow-up score in the preset window meets the
  instrument's response rule (pipelines/reference/instruments.csv, applied in the mart: at most half
  the baseline, 2 * follow-up <= baseline in integers so exactly half is a response; PCL-5: a drop
  of at least 10 points, the clinically meaningful change). Denominator: episodes
  starting in the period with a baseline (latest score in [-30, +7] days of the start) at or above
  the eligibility threshold (PHQ-9 >= 10); a missing follow-up counts as not achieved. The rate
  among assessed (completers) is shown beside it. Attrition: episodes, without baseline, ineligible
  baseline, without follow-up. Product default window [+42, +112] days (preset clinic_w6_16);
  DOMAIN.md section 3, HEDIS DRR-E response rule.
grain: one row per treatment episode x instrument in the chosen preset (unit level; queries.metric aggregates it)
params:
  instrument: {type: varchar, default: PHQ-9, description: 'instrument family (PHQ-9 includes PHQ-A; GAD-7, QIDS-SR16, MADRS, HAM-D17, YMRS, PCL-5)'}
  preset: {type: varchar, description: 'follow-up window preset (clinic_w6_16, hedis_drr_e, six_months, twelve_months); null = the configured default'}
  eligibility_min: {type: integer, description: 'baseline score needed to be eligible (null = the configured threshold, PHQ-9 >= 10)'}
columns:
  episode_id: {type: varchar}
  start_on: {type: date, description: episode start (day 0)}
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
  preset: {type: varchar}
  baseline_score: {type: integer}
  baseline_severity_band: {type: varchar, description: 'severity band of the baseline score (stratifier for compare --adjust baseline_severity)'}
  followup_score: {type: integer}
  has_baseline: {type: boolean}
  is_eligible: {type: boolean}
  is_assessed: {type: boolean, description: eligible and a follow-up score in the window}
  is_responder: {type: boolean}
metric:
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex, drug_class, drug]
  period: start_on
  kind: proportion
  unit: episode
  date: start_on
  counts:
    episodes: '*'
    with_baseline: has_baseline
    eligible: is_eligible
    assessed: is_assessed
    responders: is_responder
  attrition:
    - {count: episodes}
    - {count: with_baseline, dropped: without_baseline}
    - {count: eligible, dropped: ineligible_baseline}
    - {count: assessed, dropped: without_follow_up}
  rates:
    - {name: rate, numerator: responders, denominator: eligible, label: 'Response among eligible (missing follow-up = not achieved)'}
    - {name: rate_assessed, numerator: responders, denominator: assessed, label: 'Response among assessed (completers)'}
tests:
  unique: [episode_id]
  expressions:
    - is_eligible <= has_baseline
    - is_assessed <= is_eligible
    - is_responder <= is_assessed
  total: >
   select count(*) from marts.fct_episode_outcomes where instrument = 'PHQ-9' and
   is_default_preset and is_eligible
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
        -- the threshold is re-applied here so it can be changed at query time (DOMAIN 3)
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
        preset,
        baseline_score,
        baseline_severity_band,
        followup_score,
        has_baseline,
        is_eligible_now as is_eligible,
        is_eligible_now and has_followup as is_assessed,
        -- the rule is the mart's verdict (one home: ref.instrument_rules), never restated here
        coalesce(is_eligible_now and has_followup and meets_response_rule, false) as is_responder
    from evaluated
)

select * from final
order by episode_id
