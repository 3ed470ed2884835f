/* ---
name: stg_prescriptions
grain: one row per prescription
materialized: view
description: >
  raw.prescriptions renamed; drug is the normalised ingredient (null when unmapped: such rows are
  listed in dq_model_exclusions and used by no model).
columns:
  prescription_id: varchar
  patient_id: varchar
  drug: varchar
  drug_as_written: varchar
  start_on: date
  end_on: date
  daily_dose_mg: double
  days_supply: integer
  refills: integer
  clinician_id: varchar
  stop_reason: varchar
--- */
select
    prescription_id,
    patient_id,
    ingredient as drug,
    drug as drug_as_written,
    start_date as start_on,
    end_date as end_on,
    daily_dose_mg,
    cast(days_supply as integer) as days_supply,
    cast(refills as integer) as refills,
    clinician_id,
    stop_reason
from raw.prescriptions
