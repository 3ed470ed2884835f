/* ---
name: safety_flags
title: PHQ-9 item 9 positive
description: >
  Numerator: PHQ-9 (or PHQ-A) scores dated in the period with item 9 (thoughts of self-harm)
  above 0, whatever the total. Denominator: PHQ-9/PHQ-A scores with item 9 recorded. A flag, not
  an outcome, and not an alerting system (DOMAIN.md section 2): the second rate is the process
  measure "positive item 9 followed by a visit within 7 days" among positives.
grain: one row per PHQ-9 score with item 9 recorded (unit level)
columns:
  assessment_id: {type: varchar}
  assessed_on: {type: date}
  patient_id: {type: varchar}
  regimen: {type: varchar}
  site_id: {type: varchar}
  diagnosis_group: {type: varchar}
  age_band: {type: varchar}
  sex: {type: varchar}
  is_positive: {type: boolean}
  is_positive_followed_up_7d: {type: boolean}
metric:
  filters: [site_id, diagnosis_group, age_band, sex]
  period: assessed_on
  kind: proportion
  unit: score
  date: assessed_on
  counts:
    scores: '*'
    positive: is_positive
    followed_up_7d: is_positive_followed_up_7d
  rates:
    - {name: rate, numerator: positive, denominator: scores, label: 'Scores with item 9 above 0'}
    - {name: rate_followed_up_7d, numerator: followed_up_7d, denominator: positive, label: 'Positive item 9 with a visit within 7 days'}
tests:
  unique: [assessment_id]
  expressions: [is_positive_followed_up_7d <= is_positive]
  total: >
   select count(*) from marts.fct_safety_flags
--- */
with flags as (
    select *
    from marts.fct_safety_flags
),

final as (
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
        is_positive and has_visit_1_7 as is_positive_followed_up_7d
    from flags
)

select * from final
order by assessment_id
