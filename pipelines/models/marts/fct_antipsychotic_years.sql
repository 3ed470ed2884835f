/* ---
name: fct_antipsychotic_years
grain: one row per patient x calendar year with an antipsychotic dispensing
unique_key: [unit_id]
description: >
  A patient's antipsychotic dispensings in a calendar year (marts.fct_fill_coverage, drug class
  antipsychotic): the first fill of the year (index_on, the index date of the patient-year
  measures), the number of dispensings, and the antipsychotic prescriber on the index date
  (marts.dim_antipsychotic_prescribers: clinician and site; null when no antipsychotic episode
  covers the day). Stated once for the measures whose unit it is (SAA, APM), which select their
  patient-years from it; unit_id is their unit key.
columns:
  unit_id: {type: varchar, description: 'patient_id|measurement_year'}
  patient_id: varchar
  measurement_year: integer
  index_on: date
  dispensings: integer
  clinician_id: varchar
  site_id: varchar
--- */
with fills as (
    select patient_id, filled_on
    from marts.fct_fill_coverage
    where drug_class = 'antipsychotic'
),

years as (
    select
        patient_id,
        cast(year(filled_on) as integer) as measurement_year,
        min(filled_on) as index_on,
        cast(count(*) as integer) as dispensings
    from fills
    group by patient_id, measurement_year
)

select
    years.patient_id || '|' || years.measurement_year as unit_id,
    years.patient_id,
    years.measurement_year,
    years.index_on,
    years.dispensings,
    prescriber.clinician_id,
    prescriber.site_id
from years
left join marts.dim_antipsychotic_prescribers as prescriber
    on
        years.patient_id = prescriber.patient_id
        and years.index_on between prescriber.from_on and prescriber.to_on
