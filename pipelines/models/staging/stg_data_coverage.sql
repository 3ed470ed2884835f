/* ---
name: stg_data_coverage
grain: one row
description: >
  The observation period of the extract, as the load recorded it in meta.deployment: data_start
  and data_end are the first and last event date over every dated raw table
  (pipelines.meta.EVENT_DATE_COLUMNS, the one list of them; written by every load, the Spark
  build's included, before any model runs). Persistence censoring and "not yet observable"
  windows use data_end_on.
columns:
  data_start_on: date
  data_end_on: date
  data_end_source: {type: varchar, description: "where the period comes from: 'deployment' (the load's record in meta.deployment)"}
--- */
-- The range used to be computed here a second time, from the same seven date columns, as a
-- fallback for a warehouse without the load's record; every load writes it, so the fallback
-- never ran and the list of dated columns is now stated once, in pipelines/meta.py.
select
    max(try_cast(value as date)) filter (where key = 'data_start') as data_start_on,
    max(try_cast(value as date)) filter (where key = 'data_end') as data_end_on,
    'deployment' as data_end_source
from meta.deployment
