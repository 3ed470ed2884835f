/* ---
name: stg_measurements
grain: one row per measurement
materialized: view
description: >
  raw.measurements renamed. measure_group pools interchangeable tests as APM does (glucose with
  HbA1c, LDL-C with total cholesterol and triglycerides) and weight with BMI.
columns:
  measurement_id: varchar
  patient_id: varchar
  measured_on: date
  measure: varchar
  value: double
  measure_group: varchar
--- */
select
    measurement_id,
    patient_id,
    measured_date as measured_on,
    measure,
    value,
    case
        when measure in ('weight_kg', 'bmi') then 'weight'
        when measure in ('glucose_mg_dl', 'hba1c_pct') then 'glucose'
        when measure in ('ldl_mg_dl', 'total_cholesterol_mg_dl', 'triglycerides_mg_dl') then 'lipids'
        else measure
    end as measure_group
from raw.measurements
