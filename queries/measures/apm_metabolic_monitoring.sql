/* ---
name: apm_metabolic_monitoring
title: Metabolic monitoring on antipsychotics (APM-style)
description: >
  Modelled on HEDIS APM (metabolic monitoring for children and adolescents on antipsychotics),
  DOMAIN.md section 4, extended to all ages as a product measure; the HEDIS population is the
  age_band 0-17 stratum (age_stratum 1-11 and 12-17 beside it). Unit: a patient x calendar year with
  at least 2 antipsychotic dispensings in the year. Rates: (1) a glucose or HbA1c test in the
  year; (2) an LDL-C or total cholesterol test in the year; (3) both, on any dates in the year (the
  headline). Denominator: units whose year is fully observed in the data ("enrolled" = observed).
  What our data cannot do exactly: tests come from the measurements extract (no lab claims codes);
  no hospice exclusion or continuous-enrolment rule. Trended by the month of the first
  antipsychotic dispensing of the year.
grain: one row per patient x measurement year, unit level
columns_from: patient_year_unit
columns:
  index_on: {type: date, description: first antipsychotic dispensing of the year}
  age_stratum: {type: varchar, description: 'APM strata 1-11, 12-17; 18+ outside the HEDIS population'}
  is_observed: boolean
  has_glucose: boolean
  has_lipids: boolean
  is_numerator: {type: boolean, description: observed with both tests}
metric:
  unit: patient-year
  direction: higher
  target: 0.6
  observed_rate: {numerator: both_tested, label: 'Glucose/HbA1c and LDL-C/cholesterol tested'}
  counts: {glucose_tested: has_glucose, lipids_tested: has_lipids}
  rates:
    - {name: rate_glucose, numerator: glucose_tested, denominator: observed, label: 'Glucose or HbA1c tested'}
    - {name: rate_lipids, numerator: lipids_tested, denominator: observed, label: 'LDL-C or cholesterol tested'}
tests:
  expressions: [has_glucose <= is_observed]
--- */
with tests as (
    -- one row per measurement x episode in the mart: bool_or makes the duplicates harmless
    select
        patient_id,
        cast(year(measured_on) as integer) as measurement_year,
        bool_or(measure_group = 'glucose') as has_glucose,
        bool_or(measure_group = 'lipids' and measure in ('ldl_mg_dl', 'total_cholesterol_mg_dl'))
            as has_lipids
    from marts.fct_measurements
    group by patient_id, measurement_year
),

units as (
    select
        patient_years.unit_id,
        patient_years.measurement_year,
        patient_years.index_on,
        patient_years.patient_id,
        unnest(patient_year_unit_columns(patients, patient_years, patient_years.measurement_year)),
        case
            when patients.birth_year is null then 'unknown'
            when patient_years.measurement_year - patients.birth_year <= 11 then '1-11'
            when patient_years.measurement_year - patients.birth_year <= 17 then '12-17'
            else '18+'
        end as age_stratum,
        make_date(patient_years.measurement_year, 12, 31) <= coverage.data_end_on as is_observed,
        coalesce(tests.has_glucose, false) as glucose_in_year,
        coalesce(tests.has_lipids, false) as lipids_in_year
    from marts.fct_antipsychotic_years as patient_years
    inner join marts.dim_patients as patients on patient_years.patient_id = patients.patient_id
    cross join coverage
    left join tests
        on
            patient_years.patient_id = tests.patient_id
            and patient_years.measurement_year = tests.measurement_year
    where patient_years.dispensings >= 2
),

final as (
    select
        unit_id,
        measurement_year,
        index_on,
        patient_id,
        site_id,
        clinician_id,
        diagnosis_group,
        age_band,
        age_stratum,
        sex,
        severity_band,
        is_observed,
        is_observed and glucose_in_year as has_glucose,
        is_observed and lipids_in_year as has_lipids,
        is_observed and glucose_in_year and lipids_in_year as is_numerator
    from units
)

select * from final
order by unit_id
