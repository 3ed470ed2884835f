/* ---
name: dq_model_exclusions
grain: one row per source row a model did not use, with the reason
unique_key: [source_table, record_id]
description: >
  Rows that passed validation but do not enter the marts, so nothing is dropped without a
  record: prescriptions and fills of an unmapped drug (no ingredient; the name is also counted in
  meta.unmapped_drugs), prescriptions with neither end date nor days supply (no exposure interval),
  and same-day duplicate scores (the higher total of the patient, date and instrument family kept).
columns:
  source_table: varchar
  record_id: varchar
  patient_id: varchar
  reason_code: varchar
  detail: varchar
--- */
select
    'prescriptions' as source_table,
    prescription_id as record_id,
    patient_id,
    'unmapped_drug' as reason_code,
    'drug as written: ' || coalesce(drug_as_written, '') as detail
from staging.stg_prescriptions
where drug is null
union all
select
    'dispenses',
    dispense_id,
    patient_id,
    'unmapped_drug',
    'drug as written: ' || coalesce(raw_fills.drug, '')
from raw.dispenses as raw_fills
where ingredient is null
union all
select
    'prescriptions',
    prescription_id,
    patient_id,
    'prescription_without_duration',
    'no end_date and no days_supply: no exposure interval'
from staging.stg_prescriptions
where drug is not null and end_on is null and days_supply is null
union all
select
    'assessments',
    assessment_id,
    patient_id,
    'same_day_duplicate_score',
    'same patient, date and instrument family as ' || kept_assessment_id || ' (higher total kept)'
from staging.stg_assessments__duplicates
