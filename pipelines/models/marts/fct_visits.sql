/* ---
name: fct_visits
grain: one row per visit
unique_key: [visit_id]
description: >
  Visits for measurement-based-care coverage and DMS-E: dms_period (Jan-Apr P1, May-Aug P2,
  Sep-Dec P3), whether a PHQ-9 (or PHQ-A) was scored the same day or in the same DMS period, and
  inpatient days of a stay (visit_on..end_on inclusive). age_band is the age at the visit.
columns:
  visit_id: varchar
  patient_id: varchar
  visit_on: date
  end_on: date
  visit_type: varchar
  clinician_id: varchar
  site_id: varchar
  is_inpatient: boolean
  inpatient_days: integer
  dms_period: varchar
  has_phq9_same_day: boolean
  has_phq9_same_period: boolean
  age_band: varchar
  sex: varchar
  diagnosis_group: varchar
  visit_month: date
--- */
with visits as (
    select
        *,
        dms_period(visit_on) as dms_period
    from staging.stg_visits
),

phq9_periods as (
    -- one row per patient x DMS period with a PHQ-9, holding its score dates: the same-day and
    -- same-period flags then come from one join (a distinct list of days plus a semi join
    -- cost a second hash table over the PHQ-9 scores)
    select
        patient_id,
        dms_period(assessed_on) as dms_period,
        list(assessed_on) as phq9_dates
    from staging.stg_assessments
    where instrument = 'PHQ-9'
    group by all
)

select
    visits.visit_id,
    visits.patient_id,
    visits.visit_on,
    visits.end_on,
    visits.visit_type,
    coalesce(visits.clinician_id, 'unknown') as clinician_id,
    coalesce(visits.site_id, patients.site_id, 'unknown') as site_id,
    visits.is_inpatient,
    case when visits.is_inpatient
        then cast(coalesce(visits.end_on, visits.visit_on) - visits.visit_on + 1 as integer) else 0 end
        as inpatient_days,
    visits.dms_period,
    coalesce(list_contains(phq9_periods.phq9_dates, visits.visit_on), false) as has_phq9_same_day,
    phq9_periods.patient_id is not null as has_phq9_same_period,
    age_band(year(visits.visit_on) - patients.birth_year) as age_band,
    coalesce(patients.sex, 'U') as sex,
    coalesce(patients.diagnosis_group, 'unknown') as diagnosis_group,
    cast(date_trunc('month', visits.visit_on) as date) as visit_month
from visits
left join phq9_periods
    on visits.patient_id = phq9_periods.patient_id and visits.dms_period = phq9_periods.dms_period
left join marts.dim_patients as patients on visits.patient_id = patients.patient_id
