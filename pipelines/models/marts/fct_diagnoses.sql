/* ---
name: fct_diagnoses
grain: one row per recorded diagnosis
materialized: view
not_null: [patient_id, diagnosed_on, icd10_code]
description: >
  Recorded diagnoses with the normalised ICD-10 code (dot removed, upper case) and the
  psychiatric group of ref.diagnosis_groups ('other' for a code no prefix matches). Exposed for
  rules that need codes outside the psychiatric groups: the opioid-with-benzodiazepine rule of
  the prescribing-safety worklist excludes cancer (C00-C96) and sickle cell disease (D57), as
  PQA COB does. A view over the staging table: no copy, no faster query.
columns:
  patient_id: {type: varchar}
  diagnosed_on: {type: date}
  icd10_code: {type: varchar}
  diagnosis_group: {type: varchar}
--- */
select
    patient_id,
    diagnosed_on,
    icd10_code,
    diagnosis_group
from staging.stg_diagnoses
