/* ---
name: fct_diagnoses
grain: one row per patient x diagnosis date x ICD-10 code (a code recorded twice on a day is one row)
unique_key: [patient_id, diagnosed_on, icd10_code]
not_null: [patient_id, diagnosed_on, icd10_code]
description: >
  Recorded diagnoses with the normalised ICD-10 code (dot removed, upper case) and the
  psychiatric group of ref.diagnosis_groups ('other' for a code no prefix matches). Exposed for
  rules that need codes outside the psychiatric groups: the opioid-with-benzodiazepine rule of
  the prescribing-safety worklist excludes cancer (C00-C96) and sickle cell disease (D57), as
  PQA COB does.
columns:
  patient_id: varchar
  diagnosed_on: date
  icd10_code: varchar
  diagnosis_group: varchar
--- */
select distinct
    patient_id,
    diagnosed_on,
    icd10_code,
    diagnosis_group
from staging.stg_diagnoses
