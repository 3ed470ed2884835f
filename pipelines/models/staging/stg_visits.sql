/* ---
name: stg_visits
grain: one row per visit
materialized: view
description: >
  raw.visits renamed. An inpatient visit with an end date is a stay covering visit_on..end_on
  inclusive (used by the optional PDC inpatient adjustment).
columns:
  visit_id: varchar
  patient_id: varchar
  visit_on: date
  end_on: date
  clinician_id: varchar
  site_id: varchar
  visit_type: varchar
  is_inpatient: boolean
--- */
select
    visit_id,
    patient_id,
    visit_date as visit_on,
    end_date as end_on,
    clinician_id,
    site_id,
    coalesce(visit_type, 'other') as visit_type,
    coalesce(visit_type = 'inpatient', false) as is_inpatient
from raw.visits
