/* ---
name: fct_prescription_doses
grain: one row per prescription of a mapped ingredient with a daily dose
unique_key: [prescription_id, drug]
description: >
  Prescribed daily doses for the dose-above-maximum rule of the prescribing-safety worklist
  (DOMAIN 13.4): the prescription's ingredient, class, dates, daily dose in mg, prescriber and
  the patient's birth year (the age condition of a maximum is evaluated at the worklist's as-of
  date). end_on is the prescription's end date, else start + days_supply - 1, else null (open).
columns:
  prescription_id: varchar
  patient_id: varchar
  drug: varchar
  drug_class: varchar
  start_on: date
  end_on: date
  daily_dose_mg: double
  clinician_id: varchar
  birth_year: integer
--- */
select
    prescriptions.prescription_id,
    prescriptions.patient_id,
    prescriptions.drug,
    drugs.drug_class,
    prescriptions.start_on,
    coalesce(prescriptions.end_on,
             prescriptions.start_on + prescriptions.days_supply - 1) as end_on,
    prescriptions.daily_dose_mg,
    prescriptions.clinician_id,
    patients.birth_year
from staging.stg_prescriptions as prescriptions
inner join staging.stg_drugs as drugs on prescriptions.drug = drugs.drug
left join staging.stg_patients as patients on prescriptions.patient_id = patients.patient_id
where prescriptions.daily_dose_mg is not null
