/* ---
name: dms_phq9_monitoring
title: PHQ-9 monitoring in each 4-month period (DMS-style)
description: >
  Modelled on HEDIS DMS-E (PHQ-9 utilisation to monitor depression), DOMAIN.md section 4. Unit: a
  patient x assessment period (1 Jan-30 Apr, 1 May-31 Aug, 1 Sep-31 Dec) with an outpatient visit
  (any visit type but inpatient) in the period, for a patient aged 12 or more at that visit with
  major depression or dysthymia on record. Denominator event: the first such visit of the period
  (its date, clinician and site describe the unit). Numerator: a PHQ-9 (or PHQ-A) score in the
  same period. Denominator: units whose period has ended inside the data ("enrolled" =
  observed). What our data cannot do exactly: the diagnosis is any on record (no dates in the
  marts), visit types stand in for the encounter value sets, and there is no hospice exclusion.
grain: one row per patient x DMS assessment period with an outpatient visit, unit level
columns_from: unit_dimensions
columns:
  unit_id: {type: varchar, description: 'patient_id|period'}
  dms_period: {type: varchar, description: 'YYYY-P1 (Jan-Apr), P2 (May-Aug), P3 (Sep-Dec)'}
  index_on: {type: date, description: first outpatient visit of the period}
  severity_band: {type: varchar, description: 'not applicable (no baseline score in this measure)'}
  is_observed: {type: boolean, description: the period has ended inside the data}
  is_numerator: {type: boolean, description: observed with a PHQ-9 in the period}
metric:
  filters: [site_id, clinician_id, diagnosis_group, age_band, sex]
  period: index_on
  unit: patient-period
  direction: higher
  target: 0.5
  observed_rate: {units: patient_periods, numerator: monitored, label: 'PHQ-9 in the same 4-month period'}
--- */
with patients as (
    select patient_id, birth_year, string_split(diagnosis_groups, '+') as groups
    from marts.dim_patients
),

visits as (
    select visits.*
    from marts.fct_visits as visits
    inner join patients on visits.patient_id = patients.patient_id
    where
        not visits.is_inpatient
        and year(visits.visit_on) - patients.birth_year >= 12
        and list_has_any(patients.groups, ['major_depression', 'dysthymia'])
),

periods as (
    select
        patient_id,
        dms_period,
        min(visit_on) as index_on,
        -- the first visit of the period (ties broken by visit id) describes the unit
        arg_min(clinician_id, strftime(visit_on, '%Y-%m-%d') || visit_id) as clinician_id,
        arg_min(site_id, strftime(visit_on, '%Y-%m-%d') || visit_id) as site_id,
        arg_min(diagnosis_group, visit_on) as diagnosis_group,
        arg_min(age_band, visit_on) as age_band,
        arg_min(sex, visit_on) as sex,
        bool_or(has_phq9_same_period) as has_phq9
    from visits
    group by patient_id, dms_period
),

final as (
    select
        periods.patient_id || '|' || periods.dms_period as unit_id,
        periods.dms_period,
        periods.index_on,
        periods.patient_id,
        coalesce(periods.site_id, 'unknown') as site_id,
        coalesce(periods.clinician_id, 'unknown') as clinician_id,
        periods.diagnosis_group,
        periods.age_band,
        periods.sex,
        'not applicable' as severity_band,
        -- the period ends on 30 April, 31 August or 31 December
        (date_trunc('month', periods.index_on) - interval ((month(periods.index_on) - 1) % 4) month
            + interval 4 month - interval 1 day)::date <= coverage.data_end_on as is_observed,
        is_observed and periods.has_phq9 as is_numerator
    from periods
    cross join coverage
)

select * from final
order by unit_id
