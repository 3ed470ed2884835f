/* ---
name: stg_diagnoses
grain: one row per raw diagnosis row
description: >
  ICD-10 codes normalised (dot removed, upper case) and mapped to ref.diagnosis_groups by the
  longest matching prefix: every prefix of the code (lengths 1..8) is equi-joined to the reference
  prefixes, and the longest match wins. A code matching no prefix gets diagnosis_group 'other'.
columns:
  patient_id: varchar
  diagnosed_on: date
  icd10_code: {type: varchar, description: "normalised, e.g. F331"}
  diagnosis_group: varchar
  visit_id: varchar
  _source_file: {type: varchar, description: "lineage: the file the row came from"}
  _source_line: {type: bigint, description: "lineage: its line (the order the extract lists diagnoses in)"}
--- */
with diagnoses as (
    select
        patient_id,
        diagnosis_date as diagnosed_on,
        upper(replace(trim(icd10_code), '.', '')) as icd10_code,
        visit_id,
        _source_file,
        _source_line
    from raw.diagnoses
),

reference_prefixes as (
    select
        upper(replace(trim(icd10_prefix), '.', '')) as icd10_prefix,
        diagnosis_group
    from ref.diagnosis_groups
),

code_prefixes as (
    -- matched once per distinct code and joined back by the code: no row numbering, whose
    -- order a parallel scan does not fix
    select
        icd10_code,
        left(icd10_code, prefix_length) as icd10_prefix,
        prefix_length
    from (select distinct icd10_code from diagnoses where icd10_code is not null),
        unnest(range(1, least(length(icd10_code), 8) + 1)) as lengths(prefix_length)
),

longest_match as (
    select
        code_prefixes.icd10_code,
        arg_max(reference_prefixes.diagnosis_group, code_prefixes.prefix_length) as diagnosis_group
    from code_prefixes
    inner join reference_prefixes on code_prefixes.icd10_prefix = reference_prefixes.icd10_prefix
    group by code_prefixes.icd10_code
)

select
    diagnoses.patient_id,
    diagnoses.diagnosed_on,
    diagnoses.icd10_code,
    coalesce(longest_match.diagnosis_group, 'other') as diagnosis_group,
    diagnoses.visit_id,
    diagnoses._source_file,
    diagnoses._source_line
from diagnoses
left join longest_match on diagnoses.icd10_code = longest_match.icd10_code
