/* ---
name: stg_diagnoses
grain: one row per raw diagnosis row
description: >
  ICD-10 codes normalised (dot removed, upper case) and mapped to ref.diagnosis_groups by the
  longest matching prefix: every prefix of the code (lengths 1..8) is equi-joined to the reference
  prefixes, and the longest match wins. A code matching no prefix gets diagnosis_group 'other'.
columns:
  patient_id: {type: varchar}
  diagnosed_on: {type: date}
  icd10_code: {type: varchar, description: "normalised, e.g. F331"}
  diagnosis_group: {type: varchar}
  visit_id: {type: varchar}
--- */
with diagnoses as (
    select
        row_number() over () as diagnosis_row,
        patient_id,
        diagnosis_date as diagnosed_on,
        upper(replace(trim(icd10_code), '.', '')) as icd10_code,
        visit_id
    from raw.diagnoses
),

reference_prefixes as (
    select
        upper(replace(trim(icd10_prefix), '.', '')) as icd10_prefix,
        diagnosis_group
    from ref.diagnosis_groups
),

code_prefixes as (
    select
        diagnosis_row,
        left(icd10_code, prefix_length) as icd10_prefix,
        prefix_length
    from diagnoses,
        unnest(range(1, least(length(icd10_code), 8) + 1)) as lengths(prefix_length)
),

longest_match as (
    select
        code_prefixes.diagnosis_row,
        arg_max(reference_prefixes.diagnosis_group, code_prefixes.prefix_length) as diagnosis_group
    from code_prefixes
    inner join reference_prefixes on code_prefixes.icd10_prefix = reference_prefixes.icd10_prefix
    group by code_prefixes.diagnosis_row
)

select
    diagnoses.patient_id,
    diagnoses.diagnosed_on,
    diagnoses.icd10_code,
    coalesce(longest_match.diagnosis_group, 'other') as diagnosis_group,
    diagnoses.visit_id
from diagnoses
left join longest_match on diagnoses.diagnosis_row = longest_match.diagnosis_row
