/* ---
name: dim_monitoring_schedules
grain: one row per schedule x preset x drug (or class) x test group x phase of ref.monitoring_schedules
unique_key: [schedule, preset, drug, drug_class, test_group, phase_from_day]
not_null: [schedule, preset, test_group, phase_from_day]
description: >
  Monitoring schedules of DOMAIN 13.2 (lithium, valproate, carbamazepine, clozapine ANC) and 9.4
  (antipsychotic metabolic), one row per phase. A row applies to episodes of its drug, or of
  every drug of its drug_class when drug is empty. Days count from the episode start (day 0).
  A test counts when dated on or after day counts_from_day; with none, the test is due on day
  first_due_day ("never done"). After a test, the next is due interval_days later, where the
  phase is the one holding the day of that test (phase_from_day..phase_to_day, open-ended when
  phase_to_day is empty); short_interval_days applies instead when the patient is at least
  short_if_age_min years old or the last value is at least short_if_value_min (lithium: 91 days
  at 65+ or a level >= 0.8 mmol/L). Overdue when as_of > due + grace_days.
columns:
  schedule: varchar
  preset: varchar
  drug: varchar
  drug_class: varchar
  test_group: varchar
  counts_from_day: integer
  first_due_day: integer
  phase_from_day: integer
  phase_to_day: integer
  interval_days: integer
  grace_days: integer
  short_interval_days: integer
  short_if_age_min: integer
  short_if_value_min: double
  source: varchar
--- */
select
    schedule,
    preset,
    nullif(trim(drug), '') as drug,
    nullif(trim(drug_class), '') as drug_class,
    test_group,
    cast(counts_from_day as integer) as counts_from_day,
    cast(first_due_day as integer) as first_due_day,
    cast(phase_from_day as integer) as phase_from_day,
    cast(nullif(trim(phase_to_day), '') as integer) as phase_to_day,
    cast(interval_days as integer) as interval_days,
    cast(grace_days as integer) as grace_days,
    cast(nullif(trim(short_interval_days), '') as integer) as short_interval_days,
    cast(nullif(trim(short_if_age_min), '') as integer) as short_if_age_min,
    cast(nullif(trim(short_if_value_min), '') as double) as short_if_value_min,
    source
from ref.monitoring_schedules
