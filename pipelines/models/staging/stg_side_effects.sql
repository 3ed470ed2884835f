/* ---
name: stg_side_effects
grain: one row per side-effect report
materialized: view
description: >
  raw.side_effects renamed. severity_rank orders severities (1 mild, 2 moderate, 3 severe) so a
  query can ask for "at or above" a severity. suspected_drug is the normalised ingredient.
columns:
  side_effect_id: {type: varchar}
  patient_id: {type: varchar}
  report_on: {type: date}
  effect_code: {type: varchar}
  severity: {type: varchar}
  severity_rank: {type: integer}
  action: {type: varchar}
  suspected_drug: {type: varchar}
--- */
select
    side_effect_id,
    patient_id,
    report_date as report_on,
    effect_code,
    severity,
    case severity when 'mild' then 1 when 'moderate' then 2 when 'severe' then 3 end as severity_rank,
    action,
    ingredient as suspected_drug
from raw.side_effects
