/* ---
name: stg_side_effects
grain: one row per side-effect report
materialized: view
description: >
  raw.side_effects renamed. severity_rank orders severities (1 mild, 2 moderate, 3 severe) so a
  query can ask for "at or above" a severity. suspected_drug is the normalised ingredient.
columns:
  side_effect_id: varchar
  patient_id: varchar
  report_on: date
  effect_code: varchar
  severity: varchar
  severity_rank: integer
  action: varchar
  suspected_drug: varchar
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
