/* ---
name: saa_adherence
title: Antipsychotic adherence in schizophrenia (SAA-style PDC >= 80%)
description: >
  Modelled on HEDIS SAA (NQF 1879), DOMAIN.md sections 4 and 5.1. Unit: a patient x calendar
  year, age 18 or more at 31 December, with a schizophrenia or schizoaffective diagnosis on record
  (diagnosis group schizophrenia: F20, F25) and at least 2 antipsychotic dispensings in the year.
  IPSD = the first antipsychotic dispensing of the year; the treatment period runs from the IPSD to
  31 December. PDC = days covered by at least one antipsychotic (same-ingredient fills shifted
  forward, ingredients unioned, overlapping days counted once; fills dispensed before the year
  ignored, DOMAIN 5.1 step 8) / days in the treatment period. Numerator: PDC >= pdc_threshold
  (0.80), compared in integer percent. Denominator: units whose year is fully observed in the data
  ("enrolled" = observed). What our data cannot do exactly: LAI days supply per injection is taken
  as sent; several dispensings on one day are unioned; no hospice or continuous-enrolment rule; the
  diagnosis is any on record (no dates in the marts). Trended by IPSD month.
grain: one row per patient x measurement year, unit level
params:
  pdc_threshold: {type: double, default: 0.8, description: PDC needed to count as adherent}
columns_from: patient_year_unit
columns:
  index_on: {type: date, description: IPSD}
  dispensings: integer
  covered_days: integer
  treatment_days: {type: integer, description: IPSD to 31 December inclusive}
  is_observed: {type: boolean, description: the whole year is observed}
  is_numerator: {type: boolean, description: observed and PDC at or above the threshold}
metric:
  unit: patient-year
  direction: higher
  target: 0.8
  observed_rate: {numerator: adherent, label: 'Antipsychotic PDC >= 80%'}
tests:
  expressions: [covered_days <= treatment_days]
--- */
with antipsychotic_fills as (
    select *, cast(year(filled_on) as integer) as measurement_year
    from marts.fct_fill_coverage
    where drug_class = 'antipsychotic'
),

units as (
    select
        patient_years.unit_id,
        patient_years.measurement_year,
        patient_years.index_on,
        make_date(patient_years.measurement_year, 12, 31) as period_end_on,
        patient_years.patient_id,
        unnest(patient_year_unit_columns(patients, patient_years, patient_years.measurement_year)),
        patient_years.dispensings,
        make_date(patient_years.measurement_year, 12, 31) <= coverage.data_end_on as is_observed
    from marts.fct_antipsychotic_years as patient_years
    inner join marts.dim_patients as patients on patient_years.patient_id = patients.patient_id
    cross join coverage
    where
        patient_years.dispensings >= 2
        and patient_years.measurement_year - patients.birth_year >= 18
        and list_contains(string_split(patients.diagnosis_groups, '+'), 'schizophrenia')
),

filtered as (
    select *
    from units
),

clipped as (
    -- fills dispensed in the year, coverage clipped to [IPSD, 31 December]
    select
        filtered.unit_id,
        greatest(fills.cov_start_on, filtered.index_on) as from_on,
        least(fills.cov_end_on, filtered.period_end_on) as to_on
    from filtered
    inner join antipsychotic_fills as fills
        on
            filtered.patient_id = fills.patient_id
            and filtered.measurement_year = fills.measurement_year
            and fills.cov_start_on <= filtered.period_end_on
),

final as (
    select
        filtered.unit_id,
        filtered.measurement_year,
        filtered.index_on,
        filtered.patient_id,
        filtered.site_id,
        filtered.clinician_id,
        filtered.diagnosis_group,
        filtered.age_band,
        filtered.sex,
        filtered.severity_band,
        filtered.dispensings,
        coalesce(covered.covered_days, 0) as covered_days,
        cast(filtered.period_end_on - filtered.index_on + 1 as integer) as treatment_days,
        filtered.is_observed,
        -- integer percent: 100 * covered >= 80 * days avoids float edge cases (DOMAIN conventions)
        filtered.is_observed
        and 100 * coalesce(covered.covered_days, 0)
        >= cast(round(100 * coalesce($pdc_threshold, 0.8)) as integer) * treatment_days as is_numerator
    from filtered
    -- the union of the clipped intervals, overlapping days counted once (macros.sql)
    left join covered_days_by_unit(clipped) as covered on filtered.unit_id = covered.unit_id
)

select * from final
order by unit_id
