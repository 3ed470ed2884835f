/* ---
name: stg_patients
grain: one row per patient
materialized: view
description: >
  raw.patients renamed and typed. Missing sex becomes 'U' (unknown) so that group-bys keep the row;
  missing site becomes null here (dim_patients falls back to the patient's visits).
columns:
  patient_id: varchar
  birth_year: integer
  is_birth_year_top_coded: {type: boolean, description: stored birth year is load_year - 90}
  sex: {type: varchar, description: "F, M, X or U"}
  site_id: varchar
--- */
select
    patient_id,
    cast(birth_year as integer) as birth_year,
    coalesce(is_birth_year_top_coded, false) as is_birth_year_top_coded,
    coalesce(sex, 'U') as sex,
    site_id
from raw.patients
