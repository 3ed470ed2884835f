/* ---
name: data_coverage
grain: one row
unique_key: []
description: >
  The observation period (stg_data_coverage: the first and last event date, as the load
  recorded them in meta.deployment) and warehouse row counts. Counts are internal: pass them through the
  suppression function before showing them.
columns:
  data_start_on: date
  data_end_on: date
  data_end_source: varchar
  patients: bigint
  episodes: bigint
  assessments: bigint
  dispenses: bigint
  prescriptions: bigint
--- */
select
    coverage.data_start_on,
    coverage.data_end_on,
    coverage.data_end_source,
    (select count(*) from staging.stg_patients) as patients,
    (select count(*) from intermediate.int_episodes) as episodes,
    (select count(*) from staging.stg_assessments) as assessments,
    (select count(*) from staging.stg_dispenses) as dispenses,
    (select count(*) from staging.stg_prescriptions) as prescriptions
from staging.stg_data_coverage as coverage
