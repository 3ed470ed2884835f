/* ---
name: safety_flags
title: PHQ-9 item 9 positive
description: >
  Numerator: PHQ-9 (or PHQ-A) scores dated in the period with item 9 (thoughts of self-harm)
  above 0, whatever the total. Denominator: PHQ-9/PHQ-A scores with item 9 recorded. A flag, not
  an outcome, and not an alerting system (DOMAIN.md section 2): the second rate is the process
  measure "positive item 9 with documented follow-up" among positives, by the rule of DOMAIN
  13.3 that the item-9 worklist applies too: a suicide risk assessment (C-SSRS) or a clinician
  contact (a visit) in [0, +item9_followup_days] days of the screen (marts.fct_safety_flags
  first_contact_on). A positive screen whose window is still open (screen + item9_followup_days
  after the data end) is maturing: its follow-up cannot be judged yet, so it is kept out of that
  rate's denominator (evaluable positives), as open follow-up windows are everywhere.
grain: one row per PHQ-9 score with item 9 recorded (unit level)
params:
  item9_followup_days: {type: integer, default: 1, description: 'follow-up window [0, +N] days (DOMAIN 13.3; as the item-9 worklist)'}
columns:
  assessment_id: varchar
  assessed_on: date
  patient_id: varchar
  regimen: varchar
  site_id: varchar
  diagnosis_group: varchar
  age_band: varchar
  sex: varchar
  is_positive: boolean
  is_positive_evaluable: {type: boolean, description: positive and its follow-up window closed inside the data}
  is_positive_followed_up: boolean
metric:
  filter_source: marts.fct_safety_flags
  filters: [site_id, diagnosis_group, age_band, sex]
  period: assessed_on
  kind: proportion
  unit: score
  counts: {scores: '*', positive: is_positive, evaluable: is_positive_evaluable, followed_up: is_positive_followed_up}
  rates:
    - {name: rate, numerator: positive, denominator: scores, label: 'Scores with item 9 above 0'}
    - {name: rate_followed_up, numerator: followed_up, denominator: evaluable, label: 'Positive item 9 with a risk assessment or contact within the follow-up window'}
tests:
  unique: [assessment_id]
  expressions: [is_positive_evaluable <= is_positive, is_positive_followed_up <= is_positive_evaluable]
  total: >
   select count(*) from marts.fct_safety_flags
--- */
with final as (
    select
        assessment_id,
        assessed_on,
        patient_id,
        regimen,
        site_id,
        diagnosis_group,
        age_band,
        sex,
        is_positive,
        is_positive and assessed_on + $item9_followup_days <= coverage.data_end_on
            as is_positive_evaluable,
        coalesce(
            is_positive_evaluable and first_contact_on <= assessed_on + $item9_followup_days, false
        ) as is_positive_followed_up
    from filtered_source
    cross join (select data_end_on from marts.data_coverage) as coverage
)

select * from final
order by assessment_id
